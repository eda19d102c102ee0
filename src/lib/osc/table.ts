import {usageError} from '../core/errors.ts'
import {closestMatch} from '../core/text.ts'
import type {MysqlSession} from '../connect/drivers/mysql.ts'
import {qualified} from './sql.ts'

export interface ColumnInfo {
  name: string
  /** COLUMN_TYPE as the server prints it, e.g. `bigint(20) unsigned`. */
  type: string
  nullable: boolean
  hasDefault: boolean
  /** Generated columns are computed by the server and are never copied. */
  generated: boolean
  autoIncrement: boolean
}

export interface TableFacts {
  database: string
  table: string
  engine: string
  columns: ColumnInfo[]
  /** The key rows are copied and matched by: the primary key, else a unique key on NOT NULL columns. */
  key: {name: string; columns: string[]} | undefined
  uniqueKeys: Array<{name: string; columns: string[]}>
  triggers: string[]
  foreignKeys: Array<{name: string; table: string; referenced: string}>
  rows: number
  dataBytes: number
  indexBytes: number
  createStatement: string
}

/** What the server knows of DB.T, read from information_schema; a missing table is a usage error naming the close ones. */
export async function readTable(session: MysqlSession, database: string, table: string): Promise<TableFacts> {
  const [found] = await session.query<{ENGINE: string | null; TABLE_ROWS: string | number | null; DATA_LENGTH: string | number | null; INDEX_LENGTH: string | number | null; TABLE_TYPE: string}>(
    'SELECT ENGINE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [database, table],
  )
  if (!found || found.TABLE_TYPE !== 'BASE TABLE') {
    const others = (await session.query<{name: string}>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = ?', [database, 'BASE TABLE'])).map((row) => row.name)
    const near = closestMatch(table, others)
    throw usageError('TABLE_NOT_FOUND', found ? `${database}.${table} is a ${found.TABLE_TYPE.toLowerCase()}, not a table` : `there is no table ${database}.${table}`, {
      hint: near ? `did you mean ${database}.${near}?` : others.length === 0 ? `database ${database} has no tables (or does not exist)` : 'check the database and table name (--table DB.TABLE)',
    })
  }
  const columns = (
    await session.query<{COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string; COLUMN_DEFAULT: string | null; EXTRA: string}>(
      'SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [database, table],
    )
  ).map((c) => ({
    name: c.COLUMN_NAME,
    type: c.COLUMN_TYPE,
    nullable: c.IS_NULLABLE === 'YES',
    // MariaDB reports a nullable column without a default as the text NULL: it has one, NULL.
    hasDefault: c.COLUMN_DEFAULT !== null || c.IS_NULLABLE === 'YES' || /auto_increment/i.test(c.EXTRA),
    generated: /GENERATED|VIRTUAL|PERSISTENT|STORED/i.test(c.EXTRA),
    autoIncrement: /auto_increment/i.test(c.EXTRA),
  }))
  const indexRows = await session.query<{INDEX_NAME: string; COLUMN_NAME: string; NON_UNIQUE: string | number; SUB_PART: string | number | null}>(
    'SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SUB_PART FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [database, table],
  )
  const indexes = new Map<string, {columns: string[]; unique: boolean; prefix: boolean}>()
  for (const row of indexRows) {
    const index = indexes.get(row.INDEX_NAME) ?? {columns: [], unique: Number(row.NON_UNIQUE) === 0, prefix: false}
    index.columns.push(row.COLUMN_NAME)
    if (row.SUB_PART !== null) index.prefix = true
    indexes.set(row.INDEX_NAME, index)
  }
  const notNull = (name: string) => columns.find((c) => c.name === name)?.nullable === false
  const uniqueKeys = [...indexes].filter(([, index]) => index.unique && !index.prefix).map(([name, index]) => ({name, columns: index.columns}))
  const primary = uniqueKeys.find((k) => k.name === 'PRIMARY')
  const key = primary ?? uniqueKeys.find((k) => k.columns.every(notNull))
  const triggers = (await session.query<{TRIGGER_NAME: string}>('SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? AND EVENT_OBJECT_TABLE = ?', [database, table])).map((row) => row.TRIGGER_NAME)
  const foreignKeys = (
    await session.query<{CONSTRAINT_NAME: string; TABLE_NAME: string; REFERENCED_TABLE_NAME: string}>(
      'SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE (CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?) OR (UNIQUE_CONSTRAINT_SCHEMA = ? AND REFERENCED_TABLE_NAME = ?)',
      [database, table, database, table],
    )
  ).map((row) => ({name: row.CONSTRAINT_NAME, table: row.TABLE_NAME, referenced: row.REFERENCED_TABLE_NAME}))
  const [create] = await session.query<Record<string, string>>(`SHOW CREATE TABLE ${qualified(database, table)}`)
  return {
    database,
    table,
    engine: found.ENGINE ?? '',
    columns,
    key: key ? {name: key.name, columns: key.columns} : undefined,
    uniqueKeys,
    triggers,
    foreignKeys,
    rows: Number(found.TABLE_ROWS ?? 0),
    dataBytes: Number(found.DATA_LENGTH ?? 0),
    indexBytes: Number(found.INDEX_LENGTH ?? 0),
    createStatement: create?.['Create Table'] ?? '',
  }
}

/** `DB.TABLE` as given to --table; backticks allowed around either part. */
export function parseTableName(text: string): {database: string; table: string} {
  const match = /^`?([^`.\s]+)`?\.`?([^`.\s]+)`?$/.exec(text.trim())
  if (!match) throw usageError('TABLE_NAME_INVALID', `--table ${text}: name the table as DATABASE.TABLE`, {hint: 'e.g. --table shop.orders'})
  return {database: match[1]!, table: match[2]!}
}
