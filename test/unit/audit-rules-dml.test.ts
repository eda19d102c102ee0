import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {significant, tokenize} from '../../src/lib/sql/lexer.ts'
import {rules as dmlRules} from '../../src/lib/audit/rules/dml.ts'
import {rules as queryRules} from '../../src/lib/audit/rules/query.ts'
import {rules as securityRules} from '../../src/lib/audit/rules/security.ts'
import type {Rule, RuleHit, SchemaView, TableInfo} from '../../src/lib/audit/types.ts'
import {check, checkFile, contextFor, newFileState, runRule, type ContextOptions} from '../helpers/audit.ts'

const FAMILIES = {dml: dmlRules, query: queryRules, security: securityRules}
const ALL: Rule[] = [...dmlRules, ...queryRules, ...securityRules]

const byId = (id: string): Rule => {
  const rule = ALL.find((r) => r.id === id)
  assert.ok(rule, `no rule ${id}`)
  return rule
}

/** A small shop: `orders` and `events` are big, the others small. */
const TABLES: TableInfo[] = [
  {
    name: 'users',
    columns: [
      {name: 'id', type: 'int unsigned', nullable: false},
      {name: 'email', type: 'varchar(255)', nullable: false},
      {name: 'phone', type: 'varchar(20)', nullable: true},
      {name: 'nickname', type: 'varchar(40)', nullable: true},
      {name: 'status', type: 'varchar(16)', nullable: false},
      {name: 'verified', type: 'tinyint(1)', nullable: false},
      {name: 'age', type: 'int', nullable: true},
      {name: 'created_at', type: 'datetime', nullable: false},
    ],
    indexes: [
      {name: 'PRIMARY', columns: ['id'], unique: true},
      {name: 'uk_email', columns: ['email'], unique: true},
      {name: 'idx_phone', columns: ['phone'], unique: false},
      {name: 'idx_status_age', columns: ['status', 'age'], unique: false},
    ],
    stats: {rows: 20_000},
  },
  {
    name: 'orders',
    columns: [
      {name: 'id', type: 'bigint unsigned', nullable: false},
      {name: 'customer_id', type: 'int', nullable: false},
      {name: 'ref', type: 'char(12)', nullable: false},
      {name: 'status', type: 'varchar(16)', nullable: false},
      {name: 'created_at', type: 'datetime', nullable: false},
      {name: 'shipped_at', type: 'datetime', nullable: true},
    ],
    indexes: [
      {name: 'PRIMARY', columns: ['id'], unique: true},
      {name: 'uk_ref', columns: ['ref', 'customer_id'], unique: true},
      {name: 'idx_created', columns: ['created_at'], unique: false},
    ],
    stats: {rows: 3_000_000},
  },
  {
    name: 'events',
    columns: [
      {name: 'id', type: 'bigint', nullable: false},
      {name: 'created_at', type: 'datetime', nullable: false},
      {name: 'archived', type: 'tinyint', nullable: false},
      {name: 'status', type: 'varchar(10)', nullable: true},
    ],
    indexes: [{name: 'PRIMARY', columns: ['id'], unique: true}],
    stats: {rows: 12_000_000},
  },
  {
    name: 'customers',
    columns: [
      {name: 'id', type: 'int', nullable: false},
      {name: 'referrer_id', type: 'int', nullable: true},
      {name: 'email', type: 'varchar(100)', nullable: false},
      {name: 'region', type: 'varchar(8)', nullable: true},
    ],
    indexes: [{name: 'PRIMARY', columns: ['id'], unique: true}],
    stats: {rows: 1000},
  },
]
const schema: SchemaView = {table: (name) => TABLES.find((t) => t.name === name.toLowerCase())}

const hitsOf = (id: string, sql: string, options?: ContextOptions): RuleHit[] => check(byId(id), sql, options)
const fires = (id: string, sql: string, options?: ContextOptions) => assert.ok(hitsOf(id, sql, options).length > 0, `${id} should fire on: ${sql}`)
const silent = (id: string, sql: string, options?: ContextOptions, why = '') => assert.deepEqual(hitsOf(id, sql, options), [], `${id} should not fire on: ${sql} ${why}`)
const only = (id: string, sql: string, options?: ContextOptions): RuleHit => {
  const hits = hitsOf(id, sql, options)
  assert.equal(hits.length, 1, `${id} should fire once on: ${sql}`)
  return hits[0]!
}

/** Statements of an example; a multi-statement example runs through checkFile. */
const statementsOf = (sql: string) => sql.split(/;\s*\n/).map((s) => s.replace(/;\s*$/, '').trim()).filter(Boolean)
function runExample(rule: Rule, sql: string, options: ContextOptions): RuleHit[] {
  const statements = statementsOf(sql)
  return statements.length > 1 ? checkFile(rule, statements, options).flat() : check(rule, sql, options)
}

describe('rule catalog: dml, query, security', () => {
  it('has at least 32 rules with unique, family-prefixed kebab-case ids', () => {
    assert.ok(ALL.length >= 32, `only ${ALL.length} rules`)
    assert.equal(new Set(ALL.map((r) => r.id)).size, ALL.length)
    for (const [family, rules] of Object.entries(FAMILIES)) {
      for (const rule of rules) {
        assert.equal(rule.family, family, rule.id)
        assert.match(rule.id, new RegExp(`^${family}-[a-z0-9]+(-[a-z0-9]+)*$`))
      }
    }
  })

  it('gives every rule complete metadata', () => {
    for (const rule of ALL) {
      for (const field of ['id', 'family', 'level', 'summary', 'rationale', 'bad', 'good', 'fix'] as const) {
        assert.equal(typeof rule[field], 'string', `${rule.id}.${field}`)
        assert.ok(rule[field].trim().length > 0, `${rule.id}.${field} is empty`)
      }
      assert.ok(['error', 'warning', 'notice'].includes(rule.level), rule.id)
      assert.ok(!rule.summary.includes('\n'), `${rule.id} summary is one line`)
      assert.ok(!rule.fix.includes('\n'), `${rule.id} fix is one line`)
      const sentences = rule.rationale.split(/(?<=[.!?])\s+(?=[A-Z])/).length
      assert.ok(sentences >= 2 && sentences <= 3, `${rule.id} rationale has ${sentences} sentences`)
      assert.equal(typeof rule.check, 'function')
    }
  })

  it('fires on its own bad example and not on its good one', () => {
    // Rules whose finding is flavor-specific get the server their example is about.
    const target: Record<string, ContextOptions> = {'query-sql-calc-found-rows': {flavor: 'mysql', version: '8.0.36'}}
    for (const rule of ALL) {
      const bad = runExample(rule, rule.bad, {schema, ...target[rule.id]})
      assert.ok(bad.length > 0, `${rule.id} does not fire on its bad example`)
      assert.deepEqual(runExample(rule, rule.good, {schema, ...target[rule.id]}), [], `${rule.id} fires on its good example`)
      if (!rule.needsSchema) assert.deepEqual(runExample(rule, rule.good, {...target[rule.id]}), [], `${rule.id} fires on its good example without a schema`)
      for (const hit of bad) assert.ok(hit.message.length > 0 && hit.at, `${rule.id} hit has a message and a position`)
    }
  })

  it('never throws on partial or odd input', () => {
    const base = contextFor('SELECT 1')
    const odd = [
      '',
      'UPDATE',
      'DELETE FROM',
      'INSERT INTO',
      'SELECT * FROM',
      'GRANT',
      'SET',
      'SET @@',
      'SET PASSWORD FOR',
      "CREATE USER 'a'@",
      '((((',
      '))))',
      "SELECT 'unterminated",
      'SELECT a FROM t WHERE b NOT IN (SELECT',
      'WITH x AS (',
      'LOAD DATA',
      'SELECT a FROM t LIMIT',
      'UPDATE t SET a = 1 AND',
      'SELECT a FROM t WHERE DATE(',
      'GRANT ALL ON *.',
    ]
    const examples = ALL.flatMap((r) => [r.bad, r.good]).filter((sql) => sql.length < 400)
    for (const sql of [...odd, ...examples]) {
      const tokens = significant(tokenize(sql))
      // Every prefix of every example: what a truncated file or a parser-confusing statement looks like.
      for (let n = 0; n <= tokens.length; n++) {
        const text = sql.slice(0, tokens[n - 1]?.end ?? 0)
        const prefix = tokens.slice(0, n)
        for (const withSchema of [false, true]) {
          const context = {...base, statement: {...base.statement, text, tokens: prefix, allTokens: prefix}, file: newFileState(), ...(withSchema ? {schema} : {})}
          for (const rule of ALL) assert.doesNotThrow(() => runRule(rule, context), `${rule.id} on: ${text}`)
        }
      }
    }
  })
})

describe('dml rules', () => {
  it('dml-update-without-where', () => {
    const id = 'dml-update-without-where'
    const hit = only(id, "UPDATE accounts\n  SET status = 'closed'")
    assert.match(hit.message, /accounts/)
    assert.deepEqual([hit.at?.line, hit.at?.column, hit.at?.value], [1, 1, 'UPDATE'])
    fires(id, 'UPDATE t SET a = 1 -- WHERE id = 1')
    fires(id, "UPDATE t SET note = 'x WHERE y'")
    fires(id, 'UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1)')
    fires(id, 'WITH x AS (SELECT id FROM t WHERE a = 1) UPDATE t SET b = 2')
    assert.equal(only(id, 'UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.region = c.region').level, 'warning')
    silent(id, "UPDATE t SET note = 'no WHERE here' WHERE id = 1")
    silent(id, '-- UPDATE t SET a = 1\nSELECT 1')
    silent(id, "SELECT 'UPDATE t SET a = 1'")
    silent(id, 'UPDATE t')
  })

  it('dml-delete-without-where', () => {
    const id = 'dml-delete-without-where'
    assert.match(only(id, 'DELETE FROM sessions').message, /every row of sessions/)
    fires(id, 'DELETE FROM t /* WHERE id = 1 */')
    fires(id, 'DELETE LOW_PRIORITY QUICK FROM app.t')
    silent(id, 'DELETE FROM t WHERE id = 1')
    silent(id, '-- DELETE FROM t\nSELECT 1')
    silent(id, "INSERT INTO log (msg) VALUES ('DELETE FROM t')")
    silent(id, 'DELETE')
  })

  it('dml-always-true-where', () => {
    const id = 'dml-always-true-where'
    for (const where of ['1', '1=1', 'TRUE', "'a' = 'a'", 'id = id', 'id = 5 OR 1', 'x IS NOT NULL OR x IS NULL', '(1 = 1) AND 2 > 1']) {
      fires(id, `DELETE FROM t WHERE ${where}`)
      fires(id, `UPDATE t SET a = 1 WHERE ${where} LIMIT 10`)
    }
    const hit = only(id, 'DELETE FROM orders\nWHERE 1 = 1')
    assert.deepEqual([hit.at?.line, hit.at?.value], [2, 'WHERE'])
    assert.match(hit.message, /orders/)
    silent(id, 'DELETE FROM t WHERE 1 = 1 AND id = 5')
    silent(id, 'DELETE FROM t WHERE 1 = 0 OR id = 5')
    silent(id, "UPDATE t SET a = '1=1' WHERE id = 2")
    silent(id, 'DELETE FROM t WHERE id = 1 -- OR 1=1')
    silent(id, 'SELECT a FROM t WHERE 1 = 1')
  })

  it('dml-update-set-and', () => {
    const id = 'dml-update-set-and'
    const hit = only(id, "UPDATE users SET status = 'active' AND verified = 1 WHERE id = 7")
    assert.equal(hit.at?.value, 'AND')
    assert.match(hit.message, /status.*verified/)
    fires(id, 'UPDATE t SET a = 1, b = 2 && c = 3')
    fires(id, 'INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE a = 1 AND b = 2')
    fires(id, 'INSERT INTO t SET a = 1 AND b = 2')
    silent(id, 'UPDATE t SET a = 1, b = 2 WHERE c = 3 AND d = 4')
    silent(id, 'UPDATE t SET flag = x > 0 AND y > 0 WHERE id = 1')
    silent(id, 'UPDATE t SET a = b BETWEEN 1 AND 5 WHERE id = 1')
    silent(id, "UPDATE t SET note = 'a AND b = 2' WHERE id = 1")
    silent(id, 'UPDATE t SET a = 1 /* AND b = 2 */ WHERE id = 1')
  })

  it('dml-limit-without-order-by', () => {
    const id = 'dml-limit-without-order-by'
    assert.equal(only(id, 'DELETE FROM t WHERE a < 5 LIMIT 100').at?.value, 'LIMIT')
    fires(id, 'UPDATE t SET a = 1 WHERE b = 2 -- ORDER BY id\nLIMIT 5')
    silent(id, 'DELETE FROM t WHERE a < 5 ORDER BY id LIMIT 100')
    silent(id, 'DELETE FROM t WHERE id IN (SELECT id FROM u ORDER BY id LIMIT 5)')
    silent(id, "DELETE FROM t WHERE note = 'LIMIT 5'")
    silent(id, 'SELECT a FROM t LIMIT 5')
  })

  it('dml-insert-without-columns', () => {
    const id = 'dml-insert-without-columns'
    const hit = only(id, 'INSERT INTO customers VALUES (1)')
    assert.equal(hit.at?.text, 'customers')
    fires(id, 'REPLACE INTO t SELECT a FROM u')
    fires(id, 'INSERT INTO t (SELECT a FROM u)')
    silent(id, 'INSERT INTO t (a) VALUES (1)')
    silent(id, 'INSERT INTO t SET a = 1')
    silent(id, "INSERT INTO t (a) VALUES ('VALUES (1)')")
    silent(id, '-- INSERT INTO t VALUES (1)\nSELECT 1')
  })

  it('dml-insert-select-star', () => {
    const id = 'dml-insert-select-star'
    assert.equal(only(id, 'INSERT INTO archive SELECT * FROM orders').at?.text, '*')
    fires(id, 'INSERT INTO archive (a, b) SELECT o.* FROM orders o')
    fires(id, 'INSERT INTO archive (SELECT * FROM orders)')
    silent(id, 'INSERT INTO archive (a) SELECT COUNT(*) FROM orders')
    silent(id, "INSERT INTO archive (a) SELECT '*' FROM orders")
    silent(id, 'INSERT INTO archive (a) SELECT a FROM orders WHERE EXISTS (SELECT * FROM u)')
    silent(id, 'SELECT * FROM orders')
  })

  it('dml-insert-too-many-rows', () => {
    const id = 'dml-insert-too-many-rows'
    const small = {thresholds: {maxInsertRows: 2}}
    const hit = only(id, "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", small)
    assert.match(hit.message, /3 rows.*threshold 2/)
    assert.equal(hit.at?.value, 'VALUES')
    fires(id, 'REPLACE INTO t (a) VALUES (1), (2), (3) ON DUPLICATE KEY UPDATE a = 1', small)
    silent(id, "INSERT INTO t (a, b) VALUES (1, 'a,b,c'), (2, 'd, (e), f')", small)
    silent(id, 'INSERT INTO t (a) VALUES (1), (2), (3)')
    silent(id, 'INSERT INTO t (a) SELECT a FROM u', small)
  })

  it('dml-mixed-ddl-dml', () => {
    const rule = byId('dml-mixed-ddl-dml')
    const hits = checkFile(rule, ['ALTER TABLE t ADD COLUMN c INT', "UPDATE t SET c = 1 WHERE id = 1", 'DELETE FROM t WHERE id = 2', 'DROP TABLE x'])
    assert.deepEqual(hits.map((h) => h.length), [0, 1, 0, 0], 'reported once, on the first statement that mixes')
    assert.match(hits[1]![0]!.message, /UPDATE t.*ALTER TABLE t/)
    assert.deepEqual(checkFile(rule, ['INSERT INTO t (a) VALUES (1)', 'CREATE INDEX i ON t (a)']).map((h) => h.length), [0, 1])
    assert.deepEqual(checkFile(rule, ['CREATE TABLE t (id INT)', "SELECT 'INSERT INTO t'", '-- UPDATE t SET a = 1\nSELECT 1']).flat(), [])
    assert.deepEqual(checkFile(rule, ['UPDATE t SET a = 1 WHERE id = 1', 'INSERT INTO t (a) VALUES (2)']).flat(), [])
    // A routine body runs when called, not when the file runs.
    const file = newFileState()
    runRule(rule, contextFor('ALTER TABLE t ADD COLUMN b INT', {file}))
    const routine = contextFor('UPDATE t SET a = 1 WHERE id = 1', {file})
    routine.statement.routine = 'CREATE PROCEDURE'
    assert.deepEqual(runRule(rule, routine), [])
    assert.equal(runRule(rule, contextFor('INSERT INTO t (a) VALUES (1)', {file})).length, 1)
  })

  it('dml-large-backfill', () => {
    const id = 'dml-large-backfill'
    assert.equal(byId(id).needsSchema, true)
    assert.match(only(id, 'DELETE FROM orders', {schema}).message, /all ~3,000,000 rows/)
    const hit = only(id, "UPDATE events SET archived = 1 WHERE created_at < '2024-01-01'", {schema})
    assert.match(hit.message, /up to 12,000,000 rows/)
    assert.match(hit.hint ?? '', /id BETWEEN/)
    fires(id, "DELETE FROM orders WHERE ref = 'a'", {schema})
    fires(id, 'UPDATE orders SET status = 1 WHERE id NOT IN (1, 2)', {schema})
    silent(id, 'DELETE FROM orders WHERE id = 5', {schema})
    silent(id, 'DELETE FROM orders WHERE id IN (1, 2, 3)', {schema})
    silent(id, "DELETE FROM orders WHERE ref = 'a' AND customer_id = 3", {schema})
    silent(id, 'DELETE FROM orders WHERE id >= 1000 AND id < 2000', {schema})
    silent(id, "UPDATE events SET archived = 1 WHERE id BETWEEN 1 AND 10000 AND created_at < '2024-01-01'", {schema})
    silent(id, "DELETE FROM orders WHERE created_at < '2020-01-01' ORDER BY id LIMIT 1000", {schema})
    silent(id, 'DELETE FROM users', {schema})
    silent(id, 'DELETE FROM orders')
    silent(id, "SELECT 'DELETE FROM orders'", {schema})
  })

  it('dml-multi-table', () => {
    const id = 'dml-multi-table'
    assert.match(only(id, 'UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = c.region').message, /orders with customers/)
    fires(id, 'DELETE t1, t2 FROM t1 JOIN t2 ON t1.id = t2.id WHERE t1.a = 1')
    fires(id, 'DELETE FROM t1 USING t1 JOIN t2 ON t1.id = t2.id')
    fires(id, 'UPDATE t1, t2 SET t1.a = t2.a WHERE t1.id = t2.id')
    silent(id, "UPDATE t SET a = 'x JOIN y' WHERE id = 1")
    silent(id, 'UPDATE t SET a = (SELECT b FROM u JOIN v ON u.id = v.id LIMIT 1) WHERE id = 1')
    silent(id, 'DELETE t FROM t WHERE id = 1')
  })

  it('dml-replace-into', () => {
    const id = 'dml-replace-into'
    assert.match(only(id, "REPLACE INTO settings (name) VALUES ('x')").message, /settings/)
    silent(id, 'CREATE OR REPLACE VIEW v AS SELECT 1')
    silent(id, "INSERT INTO t (a) VALUES ('REPLACE INTO t')")
    silent(id, "SELECT REPLACE(a, 'x', 'y') FROM t")
  })

  it('dml-load-data', () => {
    const id = 'dml-load-data'
    assert.match(only(id, "LOAD DATA LOCAL INFILE '/tmp/p.csv' INTO TABLE prices").message, /LOCAL.*prices/)
    fires(id, "LOAD XML INFILE 'x.xml' INTO TABLE t")
    silent(id, "SELECT 'LOAD DATA' FROM t")
    silent(id, "-- LOAD DATA INFILE 'x' INTO TABLE t\nSELECT 1")
    silent(id, 'LOAD INDEX INTO CACHE t')
  })
})

describe('query rules', () => {
  it('query-constant-where', () => {
    const id = 'query-constant-where'
    assert.match(only(id, 'SELECT * FROM orders WHERE 1 = 1').message, /always true: the SELECT reads every row/)
    assert.match(only(id, 'DELETE FROM orders WHERE 1 != 1').message, /always false: the DELETE matches no row/)
    assert.match(only(id, 'SELECT id FROM t WHERE 0').message, /always false/)
    assert.match(only(id, 'SELECT id FROM t WHERE price BETWEEN 10 AND 5').message, /BETWEEN 10 AND 5 matches nothing/)
    // An always-true UPDATE or DELETE is dml-always-true-where's, as an error.
    silent(id, 'UPDATE t SET a = 1 WHERE 1 = 1')
    silent(id, 'SELECT id FROM t WHERE 1 = 1 AND status = 2')
    silent(id, 'SELECT id FROM t WHERE price BETWEEN 5 AND 10')
    silent(id, 'SELECT id FROM t WHERE price NOT BETWEEN 10 AND 5')
    silent(id, 'CREATE TABLE t2 AS SELECT * FROM t WHERE 1 = 0')
  })

  it('query-null-in-list', () => {
    const id = 'query-null-in-list'
    const negated = only(id, "SELECT id FROM users WHERE status NOT IN ('a', NULL)")
    assert.equal(negated.level, 'error')
    assert.match(negated.message, /never true/)
    assert.equal(only(id, 'DELETE FROM t WHERE a IN (NULL, 2)').level, 'warning')
    silent(id, 'SELECT id FROM t WHERE a IN (1, 2)')
    silent(id, 'SELECT id FROM t WHERE a IN (SELECT b FROM u WHERE c IS NULL)')
    silent(id, 'SELECT id FROM t WHERE a IN (COALESCE(b, NULL), 2)')
    silent(id, "SELECT id FROM t WHERE a IN ('NULL', 2)")
  })

  it('query-lookalike-character', () => {
    const id = 'query-lookalike-character'
    const space = only(id, 'SELECT\u00A0id FROM users')
    assert.match(space.message, /a no-break space \(U\+00A0\) in "SELECT\u00A0id": MySQL reads it as part of a word, not as a space/)
    assert.deepEqual([space.at?.line, space.at?.column], [1, 7])
    assert.match(only(id, 'SELECT id FROM users WHERE name = \u2018ana\u2019').message, /a curly quote \u2018 \(U\+2018\)[\s\S]*not as a quote/)
    fires(id, 'SELECT id\u200B FROM users')
    silent(id, "SELECT id FROM users WHERE name = 'ana\u00A0maria'")
    silent(id, 'SELECT `col\u00A0x` FROM users')
    silent(id, 'SELECT id FROM users -- \u2018quoted\u2019 in a comment')
    silent(id, 'SELECT naïve, ｱ FROM users')
  })

  it('query-limit-in-subquery', () => {
    const id = 'query-limit-in-subquery'
    assert.match(only(id, 'SELECT id FROM t WHERE a NOT IN (SELECT b FROM u LIMIT 5)').message, /LIMIT directly inside an IN \(SELECT \.\.\.\) subquery/)
    fires(id, 'DELETE FROM t WHERE a = ANY (SELECT b FROM u ORDER BY c LIMIT 1)')
    silent(id, 'SELECT id FROM t WHERE a IN (SELECT b FROM (SELECT b FROM u LIMIT 5) x)')
    silent(id, 'SELECT id FROM t WHERE a IN (SELECT b FROM u) LIMIT 5')
    silent(id, 'SELECT id FROM t WHERE a IN (1, 2) LIMIT 5')
  })

  it('query-join-without-on', () => {
    const id = 'query-join-without-on'
    assert.match(only(id, 'SELECT * FROM a JOIN b WHERE a.x = 1').message, /JOIN b has no ON or USING/)
    assert.equal(check(byId(id), 'SELECT * FROM a JOIN b LEFT JOIN c ON c.id = a.id INNER JOIN d').length, 2)
    fires(id, 'DELETE o FROM orders o JOIN customers c WHERE c.banned = 1')
    silent(id, 'SELECT * FROM a JOIN b ON b.id = a.id JOIN c USING (id)')
    silent(id, 'SELECT * FROM a CROSS JOIN b')
    silent(id, 'SELECT * FROM a NATURAL JOIN b')
    silent(id, 'SELECT * FROM a JOIN b FORCE INDEX (ix) ON b.id = a.id')
    silent(id, 'SELECT * FROM a JOIN (SELECT id FROM b JOIN c ON c.id = b.id) s ON s.id = a.id')
    silent(id, 'SELECT * FROM a JOIN')
    silent(id, 'SELECT STRAIGHT_JOIN a.id FROM a JOIN b ON b.id = a.id')
    fires(id, 'SELECT a.id FROM a STRAIGHT_JOIN b WHERE b.x = 1')
  })

  it('query-chained-comparison', () => {
    const id = 'query-chained-comparison'
    assert.match(only(id, "SELECT id FROM t WHERE a = b = 'x'").message, /chained comparison at = … =/)
    fires(id, 'UPDATE t SET flag = 1 WHERE a < b < c')
    silent(id, "SELECT id FROM t WHERE a = 1 AND b = 'x' OR c <> 2")
    silent(id, 'SELECT a = 1 AS one, b = 2 AS two FROM t')
    silent(id, 'UPDATE t SET a = 1, b = 2 WHERE c = 3')
    silent(id, 'SELECT id FROM t WHERE a BETWEEN 1 AND 5 AND b = 2')
    silent(id, 'SELECT CASE WHEN a = 1 THEN b = 2 ELSE c = 3 END FROM t')
    silent(id, 'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a) + 1')
    silent(id, 'SELECT id FROM t WHERE (a = b) = 1')
  })

  it('query-unquoted-date', () => {
    const id = 'query-unquoted-date'
    assert.match(only(id, 'SELECT id FROM orders WHERE d < 2018-01-10').message, /2018-01-10 without quotes is the number 2007, not a date/)
    silent(id, "SELECT id FROM orders WHERE d < '2018-01-10'")
    silent(id, 'SELECT 2018 - 01 - 10')
    silent(id, 'SELECT a-1-2 FROM t')
    silent(id, 'SELECT 5000-13-40')
  })

  it('query-sql-calc-found-rows', () => {
    const id = 'query-sql-calc-found-rows'
    fires(id, 'SELECT SQL_CALC_FOUND_ROWS id FROM t LIMIT 5', {flavor: 'mysql', version: '8.0.36'})
    silent(id, 'SELECT SQL_CALC_FOUND_ROWS id FROM t LIMIT 5', {flavor: 'mysql', version: '8.0.16'})
    silent(id, 'SELECT SQL_CALC_FOUND_ROWS id FROM t LIMIT 5', {flavor: 'mariadb', version: '10.11'})
  })

  it('query-sysdate', () => {
    const id = 'query-sysdate'
    const hit = only(id, 'INSERT INTO audit (at) VALUES (sysdate())')
    assert.deepEqual([hit.at?.line, hit.at?.column], [1, 32])
    fires(id, 'SELECT id FROM orders WHERE created_at > SYSDATE() - INTERVAL 1 DAY')
    silent(id, 'SELECT sysdate FROM calendar')
    silent(id, 'SELECT c.sysdate() FROM calendar c')
    silent(id, "SELECT 'SYSDATE()' -- SYSDATE()")
    silent(id, 'SELECT NOW()')
  })

  it('query-select-star', () => {
    const id = 'query-select-star'
    const hit = only(id, 'SELECT *\nFROM orders')
    assert.deepEqual([hit.at?.line, hit.at?.column], [1, 8])
    assert.match(hit.message, /orders/)
    fires(id, 'SELECT o.*, c.name FROM orders o JOIN customers c ON c.id = o.customer_id')
    fires(id, 'SELECT id FROM t WHERE id IN (SELECT * FROM u)')
    assert.equal(only(id, 'CREATE OR REPLACE VIEW v AS SELECT * FROM orders').level, 'warning')
    silent(id, 'SELECT COUNT(*) FROM orders')
    silent(id, 'SELECT id FROM orders o WHERE EXISTS (SELECT * FROM customers c WHERE c.id = o.customer_id)')
    silent(id, 'SELECT a * b FROM t')
    silent(id, "SELECT '*' FROM t")
    silent(id, 'SELECT id /* , * */ FROM t')
    silent(id, 'INSERT INTO archive SELECT * FROM orders')
  })

  it('query-leading-wildcard-like', () => {
    const id = 'query-leading-wildcard-like'
    const hit = only(id, "SELECT id FROM users WHERE email LIKE '%@example.com'")
    assert.equal(hit.at?.text, "'%@example.com'")
    assert.match(hit.message, /users\.email/)
    fires(id, "SELECT id FROM users WHERE name NOT LIKE '_bc%'")
    fires(id, "DELETE FROM users WHERE email LIKE CONCAT('%', ?)")
    silent(id, "SELECT id FROM users WHERE email LIKE 'alice%'")
    silent(id, "SELECT id FROM users WHERE email LIKE '\\%literal'")
    silent(id, "SHOW TABLES LIKE '%log%'")
    silent(id, "SELECT email LIKE '%x' AS flag FROM users")
    silent(id, "SELECT id FROM users WHERE note = '%abc' -- AND email LIKE '%x'")
  })

  it('query-order-by-rand', () => {
    const id = 'query-order-by-rand'
    assert.equal(only(id, 'SELECT id FROM products ORDER BY RAND() LIMIT 1').at?.value, 'RAND')
    fires(id, 'SELECT id FROM (SELECT id FROM t ORDER BY rand()) x')
    silent(id, 'SELECT RAND() FROM t ORDER BY id')
    silent(id, "SELECT 'ORDER BY RAND()' FROM t")
    silent(id, 'SELECT id FROM t -- ORDER BY RAND()')
  })

  it('query-implicit-conversion', () => {
    const id = 'query-implicit-conversion'
    assert.equal(byId(id).needsSchema, true)
    const hit = only(id, 'SELECT id FROM users WHERE phone = 5551234', {schema})
    assert.equal(hit.at?.text, 'phone')
    assert.match(hit.message, /users\.phone.*varchar\(20\).*idx_phone/)
    fires(id, 'SELECT u.id FROM users u JOIN orders o ON o.customer_id = u.id WHERE o.ref = 123', {schema})
    fires(id, "SELECT id FROM users WHERE phone IN ('1', 2)", {schema})
    fires(id, 'UPDATE users SET verified = 1 WHERE status = 1', {schema})
    assert.equal(only(id, "SELECT id FROM users WHERE age = '42'", {schema}).level, 'notice')
    assert.match(only(id, 'SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE ref = 5)', {schema}).message, /orders\.ref/)
    silent(id, 'SELECT id FROM users WHERE id IN (SELECT customer_id FROM orders WHERE status = 1)', {schema}, 'status resolves to the subquery\'s unindexed orders.status')
    silent(id, "SELECT id FROM users WHERE phone = '5551234'", {schema})
    silent(id, 'SELECT id FROM users WHERE nickname = 5', {schema})
    silent(id, 'SELECT id FROM unknown WHERE phone = 5', {schema})
    silent(id, "SELECT id FROM users WHERE note = 'phone = 5' -- AND phone = 5", {schema})
    silent(id, 'SELECT id FROM users WHERE phone = 5')
  })

  it('query-not-in-nullable', () => {
    const id = 'query-not-in-nullable'
    const hit = only(id, 'SELECT id FROM customers WHERE id NOT IN (SELECT referrer_id FROM customers)', {schema})
    assert.equal(hit.level, undefined)
    assert.equal(hit.at?.value, 'NOT')
    assert.match(hit.message, /customers\.referrer_id/)
    assert.equal(only(id, 'SELECT id FROM t WHERE id NOT IN (SELECT t_id FROM u)').level, 'notice')
    fires(id, 'DELETE FROM t WHERE a NOT IN (SELECT b FROM u)')
    silent(id, 'SELECT id FROM customers WHERE id NOT IN (SELECT id FROM customers)', {schema})
    silent(id, 'SELECT id FROM customers WHERE id NOT IN (SELECT referrer_id FROM customers WHERE referrer_id IS NOT NULL)')
    silent(id, 'SELECT id FROM t WHERE id NOT IN (1, 2)')
    silent(id, 'SELECT id FROM t WHERE id IN (SELECT b FROM u)')
    silent(id, 'SELECT id FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.b = t.id)')
    silent(id, "SELECT id FROM t WHERE note = 'NOT IN (SELECT x FROM y)'")
  })

  it('query-function-on-column', () => {
    const id = 'query-function-on-column'
    const hit = only(id, "SELECT id FROM orders WHERE DATE(created_at) = '2024-05-01'", {schema})
    assert.equal(hit.level, 'warning')
    assert.equal(hit.at?.value, 'DATE')
    assert.match(hit.message, /orders\.created_at.*idx_created/)
    const plain = only(id, "SELECT id FROM orders WHERE DATE(created_at) = '2024-05-01'")
    assert.equal(plain.level, undefined)
    assert.match(plain.message, /orders\.created_at/)
    assert.equal(only(id, "SELECT id FROM users WHERE LOWER(nickname) = 'x'", {schema}).level, undefined)
    assert.match(only(id, "SELECT id FROM users WHERE LOWER(email) = 'x'", {flavor: 'mysql', version: '8.0.36', schema}).hint ?? '', /functional index/)
    fires(id, "UPDATE users SET status = 'x' WHERE LOWER(TRIM(email)) = 'a@b.c'")
    silent(id, "SELECT id FROM users WHERE created_at >= NOW() - INTERVAL 1 DAY")
    silent(id, "SELECT LOWER(email) FROM users WHERE id = 1")
    silent(id, "SELECT id FROM articles WHERE MATCH(title, body) AGAINST ('mysql')")
    silent(id, "SELECT id FROM users WHERE note = 'DATE(created_at)' -- AND YEAR(created_at) = 2024")
  })

  it('query-null-comparison', () => {
    const id = 'query-null-comparison'
    const hit = only(id, 'SELECT id FROM orders WHERE shipped_at = NULL')
    assert.equal(hit.at?.text, '=')
    assert.match(hit.message, /shipped_at IS NULL/)
    assert.match(only(id, 'DELETE FROM t WHERE b <> NULL').message, /IS NOT NULL/)
    fires(id, 'SELECT CASE WHEN a = NULL THEN 1 END FROM t')
    fires(id, 'SELECT a FROM t JOIN u ON NULL != u.x')
    silent(id, 'UPDATE t SET a = NULL WHERE id = 1')
    silent(id, 'SELECT a FROM t WHERE a IS NULL AND b <=> NULL')
    silent(id, "SELECT a FROM t WHERE note = '= NULL'")
    silent(id, 'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = NULL')
  })

  it('query-large-offset', () => {
    const id = 'query-large-offset'
    const hit = only(id, 'SELECT id FROM articles ORDER BY id LIMIT 50 OFFSET 200000')
    assert.equal(hit.at?.text, '200000')
    assert.match(hit.message, /articles/)
    fires(id, 'SELECT id FROM articles LIMIT 20000, 10')
    silent(id, 'SELECT id FROM articles LIMIT 10 OFFSET 100')
    silent(id, 'SELECT id FROM articles LIMIT 200000')
    silent(id, "SELECT 'LIMIT 20000, 10' FROM t")
  })

  it('query-unbounded-select', () => {
    const id = 'query-unbounded-select'
    assert.equal(byId(id).needsSchema, true)
    const hit = only(id, 'SELECT id, status FROM events', {schema})
    assert.equal(hit.at?.text, 'events')
    assert.match(hit.message, /12,000,000/)
    fires(id, 'SELECT o.id FROM customers c JOIN orders o ON o.customer_id = c.id', {schema})
    fires(id, 'SELECT id FROM events -- WHERE id = 1', {schema})
    silent(id, 'SELECT id FROM events WHERE id = 1', {schema})
    silent(id, 'SELECT id FROM events LIMIT 100', {schema})
    silent(id, 'SELECT COUNT(*) FROM events', {schema})
    silent(id, 'SELECT id FROM users', {schema})
    silent(id, 'SELECT id FROM events')
  })
})

describe('security rules', () => {
  it('security-stalling-function', () => {
    const id = 'security-stalling-function'
    assert.match(only(id, 'SELECT SLEEP(10)').message, /SLEEP\(\) holds the connection/)
    assert.match(only(id, "DO GET_LOCK('deploy', 3600)").message, /GET_LOCK\(\) waits on a named lock/)
    assert.match(only(id, "SELECT BENCHMARK(1000000, MD5('x'))").message, /BENCHMARK\(\) runs an expression/)
    silent(id, 'SELECT sleep_minutes FROM schedules')
    silent(id, 'INSERT INTO t (sleep, benchmark) VALUES (1, 2)')
    silent(id, "SELECT 'SLEEP(5)' -- SLEEP(5)")
    silent(id, 'SELECT u.sleep(1) FROM u')
  })

  it('security-grant-all', () => {
    const id = 'security-grant-all'
    const hit = only(id, "GRANT ALL PRIVILEGES ON shop.* TO 'app'@'10.0.%'")
    assert.equal(hit.at?.value, 'ALL')
    assert.match(hit.message, /shop\.\*.*'app'@'10\.0\.%'/)
    fires(id, 'GRANT ALL ON *.* TO admin@localhost')
    silent(id, "GRANT SELECT ON shop.* TO 'app'@'localhost'")
    silent(id, "REVOKE ALL PRIVILEGES ON shop.* FROM 'app'@'localhost'")
    silent(id, "GRANT SELECT ON shop.* TO 'app'@'localhost' -- ALL PRIVILEGES")
  })

  it('security-grant-global', () => {
    const id = 'security-grant-global'
    const hit = only(id, "GRANT SELECT, INSERT ON *.* TO 'etl'@'10.%'")
    assert.equal(hit.level, 'error')
    assert.equal(hit.at?.text, '*')
    assert.equal(only(id, "GRANT SELECT ON *.* TO 'ro'@'10.%'").level, 'warning')
    fires(id, 'GRANT ALL ON *.* TO root@localhost')
    silent(id, "GRANT PROCESS, REPLICATION CLIENT ON *.* TO 'exporter'@'localhost'")
    silent(id, "GRANT SELECT ON shop.* TO 'ro'@'10.%'")
    silent(id, "REVOKE SELECT ON *.* FROM 'ro'@'10.%'")
    silent(id, "SELECT 'GRANT ALL ON *.* TO x'")
  })

  it('security-any-host', () => {
    const id = 'security-any-host'
    const hit = only(id, "CREATE USER 'app'@'%' IDENTIFIED BY RANDOM PASSWORD")
    assert.equal(hit.at?.text, "@'%'")
    assert.match(only(id, 'CREATE USER app').message, /no host given/)
    fires(id, 'GRANT SELECT ON shop.* TO app@"%"')
    fires(id, "CREATE USER 'x' @ '%'")
    fires(id, "RENAME USER a@localhost TO a@'%'")
    assert.equal(hitsOf(id, "CREATE USER a@'%', b@localhost, c@'%'").length, 2)
    silent(id, "CREATE USER 'app'@'10.0.%'")
    silent(id, "CREATE USER 'app'@'localhost' -- or 'app'@'%'")
    silent(id, "CREATE USER 'app'@'localhost' DEFAULT ROLE r1, r2")
    silent(id, "GRANT SELECT ON shop.* TO CURRENT_USER")
    silent(id, "DROP USER 'app'@'%'")
  })

  it('security-grant-option', () => {
    const id = 'security-grant-option'
    assert.equal(only(id, "GRANT SELECT ON shop.* TO 'a'@'localhost' WITH GRANT OPTION").at?.value, 'WITH')
    fires(id, "GRANT GRANT OPTION ON shop.* TO 'a'@'localhost'")
    silent(id, "GRANT SELECT ON shop.* TO 'a'@'localhost' WITH MAX_QUERIES_PER_HOUR 100")
    silent(id, "GRANT SELECT ON shop.* TO 'a'@'localhost' -- WITH GRANT OPTION")
  })

  it('security-plaintext-password', () => {
    const id = 'security-plaintext-password'
    for (const sql of [
      "CREATE USER 'app'@'10.0.%' IDENTIFIED BY 'Hunter2-secret'",
      "ALTER USER 'app'@'10.0.%' IDENTIFIED BY 'Hunter2-secret'",
      "CREATE USER app@localhost IDENTIFIED WITH caching_sha2_password BY 'Hunter2-secret'",
      "CREATE USER app@localhost IDENTIFIED VIA ed25519 USING PASSWORD('Hunter2-secret')",
      "GRANT SELECT ON shop.* TO app@localhost IDENTIFIED BY 'Hunter2-secret'",
      "SET PASSWORD FOR 'app'@'localhost' = PASSWORD('Hunter2-secret')",
      "SET PASSWORD = 'Hunter2-secret'",
      "ALTER USER USER() IDENTIFIED BY 'Hunter2-secret'",
      "CHANGE MASTER TO MASTER_HOST = 'db1', MASTER_PASSWORD = 'Hunter2-secret'",
      "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'Hunter2-secret'",
    ]) {
      const hits = hitsOf(id, sql)
      assert.equal(hits.length, 1, sql)
      assert.doesNotMatch(JSON.stringify(hits.map((h) => ({message: h.message, hint: h.hint}))), /Hunter2/, 'the password never reaches the report')
      assert.notEqual(hits[0]!.at?.type, 'string')
    }
    silent(id, "CREATE USER app@localhost IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'")
    silent(id, "CREATE USER app@localhost IDENTIFIED WITH mysql_native_password AS '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'")
    silent(id, 'CREATE USER app@localhost IDENTIFIED BY RANDOM PASSWORD')
    silent(id, 'CREATE USER app@localhost IDENTIFIED WITH auth_socket')
    silent(id, "SET PASSWORD = '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'")
    silent(id, "SELECT 'IDENTIFIED BY secret'")
    silent(id, "CREATE USER app@localhost -- IDENTIFIED BY 'secret'")
  })

  for (const [id, variable] of [
    ['security-sql-log-bin-off', 'sql_log_bin'],
    ['security-foreign-key-checks-off', 'foreign_key_checks'],
    ['security-unique-checks-off', 'unique_checks'],
  ] as const) {
    it(id, () => {
      for (const sql of [`SET ${variable} = 0`, `SET SESSION ${variable} = OFF`, `SET @@session.${variable} = 0`, `SET @@${variable} := 0`, `SET LOCAL ${variable} = 'OFF'`, `SET NAMES utf8mb4, ${variable.toUpperCase()} = 0`]) {
        const hit = only(id, sql)
        assert.match(hit.message, new RegExp(`${variable}.*rest of the session`), sql)
      }
      assert.match(only(id, `SET GLOBAL ${variable} = 0`).message, /whole server/)
      assert.match(only(id, `SET @@GLOBAL.${variable} = 0`).message, /whole server/)
      assert.match(only(id, `SET STATEMENT ${variable} = 0 FOR DELETE FROM t WHERE id = 1`).message, /that statement/)
      assert.equal(only(id, `/*!40014 SET @OLD=@@${variable}, ${variable}=0 */`).at?.text, variable)
      silent(id, `SET ${variable} = 1`)
      silent(id, `SET ${variable} = @OLD_${variable}`)
      silent(id, `SET @${variable} = 0`)
      silent(id, `SELECT 'SET ${variable} = 0'`)
      silent(id, `-- SET ${variable} = 0\nSELECT 1`)
    })
  }

  it('security-sql-mode-not-strict', () => {
    const id = 'security-sql-mode-not-strict'
    assert.match(only(id, "SET sql_mode = ''").message, /empty sql_mode/)
    assert.match(only(id, "SET @@GLOBAL.sql_mode = 'NO_ENGINE_SUBSTITUTION'").message, /whole server.*STRICT_TRANS_TABLES/)
    fires(id, "SET SESSION sql_mode = REPLACE(@@sql_mode, 'STRICT_TRANS_TABLES', '')")
    fires(id, "SET @@sql_mode = 'ANSI'")
    silent(id, "SET sql_mode = 'TRADITIONAL'")
    silent(id, "SET sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'")
    silent(id, "SET sql_mode = (SELECT REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', ''))")
    silent(id, 'SET sql_mode = DEFAULT')
    silent(id, 'SET sql_mode = @OLD_SQL_MODE')
    silent(id, "SELECT 'SET sql_mode = '''")
  })

  it('security-into-outfile', () => {
    const id = 'security-into-outfile'
    const hit = only(id, "SELECT id FROM users INTO OUTFILE '/tmp/u.csv' FIELDS TERMINATED BY ','")
    assert.equal(hit.at?.value, 'OUTFILE')
    assert.match(hit.message, /\/tmp\/u\.csv/)
    fires(id, "SELECT doc FROM t WHERE id = 1 INTO DUMPFILE '/var/www/x.php'")
    silent(id, 'SELECT id FROM users INTO @first_id')
    silent(id, "SELECT 'INTO OUTFILE' FROM t")
    silent(id, "SELECT id FROM users -- INTO OUTFILE '/tmp/u.csv'")
  })

  it('security-drop-user', () => {
    const id = 'security-drop-user'
    assert.match(only(id, "DROP USER IF EXISTS 'a'@'localhost', b").message, /'a'@'localhost', 'b'@'%'/)
    silent(id, 'DROP TABLE users')
    silent(id, 'DROP USER')
    silent(id, "SELECT 'DROP USER x'")
  })

  it('security-user-without-ssl', () => {
    const id = 'security-user-without-ssl'
    assert.match(only(id, "CREATE USER 'app'@'%' IDENTIFIED BY RANDOM PASSWORD").message, /'app'@'%'.*TLS/)
    fires(id, "CREATE USER app REQUIRE NONE")
    silent(id, "CREATE USER 'app'@'%' REQUIRE SSL")
    silent(id, "CREATE USER 'app'@'%' REQUIRE X509 WITH MAX_USER_CONNECTIONS 10")
    silent(id, "CREATE USER 'app'@'10.0.%'")
    silent(id, "CREATE USER 'app'@'localhost' -- 'app'@'%'")
  })
})
