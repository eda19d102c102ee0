import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {significant, tokenize, type Token} from '../../src/lib/sql/lexer.ts'
import {
  asColumnRef,
  blockAround,
  columnRefEndingAt,
  comparisonsIn,
  conditionClauses,
  conditionComparisons,
  constantTruth,
  hasTopLevel,
  indexesWith,
  insertShape,
  isAlwaysTrue,
  isStarItem,
  literalKind,
  mainStatement,
  primaryKey,
  readColumnRef,
  resolveColumn,
  selectKeywordAt,
  selectList,
  splitConditions,
  statementStart,
  tableReferences,
  whereClause,
  wrappedColumns,
  type Operand,
} from '../../src/lib/sql/expressions.ts'
import type {SchemaView, TableInfo} from '../../src/lib/audit/types.ts'

const tokens = (sql: string) => significant(tokenize(sql))
const text = (list: Token[] | undefined) => list?.map((t) => t.text).join(' ')
const operand = (o: Operand) => (o.kind === 'column' ? `col:${o.ref.table ? `${o.ref.table}.` : ''}${o.ref.name}` : o.kind === 'other' ? 'other' : `${o.kind}:${o.token.text}`)
const comparisons = (sql: string) => conditionComparisons(tokens(sql)).map((c) => `${operand(c.left)} ${c.operator.text} ${operand(c.right)}`)
const whereOf = (sql: string) => text(whereClause(tokens(sql))?.tokens)
const truth = (condition: string) => constantTruth(tokens(condition))

describe('statement structure', () => {
  it('finds the main keyword past a WITH clause', () => {
    const list = tokens('WITH a AS (SELECT 1), b (x) AS (SELECT 2) UPDATE t SET c = 1')
    assert.equal(list[statementStart(list)]!.value, 'UPDATE')
    assert.equal(mainStatement(list).kind, 'UPDATE')
    assert.equal(statementStart(tokens('UPDATE t SET a = 1')), 0)
    assert.equal(mainStatement(tokens('WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r')).kind, 'SELECT')
  })

  it('tells top-level words from those in subqueries, strings and comments', () => {
    assert.equal(hasTopLevel(tokens('DELETE FROM t WHERE id IN (SELECT id FROM u ORDER BY id LIMIT 5)'), 'LIMIT'), false)
    assert.equal(hasTopLevel(tokens("DELETE FROM t WHERE note = 'LIMIT' -- LIMIT 5"), 'LIMIT'), false)
    assert.equal(hasTopLevel(tokens('DELETE FROM t ORDER BY id LIMIT 5'), 'LIMIT'), true)
  })

  it('gives the range of the query block around a token', () => {
    const list = tokens('SELECT a FROM t WHERE b IN (SELECT c FROM u)')
    const inner = list.findIndex((t) => t.value === 'C')
    const block = blockAround(list, inner)
    assert.equal(text(list.slice(block.start, block.end)), 'SELECT c FROM u')
    assert.deepEqual(blockAround(list, 1), {start: 0, end: list.length})
    const grouped = tokens('SELECT a FROM t WHERE (b = 1 OR LOWER(c) = 2)')
    assert.deepEqual(blockAround(grouped, grouped.findIndex((t) => t.value === 'C')), {start: 0, end: grouped.length}, 'grouping and call parentheses are not blocks')
  })
})

describe('whereClause', () => {
  it('returns the top-level condition up to ORDER BY, LIMIT, GROUP BY and friends', () => {
    assert.equal(whereOf('UPDATE t SET a = 1 WHERE b = 2 AND c > 3 ORDER BY id LIMIT 10'), 'b = 2 AND c > 3')
    assert.equal(whereOf('SELECT a FROM t WHERE b = 1 GROUP BY a HAVING COUNT(*) > 1'), 'b = 1')
    assert.equal(whereOf('SELECT a FROM t WHERE b = 1 UNION SELECT a FROM u'), 'b = 1')
    assert.equal(whereOf('SELECT a FROM t WHERE b = 1 FOR UPDATE'), 'b = 1')
    assert.equal(whereOf('INSERT INTO t (a) SELECT a FROM u WHERE b = 1 ON DUPLICATE KEY UPDATE a = 2'), 'b = 1')
    assert.equal(whereOf('DELETE FROM t WHERE id IN (SELECT id FROM u WHERE x = 1) LIMIT 5'), 'id IN ( SELECT id FROM u WHERE x = 1 )')
  })

  it('ignores WHERE in subqueries, strings and comments', () => {
    assert.equal(whereOf('UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1)'), undefined)
    assert.equal(whereOf("UPDATE t SET note = 'no WHERE here'"), undefined)
    assert.equal(whereOf('UPDATE t SET a = 1 -- WHERE id = 1'), undefined)
    assert.equal(whereOf('UPDATE t SET a = 1 /* WHERE id = 1 */'), undefined)
  })
})

describe('conditions', () => {
  it('splits at top-level AND without breaking BETWEEN ... AND', () => {
    assert.deepEqual(splitConditions(tokens('a BETWEEN 1 AND 5 AND (b = 1 AND c = 2) && d'), 'AND').map(text), ['a BETWEEN 1 AND 5', '( b = 1 AND c = 2 )', 'd'])
    assert.deepEqual(splitConditions(tokens('a = 1 OR b BETWEEN 1 AND 2 || c'), 'OR').map(text), ['a = 1', 'b BETWEEN 1 AND 2', 'c'])
  })

  it('recognises conditions that are always true', () => {
    for (const condition of ['1', 'TRUE', '1=1', '1 = 1', "'a'='a'", 'x = x', 't.x = T.X', '2 > 1', 'id = 5 OR 1', '(1=1)', 'NOT 0', 'NOT FALSE', "'1'", 'x IS NULL OR x IS NOT NULL', 'a = 1 OR x IS NOT NULL OR x IS NULL', "name LIKE '%'", '1=1 AND 2=2', '1 = 1 OR id BETWEEN 1 AND 5']) {
      assert.equal(isAlwaysTrue(tokens(condition)), true, condition)
    }
  })

  it('does not call data-dependent or false conditions always true', () => {
    for (const condition of ['id = 1', '1=1 AND id = 1', '0', 'FALSE', '1 = 0', "'a' = 'b'", 'x <> x', 'RAND() = RAND()', '? = ?', 'x IS NULL', 'x IS NOT NULL OR y IS NULL', "name LIKE '%a'", 'id BETWEEN 1 AND 5', '']) {
      assert.notEqual(isAlwaysTrue(tokens(condition)), true, condition)
    }
    assert.equal(truth('1 = 0'), false)
    assert.equal(truth('0 OR FALSE'), false)
    assert.equal(truth('id = 1'), undefined)
  })

  it('lists WHERE, HAVING, join ON and WHEN conditions, but not GRANT ... ON or ON DUPLICATE KEY', () => {
    const clauses = (sql: string) => conditionClauses(tokens(sql)).map((c) => `${c.keyword.value}: ${text(c.tokens)}`)
    assert.deepEqual(clauses('SELECT a FROM t JOIN u ON u.id = t.id LEFT JOIN v USING (id) WHERE t.x = 1 GROUP BY a HAVING COUNT(*) > 2'), [
      'ON: u . id = t . id',
      'WHERE: t . x = 1',
      'HAVING: COUNT ( * ) > 2',
    ])
    assert.deepEqual(clauses('SELECT CASE WHEN a = 1 THEN 2 END FROM t'), ['WHEN: a = 1'])
    assert.deepEqual(clauses('GRANT SELECT ON db.* TO u'), [])
    assert.deepEqual(clauses('INSERT INTO t (a) SELECT a FROM u JOIN v USING (id) ON DUPLICATE KEY UPDATE a = NULL'), [])
    assert.deepEqual(clauses('CREATE TABLE c (p INT, FOREIGN KEY (p) REFERENCES p (id) ON DELETE CASCADE)'), [])
  })
})

describe('comparisons', () => {
  it('reads column/literal comparisons in every condition, once each', () => {
    assert.deepEqual(comparisons("SELECT a FROM t WHERE a = 1 AND 'x' < t.b AND c = d AND e = NULL AND -5 = f"), ['col:a = number:1', "string:'x' < col:t.b", 'col:c = col:d', 'col:e = null:NULL', 'number:5 = col:f'])
    assert.deepEqual(comparisons("SELECT a FROM t WHERE a IN (1, 'two') AND b NOT IN (3) AND c BETWEEN 4 AND '5'"), [
      'col:a IN number:1',
      "col:a IN string:'two'",
      'col:b IN number:3',
      'col:c BETWEEN number:4',
      "col:c BETWEEN string:'5'",
    ])
    assert.deepEqual(comparisons('SELECT a FROM t WHERE CASE WHEN a = 1 THEN 1 END = 1'), ['col:a = number:1', 'other = number:1'])
  })

  it('treats expressions as expressions, not as the column at their edge', () => {
    assert.deepEqual(comparisons('SELECT a FROM t WHERE a + 1 = 2 AND b = c * 2 AND d = 0x1F'), ['other = number:2', 'col:b = other', 'col:d = other'])
  })

  it('leaves assignments and subqueries alone', () => {
    assert.deepEqual(comparisons('UPDATE t SET a = NULL, b = 1 WHERE c = 2'), ['col:c = number:2'])
    const inSubquery = comparisonsIn(tokens('a = 1 AND b IN (SELECT c FROM u WHERE d = 2)'))
    assert.equal(inSubquery.length, 1)
    assert.deepEqual(comparisons('SELECT a FROM t WHERE b IN (SELECT c FROM u WHERE d = 2)'), ['col:d = number:2'])
  })

  it('classifies literals', () => {
    const [number, string, hex, bits, national] = tokens("12.5 'x' 0x1F X'1F' N'y'")
    assert.equal(literalKind(number), 'number')
    assert.equal(literalKind(string), 'string')
    assert.equal(literalKind(hex), undefined)
    assert.equal(literalKind(bits), undefined)
    assert.equal(literalKind(national), 'string')
  })
})

describe('column references', () => {
  it('reads plain, qualified and quoted names, not keywords or calls', () => {
    const {at, ...ref} = readColumnRef(tokens('db.`my t`.Col = 1'), 0)!
    assert.deepEqual(ref, {schema: 'db', table: 'my t', name: 'Col', start: 0, end: 5})
    assert.equal(at.text, 'Col')
    assert.equal(readColumnRef(tokens('NULL'), 0), undefined)
    assert.equal(readColumnRef(tokens('NOW()'), 0), undefined)
    assert.equal(readColumnRef(tokens('t.*'), 0), undefined)
    assert.equal(asColumnRef(tokens('t.a'))?.name, 'a')
    assert.equal(asColumnRef(tokens('a + 1')), undefined)
    const list = tokens('x + t.col')
    assert.equal(columnRefEndingAt(list, list.length)?.table, 't')
  })

  it('finds functions wrapped around columns in WHERE only', () => {
    const wrapped = (sql: string) => wrappedColumns(tokens(sql)).map((w) => `${w.function.value}:${w.column.name}`)
    assert.deepEqual(wrapped("SELECT a FROM t WHERE DATE(created_at) = '2024-01-01' AND LOWER(TRIM(u.email)) = 'x'"), ['DATE:created_at', 'LOWER:email'])
    assert.deepEqual(wrapped('SELECT a FROM t WHERE CAST(code AS UNSIGNED) = 5 AND EXTRACT(YEAR FROM d) = 2020 AND IFNULL(n, 0) = 0'), ['CAST:code', 'EXTRACT:d', 'IFNULL:n'])
    assert.deepEqual(wrapped("SELECT LOWER(name) FROM t WHERE MATCH(title) AGAINST ('x') AND created_at > NOW() AND id IN (1, 2)"), [])
    assert.deepEqual(wrapped('SELECT a FROM t WHERE id IN (SELECT MAX(id) FROM u GROUP BY k)'), [])
    assert.deepEqual(wrapped("SELECT a FROM t WHERE note = 'DATE(created_at)' -- AND YEAR(d) = 1"), [])
    assert.deepEqual(wrapped('DELETE FROM t WHERE id IN (SELECT id FROM u WHERE YEAR(d) = 2020)'), ['YEAR:d'])
  })
})

describe('select lists', () => {
  it('splits items and recognises star items', () => {
    const list = tokens('SELECT DISTINCT a, COUNT(*), t.*, db.t.*, a * b FROM t')
    const {items} = selectList(list, 0)
    assert.deepEqual(items.map(text), ['a', 'COUNT ( * )', 't . *', 'db . t . *', 'a * b'])
    assert.deepEqual(items.map(isStarItem), [false, false, true, true, false])
    assert.equal(isStarItem(tokens('*')), true)
  })

  it('finds the SELECT of a parenthesised or WITH query', () => {
    const list = tokens('((WITH c AS (SELECT 1) SELECT * FROM c))')
    assert.equal(list[selectKeywordAt(list, 0)]?.value, 'SELECT')
    assert.equal(selectKeywordAt(tokens('VALUES (1)'), 0), -1)
  })
})

describe('tableReferences', () => {
  const refs = (sql: string, nested?: boolean) => tableReferences(tokens(sql), nested === undefined ? {} : {nested}).map((t) => `${t.schema ? `${t.schema}.` : ''}${t.name}${t.alias ? ` ${t.alias}` : ''}`)

  it('reads tables and aliases after FROM, JOIN, UPDATE and USING', () => {
    assert.deepEqual(refs('SELECT a FROM orders o JOIN shop.customers AS c ON c.id = o.cid, items i USE INDEX (ix) WHERE 1'), ['orders o', 'shop.customers c', 'items i'])
    assert.deepEqual(refs('SELECT a FROM t1 JOIN t2 USING (id), t3 WHERE x IN (1, 2)'), ['t1', 't2', 't3'])
    assert.deepEqual(refs('UPDATE LOW_PRIORITY t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1'), ['t1', 't2'])
    assert.deepEqual(refs('DELETE FROM a1, a2 USING t1 AS a1 INNER JOIN t2 AS a2'), ['a1', 'a2', 't1 a1', 't2 a2'])
    assert.deepEqual(refs('INSERT INTO t (a) SELECT a FROM u'), ['u'])
  })

  it('skips derived tables when asked for the top level, and FROM inside function calls', () => {
    assert.deepEqual(refs('SELECT a FROM (SELECT b FROM inner_t) d JOIN u ON 1', false), ['u'])
    assert.deepEqual(refs('SELECT a FROM (SELECT b FROM inner_t) d JOIN u ON 1'), ['inner_t', 'u'])
    assert.deepEqual(refs('SELECT EXTRACT(YEAR FROM created_at), TRIM(LEADING 0 FROM code) FROM t'), ['t'])
  })
})

describe('schema lookups', () => {
  const users: TableInfo = {
    name: 'users',
    columns: [
      {name: 'id', type: 'int', nullable: false},
      {name: 'Email', type: 'varchar(100)', nullable: false},
    ],
    indexes: [
      {name: 'PRIMARY', columns: ['id'], unique: true},
      {name: 'idx_name_email', columns: ['name', 'email'], unique: false},
      {name: 'idx_email', columns: ['email'], unique: true},
    ],
  }
  const orders: TableInfo = {name: 'orders', columns: [{name: 'id', type: 'bigint', nullable: false}, {name: 'user_id', type: 'int', nullable: true}], indexes: []}
  const schema: SchemaView = {table: (name) => [users, orders].find((t) => t.name === name.toLowerCase())}

  it('resolves qualified, aliased and unambiguous columns', () => {
    const list = tokens('SELECT 1 FROM users u JOIN orders o ON o.user_id = u.id')
    const tables = tableReferences(list)
    const resolve = (ref: string) => {
      const r = readColumnRef(tokens(ref), 0)!
      const found = resolveColumn(r, tables, schema)
      return found && `${found.table.name}.${found.column.name}`
    }
    assert.equal(resolve('u.email'), 'users.Email')
    assert.equal(resolve('orders.user_id'), 'orders.user_id')
    assert.equal(resolve('user_id'), 'orders.user_id')
    assert.equal(resolve('id'), undefined, 'id is in both tables')
    assert.equal(resolve('x.id'), undefined)
  })

  it('lists the indexes on a column, leading ones first', () => {
    assert.deepEqual(indexesWith(users, 'EMAIL').map((i) => i.name), ['idx_email', 'idx_name_email'])
    assert.equal(primaryKey(users)?.columns[0], 'id')
    assert.equal(primaryKey(orders), undefined)
  })
})

describe('insertShape', () => {
  const shape = (sql: string) => {
    const s = insertShape(tokens(sql))
    return s && `${s.table.name} ${s.columnList === undefined ? 'no-columns' : 'columns'} ${s.body}`
  }
  it('reads the forms of INSERT and REPLACE', () => {
    assert.equal(shape('INSERT INTO t VALUES (1)'), 't no-columns values')
    assert.equal(shape('INSERT IGNORE INTO db.t (a, b) VALUE (1, 2)'), 't columns values')
    assert.equal(shape('INSERT INTO t PARTITION (p0) (a) SELECT a FROM u'), 't columns query')
    assert.equal(shape('INSERT INTO t (SELECT * FROM u)'), 't no-columns query')
    assert.equal(shape('REPLACE t SET a = 1'), 't no-columns set')
    assert.equal(shape('INSERT INTO t () VALUES ()'), 't columns values')
    assert.equal(shape('INSERT INTO'), undefined)
    assert.equal(shape('UPDATE t SET a = 1'), undefined)
  })
})
