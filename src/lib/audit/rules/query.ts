import {compareVersions} from '../../connect/capabilities.ts'
import {isCharacterType, isNumericType, parseColumnType} from '../../sql/ddl.ts'
import {formatCount} from '../../core/text.ts'
import {isWord, type Token} from '../../sql/lexer.ts'
import {findWords, functionCalls, matchingParen} from '../../sql/tokens.ts'
import {
  blockAround,
  columnRefEndingAt,
  constantTruth,
  conditionClauses,
  conditionComparisons,
  hasTopLevel,
  indexesWith,
  insertShape,
  isStarItem,
  mainStatement,
  opensSubquery,
  primaryKey,
  readColumnRef,
  resolveColumn,
  selectKeywordAt,
  selectList,
  tableReferences,
  whereClause,
  wrappedColumns,
  type ColumnRef,
  type ResolvedColumn,
  type TableRef,
} from '../../sql/expressions.ts'
import type {Rule, RuleContext, RuleHit, SchemaView} from '../types.ts'

/** OFFSET above which the server reads and throws away enough rows to matter. */
const LARGE_OFFSET = 10_000

/** Statements that only describe a query (EXPLAIN, SHOW ... LIKE) run nothing worth auditing here. */
function queryTokens(context: RuleContext): Token[] | undefined {
  const tokens = context.statement.tokens
  return isWord(tokens[0], 'SHOW', 'EXPLAIN', 'DESCRIBE', 'DESC', 'HELP') ? undefined : tokens
}

/** The tables of the query block that contains tokens[index] (not of its subqueries). */
function blockTables(tokens: Token[], index: number): TableRef[] {
  const block = blockAround(tokens, index)
  return tableReferences(tokens.slice(block.start, block.end), {nested: false})
}

/** `t.col`, or `table.col` when the block reads a single table, or just `col`. */
function describeColumn(ref: ColumnRef, tables: TableRef[]): string {
  if (ref.table) return `${ref.table}.${ref.name}`
  return tables.length === 1 ? `${tables[0]!.name}.${ref.name}` : ref.name
}

/** Resolves a column against its own query block first, then (correlated references) the whole statement. */
function resolveNear(column: ColumnRef, blockTables: TableRef[], tokens: Token[], schema: SchemaView): ResolvedColumn | undefined {
  return resolveColumn(column, blockTables, schema) ?? resolveColumn(column, tableReferences(tokens), schema)
}

const tableList = (tables: TableRef[]) => [...new Set(tables.map((t) => t.name))].join(', ')

/** The SELECT keyword that feeds an INSERT/REPLACE ... SELECT (dml-insert-select-star covers it). */
function insertSourceSelect(tokens: Token[]): Token | undefined {
  const {tokens: main} = mainStatement(tokens)
  const shape = insertShape(main)
  if (shape?.body !== 'query') return undefined
  const select = selectKeywordAt(main, shape.bodyIndex)
  return select < 0 ? undefined : main[select]
}

const selectStar: Rule = {
  id: 'query-select-star',
  family: 'query',
  level: 'notice',
  summary: 'SELECT * reads every column',
  rationale:
    'SELECT * fetches columns the caller does not need (often big TEXT/BLOB ones), which defeats covering indexes and multiplies network and buffer-pool traffic. Its result also changes shape whenever the table does, and a view defined with SELECT * keeps the column list of the day it was created.',
  bad: "SELECT * FROM orders WHERE customer_id = 42",
  good: 'SELECT id, status, total FROM orders WHERE customer_id = 42',
  fix: 'List the columns the caller actually uses.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const insertSource = insertSourceSelect(tokens)
    const viewAt = findWords(tokens, ['VIEW'])
    const view = isWord(tokens[0], 'CREATE', 'ALTER') && viewAt >= 0 && viewAt < findWords(tokens, ['SELECT'])
    const hits: RuleHit[] = []
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!
      if (!isWord(token, 'SELECT') || token === insertSource) continue
      // EXISTS (SELECT * ...) only asks whether a row exists: no column is read.
      if (tokens[i - 1]?.text === '(' && isWord(tokens[i - 2], 'EXISTS')) continue
      const star = selectList(tokens, i).items.find(isStarItem)
      if (!star) continue
      const tables = tableReferences(tokens.slice(i, blockAround(tokens, i).end), {nested: false})
      const from = tables.length > 0 ? ` FROM ${tableList(tables)}` : ''
      hits.push(
        view
          ? {at: star[star.length - 1]!, level: 'warning', message: `view defined with SELECT *${from}: its column list is frozen at creation and will not follow the table`}
          : {at: star[star.length - 1]!, message: `SELECT *${from} reads every column; name the ones needed`},
      )
    }
    return hits
  },
}

/** The pattern of a LIKE: its string, or the first string of CONCAT('%', ...). */
function likePattern(tokens: Token[], index: number): Token | undefined {
  const next = tokens[index]
  if (next?.type === 'string') return next
  if (isWord(next, 'CONCAT') && tokens[index + 1]?.text === '(' && tokens[index + 2]?.type === 'string') return tokens[index + 2]
  return undefined
}

/** The pattern as written (escapes kept: '\%abc' starts with a literal percent sign, not a wildcard). */
function writtenContent(token: Token): string {
  const quote = token.text.search(/['"]/)
  return quote < 0 ? token.value : token.text.slice(quote + 1)
}

const leadingWildcardLike: Rule = {
  id: 'query-leading-wildcard-like',
  family: 'query',
  level: 'warning',
  summary: "LIKE '%...' with a leading wildcard cannot use an index",
  rationale:
    "A B-tree index can only narrow a LIKE when the pattern starts with fixed characters. With '%abc' or '_abc' every row is read and matched, which on a big table is a full scan on each call.",
  bad: "SELECT id FROM users WHERE email LIKE '%@example.com'",
  good: "SELECT id FROM users WHERE email LIKE 'alice%'",
  fix: 'Anchor the pattern at the start, store a reversed or split column to search on, or use a FULLTEXT index.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const hits: RuleHit[] = []
    const seen = new Set<Token>()
    for (const clause of conditionClauses(tokens, ['WHERE', 'HAVING', 'ON'])) {
      const condition = clause.tokens
      for (let i = 0; i < condition.length; i++) {
        if (!isWord(condition[i], 'LIKE')) continue
        const pattern = likePattern(condition, i + 1)
        if (!pattern || seen.has(pattern) || !/^[%_]/.test(writtenContent(pattern))) continue
        seen.add(pattern)
        const column = columnRefEndingAt(condition, isWord(condition[i - 1], 'NOT') ? i - 1 : i)
        const subject = column ? describeColumn(column, blockTables(tokens, tokens.indexOf(condition[i]!))) : 'the value'
        const written = pattern === condition[i + 1] ? pattern.text : `CONCAT(${pattern.text}, ...)`
        hits.push({at: pattern, message: `${subject} LIKE ${written} starts with a wildcard: no index can narrow it, every row is read`})
      }
    }
    return hits
  },
}

const orderByRand: Rule = {
  id: 'query-order-by-rand',
  family: 'query',
  level: 'warning',
  summary: 'ORDER BY RAND() sorts the whole result to pick random rows',
  rationale:
    'ORDER BY RAND() computes a random value for every candidate row, writes them all to a temporary table and sorts it, only to keep a few rows. The cost grows with the table, so a query that is instant in development becomes a full scan plus filesort in production.',
  bad: 'SELECT id FROM products ORDER BY RAND() LIMIT 5',
  good: 'SELECT id FROM products WHERE id >= FLOOR(RAND() * (SELECT MAX(id) FROM products)) ORDER BY id LIMIT 5',
  fix: 'Pick random keys instead: a random id range, a precomputed random column, or random offsets chosen by the application.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const hits: RuleHit[] = []
    for (let i = findWords(tokens, ['ORDER', 'BY']); i >= 0; i = findWords(tokens, ['ORDER', 'BY'], i + 2)) {
      const rand = tokens[i + 2]
      if (!isWord(rand, 'RAND') || tokens[i + 3]?.text !== '(') continue
      const tables = blockTables(tokens, i)
      hits.push({at: rand!, message: `ORDER BY RAND()${tables.length > 0 ? ` on ${tableList(tables)}` : ''} sorts every candidate row to pick a few`})
    }
    return hits
  },
}

type TypeClass = 'string' | 'number'

function typeClass(text: string): TypeClass | undefined {
  const type = parseColumnType(text)
  if (!type) return undefined
  if (isCharacterType(type)) return 'string'
  return isNumericType(type) ? 'number' : undefined
}

const implicitConversion: Rule = {
  id: 'query-implicit-conversion',
  family: 'query',
  level: 'warning',
  needsSchema: true,
  summary: 'Indexed column compared with a literal of another type (implicit conversion)',
  rationale:
    "When a string column is compared with a number, MySQL converts every row's value to a number, so the index on the column cannot be used and '12abc' or ' 12' match 12. A numeric column compared with a string keeps its index, but non-numeric strings silently become 0.",
  bad: 'SELECT id FROM users WHERE phone = 5551234',
  good: "SELECT id FROM users WHERE phone = '5551234'",
  fix: 'Write the literal in the column\u2019s type: quote numbers compared with string columns, and do not quote numbers for numeric columns.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens || !context.schema) return []
    const hits: RuleHit[] = []
    for (const {left, right} of conditionComparisons(tokens)) {
      const column = left.kind === 'column' ? left.ref : right.kind === 'column' ? right.ref : undefined
      const literal = left.kind === 'number' || left.kind === 'string' ? left : right.kind === 'number' || right.kind === 'string' ? right : undefined
      if (!column || !literal) continue
      const resolved = resolveNear(column, blockTables(tokens, tokens.indexOf(column.at)), tokens, context.schema)
      const columnClass = resolved && typeClass(resolved.column.type)
      if (!resolved || !columnClass || columnClass === literal.kind) continue
      const index = indexesWith(resolved.table, resolved.column.name)[0]
      if (!index) continue
      const name = `${resolved.table.name}.${resolved.column.name}`
      const type = resolved.column.type
      hits.push(
        columnClass === 'string'
          ? {at: column.at, message: `${name} is ${type} but is compared with the number ${literal.token.text}: every row is converted to a number, so index ${index.name} cannot be used`}
          : {at: column.at, level: 'notice', message: `${name} is ${type} but is compared with the string ${literal.token.text}: the string is converted to a number (index ${index.name} still works, but non-numeric text becomes 0)`},
      )
    }
    return hits
  },
}

/** The column a one-column subquery returns: `col`, `t.col`, `col AS x`, `col x`. */
function subqueryColumn(item: Token[]): ColumnRef | undefined {
  const ref = readColumnRef(item, 0)
  if (!ref) return undefined
  const rest = item.length - ref.end
  if (rest === 0) return ref
  if (rest === 1 && (item[ref.end]!.type === 'word' || item[ref.end]!.type === 'identifier')) return ref
  if (rest === 2 && isWord(item[ref.end], 'AS')) return ref
  return undefined
}

/** True when the subquery's WHERE says `col IS NOT NULL` (at its top level). */
function excludesNull(subquery: Token[], column: ColumnRef): boolean {
  const where = whereClause(subquery)
  if (!where) return false
  for (let i = 0; i + 2 < where.tokens.length; i++) {
    if (!isWord(where.tokens[i], 'IS') || !isWord(where.tokens[i + 1], 'NOT') || !isWord(where.tokens[i + 2], 'NULL')) continue
    const tested = columnRefEndingAt(where.tokens, i)
    if (tested && tested.name.toLowerCase() === column.name.toLowerCase()) return true
  }
  return false
}

const notInNullable: Rule = {
  id: 'query-not-in-nullable',
  family: 'query',
  level: 'warning',
  summary: 'NOT IN (subquery) returns no rows as soon as the subquery yields a NULL',
  rationale:
    'x NOT IN (a, b, NULL) is never true: it is NULL for every x. So NOT IN over a subquery on a nullable column silently returns nothing (or deletes nothing) the day one NULL appears. NOT EXISTS has the intended meaning and is optimised as an anti-join.',
  bad: 'SELECT id FROM customers WHERE id NOT IN (SELECT referrer_id FROM customers)',
  good: 'SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM customers r WHERE r.referrer_id = c.id)',
  fix: 'Use NOT EXISTS (SELECT 1 ... WHERE inner.col = outer.col), or add WHERE col IS NOT NULL to the subquery.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const hits: RuleHit[] = []
    const seen = new Set<Token>()
    for (const clause of conditionClauses(tokens)) {
      const condition = clause.tokens
      for (let i = 0; i + 2 < condition.length; i++) {
        const not = condition[i]!
        if (!isWord(not, 'NOT') || !isWord(condition[i + 1], 'IN') || !opensSubquery(condition, i + 2) || seen.has(not)) continue
        seen.add(not)
        const close = matchingParen(condition, i + 2)
        if (close < 0) continue
        const subquery = condition.slice(i + 3, close)
        const select = selectKeywordAt(subquery, 0)
        if (select < 0) continue
        const items = selectList(subquery, select).items
        if (items.length !== 1) continue
        const item = items[0]!
        // COUNT(...) and the like never return NULL.
        if (isWord(item[0], 'COUNT') || (item.length === 1 && (item[0]!.type === 'number' || item[0]!.type === 'string'))) continue
        const column = subqueryColumn(item)
        if (column && excludesNull(subquery, column)) continue
        const tables = tableReferences(subquery, {nested: false})
        const resolved = column && context.schema ? resolveColumn(column, tables, context.schema) : undefined
        if (resolved) {
          const inPrimaryKey = primaryKey(resolved.table)?.columns.some((c) => c.toLowerCase() === resolved.column.name.toLowerCase())
          if (!resolved.column.nullable || inPrimaryKey) continue
          hits.push({at: not, message: `NOT IN (SELECT ${resolved.table.name}.${resolved.column.name} ...): the column is nullable, and a single NULL makes the condition false for every row`})
        } else {
          const what = column ? describeColumn(column, tables) : 'an expression'
          hits.push({at: not, level: 'notice', message: `NOT IN (SELECT ${what} ...) returns no rows if the subquery yields a NULL; NOT EXISTS does not have that trap`})
        }
      }
    }
    return hits
  },
}

const functionOnColumn: Rule = {
  id: 'query-function-on-column',
  family: 'query',
  level: 'notice',
  summary: 'Function wrapped around a column in WHERE (DATE(col) = ..., LOWER(col) = ...)',
  rationale:
    'An index stores the column\u2019s values, not DATE(col) or LOWER(col), so a condition on a function of the column cannot use it and reads every row. The same condition can usually be written as a range on the bare column, or served by an index on the expression.',
  bad: "SELECT id FROM orders WHERE DATE(created_at) = '2024-05-01'",
  good: "SELECT id FROM orders WHERE created_at >= '2024-05-01' AND created_at < '2024-05-02'",
  fix: 'Compare the bare column (e.g. a date range instead of DATE(col)), or index the expression.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const {flavor, version} = context.target
    const [major = 0, minor = 0, patch = 0] = version.split('.').map((n) => Number.parseInt(n, 10) || 0)
    const functionalIndexes = flavor === 'mysql' && major * 10000 + minor * 100 + patch >= 80013
    const expressionIndex = functionalIndexes ? 'a functional index on the expression' : 'an indexed generated column holding the expression'
    const hits: RuleHit[] = []
    for (const {function: fn, column} of wrappedColumns(tokens)) {
      const call = `${fn.value}(${column.name})`
      const tables = blockTables(tokens, tokens.indexOf(fn))
      const resolved = context.schema ? resolveNear(column, tables, tokens, context.schema) : undefined
      const hint = `compare ${column.name} itself (e.g. a range instead of ${fn.value}()), or use ${expressionIndex}`
      if (resolved) {
        const index = indexesWith(resolved.table, resolved.column.name)[0]
        if (index) {
          hits.push({at: fn, level: 'warning', hint, message: `${call} in WHERE hides ${resolved.table.name}.${resolved.column.name} from its index ${index.name}: every row is read`})
          continue
        }
        hits.push({at: fn, hint, message: `${call} in WHERE: ${resolved.table.name}.${resolved.column.name} has no index today, but an index on it would not help this condition either`})
        continue
      }
      hits.push({at: fn, hint, message: `${call} in WHERE: an index on ${describeColumn(column, tables)} cannot be used for this condition`})
    }
    return hits
  },
}

const nullComparison: Rule = {
  id: 'query-null-comparison',
  family: 'query',
  level: 'warning',
  summary: '= NULL / <> NULL is never true; use IS NULL / IS NOT NULL',
  rationale:
    'Any comparison with NULL yields NULL (unknown), which WHERE treats as false: col = NULL matches no row and col <> NULL matches no row either. The statement runs without error and silently selects, updates or deletes nothing.',
  bad: 'SELECT id FROM orders WHERE shipped_at = NULL',
  good: 'SELECT id FROM orders WHERE shipped_at IS NULL',
  fix: 'Write col IS NULL or col IS NOT NULL (or the NULL-safe <=> when comparing two expressions).',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const hits: RuleHit[] = []
    for (const {operator, left, right} of conditionComparisons(tokens)) {
      if (!['=', '<>', '!='].includes(operator.text) || operator.type !== 'operator') continue
      if (left.kind !== 'null' && right.kind !== 'null') continue
      const other = left.kind === 'null' ? right : left
      const subject = other.kind === 'column' ? other.ref.name : other.kind === 'null' ? 'NULL' : 'the expression'
      const instead = operator.text === '=' ? 'IS NULL' : 'IS NOT NULL'
      hits.push({at: operator, message: `${subject} ${operator.text} NULL is never true: write ${subject === 'the expression' ? '... ' : `${subject} `}${instead}`})
    }
    return hits
  },
}

const largeOffset: Rule = {
  id: 'query-large-offset',
  family: 'query',
  level: 'notice',
  summary: `LIMIT with a large OFFSET (over ${formatCount(LARGE_OFFSET)}) reads and discards all skipped rows`,
  rationale:
    'LIMIT 100 OFFSET 500000 makes the server produce 500,100 rows and throw 500,000 away, so every later page is slower than the one before. Deep pagination like this is a common cause of slow-log entries on otherwise indexed queries.',
  bad: 'SELECT id, title FROM articles ORDER BY id LIMIT 50 OFFSET 200000',
  good: 'SELECT id, title FROM articles WHERE id > 200000 ORDER BY id LIMIT 50',
  fix: 'Paginate by key (keyset / seek method): WHERE id > last_seen_id ORDER BY id LIMIT n.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens) return []
    const hits: RuleHit[] = []
    for (let i = 0; i < tokens.length; i++) {
      if (!isWord(tokens[i], 'LIMIT')) continue
      let offset: Token | undefined
      if (tokens[i + 2]?.text === ',' && tokens[i + 1]?.type === 'number') offset = tokens[i + 1]
      else if (isWord(tokens[i + 2], 'OFFSET')) offset = tokens[i + 3]
      if (offset?.type !== 'number' || !(Number(offset.text) > LARGE_OFFSET)) continue
      const tables = blockTables(tokens, i)
      hits.push({at: offset, message: `OFFSET ${offset.text}${tables.length > 0 ? ` on ${tableList(tables)}` : ''} reads and discards ${formatCount(Number(offset.text))} rows per call`})
    }
    return hits
  },
}

const AGGREGATES = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'AVG', 'GROUP_CONCAT', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG', 'BIT_AND', 'BIT_OR', 'BIT_XOR', 'STD', 'STDDEV', 'VARIANCE'])

const unboundedSelect: Rule = {
  id: 'query-unbounded-select',
  family: 'query',
  level: 'warning',
  needsSchema: true,
  kinds: ['SELECT', 'WITH'],
  summary: 'SELECT without WHERE or LIMIT on a big table',
  rationale:
    'A SELECT with neither WHERE nor LIMIT on a table of millions of rows reads the whole table, floods the buffer pool with cold pages and ships every row to the client, which may run out of memory. In a script it usually means a forgotten condition.',
  bad: 'SELECT id, status FROM events',
  good: 'SELECT id, status FROM events WHERE id > 1000 ORDER BY id LIMIT 1000',
  fix: 'Add the WHERE clause you meant, or page through the table by key with LIMIT.',
  check(context) {
    const tokens = queryTokens(context)
    if (!tokens || !context.schema) return []
    const main = mainStatement(tokens)
    if (main.kind !== 'SELECT' || hasTopLevel(main.tokens, 'WHERE', 'LIMIT')) return []
    const items = selectList(main.tokens, 0).items
    // SELECT COUNT(*) FROM t returns one row; its cost is another question.
    if (!hasTopLevel(main.tokens, 'GROUP') && items.length > 0 && items.every((item) => item[0]?.type === 'word' && AGGREGATES.has(item[0].value) && item[1]?.text === '(')) return []
    let biggest: {ref: TableRef; rows: number} | undefined
    for (const ref of tableReferences(main.tokens, {nested: false})) {
      const rows = context.schema.table(ref.name, ref.schema)?.stats?.rows
      if (rows !== undefined && rows > context.thresholds.bigTableRows && rows > (biggest?.rows ?? 0)) biggest = {ref, rows}
    }
    if (!biggest) return []
    return [{at: biggest.ref.at, message: `SELECT from ${biggest.ref.name} (~${formatCount(biggest.rows)} rows) has neither WHERE nor LIMIT: it reads and returns the whole table`}]
  },
}

const SYSDATE = new Set(['SYSDATE'])

const sysdate: Rule = {
  id: 'query-sysdate',
  family: 'query',
  level: 'warning',
  summary: 'SYSDATE() is the time of its own evaluation, not of the statement',
  rationale:
    "SYSDATE() is evaluated again for every row and returns the moment of evaluation, so one statement sees several times, a range on it cannot use an index as a constant, and under statement-based replication a replica computes other values than the primary (unless it runs with --sysdate-is-now). NOW() is fixed for the whole statement.",
  bad: 'UPDATE orders SET shipped_at = SYSDATE() WHERE id = 42',
  good: 'UPDATE orders SET shipped_at = NOW() WHERE id = 42',
  fix: 'Use NOW() (or CURRENT_TIMESTAMP), which is the statement\u2019s start time.',
  check(context) {
    return functionCalls(context.statement.tokens, SYSDATE).map((at) => ({at, message: 'SYSDATE() is evaluated per row at its own moment; NOW() is the statement\u2019s time and replicates the same'}))
  },
}

/** The WHERE of a SELECT, UPDATE or DELETE (after any WITH), and the statement's kind. */
function mainWhere(context: RuleContext): {kind: string; where: NonNullable<ReturnType<typeof whereClause>>} | undefined {
  const main = mainStatement(context.statement.tokens)
  if (!['SELECT', 'UPDATE', 'DELETE'].includes(main.kind)) return undefined
  const where = whereClause(main.tokens)
  return where ? {kind: main.kind, where} : undefined
}

const shown = (tokens: Token[]) => {
  const text = tokens.map((t) => t.text).join(' ')
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const constantWhere: Rule = {
  id: 'query-constant-where',
  family: 'query',
  level: 'warning',
  kinds: ['SELECT', 'UPDATE', 'DELETE', 'WITH'],
  summary: 'A WHERE that is always true reads everything; one that is always false does nothing',
  rationale:
    "WHERE 1=1 or WHERE x = x filters nothing: the query reads the whole table while looking filtered (an UPDATE or DELETE like that is dml-always-true-where's error). WHERE 1 != 1, WHERE 0 or a BETWEEN whose bounds are reversed (BETWEEN 10 AND 5) matches no row, so the statement silently does nothing: usually an inverted or unfilled condition.",
  bad: 'SELECT id FROM orders WHERE 1 = 1',
  good: "SELECT id FROM orders WHERE status = 'open'",
  fix: 'Write the condition that selects the rows meant; to fetch only column metadata, use LIMIT 0.',
  check(context) {
    const found = mainWhere(context)
    if (!found) return []
    const {kind, where} = found
    const hits: RuleHit[] = []
    const truth = constantTruth(where.tokens)
    if (truth === true && kind === 'SELECT') hits.push({at: where.keyword, message: `WHERE ${shown(where.tokens)} is always true: the SELECT reads every row`})
    if (truth === false) hits.push({at: where.keyword, message: `WHERE ${shown(where.tokens)} is always false: the ${kind} matches no row`})
    for (let i = 0; i < where.tokens.length; i++) {
      const [low, and, high] = [where.tokens[i + 1], where.tokens[i + 2], where.tokens[i + 3]]
      if (!isWord(where.tokens[i], 'BETWEEN') || isWord(where.tokens[i - 1], 'NOT') || low?.type !== 'number' || !isWord(and, 'AND') || high?.type !== 'number') continue
      if (Number(low.text) > Number(high.text)) hits.push({at: where.tokens[i]!, message: `BETWEEN ${low.text} AND ${high.text} matches nothing: the lower bound comes first`})
    }
    return hits
  },
}

const nullInList: Rule = {
  id: 'query-null-in-list',
  family: 'query',
  level: 'warning',
  summary: 'NULL in an IN list matches nothing, and makes NOT IN match nothing at all',
  rationale:
    'The condition x IN (1, NULL) is true for 1 and NULL (not true) for everything else, NULL rows included: the NULL in the list finds nothing. The condition x NOT IN (1, NULL) is never true for any row, because x <> NULL is NULL: the query returns nothing and no error says why.',
  bad: 'SELECT id FROM users WHERE status NOT IN (\'banned\', NULL)',
  good: 'SELECT id FROM users WHERE status IS NOT NULL AND status NOT IN (\'banned\')',
  fix: 'Take NULL out of the list, and test for it with IS NULL / IS NOT NULL.',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i < tokens.length; i++) {
      if (!isWord(tokens[i], 'IN') || tokens[i + 1]?.text !== '(' || isWord(tokens[i + 2], 'SELECT', 'WITH', 'VALUES', 'TABLE')) continue
      const close = matchingParen(tokens, i + 1)
      if (close < 0) continue
      let depth = 0
      for (let j = i + 2; j < close; j++) {
        if (tokens[j]!.text === '(') depth++
        else if (tokens[j]!.text === ')') depth--
        else if (depth === 0 && isWord(tokens[j], 'NULL') && [',', '('].includes(tokens[j - 1]!.text) && [',', ')'].includes(tokens[j + 1]!.text)) {
          const negated = isWord(tokens[i - 1], 'NOT')
          hits.push({at: tokens[j]!, level: negated ? 'error' : 'warning', message: negated ? 'NOT IN with NULL in its list is never true: the condition matches no row at all' : 'NULL in an IN list matches nothing, not even NULL: test with IS NULL'})
          break
        }
      }
    }
    return hits
  },
}

/**
 * Characters that look like a space or a quote and are neither to MySQL: pasted from a document or
 * a chat, they make a word of `SELECT\u00A0id` or a name of `\u2018name\u2019`.
 */
const LOOKALIKES: Record<string, string> = {
  '\u00A0': 'a no-break space',
  '\u200B': 'a zero-width space',
  '\u200C': 'a zero-width non-joiner',
  '\u200D': 'a zero-width joiner',
  '\u2060': 'a word joiner',
  '\uFEFF': 'a byte-order mark',
  '\u202F': 'a narrow no-break space',
  '\u3000': 'an ideographic (full-width) space',
  '\u2018': 'a curly quote \u2018',
  '\u2019': 'a curly quote \u2019',
  '\u201C': 'a curly quote \u201C',
  '\u201D': 'a curly quote \u201D',
  '\uFF07': 'a full-width quote \uFF07',
  '\uFF02': 'a full-width quote \uFF02',
}
const LOOKALIKE = new RegExp(`[${Object.keys(LOOKALIKES).join('')}]`)

const lookalikeCharacter: Rule = {
  id: 'query-lookalike-character',
  family: 'query',
  level: 'error',
  summary: 'An invisible space or a curly/full-width quote outside a string',
  rationale:
    "A no-break or zero-width space, or a curly or full-width quote, pasted from a document or a chat looks like a space or a quote but is a letter to MySQL: SELECT\u00A0id is one unknown word, \u2018name\u2019 is an identifier with the quotes in it. The statement fails, or worse names something else than it seems to.",
  bad: "SELECT id FROM users WHERE name = \u2018ana\u2019",
  good: "SELECT id FROM users WHERE name = 'ana'",
  fix: 'Retype the character as a plain space or a plain quote (\' or `).',
  check(context) {
    const hits: RuleHit[] = []
    for (const token of context.statement.tokens) {
      if (token.type === 'string' || token.type === 'identifier') continue
      const found = LOOKALIKE.exec(token.text)
      if (!found) continue
      const at = {...token, column: token.column + found.index}
      hits.push({at, message: `${LOOKALIKES[found[0]]} (U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) in ${JSON.stringify(token.text.length > 30 ? `${token.text.slice(0, 30)}…` : token.text)}: MySQL reads it as part of a word, not as ${/[\u2018\u2019\u201C\u201D\uFF07\uFF02]/.test(found[0]) ? 'a quote' : 'a space'}`})
    }
    return hits
  },
}

const COMPARISONS = new Set(['=', '<', '>', '<=', '>=', '<>', '!=', '<=>'])
/** Words and marks that end one comparison and may start another: a chain never crosses them. */
const COMPARISON_BOUNDARY = new Set(['AND', 'OR', 'XOR', 'NOT', 'WHERE', 'ON', 'SET', 'WHEN', 'THEN', 'ELSE', 'END', 'FROM', 'HAVING', 'GROUP', 'ORDER', 'LIMIT', 'SELECT', 'VALUES', 'USING', 'CASE', 'IF', 'AS', 'INTO', 'UPDATE', 'DUPLICATE', 'KEY', 'DO', 'RETURN', 'WHILE', 'UNTIL'])

const chainedComparison: Rule = {
  id: 'query-chained-comparison',
  family: 'query',
  level: 'error',
  kinds: ['SELECT', 'UPDATE', 'DELETE', 'INSERT', 'REPLACE', 'WITH', 'SET', 'DO'],
  summary: "Chained comparison (a = b = 'x') compares a truth value, not three values",
  rationale:
    "MySQL reads a = b = 'x' as (a = b) = 'x': the first comparison gives 0 or 1, and that number is compared with 'x', so the condition is true or false for reasons that have nothing to do with the values written. It is almost always a missing AND, and no error says so.",
  bad: "SELECT id FROM users WHERE status = verified = 'yes'",
  good: "SELECT id FROM users WHERE status = 'yes' AND verified = 'yes'",
  fix: 'Join the comparisons with AND (a = b AND b = \'x\').',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    // Per parenthesis depth: the last comparison operator since a boundary, and BETWEEN's pending AND.
    const open: Array<{last?: Token; between: boolean}> = [{between: false}]
    for (const token of tokens) {
      const level = open[open.length - 1]!
      if (token.text === '(' && token.type === 'punctuation') open.push({between: false})
      else if (token.text === ')' && token.type === 'punctuation') {
        if (open.length > 1) open.pop()
        open[open.length - 1]!.last = undefined
      } else if (token.text === ',' || token.text === ';') level.last = undefined
      else if (token.type === 'word' && token.value === 'BETWEEN') level.between = true
      else if (token.type === 'word' && token.value === 'AND' && level.between) level.between = false
      else if (token.type === 'word' && COMPARISON_BOUNDARY.has(token.value)) level.last = undefined
      else if (token.type === 'operator' && COMPARISONS.has(token.text)) {
        if (level.last) hits.push({at: level.last, message: `chained comparison at ${level.last.text} … ${token.text}: MySQL compares the first comparison's 0 or 1 with what follows`})
        level.last = token
      }
    }
    return hits
  },
}

const unquotedDate: Rule = {
  id: 'query-unquoted-date',
  family: 'query',
  level: 'error',
  summary: 'A date written without quotes (2018-01-10) is a subtraction',
  rationale:
    'Without quotes, 2018-01-10 is the number 2018 minus 1 minus 10, that is 2007, and comparing a DATE or DATETIME column with 2007 converts every row and matches by accident or not at all. The statement runs, so the mistake goes unnoticed until the results are wrong.',
  bad: 'SELECT id FROM orders WHERE created_at < 2018-01-10',
  good: "SELECT id FROM orders WHERE created_at < '2018-01-10'",
  fix: "Quote the date: '2018-01-10' (or DATE '2018-01-10').",
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i + 4 < tokens.length; i++) {
      const [year, dash1, month, dash2, day] = tokens.slice(i, i + 5)
      const adjacent = [year, dash1, month, dash2, day].every((token, index, all) => index === 0 || all[index - 1]!.end === token!.start)
      if (!adjacent || year!.type !== 'number' || dash1!.text !== '-' || month!.type !== 'number' || dash2!.text !== '-' || day!.type !== 'number') continue
      if (!/^(19|20)\d\d$/.test(year!.text) || !/^(0?[1-9]|1[0-2])$/.test(month!.text) || !/^(0?[1-9]|[12]\d|3[01])$/.test(day!.text)) continue
      const value = Number(year!.text) - Number(month!.text) - Number(day!.text)
      hits.push({at: year!, message: `${year!.text}-${month!.text}-${day!.text} without quotes is the number ${value}, not a date`})
    }
    return hits
  },
}

const calcFoundRows: Rule = {
  id: 'query-sql-calc-found-rows',
  family: 'query',
  level: 'warning',
  kinds: ['SELECT', 'WITH'],
  summary: 'SQL_CALC_FOUND_ROWS and FOUND_ROWS() are deprecated (MySQL 8.0.17+) and slow',
  rationale:
    'SQL_CALC_FOUND_ROWS makes the server find every matching row to count them, even with a LIMIT, so the paged query costs as much as the unlimited one and cannot stop early. MySQL 8.0.17 deprecated it together with FOUND_ROWS(); a separate SELECT COUNT(*) is usually faster and can use a covering index.',
  bad: 'SELECT SQL_CALC_FOUND_ROWS id FROM orders WHERE status = 1 LIMIT 20',
  good: 'SELECT id FROM orders WHERE status = 1 LIMIT 20',
  fix: 'Drop it and count with a separate SELECT COUNT(*) with the same WHERE, when the total is needed at all.',
  check(context) {
    if (context.target.flavor !== 'mysql' || compareVersions(context.target.version, '8.0.17') < 0) return []
    return context.statement.tokens.filter((token) => token.type === 'word' && token.value === 'SQL_CALC_FOUND_ROWS').map((at) => ({at, message: 'SQL_CALC_FOUND_ROWS is deprecated since MySQL 8.0.17, and makes the server find every matching row despite the LIMIT'}))
  },
}

/** Words that end a join's table reference: its ON or USING must come before one of them. */
const JOIN_END = new Set(['JOIN', 'STRAIGHT_JOIN', 'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'SET', 'WINDOW', 'FOR', 'INTO', 'LEFT', 'RIGHT', 'INNER', 'CROSS', 'NATURAL', 'FULL', 'RETURNING', 'LOCK'])

const joinWithoutOn: Rule = {
  id: 'query-join-without-on',
  family: 'query',
  level: 'warning',
  kinds: ['SELECT', 'UPDATE', 'DELETE', 'INSERT', 'REPLACE', 'WITH', 'CREATE'],
  summary: 'JOIN without ON or USING is a cross join',
  rationale:
    'MySQL accepts a JOIN with no ON or USING and pairs every row of one table with every row of the other, so the result (or the rows an UPDATE or DELETE touches) grows as the product of the two tables. Written on purpose it is CROSS JOIN; without the keyword it is almost always a forgotten condition.',
  bad: 'SELECT o.id, c.name FROM orders o JOIN customers c WHERE o.total > 100',
  good: 'SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100',
  fix: 'Add the join condition (ON a.x = b.x or USING (x)), or write CROSS JOIN if every pair is meant.',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i < tokens.length; i++) {
      const join = tokens[i]!
      if (join.type !== 'word' || (join.value !== 'JOIN' && join.value !== 'STRAIGHT_JOIN') || isWord(tokens[i - 1], 'CROSS', 'NATURAL')) continue
      // SELECT STRAIGHT_JOIN ... is a modifier of the SELECT (join in FROM order), not a join.
      if (join.value === 'STRAIGHT_JOIN' && isWord(tokens[i - 1], 'SELECT', 'ALL', 'DISTINCT', 'DISTINCTROW', 'HIGH_PRIORITY', 'SQL_SMALL_RESULT', 'SQL_BIG_RESULT', 'SQL_BUFFER_RESULT', 'SQL_NO_CACHE', 'SQL_CACHE', 'SQL_CALC_FOUND_ROWS')) continue
      let depth = 0
      let conditioned = false
      let j = i + 1
      for (; j < tokens.length; j++) {
        const token = tokens[j]!
        if (token.text === '(') depth++
        else if (token.text === ')') {
          if (depth === 0) break
          depth--
        } else if (depth === 0 && (token.text === ',' || token.text === ';')) break
        else if (depth === 0 && isWord(token, 'ON', 'USING')) {
          conditioned = true
          break
        } else if (depth === 0 && token.type === 'word' && JOIN_END.has(token.value)) break
      }
      // A JOIN at the very end of an unfinished statement has nothing to judge.
      if (!conditioned && j > i + 1) hits.push({at: join, message: `${join.value} ${tokens[i + 1]!.text} has no ON or USING: every row is paired with every row of the other side`})
    }
    return hits
  },
}

const limitInSubquery: Rule = {
  id: 'query-limit-in-subquery',
  family: 'query',
  level: 'error',
  summary: 'LIMIT inside an IN / ANY / ALL / SOME subquery is refused by the server',
  rationale:
    "MySQL and MariaDB both refuse a LIMIT directly inside a subquery used with IN, NOT IN, ANY, ALL or SOME (ER_NOT_SUPPORTED_YET: This version doesn't yet support 'LIMIT & IN/ALL/ANY/SOME subquery'). The statement fails when it runs, however it looked in review.",
  bad: 'SELECT id FROM orders WHERE customer_id IN (SELECT id FROM customers ORDER BY created_at DESC LIMIT 10)',
  good: 'SELECT o.id FROM orders o JOIN (SELECT id FROM customers ORDER BY created_at DESC LIMIT 10) c ON c.id = o.customer_id',
  fix: 'Join a derived table that has the LIMIT, or wrap the subquery in another: IN (SELECT id FROM (SELECT id ... LIMIT 10) AS t).',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i + 2 < tokens.length; i++) {
      if (!isWord(tokens[i], 'IN', 'ANY', 'ALL', 'SOME') || tokens[i + 1]?.text !== '(' || !isWord(tokens[i + 2], 'SELECT', 'WITH')) continue
      const close = matchingParen(tokens, i + 1)
      let depth = 0
      for (let j = i + 2; j < (close < 0 ? tokens.length : close); j++) {
        if (tokens[j]!.text === '(') depth++
        else if (tokens[j]!.text === ')') depth--
        else if (depth === 0 && isWord(tokens[j], 'LIMIT')) {
          hits.push({at: tokens[j]!, message: `LIMIT directly inside an ${tokens[i]!.value} (SELECT ...) subquery: the server refuses the statement`})
          break
        }
      }
    }
    return hits
  },
}

export const rules: Rule[] = [lookalikeCharacter, limitInSubquery, joinWithoutOn, chainedComparison, unquotedDate, calcFoundRows, selectStar, leadingWildcardLike, orderByRand, implicitConversion, notInNullable, functionOnColumn, nullComparison, largeOffset, unboundedSelect, sysdate, constantWhere, nullInList]
