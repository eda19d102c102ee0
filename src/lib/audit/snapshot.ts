import {readFile} from 'node:fs/promises'
import {usageError} from '../core/errors.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {MysqlSession} from '../connect/drivers/mysql.ts'
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
    // `audit snapshot` has --database and checks for it first; `audit` has only the URL's path.
    if (!schema) throw usageError('SNAPSHOT_NO_DATABASE', 'no database to read the schema of', {hint: 'name it in the URL\'s path, as in mysql://user@host:3306/DB (or in the profile\'s URL)'})
    await assertDatabaseExists(session, schema, target.label)
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

/** Databases every server has; never the one a person meant to snapshot. */
const SYSTEM_SCHEMAS = ['information_schema', 'mysql', 'performance_schema', 'sys']
const LISTED_DATABASES = 20

/**
 * A database that does not exist has no tables either: without this check its snapshot would be
 * an empty, valid-looking file, and every schema-aware rule would silently pass.
 */
async function assertDatabaseExists(session: MysqlSession, schema: string, label: string): Promise<void> {
  const found = await session.query<{name: string}>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [schema])
  if (found.length > 0) return
  const existing = (await session.query<{name: string}>(`SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(', ')}) ORDER BY SCHEMA_NAME`, SYSTEM_SCHEMAS)).map((row) => row.name)
  const shown = existing.slice(0, LISTED_DATABASES).join(', ') + (existing.length > LISTED_DATABASES ? `, and ${existing.length - LISTED_DATABASES} more` : '')
  throw usageError('SNAPSHOT_NO_SUCH_DATABASE', `database ${schema} does not exist on ${label}`, {
    hint: existing.length > 0 ? `databases this user can see there: ${shown}` : 'this user can see no databases there besides the system ones; check the name and the user\'s grants',
    data: {database: schema, existing},
  })
}

const MAKE_SNAPSHOT = 'make one with `dbakit audit snapshot --profile NAME --out FILE`'

/**
 * Reads and checks a snapshot file. Every way it can be wrong (missing, a directory, not JSON, a
 * table without columns) is an input error naming the file and the bad place in it, never a crash
 * in a rule that trusted it.
 */
export async function loadSnapshot(path: string): Promise<SchemaSnapshot> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message
    throw usageError('SNAPSHOT_UNREADABLE', `cannot read schema snapshot ${path}: ${why}`, {hint: code === 'EACCES' ? 'check the file\'s permissions' : MAKE_SNAPSHOT})
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw usageError('SNAPSHOT_INVALID', `schema snapshot ${path} is not JSON: ${(error as Error).message.split('\n')[0]}`, {hint: MAKE_SNAPSHOT})
  }
  const problem = snapshotProblem(parsed)
  if (problem) throw usageError('SNAPSHOT_INVALID', `schema snapshot ${path}: ${problem}`, {hint: `${MAKE_SNAPSHOT}; a hand-edited snapshot needs every field \`dbakit audit snapshot\` writes`})
  return parsed as SchemaSnapshot
}

/** What is wrong with a parsed snapshot, as "PATH: problem", or undefined when it is well formed. */
export function snapshotProblem(value: unknown): string | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0
  if (!isObject(value) || value.format !== 'dbakit-schema-snapshot') return 'not a dbakit schema snapshot (no "format": "dbakit-schema-snapshot")'
  if (value.version !== 1) return `version: ${JSON.stringify(value.version)} is not a snapshot version this dbakit reads (1)`
  if (!isObject(value.server)) return 'server: missing (it must hold flavor and version)'
  if (value.server.flavor !== 'mysql' && value.server.flavor !== 'mariadb') return 'server.flavor: must be mysql or mariadb'
  if (typeof value.server.version !== 'string' || !/^\d+\.\d+/.test(value.server.version)) return 'server.version: must be a version like 8.0.36'
  if (typeof value.database !== 'string' || value.database === '') return 'database: must be the database name'
  if (!Array.isArray(value.tables)) return 'tables: must be a list'
  for (const [t, table] of value.tables.entries()) {
    const at = `tables[${t}]`
    if (!isObject(table)) return `${at}: must be an object`
    if (typeof table.name !== 'string' || table.name === '') return `${at}.name: must be the table name`
    if (table.engine !== undefined && typeof table.engine !== 'string') return `${at}.engine: must be a string`
    if (!Array.isArray(table.columns)) return `${at}.columns: must be a list (table ${table.name})`
    for (const [c, column] of table.columns.entries()) {
      const here = `${at}.columns[${c}]`
      if (!isObject(column) || typeof column.name !== 'string') return `${here}.name: must be the column name`
      if (typeof column.type !== 'string') return `${here}.type: must be the column type, e.g. "int(11)"`
      if (typeof column.nullable !== 'boolean') return `${here}.nullable: must be true or false`
      if (column.default !== undefined && column.default !== null && typeof column.default !== 'string') return `${here}.default: must be a string or null`
    }
    if (!Array.isArray(table.indexes)) return `${at}.indexes: must be a list (table ${table.name})`
    for (const [i, index] of table.indexes.entries()) {
      const here = `${at}.indexes[${i}]`
      if (!isObject(index) || typeof index.name !== 'string') return `${here}.name: must be the index name`
      if (!Array.isArray(index.columns) || index.columns.length === 0 || index.columns.some((column) => typeof column !== 'string')) return `${here}.columns: must list the indexed column names`
      if (typeof index.unique !== 'boolean') return `${here}.unique: must be true or false`
      if (index.cardinality !== undefined && !isCount(index.cardinality)) return `${here}.cardinality: must be a number`
    }
    if (table.stats !== undefined) {
      if (!isObject(table.stats)) return `${at}.stats: must be an object`
      for (const key of ['rows', 'dataBytes', 'indexBytes'] as const) {
        if (table.stats[key] !== undefined && !isCount(table.stats[key])) return `${at}.stats.${key}: must be a number`
      }
    }
  }
  return undefined
}

/** Table lookups by name, case-insensitively as MySQL does on most platforms. */
export function schemaView(snapshot: SchemaSnapshot): SchemaView {
  const tables = new Map(snapshot.tables.map((table) => [table.name.toLowerCase(), table]))
  return {
    table: (name, schema) => (schema && schema.toLowerCase() !== snapshot.database.toLowerCase() ? undefined : tables.get(name.toLowerCase())),
  }
}
