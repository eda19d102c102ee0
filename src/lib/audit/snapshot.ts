import {readFile} from 'node:fs/promises'
import {usageError} from '../core/errors.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {SqlFlavor} from '../sql/parser.ts'
import type {SchemaView, TableInfo} from '../sql/schema.ts'

/**
 * A schema snapshot: tables, columns, indexes and size statistics of one database, taken from
 * information_schema. CI audits against the file with no production credentials; live mode takes
 * the same snapshot on the spot.
 */
export interface SchemaSnapshot {
  format: 'dbakit-schema-snapshot'
  version: 1
  takenAt: string
  server: {flavor: SqlFlavor; version: string}
  database: string
  tables: TableInfo[]
}

/** Every probe is bounded: a DBA tool must never become the slow query on a busy primary. */
const PROBE_TIMEOUT_SECONDS = 10

export async function takeSnapshot(target: ConnectionTarget, database?: string): Promise<SchemaSnapshot> {
  const {openMysql} = await import('../connect/drivers/mysql.ts')
  const session = await openMysql(target)
  try {
    const {identity} = session
    if (identity.flavor !== 'mysql' && identity.flavor !== 'mariadb') throw usageError('SNAPSHOT_ENGINE', 'schema snapshots are for MySQL and MariaDB', {hint: 'point --profile/--url at a MySQL or MariaDB server'})
    await session.query(identity.flavor === 'mariadb' ? `SET SESSION max_statement_time = ${PROBE_TIMEOUT_SECONDS}` : `SET SESSION max_execution_time = ${PROBE_TIMEOUT_SECONDS * 1000}`)
    const schema = database ?? target.url.database
    if (!schema) throw usageError('SNAPSHOT_NO_DATABASE', 'no database to read the schema of', {hint: 'put it in the URL (mysql://user@host:3306/DB) or pass --database'})
    // TABLE_ROWS and DATA_LENGTH are the server's estimates: no COUNT(*) on a big table, ever.
    const tables = await session.query<{name: string; engine: string | null; rows: string | null; data: string | null; indexBytes: string | null; collation: string | null; rowFormat: string | null}>(
      `SELECT TABLE_NAME AS name, ENGINE AS engine, TABLE_ROWS AS \`rows\`, DATA_LENGTH AS data, INDEX_LENGTH AS indexBytes, TABLE_COLLATION AS collation, ROW_FORMAT AS rowFormat
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
      [schema],
    )
    const columns = await session.query<{tableName: string; name: string; type: string; nullable: string; defaultValue: string | null; charset: string | null; collation: string | null}>(
      `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS defaultValue,
              CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [schema],
    )
    const indexes = await session.query<{tableName: string; name: string; column: string; nonUnique: string; cardinality: string | null; type: string | null}>(
      `SELECT TABLE_NAME AS tableName, INDEX_NAME AS name, COLUMN_NAME AS \`column\`, NON_UNIQUE AS nonUnique, CARDINALITY AS cardinality, INDEX_TYPE AS type
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      [schema],
    )
    const byName = new Map<string, TableInfo>()
    for (const row of tables) {
      byName.set(row.name, {
        schema,
        name: row.name,
        ...(row.engine ? {engine: row.engine} : {}),
        ...(row.collation ? {collation: row.collation.toLowerCase()} : {}),
        ...(row.rowFormat ? {rowFormat: row.rowFormat} : {}),
        columns: [],
        indexes: [],
        stats: {rows: Number(row.rows ?? 0), dataBytes: Number(row.data ?? 0), indexBytes: Number(row.indexBytes ?? 0)},
      })
    }
    for (const column of columns) {
      byName.get(column.tableName)?.columns.push({
        name: column.name,
        type: column.type,
        nullable: column.nullable === 'YES',
        default: column.defaultValue,
        ...(column.charset ? {charset: column.charset.toLowerCase()} : {}),
        ...(column.collation ? {collation: column.collation.toLowerCase()} : {}),
      })
    }
    for (const entry of indexes) {
      const table = byName.get(entry.tableName)
      if (!table) continue
      let index = table.indexes.find((i) => i.name === entry.name)
      if (!index) {
        index = {
          name: entry.name,
          columns: [],
          unique: String(entry.nonUnique) === '0',
          ...(entry.cardinality === null ? {} : {cardinality: Number(entry.cardinality)}),
          ...(entry.type ? {type: entry.type.toUpperCase()} : {}),
        }
        table.indexes.push(index)
      }
      index.columns.push(entry.column)
    }
    return {format: 'dbakit-schema-snapshot', version: 1, takenAt: new Date().toISOString(), server: {flavor: identity.flavor, version: identity.version}, database: schema, tables: [...byName.values()]}
  } finally {
    await session.close()
  }
}

export async function loadSnapshot(path: string): Promise<SchemaSnapshot> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw usageError('SNAPSHOT_UNREADABLE', `cannot read schema snapshot ${path}: ${(error as Error).message.split('\n')[0]}`, {
      hint: 'make one with `dbakit audit snapshot --profile NAME --out FILE`',
    })
  }
  const snapshot = parsed as Partial<SchemaSnapshot>
  if (snapshot.format !== 'dbakit-schema-snapshot' || snapshot.version !== 1 || !Array.isArray(snapshot.tables) || !snapshot.server) {
    throw usageError('SNAPSHOT_INVALID', `${path} is not a dbakit schema snapshot (version 1)`, {hint: 'make one with `dbakit audit snapshot --profile NAME --out FILE`'})
  }
  return snapshot as SchemaSnapshot
}

/** Table lookups by name, case-insensitively as MySQL does on most platforms. */
export function schemaView(snapshot: SchemaSnapshot): SchemaView {
  const tables = new Map(snapshot.tables.map((table) => [table.name.toLowerCase(), table]))
  return {
    table: (name, schema) => (schema && schema.toLowerCase() !== snapshot.database.toLowerCase() ? undefined : tables.get(name.toLowerCase())),
  }
}
