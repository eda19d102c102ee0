import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {describe, it} from 'node:test'
import {freshHome, runCli} from '../helpers/cli.ts'

/** A temporary tree: keys are paths relative to it (sub-directories are made as needed). */
const workspace = (files: Record<string, string | Buffer>) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-audit-input-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), {recursive: true})
    writeFileSync(join(dir, name), content)
  }
  return dir
}
const audit = (args: string[], options: {cwd: string; input?: string}) =>
  runCli(['audit', ...args], {cwd: options.cwd, ...(options.input === undefined ? {} : {input: options.input}), env: {DBAKIT_HOME: freshHome()}})
interface Report {
  findings: Array<{rule: string; level: string; line: number; column: number; file: string; message: string}>
  summary: Record<string, number>
}
const report = (stdout: string) => JSON.parse(stdout) as Report
const found = (stdout: string) => report(stdout).findings.map((f) => `${f.rule}@${f.file}:${f.line}`)

const UPDATE_OFF = 'rules:\n  dml-update-without-where: off\n'

describe('dbakit audit: which .dbakit.yaml applies', () => {
  it('uses the .dbakit.yaml inside the directory being audited', async () => {
    const dir = workspace({'m/.dbakit.yaml': UPDATE_OFF, 'm/a.sql': 'UPDATE t SET a = 1;\n'})
    const {code, stdout, stderr} = await audit(['m', '--json'], {cwd: dir})
    assert.equal(code, 0, stdout + stderr)
    assert.deepEqual(found(stdout), [])
  })

  it('takes the config nearest the first path, and says which other one it did not use', async () => {
    const dir = workspace({'a/.dbakit.yaml': UPDATE_OFF, 'a/x.sql': 'UPDATE t SET a = 1;\n', 'b/.dbakit.yaml': 'rules:\n  dml-delete-without-where: off\n', 'b/y.sql': 'UPDATE t SET a = 1;\nDELETE FROM t;\n'})
    const {code, stdout, stderr} = await audit(['a', 'b', '--json'], {cwd: dir})
    assert.equal(code, 1, stderr)
    assert.deepEqual(found(stdout), ['dml-delete-without-where@b/y.sql:2'])
    assert.match(stderr, /b.\.dbakit\.yaml \(nearest to b\) is not used/)
  })
})
