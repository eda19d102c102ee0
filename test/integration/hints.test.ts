import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {catalog} from '../../src/lib/audit/run.ts'
import {freshHome, projectRoot, runCli} from '../helpers/cli.ts'

interface ManifestFlag {
  type: 'boolean' | 'option'
  char?: string
  allowNo?: boolean
  options?: string[]
}
const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, ManifestFlag>}>}

/** Words that follow "dbakit" in prose ("dbakit reports it only when..."), not a command. */
const PROSE = new Set(['does', 'maintainers', 'reports', 'knows'])

/**
 * Every `dbakit ...` a text tells a person to run, checked against the commands and flags the CLI
 * really has. A mention in backquotes ends at the closing one; elsewhere at the first word that is
 * neither part of the command's id nor a flag (or a flag's value).
 */
function problemsIn(text: string, where: string): string[] {
  const problems: string[] = []
  for (const match of text.matchAll(/(`?)\bdbakit ([^`\n]*)/g)) {
    const quoted = match[1] === '`'
    const words = (quoted ? match[2]! : match[2]!.split(/[),;]|\.(?:\s|$)/)[0]!).trim().split(/\s+/)
    if (!quoted && PROSE.has(words[0]!)) continue
    let id = ''
    let used = 0
    for (let n = 1; n <= words.length; n++) {
      const candidate = words.slice(0, n).join(':')
      if (manifest.commands[candidate]) {
        id = candidate
        used = n
      }
    }
    const mention = `dbakit ${words.join(' ')}`
    if (!id) {
      problems.push(`${where}: "${mention}" names no dbakit command`)
      continue
    }
    const flags = manifest.commands[id]!.flags
    const rest = words.slice(used)
    for (const [index, word] of rest.entries()) {
      if (!word.startsWith('-') || word === '-') continue
      const [written, attached] = word.replace(/^--?/, '').split('=') as [string, string | undefined]
      const value = attached ?? rest[index + 1]
      const flag = word.startsWith('--') ? (flags[written] ?? (written.startsWith('no-') && flags[written.slice(3)]?.allowNo ? flags[written.slice(3)] : undefined)) : Object.values(flags).find((f) => f.char === written)
      if (!flag) problems.push(`${where}: "${mention}": dbakit ${id.replaceAll(':', ' ')} has no flag ${word.split('=')[0]}`)
      else if (value !== undefined && flag.type === 'option' && flag.options && !/^[A-Z_]+$/.test(value) && !flag.options.includes(value)) problems.push(`${where}: "${mention}": ${value} is not a value of ${word.split('=')[0]}`)
    }
  }
  return problems
}

describe('commands named in audit hints', () => {
  it('finds commands and flags that do not exist, and leaves real ones and prose alone', () => {
    assert.deepEqual(problemsIn('run `dbakit audit rules` or dbakit audit --format sarif; dbakit reports it', 'x'), [])
    assert.equal(problemsIn('run it as an online schema change instead: dbakit schema change --profile PROFILE --alter "ADD x" --tabel shop.orders', 'x').length, 1)
    assert.equal(problemsIn('a tool that does not exist yet (dbakit schema explode)', 'x').length, 1)
    assert.equal(problemsIn('`dbakit audit --formt json`', 'x').length, 1)
    assert.equal(problemsIn('`dbakit audit --format xml`', 'x').length, 1)
  })

  it('names only commands and flags that exist, in the rule catalog and in the findings of a run', async () => {
    const rules = catalog()
    const problems = rules.flatMap((rule) => (['summary', 'rationale', 'bad', 'good', 'fix'] as const).flatMap((field) => problemsIn(rule[field], `${rule.id} ${field}`)))

    // Every rule's own bad example, and the examples shipped with dbakit, against a big table, so
    // that size-aware hints (escalations, online-change commands) are printed too.
    const dir = mkdtempSync(join(tmpdir(), 'dbakit-hints-'))
    writeFileSync(join(dir, 'bad.sql'), `${rules.map((rule) => `${rule.bad.replace(/;\s*$/, '')};`).join('\n')}\n`)
    for (const file of readdirSync(join(projectRoot, 'examples', 'migrations'))) writeFileSync(join(dir, file), readFileSync(join(projectRoot, 'examples', 'migrations', file)))
    const table = (name: string) => ({schema: 'shop', name, engine: 'InnoDB', columns: [{name: 'id', type: 'bigint', nullable: false, default: null}], indexes: [{name: 'PRIMARY', columns: ['id'], unique: true}], stats: {rows: 50_000_000, dataBytes: 20 * 1024 ** 3, indexBytes: 1024 ** 3}})
    const snapshot = {format: 'dbakit-schema-snapshot', version: 1, takenAt: new Date().toISOString(), server: {flavor: 'mariadb', version: '10.11.19'}, database: 'shop', tables: ['orders', 'users', 'articles', 'customers', 'events', 't'].map(table)}
    writeFileSync(join(dir, 'schema.json'), JSON.stringify(snapshot))
    const hints = new Set<string>()
    for (const args of [['--schema', 'schema.json'], []]) {
      const {code, stdout, stderr} = await runCli(['audit', '.', '--format', 'json', ...args], {cwd: dir, env: {DBAKIT_HOME: freshHome()}})
      assert.equal(code, 1, stderr)
      const report = JSON.parse(stdout) as {findings: Array<{rule: string; message: string; hint: string}>}
      assert.ok(new Set(report.findings.map((f) => f.rule)).size > rules.length / 2, 'the corpus triggers most rules')
      for (const finding of report.findings) {
        hints.add(`${finding.rule} message\n${finding.message}`)
        hints.add(`${finding.rule} hint\n${finding.hint}`)
      }
    }
    assert.ok([...hints].some((hint) => hint.startsWith('locking-copy-alter hint')), 'an online-change hint was printed')
    for (const hint of hints) {
      const [where, text] = hint.split('\n') as [string, string]
      problems.push(...problemsIn(text, where))
    }
    assert.deepEqual(problems, [])
    assert.match([...hints].find((hint) => hint.startsWith('locking-copy-alter hint'))!, /dbakit schema change --profile PROFILE --table shop\.\w+ --alter ".*"/)
  })
})
