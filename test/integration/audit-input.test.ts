import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
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

describe('dbakit audit: baseline and schema files that cannot be used are input errors', () => {
  const snapshot = (tables: unknown[]) => JSON.stringify({format: 'dbakit-schema-snapshot', version: 1, takenAt: '2024-01-01T00:00:00Z', server: {flavor: 'mysql', version: '8.0.36'}, database: 'shop', tables})
  const table = {name: 'orders', columns: [{name: 'id', type: 'bigint', nullable: false}], indexes: [{name: 'PRIMARY', columns: ['id'], unique: true}], stats: {rows: 10, dataBytes: 1, indexBytes: 1}}

  it('exits 2 on a missing baseline, saying how to record one', async () => {
    const dir = workspace({'m/a.sql': 'UPDATE t SET a = 1;\n'})
    const {code, stdout, stderr} = await audit(['m', '--baseline', '.dbakit-baseline.json'], {cwd: dir})
    assert.equal(code, 2, stderr)
    assert.equal(stdout, '')
    assert.match(stderr, /baseline \.dbakit-baseline\.json does not exist/)
    assert.match(stderr, /`dbakit audit m --write-baseline \.dbakit-baseline\.json`/)
  })

  it('exits 2 naming a baseline that is a directory, not JSON, or not a baseline', async () => {
    const dir = workspace({'a.sql': 'SELECT 1;\n', 'not-json.json': '{oops', 'other.json': '{"format":"dbakit-audit-baseline","fingerprints":[1]}'})
    mkdirSync(join(dir, 'baseline-dir'))
    for (const [file, message] of [['baseline-dir', /baseline-dir: it is a directory/], ['not-json.json', /not-json\.json is not JSON/], ['other.json', /other\.json: fingerprints\[0\]: must be a string/]] as const) {
      const {code, stderr} = await audit(['a.sql', '--baseline', file], {cwd: dir})
      assert.equal(code, 2, `${file}: ${stderr}`)
      assert.match(stderr, message)
    }
  })

  it('exits 2 on a --write-baseline that names a directory, before auditing', async () => {
    const dir = workspace({'a.sql': 'UPDATE t SET a = 1;\n'})
    mkdirSync(join(dir, 'out'))
    const {code, stdout, stderr} = await audit(['a.sql', '--write-baseline', 'out'], {cwd: dir})
    assert.equal(code, 2, stderr)
    assert.equal(stdout, '')
    assert.match(stderr, /cannot write baseline .*out: it is a directory/)
  })

  it('exits 2 naming a --schema that is missing, a directory, not JSON, or malformed, with the bad place', async () => {
    const dir = workspace({
      'a.sql': 'ALTER TABLE orders ADD COLUMN note TEXT;\n',
      'text.json': 'not json',
      'no-columns.json': snapshot([table, table, table, {name: 'lines', indexes: []}]),
      'no-name.json': snapshot([{columns: [], indexes: []}]),
      'bad-index.json': snapshot([{...table, indexes: [{name: 'k'}]}]),
    })
    mkdirSync(join(dir, 'snapshots'))
    const cases = [
      ['missing.json', /cannot read schema snapshot missing\.json: no such file/],
      ['snapshots', /cannot read schema snapshot snapshots: it is a directory/],
      ['text.json', /schema snapshot text\.json is not JSON/],
      ['no-columns.json', /schema snapshot no-columns\.json: tables\[3\]\.columns: must be a list \(table lines\)/],
      ['no-name.json', /no-name\.json: tables\[0\]\.name: must be the table name/],
      ['bad-index.json', /bad-index\.json: tables\[0\]\.indexes\[0\]\.columns: must list/],
    ] as const
    for (const [file, message] of cases) {
      const {code, stdout, stderr} = await audit(['a.sql', '--schema', file], {cwd: dir})
      assert.equal(code, 2, `${file}: ${stderr}`)
      assert.equal(stdout, '')
      assert.match(stderr, message)
    }
    writeFileSync(join(dir, 'good.json'), snapshot([table]))
    const good = await audit(['a.sql', '--schema', 'good.json', '--json'], {cwd: dir})
    assert.ok(good.code === 0 || good.code === 1, good.stderr)
  })

  it('exits 2 on .dbakit.yaml values of the wrong shape, naming the file, line and key', async () => {
    const dir = workspace({'a.sql': 'SELECT 1;\n', '.dbakit.yaml': 'failOn: error\nthresholds: [1]\n'})
    const {code, stderr} = await audit(['a.sql'], {cwd: dir})
    assert.equal(code, 2, stderr)
    assert.match(stderr, /\.dbakit\.yaml:2: thresholds: must be a mapping/)
  })
})

describe('dbakit audit --changed-since', () => {
  /** main: a.sql, then b.sql changed after feature branched off; feature: adds c.sql. HEAD is feature. */
  const repository = () => {
    const dir = workspace({'a.sql': 'SELECT 1;\n', 'b.sql': 'SELECT 2;\n'})
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], {cwd: dir, stdio: 'pipe'})
    git('init', '-q')
    git('add', '.')
    git('commit', '-qm', 'one')
    git('checkout', '-qb', 'feature')
    git('checkout', '-q', 'main')
    writeFileSync(join(dir, 'b.sql'), 'DELETE FROM only_on_main;\n')
    git('commit', '-qam', 'main moves on')
    git('checkout', '-q', 'feature')
    writeFileSync(join(dir, 'c.sql'), 'UPDATE t SET a = 1;\n')
    git('add', 'c.sql')
    git('commit', '-qm', 'feature change')
    return dir
  }

  it('audits what the branch changed since it left the target, not what changed on the target since', async () => {
    const dir = repository()
    writeFileSync(join(dir, 'd.sql'), 'TRUNCATE TABLE untracked_one;\n')
    const {code, stdout, stderr} = await audit(['.', '--changed-since', 'main', '--json'], {cwd: dir})
    assert.equal(code, 1, stderr)
    assert.deepEqual(report(stdout).findings.map((f) => f.file).sort(), ['c.sql', 'd.sql'])
    assert.equal(report(stdout).summary.files, 2)
  })

  it('refuses a revision that looks like an option, and writes nothing', async () => {
    const dir = repository()
    const target = join(dir, 'written-by-git')
    const {code, stdout, stderr} = await audit(['.', `--changed-since=--output=${target}`], {cwd: dir})
    assert.equal(code, 2, stderr)
    assert.equal(stdout, '')
    assert.match(stderr, /--changed-since --output=.*not a git revision/)
    assert.equal(existsSync(target), false)
  })

  it('exits 2 naming a revision that does not exist', async () => {
    const dir = repository()
    const {code, stdout, stderr} = await audit(['.', '--changed-since', 'origin/nope'], {cwd: dir})
    assert.equal(code, 2, stderr)
    assert.equal(stdout, '')
    assert.match(stderr, /--changed-since origin\/nope: no such revision/)
  })
})
