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
const audit = (args: string[], options: {cwd: string; input?: string | Buffer}) =>
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

describe('dbakit audit: nothing passes unread', () => {
  it('reports a comment never closed as an error at the line it opens, so the DROP inside it cannot pass', async () => {
    const dir = workspace({'m.sql': 'CREATE TABLE t (id INT PRIMARY KEY);\n/* retire the old table\nDROP TABLE t;\n'})
    const {code, stdout, stderr} = await audit(['m.sql', '--json'], {cwd: dir})
    assert.equal(code, 1, stderr)
    const finding = report(stdout).findings.find((f) => f.rule === 'syntax-unterminated')
    assert.ok(finding, stdout)
    assert.deepEqual([finding.level, finding.line, finding.column], ['error', 2, 1])
    assert.match(finding.message, /comment is never closed/)
  })

  it('reports a string and a quoted identifier never closed, with the text report naming file and line', async () => {
    const dir = workspace({'s.sql': "SELECT 1;\nINSERT INTO t (a) VALUES ('abc);\nDROP TABLE t;\n", 'q.sql': 'SELECT `a FROM t;\nDROP TABLE t;\n'})
    const {code, stdout} = await audit(['s.sql', 'q.sql'], {cwd: dir})
    assert.equal(code, 1)
    assert.match(stdout, /s\.sql\n {2}2:27 +error +this string is never closed/)
    assert.match(stdout, /q\.sql\n {2}1:8 +error +this quoted identifier is never closed/)
  })

  it('audits every statement a DELIMITER block sends, and warns at the DELIMITER never set back', async () => {
    const sql = 'DELIMITER $$\nDROP PROCEDURE IF EXISTS p; CREATE PROCEDURE p() BEGIN DELETE FROM a; END$$\nDROP TABLE a;\nDROP TABLE b;\n'
    const {code, stdout, stderr} = await audit(['d.sql', '--json'], {cwd: workspace({'d.sql': sql})})
    assert.equal(code, 1, stderr)
    assert.deepEqual(found(stdout).filter((f) => /drop-table|without-where|delimiter/.test(f)).sort(), [
      'delimiter-not-reset@d.sql:1',
      'destructive-drop-table@d.sql:3',
      'destructive-drop-table@d.sql:4',
      'dml-delete-without-where@d.sql:2',
    ])
  })

  it('keeps a file that sets DELIMITER back to ; free of the warning', async () => {
    const sql = 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n'
    const {code, stdout} = await audit(['d.sql', '--json'], {cwd: workspace({'d.sql': sql})})
    assert.equal(code, 0)
    assert.deepEqual(found(stdout), [])
  })

  it('exits 2 for a directory with no .sql files, as for a glob that matches nothing', async () => {
    const dir = workspace({'migrations/README.md': '# notes\n'})
    for (const input of ['migrations', 'migrations/*.sql']) {
      const {code, stdout, stderr} = await audit([input], {cwd: dir})
      assert.equal(code, 2, `${input}: ${stderr}`)
      assert.equal(stdout, '')
      assert.match(stderr, /migrations/)
    }
  })
})

describe('dbakit audit: encodings', () => {
  const latin1 = Buffer.from("SELECT 1;\nINSERT INTO t (a) VALUES ('caf\xe9');\nDROP TABLE t;\n", 'latin1')

  it('stops on bytes that are not UTF-8, naming the file and line and the flag to use', async () => {
    const {code, stdout, stderr} = await audit(['legacy.sql'], {cwd: workspace({'legacy.sql': latin1})})
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /legacy\.sql is not valid UTF-8: line 2 has the byte 0xE9/)
    assert.match(stderr, /--encoding latin1/)
  })

  it('reads a legacy file in the encoding named by --encoding, by .dbakit.yaml, or for stdin', async () => {
    const dir = workspace({'legacy.sql': latin1, 'yaml/.dbakit.yaml': 'encoding: latin1\n', 'yaml/legacy.sql': latin1})
    for (const [args, input] of [[['legacy.sql', '--encoding', 'latin1'], undefined], [['yaml'], undefined], [['-', '--encoding', 'latin1'], latin1]] as const) {
      const {code, stdout, stderr} = await audit([...args, '--format', 'text'], {cwd: dir, ...(input ? {input} : {})})
      assert.equal(code, 1, `${args.join(' ')}: ${stderr}`)
      assert.match(stdout, /3:12 +error +DROP TABLE deletes t/)
    }
    const shown = await audit(['legacy.sql', '--encoding', 'latin1', '--json'], {cwd: dir})
    assert.ok(!shown.stdout.includes('\uFFFD'))
  })

  it('reads UTF-16 with a byte order mark, and UTF-8 with one', async () => {
    const text = 'DROP TABLE t;\n'
    const dir = workspace({'u16.sql': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'bom.sql': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])})
    const {code, stdout, stderr} = await audit(['u16.sql', 'bom.sql', '--json'], {cwd: dir})
    assert.equal(code, 1, stderr)
    assert.deepEqual(found(stdout).sort(), ['destructive-drop-table@bom.sql:1', 'destructive-drop-table@u16.sql:1'])
    assert.equal(report(stdout).findings[0]!.column, 12)
  })

  it('exits 2 on an encoding it does not know, from the flag or from .dbakit.yaml', async () => {
    const dir = workspace({'a.sql': 'SELECT 1;\n', 'y/.dbakit.yaml': 'encoding: klingon\n', 'y/a.sql': 'SELECT 1;\n'})
    const flag = await audit(['a.sql', '--encoding', 'klingon'], {cwd: dir})
    assert.equal(flag.code, 2)
    assert.match(flag.stderr, /unknown encoding klingon/)
    const yaml = await audit(['y'], {cwd: dir})
    assert.equal(yaml.code, 2)
    assert.match(yaml.stderr, /\.dbakit\.yaml.*encoding/s)
  })
})
