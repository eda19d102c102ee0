import {formatCount} from '../../core/text.ts'
import {
  bytesPerChar,
  canonicalCharset,
  clauseDefinitions,
  enumChange,
  parseColumnType,
  readDropTable,
  readRenameTable,
  readTableChanges,
  readTruncate,
  tokensText,
  typeChangeLoss,
  type AlterClause,
  type ColumnDefinition,
  type TableChange,
} from '../../sql/ddl.ts'
import {isWord} from '../../sql/lexer.ts'
import {readQualifiedName, type QualifiedName} from '../../sql/tokens.ts'
import type {Rule, RuleContext, RuleHit, TableInfo} from '../types.ts'
import {observing, tableIsNew} from './locking.ts'
import {qualifiedLabel} from '../../sql/tokens.ts'

/*
 * Destructive rules: statements that delete data or break code still running against the old
 * schema. Changes to tables created earlier in the same file are exempt: nothing uses them yet.
 */


function tableInfo(context: RuleContext, table: QualifiedName): TableInfo | undefined {
  return context.schema?.table(table.name, table.schema)
}

/** " (35,000,000 rows)" when the schema knows the row count. */
function rowsText(context: RuleContext, table: QualifiedName): string {
  const rows = tableInfo(context, table)?.stats?.rows
  return rows === undefined ? '' : ` (${formatCount(rows)} rows)`
}

/** ALTER TABLE statements on tables that existed before this file, with their clauses. */
function existingTableAlters(context: RuleContext): TableChange[] {
  return readTableChanges(context.statement.tokens).filter((change) => change.statement === 'ALTER TABLE' && !tableIsNew(context, change.table))
}

function eachClause(context: RuleContext, kinds: AlterClause['kind'][], report: (clause: AlterClause, change: TableChange) => RuleHit | undefined): RuleHit[] {
  const hits: RuleHit[] = []
  for (const change of existingTableAlters(context)) {
    for (const clause of change.clauses) {
      if (!kinds.includes(clause.kind)) continue
      const hit = report(clause, change)
      if (hit) hits.push(hit)
    }
  }
  return hits
}

/** The column's current definition from the schema, for MODIFY/CHANGE. */
function currentColumn(context: RuleContext, change: TableChange, clause: AlterClause) {
  const column = tableInfo(context, change.table)?.columns.find((c) => c.name.toLowerCase() === (clause.column ?? '').toLowerCase())
  const type = column ? parseColumnType(column.type) : undefined
  return column && type ? {column, type} : undefined
}

const EXPAND_CONTRACT =
  'expand/contract: deploy code that stops reading and writing it first, and change the schema in a later release'

const dropTable: Rule = {
  id: 'destructive-drop-table',
  family: 'destructive',
  level: 'error',
  kinds: ['DROP'],
  summary: 'DROP TABLE deletes a table and all its rows',
  rationale:
    'A dropped table is gone: getting it back means restoring a backup and replaying binary logs up to the moment before the drop, and everything written since is at risk. On large InnoDB tables the drop itself can also stall the server while the buffer pool and the file are cleaned up.',
  bad: 'DROP TABLE orders',
  good: 'RENAME TABLE orders TO orders_retired_20240101',
  fix: 'Rename the table aside (RENAME TABLE t TO t_retired_DATE) and drop it after a retention period, once a backup is verified.',
  check(context) {
    const drop = readDropTable(context.statement.tokens)
    if (!drop || drop.temporary) return []
    const hits: RuleHit[] = []
    for (const table of drop.tables) {
      if (tableIsNew(context, table)) continue
      hits.push({at: table.at, message: `DROP TABLE deletes ${qualifiedLabel(table)} and all its rows${rowsText(context, table)}`})
    }
    return hits
  },
}

const dropDatabase: Rule = {
  id: 'destructive-drop-database',
  family: 'destructive',
  level: 'error',
  kinds: ['DROP'],
  summary: 'DROP DATABASE / DROP SCHEMA deletes every table, view and routine in the schema',
  rationale:
    'DROP DATABASE removes everything the schema holds in one statement that cannot be rolled back. It has no place in a migration: a typo in the name or a script run against the wrong server wipes out a whole application.',
  bad: 'DROP DATABASE shop',
  good: 'DROP TABLE IF EXISTS shop_tmp.import_batch',
  fix: 'Remove the statement; retire a schema by hand, after a verified backup.',
  check(context) {
    const tokens = context.statement.tokens
    if (!isWord(tokens[0], 'DROP') || !isWord(tokens[1], 'DATABASE', 'SCHEMA')) return []
    const nameIndex = isWord(tokens[2], 'IF') && isWord(tokens[3], 'EXISTS') ? 4 : 2
    const name = readQualifiedName(tokens, nameIndex)
    if (!name) return []
    return [{at: tokens[0], message: `DROP ${tokens[1]!.value} deletes schema ${name.name} with every table, view and routine in it`}]
  },
}

const truncate: Rule = {
  id: 'destructive-truncate',
  family: 'destructive',
  level: 'error',
  kinds: ['TRUNCATE'],
  summary: 'TRUNCATE TABLE deletes every row, without a WHERE and without rollback',
  rationale:
    'TRUNCATE drops and recreates the table: all rows go at once, it commits implicitly so it cannot be rolled back, and it does not fire DELETE triggers. Run against the wrong table or server, the data only comes back from a backup.',
  bad: 'TRUNCATE TABLE orders',
  good: "DELETE FROM orders WHERE created_at < '2020-01-01' LIMIT 10000",
  fix: 'Delete only the rows meant to go, in batches; if the table really must be emptied, take a backup and rename it aside first.',
  check(context) {
    const table = readTruncate(context.statement.tokens)
    if (!table || tableIsNew(context, table)) return []
    return [{at: context.statement.tokens[0], message: `TRUNCATE deletes every row of ${qualifiedLabel(table)}${rowsText(context, table)}, and cannot be rolled back`}]
  },
}

const renameTable: Rule = {
  id: 'destructive-rename-table',
  family: 'destructive',
  level: 'warning',
  kinds: ['RENAME', 'ALTER'],
  summary: 'Renaming a table breaks every query, view and deployed code that uses the old name',
  rationale:
    'A table rename is instant, and so is the breakage: code already deployed, views, triggers, routines and reports still use the old name and fail from that moment. The atomic swap RENAME TABLE t TO t_old, t_new TO t keeps the name and is not reported.',
  bad: 'RENAME TABLE customers TO clients',
  good: 'RENAME TABLE customers TO customers_old, customers_new TO customers',
  fix: 'Use expand/contract: create the new name (or a view), move the code over, and retire the old name in a later release.',
  check(context) {
    const tokens = context.statement.tokens
    const pairs = readRenameTable(tokens).map((pair) => ({...pair, at: pair.from.at}))
    for (const change of existingTableAlters(context)) {
      for (const clause of change.clauses) {
        if (clause.kind !== 'rename-table' || !clause.newName) continue
        const to = readQualifiedName(clause.tokens, isWord(clause.tokens[1], 'TO', 'AS') ? 2 : 1)
        if (to) pairs.push({from: change.table, to, at: clause.at})
      }
    }
    // A name that is both renamed away and renamed to is a swap (t -> t_old, t_new -> t): the
    // table code uses keeps its name, so nothing breaks.
    const targets = new Set(pairs.map((p) => p.to.name.toLowerCase()))
    if (pairs.some((p) => targets.has(p.from.name.toLowerCase()))) return []
    return pairs
      .filter((p) => !tableIsNew(context, p.from))
      .map((p) => ({at: p.at, message: `renaming ${qualifiedLabel(p.from)} to ${qualifiedLabel(p.to)} breaks every query, view and deployed code that still uses ${p.from.name}`}))
  },
}

const dropColumn: Rule = {
  id: 'destructive-drop-column',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'DROP COLUMN deletes the column\'s data and breaks code that still uses it',
  rationale:
    'The column\'s values are gone for good, and any deployed code that still selects or inserts it fails at once, including the previous release during a rolling deploy or a rollback. ORMs that list every column in INSERTs break even if the column looked unused.',
  bad: 'ALTER TABLE users DROP COLUMN legacy_flags',
  good: 'ALTER TABLE users ADD COLUMN flags INT UNSIGNED NOT NULL DEFAULT 0',
  fix: `Use ${EXPAND_CONTRACT}; keep a backup of the column's data if it may be needed.`,
  check(context) {
    return eachClause(context, ['drop-column'], (clause, change) => ({
      at: clause.at,
      message: `dropping column ${qualifiedLabel(change.table)}.${clause.column} deletes its data and breaks any code that still reads or writes it`,
    }))
  },
}

const renameColumn: Rule = {
  id: 'destructive-rename-column',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'Renaming a column (RENAME COLUMN, CHANGE old new) breaks code that uses the old name',
  rationale:
    'A rename takes effect the moment the ALTER ends, but deployed code, views, triggers and the previous release during a rollout still use the old name and fail. There is no moment when both the old and the new code work unless the change is split.',
  bad: 'ALTER TABLE users RENAME COLUMN fullname TO full_name',
  good: 'ALTER TABLE users ADD COLUMN full_name VARCHAR(200) NULL',
  fix: 'Use expand/contract: add the new column, write both and backfill, move reads over, then drop the old column in a later release.',
  check(context) {
    return eachClause(context, ['rename-column', 'change-column'], (clause, change) => {
      const newName = clause.newName ?? ''
      if (!clause.column || clause.column.toLowerCase() === newName.toLowerCase()) return undefined
      return {
        at: clause.columnAt ?? clause.at,
        message: `renaming column ${qualifiedLabel(change.table)}.${clause.column} to ${newName} breaks every query and deployed code that still uses ${clause.column}`,
      }
    })
  },
}

const narrowingType: Rule = {
  id: 'destructive-narrowing-type-change',
  family: 'destructive',
  level: 'error',
  needsSchema: true,
  kinds: ['ALTER'],
  summary: 'MODIFY/CHANGE to a type that cannot hold every current value (BIGINT -> INT, VARCHAR(255) -> VARCHAR(50), fewer decimals...)',
  rationale:
    'When the new type is narrower, existing values that do not fit are truncated or rounded without notice when sql_mode is not strict, and make the ALTER fail halfway through the copy when it is. Either way the outcome depends on the data, which a review of the migration alone does not show.',
  bad: 'ALTER TABLE orders MODIFY amount DECIMAL(10,0) NOT NULL',
  good: 'ALTER TABLE orders MODIFY amount DECIMAL(14,2) NOT NULL',
  fix: 'Check the data first (SELECT MAX(LENGTH(col)), MIN/MAX(col)...), widen instead, or migrate through a new column with explicit conversion.',
  check(context) {
    return eachClause(context, ['modify-column', 'change-column'], (clause, change) => {
      const current = currentColumn(context, change, clause)
      const definition = clause.definition
      if (!current || !definition) return undefined
      const loss = typeChangeLoss(current.type, definition.type)
      if (!loss) return undefined
      return {at: definition.typeAt, message: `changing ${qualifiedLabel(change.table)}.${clause.column} from ${current.type.text} to ${definition.type.text} can lose data: ${loss}`}
    })
  },
}

const notNullWithoutDefault: Rule = {
  id: 'destructive-not-null-without-default',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'ADD COLUMN ... NOT NULL without a DEFAULT on an existing table',
  rationale:
    'Existing rows get the type\'s implicit default (0, an empty string or a zero date), which is rarely a meaningful value. In strict mode, every INSERT from code that does not know the new column fails with "Field doesn\'t have a default value", including the release deployed right now.',
  bad: 'ALTER TABLE users ADD COLUMN tier VARCHAR(20) NOT NULL',
  good: "ALTER TABLE users ADD COLUMN tier VARCHAR(20) NOT NULL DEFAULT 'free'",
  fix: 'Give the column a DEFAULT, or add it as NULL, backfill, and make it NOT NULL once every writer sets it.',
  check(context) {
    const hits: RuleHit[] = []
    for (const change of existingTableAlters(context)) {
      for (const clause of change.clauses) {
        if (clause.kind !== 'add-column') continue
        for (const definition of clauseDefinitions(clause)) {
          if (!definition.notNull || definition.default || definition.autoIncrement || definition.generated || definition.primaryKey) continue
          hits.push({
            at: definition.at,
            message: `new column ${qualifiedLabel(change.table)}.${definition.name} is NOT NULL without a DEFAULT: existing rows get an implicit ${implicitDefault(definition)}, and INSERTs that do not set it fail in strict mode`,
          })
        }
      }
    }
    return hits
  },
}

function implicitDefault(definition: ColumnDefinition): string {
  const type = definition.type
  if (type.values) return type.name === 'ENUM' ? `'${type.values[0] ?? ''}'` : "''"
  if (['DATE', 'DATETIME', 'TIMESTAMP'].includes(type.name)) return 'zero date'
  if (['CHAR', 'VARCHAR', 'BINARY', 'VARBINARY'].includes(type.name) || type.name.endsWith('TEXT') || type.name.endsWith('BLOB')) return "''"
  return '0'
}

const enumValues: Rule = {
  id: 'destructive-enum-values',
  family: 'destructive',
  level: 'error',
  needsSchema: true,
  kinds: ['ALTER'],
  summary: 'ENUM/SET redefinition that removes or reorders members',
  rationale:
    'Rows holding a removed member become the empty string (or the ALTER fails in strict mode), so data silently changes. Reordering keeps the labels but changes the stored numbers: ORDER BY, comparisons and code that uses the numeric value behave differently, and the table is copied. Appending members at the end is safe and instant.',
  bad: "ALTER TABLE orders MODIFY status ENUM('new','paid') NOT NULL",
  good: "ALTER TABLE orders MODIFY status ENUM('new','paid','shipped','refunded') NOT NULL",
  fix: 'Only append new members at the end; to retire a member, first UPDATE the rows that use it, then redefine the column.',
  check(context) {
    return eachClause(context, ['modify-column', 'change-column'], (clause, change) => {
      const current = currentColumn(context, change, clause)
      const definition = clause.definition
      if (!current || !definition) return undefined
      const members = enumChange(current.type, definition.type)
      if (!members) return undefined
      const column = `${qualifiedLabel(change.table)}.${clause.column}`
      if (members.removed.length > 0) {
        return {at: definition.typeAt, message: `redefining ${column} removes ${members.removed.map((m) => `'${m}'`).join(', ')}: rows holding ${members.removed.length === 1 ? 'it' : 'them'} become '' or make the ALTER fail`}
      }
      if (members.reordered) {
        return {at: definition.typeAt, level: 'warning', message: `redefining ${column} reorders its members: the stored numbers change, so ORDER BY and numeric comparisons on ${clause.column} change meaning`}
      }
      return undefined
    })
  },
}

const modifyLosesAttributes: Rule = {
  id: 'destructive-modify-loses-attributes',
  family: 'destructive',
  level: 'warning',
  needsSchema: true,
  kinds: ['ALTER'],
  summary: 'MODIFY/CHANGE that silently drops the column\'s NOT NULL or DEFAULT',
  rationale:
    'MODIFY and CHANGE replace the whole column definition: anything not restated is lost. Changing only the type of a NOT NULL column with a DEFAULT, and forgetting to repeat them, makes it nullable and default-less, which breaks INSERTs that relied on the default and lets NULLs in.',
  bad: 'ALTER TABLE orders MODIFY status VARCHAR(30)',
  good: "ALTER TABLE orders MODIFY status VARCHAR(30) NOT NULL DEFAULT 'new'",
  fix: 'Restate every attribute the column keeps (NOT NULL, DEFAULT, COMMENT, character set) in the MODIFY/CHANGE.',
  check(context) {
    return eachClause(context, ['modify-column', 'change-column'], (clause, change) => {
      const current = currentColumn(context, change, clause)
      const definition = clause.definition
      if (!current || !definition) return undefined
      const lost: string[] = []
      if (!current.column.nullable && definition.nullable) lost.push('NOT NULL (it becomes nullable)')
      // MariaDB's information_schema reports "no default" of a nullable column as the text NULL.
      const currentDefault = current.column.default
      const hasDefault = currentDefault !== undefined && currentDefault !== null && currentDefault.toUpperCase() !== 'NULL'
      if (hasDefault && !definition.default && !definition.autoIncrement) lost.push(`its DEFAULT ${currentDefault}`)
      if (lost.length === 0) return undefined
      return {at: definition.at, message: `${clause.kind === 'modify-column' ? 'MODIFY' : 'CHANGE'} ${qualifiedLabel(change.table)}.${clause.column} drops ${lost.join(' and ')}`}
    })
  },
}

const dropPrimaryKey: Rule = {
  id: 'destructive-drop-primary-key',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER', 'DROP'],
  summary: 'Dropping a PRIMARY KEY without adding another one',
  rationale:
    'Without a primary key, uniqueness is no longer enforced, InnoDB falls back to a hidden row id, row-based replication has to scan the whole table for every replicated row change, and online schema change tools refuse the table. It also copies the table.',
  bad: 'ALTER TABLE order_items DROP PRIMARY KEY',
  good: 'ALTER TABLE order_items DROP PRIMARY KEY, ADD PRIMARY KEY (order_id, line_no)',
  fix: 'Replace the key in the same statement (DROP PRIMARY KEY, ADD PRIMARY KEY (...)).',
  check(context) {
    const hits: RuleHit[] = []
    for (const change of readTableChanges(context.statement.tokens)) {
      if (change.statement === 'OPTIMIZE TABLE' || tableIsNew(context, change.table)) continue
      const dropped = change.clauses.find((c) => c.kind === 'drop-primary-key')
      if (!dropped || change.clauses.some((c) => c.kind === 'add-index' && c.index?.kind === 'PRIMARY')) continue
      hits.push({at: dropped.at, message: `dropping the PRIMARY KEY of ${qualifiedLabel(change.table)} without a replacement: uniqueness is lost and row-based replicas must scan the table for every row change`})
    }
    return hits
  },
}

const dropForeignKey: Rule = {
  id: 'destructive-drop-foreign-key',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'Dropping a FOREIGN KEY removes referential integrity checks',
  rationale:
    'Once the constraint is gone, orphan rows and dangling references can be written without error, and ON DELETE/UPDATE actions stop happening, which silently changes what deletes do. Re-adding it later requires a table copy to check every row.',
  bad: 'ALTER TABLE order_items DROP FOREIGN KEY fk_order_items_order',
  good: 'ALTER TABLE order_items DROP INDEX idx_unused_note',
  fix: 'Make sure the application enforces the relationship (or no longer needs it) before dropping the constraint.',
  check(context) {
    return eachClause(context, ['drop-foreign-key'], (clause, change) => ({
      at: clause.at,
      message: `dropping foreign key ${clause.name} on ${qualifiedLabel(change.table)}: references are no longer checked and its ON DELETE/UPDATE actions stop`,
    }))
  },
}

const dropIndex: Rule = {
  id: 'destructive-drop-index',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER', 'DROP'],
  summary: 'Dropping an index that queries may depend on',
  rationale:
    'Queries that used the index fall back to another index or a full table scan the moment it is gone, which can turn a millisecond query into a load problem; a UNIQUE index also stops enforcing uniqueness. Rebuilding the index afterwards takes a full table scan.',
  bad: 'DROP INDEX idx_orders_customer ON orders',
  good: 'ALTER TABLE orders DROP INDEX idx_orders_customer, ADD INDEX idx_orders_customer (customer_id, created_at)',
  fix: 'Check the index is unused (sys.schema_unused_indexes, performance_schema), make it invisible (MySQL ALTER INDEX ... INVISIBLE, MariaDB 10.6+ IGNORED) for a while, then drop it.',
  check(context) {
    const hits: RuleHit[] = []
    for (const change of readTableChanges(context.statement.tokens)) {
      if (change.statement === 'OPTIMIZE TABLE' || tableIsNew(context, change.table)) continue
      const readded = new Set(change.clauses.filter((c) => c.kind === 'add-index' && c.index?.name).map((c) => c.index!.name!.toLowerCase()))
      for (const clause of change.clauses) {
        if (clause.kind !== 'drop-index' || !clause.name || readded.has(clause.name.toLowerCase())) continue
        const existing = tableInfo(context, change.table)?.indexes.find((i) => i.name.toLowerCase() === clause.name!.toLowerCase())
        const detail = existing ? ` ${existing.unique ? 'UNIQUE ' : ''}(${existing.columns.join(', ')})` : ''
        hits.push({at: clause.at, message: `dropping index ${clause.name}${detail} on ${qualifiedLabel(change.table)}: queries that use it fall back to other indexes or full scans${existing?.unique ? ', and uniqueness is no longer enforced' : ''}`})
      }
    }
    return hits
  },
}

const dropPartition: Rule = {
  id: 'destructive-drop-partition',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'DROP PARTITION / TRUNCATE PARTITION deletes the rows stored in those partitions',
  rationale:
    'Dropping or truncating a partition deletes its rows instantly and for good, without a WHERE clause to review and without rollback. It is the right tool for data retention, which is exactly why a wrong partition name is so costly.',
  bad: 'ALTER TABLE events DROP PARTITION p2023',
  good: 'ALTER TABLE events ADD PARTITION (PARTITION p2025 VALUES LESS THAN (2026))',
  fix: 'Check which rows the partition holds (SELECT ... PARTITION (p)) and that they are archived before dropping it.',
  check(context) {
    return eachClause(context, ['partition-op'], (clause, change) => {
      if (clause.option !== 'DROP' && clause.option !== 'TRUNCATE') return undefined
      const names = tokensText(clause.tokens.slice(2))
      return {at: clause.at, message: `${clause.option} PARTITION ${names} deletes every row stored in ${names.includes(',') ? 'those partitions' : 'that partition'} of ${qualifiedLabel(change.table)}`}
    })
  },
}

/** Character sets that can store every Unicode character; converting to anything else can lose text. */
const FULL_UNICODE = new Set(['utf8mb4', 'utf16', 'utf16le', 'utf32', 'gb18030'])

const lossyCharsetConversion: Rule = {
  id: 'destructive-lossy-charset-conversion',
  family: 'destructive',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'CONVERT TO CHARACTER SET a character set that cannot store every character (latin1, utf8mb3, ascii...)',
  rationale:
    'Converting a table to a smaller character set rewrites every text value. Characters the new set cannot represent, such as emoji in utf8mb3 or anything outside Western European scripts in latin1, are replaced by "?" for good, or make the ALTER fail halfway in strict mode.',
  bad: 'ALTER TABLE comments CONVERT TO CHARACTER SET latin1',
  good: 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
  fix: 'Convert to utf8mb4; if a smaller set is required, check first that no value contains characters outside it.',
  check(context) {
    return eachClause(context, ['convert-charset'], (clause, change) => {
      const charset = clause.charset
      if (!charset || charset === 'binary' || FULL_UNICODE.has(canonicalCharset(charset))) return undefined
      const bytes = bytesPerChar(canonicalCharset(charset))
      const narrow = bytes < 4 ? ` (at most ${bytes} byte${bytes === 1 ? '' : 's'} per character)` : ''
      return {at: clause.valueAt ?? clause.at, message: `converting ${qualifiedLabel(change.table)} to ${charset}${narrow} replaces every character it cannot store with "?"`}
    })
  },
}

export const rules: Rule[] = observing([
  dropTable,
  dropDatabase,
  truncate,
  renameTable,
  dropColumn,
  renameColumn,
  narrowingType,
  notNullWithoutDefault,
  enumValues,
  modifyLosesAttributes,
  dropPrimaryKey,
  dropForeignKey,
  dropIndex,
  dropPartition,
  lossyCharsetConversion,
])
