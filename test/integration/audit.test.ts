import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {freshHome, projectRoot, runCli} from '../helpers/cli.ts'
import {mariadb} from '../helpers/services.ts'

const workspace = (files: Record<string, string | Buffer>) => {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-audit-'))
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
  return dir
}
const audit = (args: string[], options: {cwd?: string; input?: string; env?: Record<string, string | undefined>} = {}) =>
  runCli(['audit', ...args], {
    ...(options.cwd ? {cwd: options.cwd} : {}),
    ...(options.input === undefined ? {} : {input: options.input}),
    env: {DBAKIT_HOME: freshHome(), ...options.env},
  })
const json = (stdout: string) => JSON.parse(stdout) as {findings: Array<{rule: string; level: string; line: number; column: number; file: string; suppressed?: {reason: string}}>; summary: Record<string, number>; failed: boolean}

describe('dbakit audit (offline)', () => {
  it('passes a clean migration with exit 0', async () => {
    const dir = workspace({'ok.sql': 'CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, total DECIMAL(12,2) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\nUPDATE orders SET total = 0 WHERE id = 42;\n'})
    const {code, stdout, stderr} = await audit(['ok.sql', '--json'], {cwd: dir})
    assert.equal(code, 0, stderr)
    const report = json(stdout)
    assert.equal(report.summary.statements, 2)
    assert.equal(report.summary.error, 0)
  })

  it('fails with exit 1 on an UPDATE without WHERE, pointing at the file, line and column', async () => {
    const dir = workspace({'bad.sql': 'SELECT 1;\n\n  UPDATE orders SET total = 0;\n'})
    const {code, stdout} = await audit(['bad.sql', '--json'], {cwd: dir})
    assert.equal(code, 1)
    const finding = json(stdout).findings.find((f) => f.rule === 'dml-update-without-where')
    assert.ok(finding, stdout)
    assert.equal(finding.level, 'error')
    assert.match(finding.file, /bad\.sql$/)
    assert.equal(finding.line, 3)
    assert.equal(finding.column, 3)
  })

  it('shows the SQL line under each finding in text output, grouped by file', async () => {
    const dir = workspace({'bad.sql': 'DELETE FROM sessions;\n'})
    const {code, stdout} = await audit(['bad.sql'], {cwd: dir})
    assert.equal(code, 1)
    assert.match(stdout, /bad\.sql/)
    assert.match(stdout, /DELETE FROM sessions/)
    assert.match(stdout, /1 error/)
  })

  it('lets --fail-on decide the exit code', async () => {
    const dir = workspace({'bad.sql': 'UPDATE orders SET total = 0;\n'})
    assert.equal((await audit(['bad.sql', '--fail-on', 'never'], {cwd: dir})).code, 0)
    const warningsOnly = workspace({'w.sql': 'SELECT * FROM orders WHERE id = 1;\n'})
    const lenient = await audit(['w.sql', '--json'], {cwd: warningsOnly})
    const levels = json(lenient.stdout).findings.map((f) => f.level)
    assert.ok(levels.length > 0 && !levels.includes('error'), lenient.stdout)
    assert.equal(lenient.code, 0)
    assert.equal((await audit(['w.sql', '--fail-on', 'notice'], {cwd: warningsOnly})).code, 1)
  })

  it('reads SQL from stdin to the end, however slowly it arrives', async () => {
    const {code, stdout} = await runCli(['audit', '-', '--json'], {
      env: {DBAKIT_HOME: freshHome()},
      onSpawn: (child) => {
        // The second half arrives well after oclif's 10 ms stdin window: it must still be audited.
        child.stdin!.write('SELECT 1;\n')
        setTimeout(() => child.stdin!.end('DELETE FROM t;\n'), 300)
      },
      keepStdinOpen: true,
    })
    assert.equal(code, 1)
    const report = json(stdout)
    assert.equal(report.summary.statements, 2)
    assert.equal(report.findings[0]?.line, 2)
  })

  it('says so when there is nothing to audit, and exits 0', async () => {
    const dir = workspace({'empty.sql': '-- nothing yet\n'})
    const {code, stdout} = await audit(['empty.sql'], {cwd: dir})
    assert.equal(code, 0)
    assert.match(stdout, /no SQL statements found/i)
  })

  it('refuses unreadable, missing and binary input with exit 2 naming the file', async () => {
    const dir = workspace({'secret.sql': 'SELECT 1;', 'dump.sql': Buffer.from([0x1f, 0x8b, 0x00, 0x01])})
    chmodSync(join(dir, 'secret.sql'), 0o000)
    const missing = await audit(['nope.sql'], {cwd: dir})
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /nope\.sql/)
    const binary = await audit(['dump.sql'], {cwd: dir})
    assert.equal(binary.code, 2)
    assert.match(binary.stderr, /dump\.sql is not a text file/)
    if (process.getuid?.() !== 0) {
      const unreadable = await audit(['secret.sql'], {cwd: dir})
      assert.equal(unreadable.code, 2)
      assert.match(unreadable.stderr, /secret\.sql/)
    }
  })

  it('audits statements inside a procedure body at their own lines', async () => {
    const dir = workspace({'proc.sql': 'DELIMITER $$\nCREATE PROCEDURE purge()\nBEGIN\n  -- DELETE FROM comments_only;\n  DELETE FROM audit_log;\nEND$$\nDELIMITER ;\n'})
    const {stdout} = await audit(['proc.sql', '--json'], {cwd: dir})
    const finding = json(stdout).findings.find((f) => f.rule === 'dml-delete-without-where')
    assert.ok(finding, stdout)
    assert.equal(finding.line, 5)
  })

  it('reports a finding in a routine body once, though rules see the body in the routine and on its own', async () => {
    const dir = workspace({'proc.sql': 'DELIMITER $$\nCREATE PROCEDURE pick()\nBEGIN\n  DO SLEEP(1);\n  SELECT id FROM t ORDER BY RAND() LIMIT 1;\nEND$$\nDELIMITER ;\n'})
    const {stdout} = await audit(['proc.sql', '--json'], {cwd: dir})
    const found = json(stdout).findings.filter((f) => ['security-stalling-function', 'query-order-by-rand'].includes(f.rule)).map((f) => `${f.rule}@${f.line}:${f.column}`)
    assert.deepEqual(found, ['security-stalling-function@4:6', 'query-order-by-rand@5:29'])
  })

  it('audits one-statement trigger, procedure and event bodies, and the first statement of a trigger block', async () => {
    const dir = workspace({
      'routines.sql': [
        'CREATE TRIGGER t1 AFTER INSERT ON orders FOR EACH ROW DELETE FROM cache;',
        'CREATE DEFINER=CURRENT_USER() PROCEDURE p1(IN x INT) COMMENT \'purge\' UPDATE stock SET qty = 0;',
        'CREATE EVENT e1 ON SCHEDULE EVERY 1 DAY DO DELETE FROM sessions;',
        'DELIMITER //',
        'CREATE TRIGGER t2 BEFORE UPDATE ON orders FOR EACH ROW FOLLOWS t1 BEGIN',
        '  DELETE FROM audit_tmp;',
        'END//',
        'DELIMITER ;',
      ].join('\n'),
    })
    const {stdout} = await audit(['routines.sql', '--json'], {cwd: dir})
    const found = json(stdout).findings.map((f) => `${f.rule}@${f.line}`)
    for (const expected of ['dml-delete-without-where@1', 'dml-update-without-where@2', 'dml-delete-without-where@3', 'dml-delete-without-where@6']) {
      assert.ok(found.includes(expected), `${expected} missing from ${found.join(' ')}`)
    }
  })

  it('reports a real syntax error with its position and still audits the rest', async () => {
    const dir = workspace({'typo.sql': 'SELEC * FROM t;\nUPDATE t SET a = 1;\n'})
    const {code, stdout} = await audit(['typo.sql', '--json'], {cwd: dir})
    assert.equal(code, 1)
    const rules = json(stdout).findings.map((f) => `${f.rule}@${f.line}`)
    assert.ok(rules.includes('syntax-error@1'), rules.join(' '))
    assert.ok(rules.includes('dml-update-without-where@2'), rules.join(' '))
  })

  it('does not call valid SQL the parser cannot read a syntax error', async () => {
    const dir = workspace({'valid.sql': "GRANT ALL PRIVILEGES ON shop.* TO 'app'@'10.0.0.1';\nALTER TABLE t ADD COLUMN c INT INVISIBLE;\n"})
    const {stdout} = await audit(['valid.sql', '--json'], {cwd: dir})
    const report = json(stdout)
    assert.ok(!report.findings.some((f) => f.rule === 'syntax-error'), stdout)
    assert.ok((report.summary.unparsed ?? 0) >= 1)
  })

  it('honours inline suppressions that give a reason, and flags those that do not', async () => {
    const dir = workspace({
      'sup.sql': '-- dbakit-ignore dml-delete-without-where: table is emptied nightly by design\nDELETE FROM scratch;\nDELETE FROM other; -- dbakit-ignore dml-delete-without-where\n',
    })
    const {code, stdout} = await audit(['sup.sql', '--json'], {cwd: dir})
    const report = json(stdout)
    const deletes = report.findings.filter((f) => f.rule === 'dml-delete-without-where')
    assert.equal(deletes.length, 2)
    assert.equal(deletes[0]!.suppressed?.reason, 'table is emptied nightly by design')
    assert.equal(deletes[1]!.suppressed, undefined)
    assert.ok(report.findings.some((f) => f.rule === 'suppression-invalid' && f.line === 3))
    assert.equal(code, 1)
    assert.equal(report.summary.suppressed, 1)
  })

  it('takes rule levels from .dbakit.yaml and rejects unknown keys with exit 2', async () => {
    const dir = workspace({'bad.sql': 'UPDATE orders SET total = 0;\n', '.dbakit.yaml': 'rules:\n  dml-update-without-where: off\n'})
    assert.equal((await audit(['bad.sql'], {cwd: dir})).code, 0)
    writeFileSync(join(dir, '.dbakit.yaml'), 'rules:\n  dml-update-without-where: off\nthreshold:\n  bigTableRows: 10\n')
    const broken = await audit(['bad.sql'], {cwd: dir})
    assert.equal(broken.code, 2)
    assert.match(broken.stderr, /\.dbakit\.yaml:3: threshold: unknown key/)
    assert.match(broken.stderr, /did you mean "thresholds"/)
  })

  it('fails only on new findings once a baseline is recorded', async () => {
    const dir = workspace({'old.sql': 'UPDATE legacy SET flag = 1;\n'})
    const baseline = join(dir, 'baseline.json')
    assert.equal((await audit(['old.sql', '--write-baseline', baseline], {cwd: dir})).code, 1)
    const again = await audit(['old.sql', '--baseline', baseline, '--json'], {cwd: dir})
    assert.equal(again.code, 0)
    assert.equal(json(again.stdout).summary.baselined, 1)
    writeFileSync(join(dir, 'old.sql'), 'UPDATE legacy SET flag = 1;\nDELETE FROM legacy;\n')
    assert.equal((await audit(['old.sql', '--baseline', baseline], {cwd: dir})).code, 1)
  })

  it('audits only the files changed since a git revision', async () => {
    const dir = workspace({'old.sql': 'DELETE FROM a;\n'})
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {cwd: dir})
    git('init', '-q')
    git('add', '.')
    git('commit', '-qm', 'one')
    writeFileSync(join(dir, 'new.sql'), 'SELECT 1;\n')
    const {code, stdout} = await audit(['.', '--changed-since', 'HEAD', '--json'], {cwd: dir})
    assert.equal(code, 0, stdout)
    assert.equal(json(stdout).summary.files, 1)
  })

  it('refuses a baseline it could not write before auditing anything', async () => {
    const dir = workspace({'old.sql': 'UPDATE legacy SET flag = 1;\n'})
    const {code, stdout, stderr} = await audit(['old.sql', '--write-baseline', join(dir, 'missing', 'baseline.json')], {cwd: dir})
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /cannot write baseline .*missing.baseline\.json: ENOENT/)
  })

  it('audits a file of thousands of statements on its own threads, streaming the report in file order', async () => {
    // Over 1 MiB, so the audit runs on its own thread and the parser on another.
    const padding = `-- ${'x'.repeat(300)}`
    const statements = Array.from({length: 3000}, (_, i) => [
      `${padding}\nUPDATE orders SET status = ${i};`,
      `SELEC * FROM orders WHERE id = ${i};`,
      `ALTER TABLE orders ADD COLUMN c${i} INT INVISIBLE, ALGORITHM=INSTANT;`,
      `SELECT id FROM orders WHERE id = ${i};`,
    ])
    const text = `${statements.flat().join('\n')}\n`
    assert.ok(text.length > 1024 * 1024)
    const dir = workspace({'big.sql': text})
    const {code, stdout} = await audit(['big.sql', '--format', 'json'], {cwd: dir})
    assert.equal(code, 1)
    const report = json(stdout)
    assert.equal(report.summary.statements, 12000)
    // Every SELEC is a syntax error; the INVISIBLE column is valid MySQL node-sql-parser cannot read.
    assert.equal(report.findings.filter((f) => f.rule === 'syntax-error').length, 3000)
    assert.equal(report.findings.filter((f) => f.rule === 'dml-update-without-where').length, 3000)
    assert.equal(report.summary.unparsed, 3000)
    const lines = report.findings.map((f) => f.line)
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b))
    assert.equal(report.findings.find((f) => f.rule === 'dml-update-without-where')?.line, 2)
  })

  it('shows a window of a multi-megabyte line around each finding, in every format', async () => {
    // mysqldump writes a table's rows as one INSERT on one line; a finding follows it on that line.
    const rows = (count: number, value: string, separator: string) => Array.from({length: count}, (_, i) => `(${i},'${value}')`).join(separator)
    const dir = workspace({
      'dump.sql': `INSERT INTO t VALUES ${rows(1001, 'x'.repeat(5000), ',')}; UPDATE t SET a = 1;\n`,
      // The same findings on short lines: what each format takes without a long line.
      'short.sql': `INSERT INTO t VALUES\n${rows(1001, 'x', ',\n')};\nUPDATE t SET a = 1;\n`,
    })
    assert.ok(readFileSync(join(dir, 'dump.sql')).length > 5_000_000)
    for (const format of ['text', 'json', 'sarif', 'junit', 'github', 'checkstyle']) {
      const dump = await audit(['dump.sql', '--format', format], {cwd: dir})
      const short = await audit(['short.sql', '--format', format], {cwd: dir})
      assert.equal(dump.code, 1, `${format}: ${dump.stderr}`)
      // Three findings, each showing at most a few hundred characters of the line.
      assert.ok(Buffer.byteLength(dump.stdout) < Buffer.byteLength(short.stdout) + 3 * 1024, `${format}: ${Buffer.byteLength(dump.stdout)} bytes`)
    }
    const report = JSON.parse((await audit(['dump.sql', '--format', 'json'], {cwd: dir})).stdout) as {findings: Array<{rule: string; column: number; source: string; sourceColumn: number}>}
    const update = report.findings.find((f) => f.rule === 'dml-update-without-where')!
    assert.ok(update.column > 5_000_000)
    assert.ok(update.source.length <= 202 && update.source.startsWith('…'), update.source)
    assert.ok(update.source.slice(update.sourceColumn - 1).startsWith('UPDATE t SET a = 1;'), update.source)
    const text = (await audit(['dump.sql'], {cwd: dir})).stdout.split('\n')
    const caret = text.findIndex((line) => /^ +\^$/.test(line) && text[text.indexOf(line) - 1]!.includes('UPDATE t'))
    assert.ok(caret > 0, text.join('\n'))
    assert.ok(text[caret - 1]!.slice(text[caret]!.length - 1).startsWith('UPDATE t SET'), `${text[caret - 1]}\n${text[caret]}`)
  })

  it('exits with the audit\'s own status when the reader of its output leaves early (`| head -1`)', async () => {
    // Far more report than a pipe holds, so the CLI is still writing when the reader goes.
    const dir = workspace({'many.sql': 'UPDATE orders SET status = 1;\n'.repeat(5000)})
    for (const format of ['text', 'json', 'sarif']) {
      let received = 0
      const {code, signal} = await runCli(['audit', 'many.sql', '--format', format], {
        cwd: dir,
        env: {DBAKIT_HOME: freshHome()},
        onSpawn: (child) =>
          child.stdout!.once('data', (chunk: Buffer) => {
            received = chunk.length
            child.stdout!.destroy()
          }),
      })
      assert.ok(received > 0, format)
      assert.deepEqual({code, signal}, {code: 1, signal: null}, `${format}: an audit with failing findings exits 1 whoever reads its output`)
    }
    // A listing has no verdict: a reader that has seen enough is a success.
    const listed = execFileSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(join(projectRoot, 'bin', 'run.js'))} audit rules | head -1 >/dev/null; echo \${PIPESTATUS[0]}`], {env: {...process.env, DBAKIT_HOME: freshHome()}}).toString()
    assert.equal(listed.trim(), '0')
  })

  it('refuses --json with another --format instead of silently dropping one', async () => {
    const dir = workspace({'bad.sql': 'DELETE FROM t;\n'})
    const typed = await audit(['bad.sql', '--json', '--format', 'sarif'], {cwd: dir})
    assert.equal(typed.code, 2)
    assert.match(JSON.parse(typed.stdout).error.message, /--json and --format sarif/)
    const fromEnvironment = await audit(['bad.sql', '--json'], {cwd: dir, env: {DBAKIT_FORMAT: 'junit'}})
    assert.equal(fromEnvironment.code, 2)
    assert.match(JSON.parse(fromEnvironment.stdout).error.message, /--json and DBAKIT_FORMAT=junit/)
    for (const same of [['--format', 'json'], ['--format=json']]) {
      const agreed = await audit(['bad.sql', '--json', ...same], {cwd: dir})
      assert.equal(agreed.code, 1, agreed.stdout)
      assert.equal(json(agreed.stdout).findings[0]?.rule, 'dml-delete-without-where')
    }
  })

  it('names the environment variable, not the flag, when a DBAKIT_* value is wrong', async () => {
    const dir = workspace({'bad.sql': 'DELETE FROM t;\n'})
    const format = await audit(['bad.sql'], {cwd: dir, env: {DBAKIT_FORMAT: 'xml'}})
    assert.equal(format.code, 2)
    assert.match(format.stderr, /DBAKIT_FORMAT=xml .*text, json, sarif, junit, github, checkstyle/)
    assert.doesNotMatch(format.stderr, /--format=/)
    const timeout = await audit(['bad.sql'], {cwd: dir, env: {DBAKIT_CONNECT_TIMEOUT: 'soon'}})
    assert.equal(timeout.code, 2)
    assert.match(timeout.stderr, /Error: DBAKIT_CONNECT_TIMEOUT: Expected an integer but received: soon/)
    // A typed flag is still called by its name, whatever the environment says.
    const typed = await audit(['bad.sql', '--format', 'xml'], {cwd: dir, env: {DBAKIT_FORMAT: 'json'}})
    assert.equal(typed.code, 2)
    assert.match(typed.stderr, /--format=xml/)
    assert.doesNotMatch(typed.stderr, /DBAKIT_FORMAT/)
  })

  it('writes SARIF that names the rules it reports', async () => {
    const dir = workspace({'bad.sql': 'DELETE FROM t;\n'})
    const {code, stdout} = await audit(['bad.sql', '--format', 'sarif'], {cwd: dir})
    assert.equal(code, 1)
    const sarif = JSON.parse(stdout)
    assert.equal(sarif.version, '2.1.0')
    assert.ok(sarif.runs[0].results.some((r: {ruleId: string}) => r.ruleId === 'dml-delete-without-where'))
  })

  it('annotates GitHub pull requests and appends the step summary', async () => {
    const dir = workspace({'bad.sql': 'SELECT 1;\nDELETE FROM t;\n'})
    const summary = join(dir, 'summary.md')
    writeFileSync(summary, '# earlier step\n')
    const {code, stdout} = await audit(['bad.sql', '--format', 'github'], {cwd: dir, env: {GITHUB_STEP_SUMMARY: summary}})
    assert.equal(code, 1)
    assert.match(stdout, /^::error file=bad\.sql,line=2,col=1,title=dml-delete-without-where::/m)
    const markdown = readFileSync(summary, 'utf8')
    assert.match(markdown, /^# earlier step/)
    assert.match(markdown, /dml-delete-without-where/)
  })

  it('never echoes a clear-text password from the SQL, whichever rule reports the line', async () => {
    const secret = 'Sup3r-S3cret-pw'
    const sql = `GRANT ALL PRIVILEGES ON *.* TO 'app'@'%' IDENTIFIED BY '${secret}';\nCHANGE MASTER TO MASTER_HOST='db1', MASTER_PASSWORD='${secret}';\n`
    // Even with the password rule turned off, other findings on those lines must not show it.
    const dir = workspace({'grant.sql': sql, '.dbakit.yaml': 'rules:\n  security-plaintext-password: off\n'})
    for (const format of ['text', 'json', 'sarif', 'junit', 'github', 'checkstyle']) {
      const {stdout} = await audit(['grant.sql', '--format', format], {cwd: dir})
      assert.ok(stdout.includes('security-grant-all'), `${format}: ${stdout}`)
      assert.ok(!stdout.includes(secret), `${format} output shows the password`)
    }
  })

  it('lists the catalog and explains a rule', async () => {
    const listed = await runCli(['audit', 'rules', '--json'])
    assert.equal(listed.code, 0)
    const ids = (JSON.parse(listed.stdout).rules as Array<{id: string}>).map((r) => r.id)
    assert.ok(ids.length >= 60, `only ${ids.length} rules`)
    assert.equal(new Set(ids).size, ids.length)
    const explained = await runCli(['audit', 'explain', 'dml-update-without-where'])
    assert.equal(explained.code, 0)
    assert.match(explained.stdout, /Bad:[\s\S]*Good:[\s\S]*Fix:/)
    const typo = await runCli(['audit', 'explain', 'dml-update-without-wher'])
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, /did you mean dml-update-without-where/)
  })
})

describe('dbakit audit against MariaDB', () => {
  const database = `dbakit_audit_${process.pid}`
  const sql = (statement: string) =>
    execFileSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${new URL(mariadb.primaryUrl.replace('mysql:', 'http:')).port}`, '-udbakit', '-e', statement], {env: {...process.env, MYSQL_PWD: mariadb.password}})
  before(() => {
    sql(`CREATE DATABASE ${database}; CREATE TABLE ${database}.events (id BIGINT PRIMARY KEY, kind VARCHAR(20), KEY kind_idx (kind)) ENGINE=InnoDB; INSERT INTO ${database}.events SELECT seq, 'k' FROM ${database}.seq_1_to_5000; ANALYZE TABLE ${database}.events;`)
  })
  after(() => sql(`DROP DATABASE IF EXISTS ${database}`))
  const url = () => `${mariadb.primaryUrl}/${database}`

  it('uses the live schema and the server\'s flavor and version', async () => {
    const dir = workspace({'change.sql': 'ALTER TABLE events MODIFY kind VARCHAR(10);\n', '.dbakit.yaml': 'thresholds:\n  bigTableRows: 1000\n'})
    const {code, stdout, stderr} = await audit([join(dir, 'change.sql'), '--url', url(), '--json'], {env: {DBAKIT_PASSWORD: mariadb.password}})
    assert.ok(code === 0 || code === 1, stderr)
    const report = JSON.parse(stdout)
    assert.equal(report.target.source, 'server')
    assert.equal(report.target.flavor, 'mariadb')
    const byRule = new Map((report.findings as Array<{rule: string; level: string; message: string}>).map((f) => [f.rule, f]))
    // The live table is 5,000 rows, over the configured 1,000: the copy is an error, with its size.
    assert.equal(byRule.get('locking-copy-alter')?.level, 'error', stdout)
    assert.match(byRule.get('locking-copy-alter')!.message, /rows/)
    // Only the live column type (VARCHAR(20)) shows that VARCHAR(10) narrows it.
    assert.ok(byRule.has('destructive-narrowing-type-change'), stdout)
    const offline = json((await audit([join(dir, 'change.sql'), '--json'])).stdout)
    assert.ok(!offline.findings.some((f) => f.rule === 'destructive-narrowing-type-change'))
  })

  it('snapshots the schema so CI gets the same size-aware findings offline', async () => {
    const dir = workspace({'change.sql': 'ALTER TABLE events MODIFY kind VARCHAR(10);\n', '.dbakit.yaml': 'thresholds:\n  bigTableRows: 1000\n'})
    const snapshot = join(dir, 'schema.json')
    const made = await runCli(['audit', 'snapshot', '--url', url(), '--out', snapshot], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}})
    assert.equal(made.code, 0, made.stderr)
    const saved = JSON.parse(readFileSync(snapshot, 'utf8'))
    assert.equal(saved.tables[0].name, 'events')
    assert.ok(saved.tables[0].stats.rows > 1000)
    assert.ok(!readFileSync(snapshot, 'utf8').includes(mariadb.password))
    const live = await audit([join(dir, 'change.sql'), '--url', url(), '--json'], {env: {DBAKIT_PASSWORD: mariadb.password}})
    const offline = await audit([join(dir, 'change.sql'), '--schema', snapshot, '--json'])
    assert.deepEqual(
      json(offline.stdout).findings.map((f) => f.rule),
      json(live.stdout).findings.map((f) => f.rule),
    )
  })

  it('calls no statement MariaDB runs a syntax error for how it starts, and still catches starts it refuses', async () => {
    const valid = [
      '(SELECT id FROM events ORDER BY id LIMIT 1) UNION ALL (SELECT id FROM events) LIMIT 20;',
      '(SELECT id FROM events WHERE id = 1);',
      '((SELECT 1));',
      '(VALUES (1), (2));',
      '((VALUES (1)) UNION (SELECT 2));',
      '/*!40101 SET @dbakit_x = 1 */;',
      'DO 1;',
      'CHECKSUM TABLE events;',
      'CHECK TABLE events;',
      'HANDLER events OPEN;',
      'HANDLER events READ FIRST;',
      'HANDLER events CLOSE;',
      "PREPARE probe FROM 'SELECT 1';",
      'EXECUTE probe;',
      'DEALLOCATE PREPARE probe;',
      'GET DIAGNOSTICS @dbakit_n = NUMBER;',
      "XA START 'dbakit';",
      "XA END 'dbakit';",
      "XA ROLLBACK 'dbakit';",
      // Compound statements outside a routine: sent whole, under DELIMITER.
      'DELIMITER //',
      'WHILE 0 DO SELECT 1; END WHILE//',
      'REPEAT SELECT 1; UNTIL 1 END REPEAT//',
      'FOR i IN 1..2 DO SELECT i; END FOR//',
      'CASE WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE//',
      'DELIMITER ;',
    ].join('\n')
    const dir = workspace({'valid.sql': `${valid}\n`, 'invalid.sql': '(DELETE FROM events WHERE id = 1);\nFOO BAR;\n(WITH c AS (SELECT 1) SELECT * FROM c);\n'})
    // The server's own parser is the judge: it runs every one of them.
    const client = (input: string) => execFileSync('mariadb', ['--no-defaults', '-h127.0.0.1', `-P${new URL(mariadb.primaryUrl.replace('mysql:', 'http:')).port}`, '-udbakit', database], {input, stdio: 'pipe', env: {...process.env, MYSQL_PWD: mariadb.password}})
    client(valid)
    const report = json((await audit(['valid.sql', '--json', '--flavor', 'mariadb'], {cwd: dir})).stdout)
    assert.deepEqual(report.findings.filter((f) => f.rule === 'syntax-error'), [])
    // A parenthesised DELETE and an unknown word are refused by any server; so is a bracketed WITH by MariaDB.
    for (const statement of ['(DELETE FROM events WHERE id = 1)', 'FOO BAR', '(WITH c AS (SELECT 1) SELECT * FROM c)']) {
      assert.throws(() => client(statement), /ERROR 1064/, statement)
    }
    const refused = json((await audit(['invalid.sql', '--json'], {cwd: dir})).stdout).findings.filter((f) => f.rule === 'syntax-error')
    assert.deepEqual(
      refused.map((f) => `${f.line}:${f.column}`),
      ['1:2', '2:1'],
      'offline, only what no server accepts is an error (MySQL 8 takes a bracketed WITH)',
    )
  })

  it('refuses to snapshot a database that does not exist, listing those that do, and writes nothing', async () => {
    const dir = workspace({})
    const out = join(dir, 'schema.json')
    const missing = `nosuchdb_${process.pid}`
    const {code, stderr} = await runCli(['audit', 'snapshot', '--url', mariadb.primaryUrl, '--database', missing, '--out', out], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}})
    assert.equal(code, 2, stderr)
    assert.match(stderr, new RegExp(`database ${missing} does not exist`))
    assert.match(stderr, new RegExp(`Hint: databases this user can see there: .*\\b${database}\\b`))
    assert.doesNotMatch(stderr, /information_schema|performance_schema/)
    assert.ok(!existsSync(out), 'no snapshot file is written')
  })

  it('says where the database goes when the URL has none: audit has no --database', async () => {
    const dir = workspace({'change.sql': 'ALTER TABLE events ADD COLUMN note INT;\n'})
    const {code, stderr} = await audit([join(dir, 'change.sql'), '--url', mariadb.primaryUrl], {env: {DBAKIT_PASSWORD: mariadb.password}})
    assert.equal(code, 2, stderr)
    assert.match(stderr, /Hint: .*URL's path, as in mysql:\/\/user@host:3306\/DB/)
    assert.doesNotMatch(stderr, /--database/)
  })

  it('asks the server about statements the parser rejects: real syntax errors are reported, parser gaps are not', async () => {
    const dir = workspace({'mixed.sql': "SELECT 1;\nALTER TABLE events ADD COLUMN note INT INVISIBLE;\nUPDATE events\n  SET kind = WHERE id = 1;\n"})
    const offline = json((await audit([join(dir, 'mixed.sql'), '--json'])).stdout)
    assert.ok(!offline.findings.some((f) => f.rule === 'syntax-error'), 'offline, a statement that merely fails to parse is not called a syntax error')
    assert.equal(offline.summary.unparsed, 2)
    const live = await audit([join(dir, 'mixed.sql'), '--url', url(), '--json'], {env: {DBAKIT_PASSWORD: mariadb.password}})
    const errors = json(live.stdout).findings.filter((f) => f.rule === 'syntax-error')
    assert.deepEqual(
      errors.map((f) => f.line),
      [4],
      live.stdout,
    )
    assert.equal(live.code, 1)
  })

  it('masks a password in a statement the server rejects, in the source line and in the server\'s quote of it', async () => {
    const secret = `Hunter2-${process.pid}-ReallyLongSecretValueThatTheServerMayCut`
    // The error is just before the password, so the server's "near '...'" starts with it.
    const dir = workspace({'user.sql': `CREATE USER 'app'@'%' IDENTIFIED BY BY '${secret}';\nGRANT SELECT ON *.* TO 'app'@'%' IDENTIFIED BY '${secret}' WITH WITH;\n`})
    for (const format of [['--json'], ['--format', 'text']]) {
      const live = await audit([join(dir, 'user.sql'), '--url', url(), ...format], {env: {DBAKIT_PASSWORD: mariadb.password}})
      assert.equal(live.code, 1, live.stderr)
      assert.match(live.stdout, /the server rejects this statement: syntax error near/)
      for (const part of [secret, secret.slice(0, 12), secret.slice(-12)]) {
        assert.ok(!live.stdout.includes(part) && !live.stderr.includes(part), `${part} shown:\n${live.stdout}`)
      }
    }
  })

  it('exits 3 when the server does not answer, or audits offline with --offline-fallback', async () => {
    const dir = workspace({'bad.sql': 'DELETE FROM t;\n'})
    const refused = await audit([join(dir, 'bad.sql'), '--url', 'mysql://dbakit@127.0.0.1:1/x'])
    assert.equal(refused.code, 3)
    const fallback = await audit([join(dir, 'bad.sql'), '--url', 'mysql://dbakit@127.0.0.1:1/x', '--offline-fallback'])
    assert.equal(fallback.code, 1)
    assert.match(fallback.stderr, /auditing offline/)
  })
})
