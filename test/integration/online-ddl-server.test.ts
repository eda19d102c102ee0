import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {createConnection, type Connection, type ResultSetHeader} from 'mysql2/promise'
import {schemaView, type SchemaSnapshot} from '../../src/lib/audit/snapshot.ts'
import {classifyAlter, readTableChanges, type AlterClassification} from '../../src/lib/sql/ddl.ts'
import {significant, tokenize} from '../../src/lib/sql/lexer.ts'
import {freshHome, runCli} from '../helpers/cli.ts'
import {ONLINE_DDL_CASES} from '../helpers/online-ddl-cases.ts'
import {mariadb} from '../helpers/services.ts'

/*
 * The online-DDL classifier against the server itself: every case of the shared list runs on a
 * scratch table (with a few rows) under ALGORITHM= and LOCK= assertions, cheapest first, and the
 * first combination the server accepts is what it really does. The classifier, given the table as `dbakit audit
 * snapshot` reads it from the same server, must predict exactly that.
 *
 * Only MariaDB (the version the test services run) is checked this way. The MySQL rows of the
 * classifier cannot be server-checked here: test/unit/online-ddl.test.ts keeps them, with the other
 * versions of both flavors.
 */

/** MariaDB's ALGORITHM levels, cheapest first: NOCOPY is in place without rebuilding the table. */
const ALGORITHMS = ['INSTANT', 'NOCOPY', 'INPLACE', 'COPY'] as const
const LOCKS = ['NONE', 'SHARED', 'EXCLUSIVE'] as const
type Outcome = `${(typeof ALGORITHMS)[number]} LOCK=${(typeof LOCKS)[number]}`
/** ER_ALTER_OPERATION_NOT_SUPPORTED and ..._REASON: the server refuses the assertion, the statement is fine. */
const REFUSED = new Set([1845, 1846])

const database = `dbakit_ddl_${process.pid}`
const tableOf = (index: number) => `c${index}`
const fill = (sql: string, index: number) => sql.replaceAll('{t}', tableOf(index)).replaceAll('{parent}', 'parent')

/** The statement with ALGORITHM= and LOCK= assertions, first in an ALTER TABLE (ORDER BY must stay last). */
function asserted(change: string, algorithm: string, lock: string): string {
  const alter = /^ALTER TABLE \S+ /i.exec(change)
  return alter ? `${alter[0]}ALGORITHM=${algorithm}, LOCK=${lock}, ${change.slice(alter[0].length)}` : `${change} ALGORITHM=${algorithm} LOCK=${lock}`
}

/** Tries every assertion, cheapest first; the first one accepted has changed the table. */
async function cheapestAccepted(connection: Connection, change: string): Promise<Outcome> {
  for (const algorithm of ALGORITHMS) {
    for (const lock of LOCKS) {
      try {
        const [result] = await connection.query<ResultSetHeader>(asserted(change, algorithm, lock))
        // MariaDB does not enforce ALGORITHM= on some copying paths (ENGINE=, ORDER BY); a copy reports the rows it copied.
        return `${result.affectedRows > 0 ? 'COPY' : algorithm} LOCK=${lock}`
      } catch (error) {
        const {errno, message} = error as {errno?: number; message: string}
        if (!REFUSED.has(errno ?? 0)) throw new Error(`the case itself fails on the server: ${asserted(change, algorithm, lock)}: ${message}`)
      }
    }
  }
  throw new Error(`the server refused every ALGORITHM/LOCK combination for ${change}`)
}

function predicted(classification: AlterClassification): Outcome {
  const algorithm = classification.algorithm === 'INPLACE' ? (classification.rebuild ? 'INPLACE' : 'NOCOPY') : classification.algorithm
  return `${algorithm} LOCK=${classification.lock}`
}

const rank = (outcome: Outcome) => {
  const [algorithm, lock] = outcome.split(' LOCK=') as [(typeof ALGORITHMS)[number], (typeof LOCKS)[number]]
  return ALGORITHMS.indexOf(algorithm) * LOCKS.length + LOCKS.indexOf(lock)
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')).join('\n')
}

describe('the online-DDL classifier against MariaDB itself', () => {
  let connection: Connection
  let snapshot: SchemaSnapshot
  const url = new URL(mariadb.primaryUrl.replace(/^mysql:/, 'http:'))

  before(async () => {
    connection = await createConnection({host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: mariadb.password, multipleStatements: false})
    await connection.query(`CREATE DATABASE ${database}`)
    await connection.query(`USE ${database}`)
    await connection.query('CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB')
    for (const [index, testCase] of ONLINE_DDL_CASES.entries()) {
      for (const statement of testCase.create) await connection.query(fill(statement, index))
    }
    // The live schema exactly as `dbakit audit --url` reads it.
    const out = join(mkdtempSync(join(tmpdir(), 'dbakit-ddl-')), 'schema.json')
    const made = await runCli(['audit', 'snapshot', '--url', `${mariadb.primaryUrl}/${database}`, '--out', out], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}})
    assert.equal(made.code, 0, made.stderr)
    snapshot = JSON.parse(readFileSync(out, 'utf8')) as SchemaSnapshot
  })

  after(async () => {
    await connection?.query(`DROP DATABASE IF EXISTS ${database}`)
    await connection?.end()
  })

  it(`predicts what the server does for each of the ${ONLINE_DDL_CASES.length} cases, live and offline`, async () => {
    assert.equal(snapshot.server.flavor, 'mariadb')
    const target = {flavor: snapshot.server.flavor, version: snapshot.server.version}
    const schema = schemaView(snapshot)
    const mismatches: string[][] = [['case', 'statement', 'server', 'classifier (live schema)', 'reason']]
    const offlineMistakes: string[][] = [['case', 'statement', 'server', 'classifier (no schema)', 'reason']]
    for (const [index, testCase] of ONLINE_DDL_CASES.entries()) {
      const change = fill(testCase.change, index)
      const [read] = readTableChanges(significant(tokenize(change)))
      assert.ok(read, `the classifier reads no table change from ${change}`)
      const foreignKeyChecks = testCase.foreignKeyChecks ?? true
      const info = schema.table(tableOf(index))
      assert.ok(info, `the snapshot has no table ${tableOf(index)}`)
      const live = classifyAlter(read.clauses, target, {foreignKeyChecks, table: info})
      const offline = classifyAlter(read.clauses, target, {foreignKeyChecks})

      await connection.query(`SET SESSION foreign_key_checks = ${foreignKeyChecks ? 1 : 0}`)
      const server = await cheapestAccepted(connection, change)
      await connection.query('SET SESSION foreign_key_checks = 1')

      const row = (label: string, classification: AlterClassification) => [label, testCase.change, server, `${predicted(classification)}${classification.certain ? '' : ' (uncertain)'}`, classification.reason]
      if (predicted(live) !== server || !live.certain) mismatches.push(row(testCase.name, live))
      // Without the schema the classifier may assume the worst, but only when it says it is unsure. Where
      // only the schema tells, it may assume the usual table, and then must say it is unsure.
      const cheaper = rank(predicted(offline)) < rank(server)
      const offlineWrong = testCase.needsSchema ? offline.certain && cheaper : offline.certain ? predicted(offline) !== server : cheaper
      if (offlineWrong) offlineMistakes.push(row(testCase.name, offline))
    }
    assert.deepEqual(mismatches.length - 1, 0, `the classifier disagrees with MariaDB ${target.version} on ${mismatches.length - 1} of ${ONLINE_DDL_CASES.length} cases:\n${table(mismatches)}`)
    assert.deepEqual(offlineMistakes.length - 1, 0, `without the schema the classifier is wrong or too optimistic on ${offlineMistakes.length - 1} of ${ONLINE_DDL_CASES.length} cases:\n${table(offlineMistakes)}`)
  })

  it('dbakit audit --url and --schema report no table copy for the instant MODIFYs of the issue, and still report a real copy', async () => {
    await connection.query('CREATE TABLE reported (id INT PRIMARY KEY, a VARCHAR(50) CHARACTER SET utf8mb4, d VARCHAR(10) CHARACTER SET latin1) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4')
    const dir = mkdtempSync(join(tmpdir(), 'dbakit-ddl-audit-'))
    const files = {
      instant: "ALTER TABLE reported MODIFY a VARCHAR(50) CHARACTER SET utf8mb4 COMMENT 'hi';\nALTER TABLE reported MODIFY d VARCHAR(300) CHARACTER SET latin1;\n",
      copy: 'ALTER TABLE reported MODIFY d VARCHAR(300) CHARACTER SET utf8mb4;\n',
    }
    for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, `${name}.sql`), sql)
    const env = {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}
    const schemaFile = join(dir, 'schema.json')
    const made = await runCli(['audit', 'snapshot', '--url', `${mariadb.primaryUrl}/${database}`, '--out', schemaFile], {env})
    assert.equal(made.code, 0, made.stderr)
    for (const source of [['--url', `${mariadb.primaryUrl}/${database}`], ['--schema', schemaFile]]) {
      const copyRules = async (file: string) => {
        const {code, stdout, stderr} = await runCli(['audit', join(dir, file), ...source, '--json'], {env})
        assert.ok(code === 0 || code === 1, stderr)
        const findings = (JSON.parse(stdout) as {findings: Array<{rule: string; line: number}>}).findings
        return findings.filter((f) => f.rule === 'locking-copy-alter').map((f) => f.line)
      }
      assert.deepEqual(await copyRules('instant.sql'), [], `${source[0]}: both MODIFYs are INSTANT on MariaDB`)
      assert.deepEqual(await copyRules('copy.sql'), [1], `${source[0]}: latin1 to utf8mb4 copies the table`)
    }
  })
})
