import {formatCount} from '../../core/text.ts'
import {isWord, type Token} from '../../sql/lexer.ts'
import {findTopLevelWord, findWords, qualifiedLabel, readQualifiedName, splitTopLevel, targetTable, type QualifiedName} from '../../sql/tokens.ts'
import {
  clauseEnd,
  comparisonsIn,
  hasTopLevel,
  insertShape,
  isAlwaysTrue,
  isStarItem,
  mainStatement,
  primaryKey,
  readColumnRef,
  selectKeywordAt,
  selectList,
  splitConditions,
  tableReferences,
  whereClause,
} from '../../sql/expressions.ts'
import type {Rule, RuleContext, RuleHit, TableInfo} from '../types.ts'


/** The statement from its main keyword on, when that keyword is UPDATE or DELETE. */
function updateOrDelete(context: RuleContext): {tokens: Token[]; kind: 'UPDATE' | 'DELETE'; table: QualifiedName} | undefined {
  const main = mainStatement(context.statement.tokens)
  if (main.kind !== 'UPDATE' && main.kind !== 'DELETE') return undefined
  // `UPDATE t` without SET, or `DELETE t` without FROM, is unfinished: nothing to judge.
  if (main.kind === 'UPDATE' && findTopLevelWord(main.tokens, 'SET') < 0) return undefined
  if (main.kind === 'DELETE' && findTopLevelWord(main.tokens, 'FROM') < 0) return undefined
  const table = targetTable(main.tokens)
  return table ? {tokens: main.tokens, kind: main.kind, table} : undefined
}

/** An inner join with a condition limits the rows a multi-table UPDATE/DELETE touches, like a WHERE. */
function hasFilteringJoin(tokens: Token[]): boolean {
  let depth = 0
  let innerJoin = false
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.text === '(') depth++
    else if (token.text === ')') depth--
    else if (depth === 0 && isWord(token, 'JOIN', 'STRAIGHT_JOIN') && !isWord(tokens[i - 1], 'LEFT', 'RIGHT', 'OUTER', 'CROSS', 'NATURAL')) innerJoin = true
    else if (depth === 0 && innerJoin && (isWord(token, 'ON') || (isWord(token, 'USING') && tokens[i + 1]?.text === '('))) return true
  }
  return false
}

function withoutWhere(context: RuleContext, kind: 'UPDATE' | 'DELETE'): RuleHit[] {
  const statement = updateOrDelete(context)
  if (!statement || statement.kind !== kind || whereClause(statement.tokens)) return []
  const table = qualifiedLabel(statement.table)
  const at = statement.tokens[0]!
  if (hasFilteringJoin(statement.tokens)) {
    return [{at, level: 'warning', message: `${kind} on ${table} has no WHERE clause: only the join condition limits which rows ${kind === 'UPDATE' ? 'change' : 'are deleted'}`}]
  }
  return kind === 'UPDATE'
    ? [{at, message: `UPDATE ${table} has no WHERE clause: it changes every row of ${table}`}]
    : [{at, message: `DELETE FROM ${table} has no WHERE clause: it deletes every row of ${table}`}]
}

const updateWithoutWhere: Rule = {
  id: 'dml-update-without-where',
  family: 'dml',
  level: 'error',
  kinds: ['UPDATE', 'WITH'],
  summary: 'UPDATE without a WHERE clause changes every row of the table',
  rationale:
    'A forgotten or truncated WHERE clause is the classic way to overwrite a whole table in production. The change is committed row by row into the binary log and replicas, so undoing it means a point-in-time restore.',
  bad: "UPDATE accounts SET status = 'closed'",
  good: "UPDATE accounts SET status = 'closed' WHERE id = 42",
  fix: 'Add a WHERE clause that selects only the rows to change; run it as SELECT COUNT(*) first.',
  check: (context) => withoutWhere(context, 'UPDATE'),
}

const deleteWithoutWhere: Rule = {
  id: 'dml-delete-without-where',
  family: 'dml',
  level: 'error',
  kinds: ['DELETE', 'WITH'],
  summary: 'DELETE without a WHERE clause removes every row of the table',
  rationale:
    'A DELETE with no WHERE empties the table one row at a time: it holds locks on every row, bloats the undo log and the binary log, and the data only comes back from a backup. If emptying the table is really the intent, TRUNCATE TABLE says so and is far cheaper.',
  bad: 'DELETE FROM sessions',
  good: 'DELETE FROM sessions WHERE expires_at < NOW()',
  fix: 'Add a WHERE clause for the rows to delete, or use TRUNCATE TABLE if the table is meant to be emptied.',
  check: (context) => withoutWhere(context, 'DELETE'),
}

const alwaysTrueWhere: Rule = {
  id: 'dml-always-true-where',
  family: 'dml',
  level: 'error',
  kinds: ['UPDATE', 'DELETE', 'WITH'],
  summary: 'UPDATE/DELETE whose WHERE clause is always true (1=1, TRUE, x=x, ... OR 1)',
  rationale:
    'A condition such as WHERE 1=1, WHERE TRUE or WHERE id = 5 OR 1 matches every row, so the statement is a whole-table UPDATE or DELETE that reviewers and linters looking for a missing WHERE do not notice. It is usually a leftover from a query builder or a placeholder that was never filled in.',
  bad: "DELETE FROM orders WHERE 1 = 1 OR status = 'draft'",
  good: "DELETE FROM orders WHERE status = 'draft'",
  fix: 'Replace the condition with one that selects only the intended rows.',
  check(context) {
    const statement = updateOrDelete(context)
    const where = statement && whereClause(statement.tokens)
    if (!statement || !where || !isAlwaysTrue(where.tokens)) return []
    const condition = where.tokens.map((t) => t.text).join(' ')
    const shown = condition.length > 60 ? `${condition.slice(0, 57)}...` : condition
    return [{at: where.keyword, message: `WHERE ${shown} is always true: this ${statement.kind} touches every row of ${qualifiedLabel(statement.table)}`}]
  },
}

/** Ranges [start, end) of the assignment lists of UPDATE ... SET, INSERT ... SET and ON DUPLICATE KEY UPDATE. */
function assignmentLists(tokens: Token[]): Array<[number, number]> {
  const lists: Array<[number, number]> = []
  const first = tokens[0]
  if (isWord(first, 'UPDATE')) {
    const set = findTopLevelWord(tokens, 'SET')
    if (set >= 0) lists.push([set + 1, clauseEnd(tokens, set + 1, new Set(['WHERE', 'ORDER', 'LIMIT', 'RETURNING']))])
  } else if (isWord(first, 'INSERT', 'REPLACE')) {
    const shape = insertShape(tokens)
    if (shape?.body === 'set') lists.push([shape.bodyIndex + 1, clauseEnd(tokens, shape.bodyIndex + 1, new Set(['ON', 'RETURNING', 'AS']))])
    const duplicate = findWords(tokens, ['ON', 'DUPLICATE', 'KEY', 'UPDATE'])
    if (duplicate >= 0) lists.push([duplicate + 4, clauseEnd(tokens, duplicate + 4, new Set(['RETURNING']))])
  }
  return lists
}

const updateSetAnd: Rule = {
  id: 'dml-update-set-and',
  family: 'dml',
  level: 'error',
  kinds: ['UPDATE', 'INSERT', 'REPLACE', 'WITH'],
  summary: 'SET a = 1 AND b = 2: AND instead of a comma turns two assignments into one boolean',
  rationale:
    'In SET a = 1 AND b = 2 the server reads one assignment, a = (1 AND (b = 2)): column a gets 0 or 1 and column b is not changed at all. The statement succeeds without error, so the damage shows up later as corrupted values.',
  bad: "UPDATE users SET status = 'active' AND verified = 1 WHERE id = 7",
  good: "UPDATE users SET status = 'active', verified = 1 WHERE id = 7",
  fix: 'Separate assignments with commas: SET a = 1, b = 2.',
  check(context) {
    const {tokens} = mainStatement(context.statement.tokens)
    const hits: RuleHit[] = []
    for (const [start, end] of assignmentLists(tokens)) {
      for (const assignment of splitTopLevel(tokens, start, end)) {
        const target = readColumnRef(assignment, 0)
        if (!target || !['=', ':='].includes(assignment[target.end]?.text ?? '')) continue
        const value = assignment.slice(target.end + 1)
        const parts = splitConditions(value, 'AND')
        for (let k = 1; k < parts.length; k++) {
          const part = parts[k]!
          const next = part[0] && readColumnRef(part, 0)
          if (!next || part[next.end]?.text !== '=') continue
          const and = value[value.indexOf(part[0]!) - 1]
          hits.push({
            ...(and ? {at: and} : {}),
            message: `SET ${target.name} = ... AND ${next.name} = ... is one assignment: ${target.name} gets the boolean result (0 or 1) and ${next.name} is not changed`,
          })
          break
        }
      }
    }
    return hits
  },
}

const limitWithoutOrderBy: Rule = {
  id: 'dml-limit-without-order-by',
  family: 'dml',
  level: 'warning',
  kinds: ['UPDATE', 'DELETE', 'WITH'],
  summary: 'UPDATE/DELETE with LIMIT but no ORDER BY picks arbitrary rows',
  rationale:
    'Without ORDER BY, which rows a LIMIT keeps depends on the execution plan, so the primary and its replicas may change different rows. The server flags such statements unsafe for statement-based replication, and reruns of a batch job do not touch the rows you expect.',
  bad: "DELETE FROM audit_log WHERE created_at < '2024-01-01' LIMIT 1000",
  good: "DELETE FROM audit_log WHERE created_at < '2024-01-01' ORDER BY id LIMIT 1000",
  fix: 'Add ORDER BY on the primary key (or another unique key) before LIMIT.',
  check(context) {
    const statement = updateOrDelete(context)
    if (!statement) return []
    const limit = findTopLevelWord(statement.tokens, 'LIMIT')
    if (limit < 0 || hasTopLevel(statement.tokens, 'ORDER')) return []
    return [{at: statement.tokens[limit]!, message: `${statement.kind} on ${qualifiedLabel(statement.table)} uses LIMIT without ORDER BY: which rows it changes is not deterministic, and it is unsafe for statement-based replication`}]
  },
}

const insertWithoutColumns: Rule = {
  id: 'dml-insert-without-columns',
  family: 'dml',
  level: 'warning',
  kinds: ['INSERT', 'REPLACE', 'WITH'],
  summary: 'INSERT without a column list depends on the table\u2019s column order',
  rationale:
    'INSERT INTO t VALUES (...) matches values to columns by position. Once a column is added, dropped or reordered by a migration the statement fails, or worse, silently writes values into the wrong columns when the types are compatible.',
  bad: "INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com')",
  good: "INSERT INTO customers (id, name, email) VALUES (1, 'Ada', 'ada@example.com')",
  fix: 'Name the columns: INSERT INTO t (col1, col2, ...) VALUES (...).',
  check(context) {
    const {tokens, kind} = mainStatement(context.statement.tokens)
    const shape = insertShape(tokens)
    if (!shape || shape.columnList !== undefined || (shape.body !== 'values' && shape.body !== 'query')) return []
    return [{at: shape.table.at, message: `${kind} INTO ${qualifiedLabel(shape.table)} has no column list: values go to columns by position`}]
  },
}

const insertSelectStar: Rule = {
  id: 'dml-insert-select-star',
  family: 'dml',
  level: 'warning',
  kinds: ['INSERT', 'REPLACE', 'WITH'],
  summary: 'INSERT ... SELECT * copies columns by position',
  rationale:
    'SELECT * returns the source table\u2019s columns in its current order. When either table gains, loses or reorders a column, the INSERT fails or quietly puts data into the wrong columns, typically in an archive or backfill job nobody watches.',
  bad: "INSERT INTO orders_archive SELECT * FROM orders WHERE created_at < '2023-01-01'",
  good: "INSERT INTO orders_archive (id, customer_id, total) SELECT id, customer_id, total FROM orders WHERE created_at < '2023-01-01'",
  fix: 'List the columns on both sides: INSERT INTO t (a, b) SELECT a, b FROM ...',
  check(context) {
    const {tokens, kind} = mainStatement(context.statement.tokens)
    const shape = insertShape(tokens)
    if (shape?.body !== 'query') return []
    const select = selectKeywordAt(tokens, shape.bodyIndex)
    if (select < 0) return []
    const star = selectList(tokens, select).items.find(isStarItem)
    if (!star) return []
    return [{at: star[star.length - 1]!, message: `${kind} INTO ${qualifiedLabel(shape.table)} ... SELECT * depends on the column order of both tables`}]
  },
}

/** Number of rows in VALUES (...), (...), ... starting at the VALUES keyword. */
function valuesRowCount(tokens: Token[], valuesIndex: number): number {
  let depth = 0
  let rows = 1
  for (let i = valuesIndex + 1; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.type === 'punctuation') {
      if (token.text === '(') depth++
      else if (token.text === ')') depth--
      else if (depth === 0 && token.text === ',') rows++
      else if (depth === 0 && token.text === ';') break
    } else if (depth === 0 && isWord(token, 'ON', 'AS', 'RETURNING')) break
  }
  return rows
}

const insertTooManyRows: Rule = {
  id: 'dml-insert-too-many-rows',
  family: 'dml',
  level: 'warning',
  kinds: ['INSERT', 'REPLACE', 'WITH'],
  summary: 'INSERT/REPLACE with more VALUES rows than the threshold in one statement',
  rationale:
    'One huge multi-row INSERT is one transaction: it can exceed max_allowed_packet, holds its locks until the last row, and arrives on replicas as one large event that stalls replication. Batches of a few hundred to a thousand rows load just as fast without those risks.',
  bad: `INSERT INTO tags (id, name) VALUES ${Array.from({length: 1001}, (_, k) => `(${k + 1}, 't${k + 1}')`).join(', ')}`,
  good: "INSERT INTO tags (id, name) VALUES (1, 'red'), (2, 'green'), (3, 'blue')",
  fix: 'Split the rows into several INSERT statements (e.g. 500-1000 rows each), or load the data with LOAD DATA.',
  check(context) {
    const {tokens, kind} = mainStatement(context.statement.tokens)
    const shape = insertShape(tokens)
    if (shape?.body !== 'values') return []
    const rows = valuesRowCount(tokens, shape.bodyIndex)
    const limit = context.thresholds.maxInsertRows
    if (rows <= limit) return []
    return [{at: tokens[shape.bodyIndex]!, message: `${kind} INTO ${qualifiedLabel(shape.table)} carries ${formatCount(rows)} rows in one statement (threshold ${formatCount(limit)})`}]
  },
}

const DDL_KIND = /^(CREATE|ALTER|DROP|RENAME|TRUNCATE)\b/
const DML_KINDS = new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'LOAD'])

interface MixState {
  ddl?: string
  dml?: string
  reported?: boolean
}

const mixedDdlDml: Rule = {
  id: 'dml-mixed-ddl-dml',
  family: 'dml',
  level: 'warning',
  kinds: ['CREATE', 'ALTER', 'DROP', 'RENAME', 'TRUNCATE', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'LOAD', 'WITH'],
  summary: 'Schema changes (DDL) and data changes (DML) in the same file',
  rationale:
    'DDL commits implicitly and cannot be rolled back, so a file that alters tables and then rewrites data has no safe point to stop at: a failure halfway leaves the schema changed and the data half-migrated. Separate files let each step be run, verified and retried on its own, and let schema changes go through an online tool.',
  bad: "ALTER TABLE orders ADD COLUMN region VARCHAR(16);\nUPDATE orders SET region = 'eu' WHERE country IN ('DE', 'FR');",
  good: 'ALTER TABLE orders ADD COLUMN region VARCHAR(16);\nALTER TABLE orders ADD INDEX idx_region (region);',
  fix: 'Put schema changes and data changes in separate migration files.',
  check(context) {
    // Statements of a routine body run when the routine is called, not when this file runs.
    if (context.statement.routine) return []
    const {tokens, kind} = mainStatement(context.statement.tokens)
    const isDdl = DDL_KIND.test(kind)
    const isDml = DML_KINDS.has(kind)
    if (!isDdl && !isDml) return []
    const state = (context.file.memo.get(mixedDdlDml.id) as MixState | undefined) ?? {}
    context.file.memo.set(mixedDdlDml.id, state)
    const table = targetTable(tokens)
    const what = `${kind}${table ? ` ${qualifiedLabel(table)}` : ''} (line ${tokens[0]!.line})`
    const ddlBefore = state.ddl !== undefined
    const dmlBefore = state.dml !== undefined
    if (isDdl) state.ddl ??= what
    if (isDml) state.dml ??= what
    const mixes = (isDdl && dmlBefore) || (isDml && ddlBefore)
    if (!mixes || state.reported) return []
    state.reported = true
    const earlier = isDdl ? (state.dml !== what ? state.dml : undefined) : state.ddl !== what ? state.ddl : undefined
    return [
      {
        at: tokens[0]!,
        message: `this file mixes schema and data changes: ${isDdl ? 'DDL' : 'DML'} ${what}${earlier ? ` after ${isDdl ? 'DML' : 'DDL'} ${earlier}` : ''}; a failure halfway leaves the schema changed and the data half-migrated`,
      },
    ]
  },
}

/** Columns the WHERE pins with `col = value` or `col IN (...)`, and whether it bounds `key` on both sides. */
function whereShape(where: Token[], key: string | undefined): {pinned: Set<string>; keyRange: boolean} {
  const pinned = new Set<string>()
  let lower = false
  let upper = false
  for (const conjunct of splitConditions(where, 'AND')) {
    for (const {operator, left, right} of comparisonsIn(conjunct)) {
      if ((left.kind === 'column') === (right.kind === 'column')) continue
      const column = left.kind === 'column' ? left.ref : right.kind === 'column' ? right.ref : undefined
      if (!column || left.kind === 'null' || right.kind === 'null') continue
      const name = column.name.toLowerCase()
      const negated = isWord(conjunct[conjunct.indexOf(operator) - 1], 'NOT')
      if (operator.text === '=' || (isWord(operator, 'IN') && !negated)) pinned.add(name)
      if (name !== key) continue
      // `5 < id` bounds id from below, like `id > 5`.
      const flipped = right.kind === 'column'
      if (isWord(operator, 'BETWEEN')) lower = upper = true
      else if (operator.text === '>' || operator.text === '>=') {
        if (flipped) upper = true
        else lower = true
      } else if (operator.text === '<' || operator.text === '<=') {
        if (flipped) lower = true
        else upper = true
      }
    }
  }
  return {pinned, keyRange: lower && upper}
}

/** True when the WHERE can only match a handful of rows, or is already one key-range batch. */
function boundedByKeys(where: Token[], table: TableInfo): boolean {
  const key = primaryKey(table)?.columns[0]?.toLowerCase()
  const {pinned, keyRange} = whereShape(where, key)
  if (keyRange) return true
  return table.indexes.some((index) => (index.unique || index.name.toUpperCase() === 'PRIMARY') && index.columns.length > 0 && index.columns.every((c) => pinned.has(c.toLowerCase())))
}

const largeBackfill: Rule = {
  id: 'dml-large-backfill',
  family: 'dml',
  level: 'warning',
  needsSchema: true,
  kinds: ['UPDATE', 'DELETE', 'WITH'],
  summary: 'UPDATE/DELETE over a big table in a single statement',
  rationale:
    'One UPDATE or DELETE over millions of rows is one transaction: it locks every row it touches until the end, grows the undo log, and reaches replicas as one huge event, so they lag for as long as it ran. Killing it halfway triggers a rollback that takes as long again.',
  bad: "UPDATE events SET archived = 1 WHERE created_at < '2024-01-01'",
  good: "UPDATE events SET archived = 1 WHERE id BETWEEN 1 AND 10000 AND created_at < '2024-01-01'",
  fix: 'Run it in batches by primary key range (e.g. 1000-10000 rows per statement, committing each), or with pt-archiver for deletes.',
  check(context) {
    const statement = updateOrDelete(context)
    if (!statement || !context.schema) return []
    const info = context.schema.table(statement.table.name, statement.table.schema)
    const rows = info?.stats?.rows
    if (!info || rows === undefined || rows <= context.thresholds.bigTableRows) return []
    // A LIMIT is already a batch; `WHERE id = 5` or `WHERE id BETWEEN a AND b` touches few rows.
    if (hasTopLevel(statement.tokens, 'LIMIT')) return []
    const where = whereClause(statement.tokens)
    if (where && boundedByKeys(where.tokens, info)) return []
    const key = primaryKey(info)?.columns[0]
    const table = qualifiedLabel(statement.table)
    const verb = statement.kind === 'UPDATE' ? 'rewrites' : 'deletes'
    const scope = where ? `up to ${formatCount(rows)} rows` : `all ~${formatCount(rows)} rows`
    return [
      {
        at: statement.tokens[0]!,
        message: `${statement.kind} on ${table} ${verb} ${scope} in one transaction`,
        hint: key
          ? `batch it by primary key: add \`${key} BETWEEN n AND n + 9999\` (or ORDER BY ${key} LIMIT 10000) and repeat, committing each chunk`
          : 'batch it by a unique key range (e.g. 10000 rows per statement), committing each chunk',
      },
    ]
  },
}

const multiTable: Rule = {
  id: 'dml-multi-table',
  family: 'dml',
  level: 'notice',
  kinds: ['UPDATE', 'DELETE', 'WITH'],
  summary: 'Multi-table UPDATE/DELETE (JOIN or table list)',
  rationale:
    'A multi-table UPDATE or DELETE cannot take ORDER BY or LIMIT, so it cannot be batched, and it locks matching rows in every joined table. When the join matches several rows per target row, which value wins is undefined, and the statement is unsafe for statement-based replication.',
  bad: 'UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.region = c.region',
  good: 'UPDATE orders SET region = (SELECT c.region FROM customers c WHERE c.id = orders.customer_id) WHERE id BETWEEN 1 AND 10000',
  fix: 'Check the join matches at most one row per target row, and run it in key-range batches on big tables.',
  check(context) {
    const statement = updateOrDelete(context)
    if (!statement) return []
    const tables = tableReferences(statement.tokens, {nested: false})
    const names = [...new Set(tables.map(qualifiedLabel))]
    if (names.length < 2) return []
    return [{at: statement.tokens[0]!, message: `multi-table ${statement.kind} of ${names[0]} with ${names.slice(1).join(', ')}`}]
  },
}

const replaceInto: Rule = {
  id: 'dml-replace-into',
  family: 'dml',
  level: 'notice',
  kinds: ['REPLACE', 'WITH'],
  summary: 'REPLACE deletes the conflicting row and inserts a new one',
  rationale:
    'On a duplicate key REPLACE does not update the row: it deletes it and inserts a new one. That fires DELETE triggers, cascades foreign keys ON DELETE to child rows, resets columns not listed to their defaults, and burns auto-increment values.',
  bad: "REPLACE INTO settings (name, value) VALUES ('theme', 'dark')",
  good: "INSERT INTO settings (name, value) VALUES ('theme', 'dark') ON DUPLICATE KEY UPDATE value = VALUES(value)",
  fix: 'Use INSERT ... ON DUPLICATE KEY UPDATE to update the existing row in place.',
  check(context) {
    const {tokens, kind} = mainStatement(context.statement.tokens)
    if (kind !== 'REPLACE') return []
    const table = targetTable(tokens)
    return table ? [{at: tokens[0]!, message: `REPLACE INTO ${qualifiedLabel(table)} deletes and re-inserts rows that hit a unique key (triggers, ON DELETE cascades, new auto-increment values)`}] : []
  },
}

const loadData: Rule = {
  id: 'dml-load-data',
  family: 'dml',
  level: 'notice',
  kinds: ['LOAD', 'WITH'],
  summary: 'LOAD DATA / LOAD XML in a migration',
  rationale:
    'LOAD DATA reads a file that must exist, with the same content, wherever the script runs; LOCAL also needs local_infile enabled on both client and server, which is a data-exfiltration risk. The whole file is one transaction, and IGNORE/REPLACE or column mismatches silently drop or truncate rows.',
  bad: "LOAD DATA LOCAL INFILE '/tmp/prices.csv' INTO TABLE prices FIELDS TERMINATED BY ','",
  good: "INSERT INTO prices (sku, amount) VALUES ('A-1', 9.90), ('A-2', 12.50)",
  fix: 'Load big files with a dedicated, batched import job; keep migrations to plain SQL that carries its data.',
  check(context) {
    const {tokens, kind} = mainStatement(context.statement.tokens)
    if (kind !== 'LOAD' || !isWord(tokens[1], 'DATA', 'XML')) return []
    const into = findWords(tokens, ['INTO', 'TABLE'])
    const table = into >= 0 ? readQualifiedName(tokens, into + 2) : undefined
    const localAt = findWords(tokens, ['LOCAL'])
    const local = localAt >= 0 && (into < 0 || localAt < into)
    return [{at: tokens[0]!, message: `LOAD ${tokens[1]!.value}${local ? ' LOCAL' : ''} INFILE into ${table ? qualifiedLabel(table) : 'a table'}: the file, its encoding and local_infile must be right wherever this runs`}]
  },
}

export const rules: Rule[] = [
  updateWithoutWhere,
  deleteWithoutWhere,
  alwaysTrueWhere,
  updateSetAnd,
  limitWithoutOrderBy,
  insertWithoutColumns,
  insertSelectStar,
  insertTooManyRows,
  mixedDdlDml,
  largeBackfill,
  multiTable,
  replaceInto,
  loadData,
]
