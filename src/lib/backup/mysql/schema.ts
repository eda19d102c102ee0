import {usageError} from '../../core/errors.ts'
import {closestMatch} from '../../core/text.ts'
import type {MysqlSession} from '../../connect/drivers/mysql.ts'
import {ident, qualified} from '../../sql/identifiers.ts'

/** Databases that belong to the server, never backed up as data. */
export const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys'])
/** Engines whose tables a consistent snapshot covers. */
const TRANSACTIONAL_ENGINES = new Set(['innodb', 'rocksdb'])

export interface ColumnDef {
  name: string
  type: string
  dataType: string
  /** Computed by the server (generated, or a system-versioning period column): recreated, not dumped. */
  generated: boolean
  autoIncrement: boolean
}

export interface TableDef {
  database: string
  name: string
  kind: 'table' | 'sequence'
  engine: string
  transactional: boolean
  columns: ColumnDef[]
  /** The primary key's columns, in key order. */
  primaryKey: string[]
  estimatedRows: number
  dataBytes: number
  systemVersioned: boolean
}

export interface Selection {
  databases?: string[]
  tables?: string[]
  exclude?: string[]
}

export interface SchemaObjects {
  databases: string[]
  tables: TableDef[]
  views: Array<{database: string; name: string}>
  routines: Array<{database: string; name: string; type: 'PROCEDURE' | 'FUNCTION'}>
  triggers: Array<{database: string; name: string; table: string}>
  events: Array<{database: string; name: string}>
}

const matches = (pattern: string, text: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(text)

/** What --databases, --tables and --exclude select, read from information_schema; an unknown name is a usage error naming the closest. */
export async function selectObjects(session: MysqlSession, selection: Selection): Promise<SchemaObjects> {
  const all = (await session.query<{name: string}>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME')).map((r) => String(r.name))
  const tableNames = (selection.tables ?? []).map((text) => splitTableName(text))
  let databases = selection.databases?.length ? selection.databases : tableNames.length > 0 ? [...new Set(tableNames.map((t) => t.database))] : all.filter((d) => !SYSTEM_DATABASES.has(d))
  for (const name of databases) {
    if (!all.includes(name)) {
      const closest = closestMatch(name, all)
      throw usageError('DATABASE_NOT_FOUND', `database ${name} does not exist on this server`, {hint: closest ? `did you mean ${closest}?` : 'see SHOW DATABASES'})
    }
  }
  const excluded = (database: string, name?: string) => (selection.exclude ?? []).some((pattern) => (pattern.includes('.') ? name !== undefined && matches(pattern, `${database}.${name}`) : matches(pattern, database)))
  databases = databases.filter((d) => !excluded(d))
  if (databases.length === 0) throw usageError('BACKUP_NOTHING_SELECTED', 'no database is left to back up', {hint: 'check --databases, --tables and --exclude'})
  const inList = databases.map(() => '?').join(', ')
  const rows = await session.query<{db: string; name: string; type: string; engine: string | null; rows: string | null; data: string | null; options: string | null}>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, TABLE_ROWS AS \`rows\`, DATA_LENGTH AS data, CREATE_OPTIONS AS options FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    databases,
  )
  const wanted = (db: string, name: string) => !excluded(db, name) && (tableNames.length === 0 || tableNames.some((t) => t.database === db && t.table === name))
  for (const t of tableNames) {
    if (!rows.some((r) => r.db === t.database && r.name === t.table)) {
      const closest = closestMatch(`${t.database}.${t.table}`, rows.map((r) => `${r.db}.${r.name}`))
      throw usageError('TABLE_NOT_FOUND', `table ${t.database}.${t.table} does not exist`, {hint: closest ? `did you mean ${closest}?` : `see SHOW TABLES FROM ${ident(t.database)}`})
    }
  }
  const columns = await session.query<{db: string; tbl: string; name: string; type: string; dataType: string; extra: string; generated: string | null; expression: string | null}>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS dataType, EXTRA AS extra, ${session.identity.flavor === 'mariadb' ? 'IS_GENERATED' : 'NULL'} AS \`generated\`, GENERATION_EXPRESSION AS expression FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (${inList}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    databases,
  )
  const keys = await session.query<{db: string; tbl: string; name: string}>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN (${inList}) AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`,
    databases,
  )
  const tables: TableDef[] = rows
    .filter((r) => (r.type === 'BASE TABLE' || r.type === 'SEQUENCE' || r.type === 'SYSTEM VERSIONED') && wanted(r.db, r.name))
    .map((r) => {
      const own = columns.filter((c) => c.db === r.db && c.tbl === r.name)
      return {
        database: r.db,
        name: r.name,
        kind: r.type === 'SEQUENCE' ? 'sequence' : 'table',
        engine: r.engine ?? '',
        transactional: TRANSACTIONAL_ENGINES.has((r.engine ?? '').toLowerCase()),
        columns: own.map((c) => ({
          name: c.name,
          type: c.type,
          dataType: c.dataType.toLowerCase(),
          generated: (c.generated !== null && c.generated !== 'NEVER') || /\bGENERATED\b|ROW (START|END)/i.test(c.extra) || (c.expression !== null && c.expression !== ''),
          autoIncrement: /auto_increment/i.test(c.extra),
        })),
        primaryKey: keys.filter((k) => k.db === r.db && k.tbl === r.name).map((k) => k.name),
        estimatedRows: Number(r.rows ?? 0),
        dataBytes: Number(r.data ?? 0),
        systemVersioned: r.type === 'SYSTEM VERSIONED',
      }
    })
  const full = tableNames.length === 0
  const views = full ? rows.filter((r) => r.type === 'VIEW' && wanted(r.db, r.name)).map((r) => ({database: r.db, name: r.name})) : []
  const routines = full
    ? (await session.query<{db: string; name: string; type: 'PROCEDURE' | 'FUNCTION'}>(`SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${inList}) AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION') ORDER BY 1, 2`, databases)).map((r) => ({database: r.db, name: r.name, type: r.type}))
    : []
  const triggers = (await session.query<{db: string; name: string; tbl: string}>(`SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${inList}) ORDER BY 1, ACTION_ORDER`, databases))
    .filter((r) => tables.some((t) => t.database === r.db && t.name === r.tbl))
    .map((r) => ({database: r.db, name: r.name, table: r.tbl}))
  const events = full ? (await session.query<{db: string; name: string}>(`SELECT EVENT_SCHEMA AS db, EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${inList}) ORDER BY 1, 2`, databases)).map((r) => ({database: r.db, name: r.name})) : []
  return {databases, tables, views, routines, triggers, events}
}

export function splitTableName(text: string): {database: string; table: string} {
  const match = /^`?([^`.]+)`?\.`?([^`]+)`?$/.exec(text.trim())
  if (!match) throw usageError('TABLE_NAME_INVALID', `${text}: name a table as DATABASE.TABLE`)
  return {database: match[1]!, table: match[2]!}
}

/**
 * The statements that recreate every selected object, as SHOW CREATE prints them; views, routines,
 * triggers and events with the sql_mode they were created under, which decides how their bodies parse.
 */
export interface Definition {
  database: string
  name: string
  sql: string
  sqlMode?: string
  /** A trigger's table. */
  table?: string
}

export interface Definitions {
  databases: Array<{name: string; sql: string}>
  tables: Definition[]
  views: Definition[]
  routines: Definition[]
  triggers: Definition[]
  events: Definition[]
  users: Array<{user: string; statements: string[]}>
}

async function showCreate(session: MysqlSession, what: string, name: string, column: string): Promise<{sql: string; sqlMode?: string}> {
  const [row] = await session.query<Record<string, string>>(`SHOW CREATE ${what} ${name}`)
  const sql = row?.[column]
  if (typeof sql !== 'string') throw usageError('DEFINITION_UNREADABLE', `SHOW CREATE ${what} ${name} returned no definition: the account may lack the privilege to see it`, {hint: 'grant SELECT and SHOW VIEW on the database (and SHOW CREATE ROUTINE, or SELECT on mysql.proc, for routines)'})
  return {sql, ...(typeof row?.sql_mode === 'string' ? {sqlMode: row.sql_mode} : {})}
}

export async function readDefinitions(session: MysqlSession, objects: SchemaObjects, options: {includeUsers: boolean}): Promise<Definitions> {
  const definitions: Definitions = {databases: [], tables: [], views: [], routines: [], triggers: [], events: [], users: []}
  for (const name of objects.databases) definitions.databases.push({name, sql: (await showCreate(session, 'DATABASE', ident(name), 'Create Database')).sql})
  for (const t of objects.tables) definitions.tables.push({database: t.database, name: t.name, ...(await showCreate(session, t.kind === 'sequence' ? 'SEQUENCE' : 'TABLE', qualified(t.database, t.name), 'Create Table'))})
  for (const v of objects.views) definitions.views.push({...v, ...(await showCreate(session, 'VIEW', qualified(v.database, v.name), 'Create View'))})
  for (const r of objects.routines) definitions.routines.push({database: r.database, name: r.name, ...(await showCreate(session, r.type, qualified(r.database, r.name), r.type === 'PROCEDURE' ? 'Create Procedure' : 'Create Function'))})
  for (const t of objects.triggers) definitions.triggers.push({database: t.database, name: t.name, table: t.table, ...(await showCreate(session, 'TRIGGER', qualified(t.database, t.name), 'SQL Original Statement'))})
  for (const e of objects.events) definitions.events.push({...e, ...(await showCreate(session, 'EVENT', qualified(e.database, e.name), 'Create Event'))})
  if (options.includeUsers) definitions.users = await readUsers(session)
  return definitions
}

/** Accounts the server creates for itself are left to the target server. */
const SYSTEM_USERS = new Set(['root', 'mariadb.sys', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'mysql.sys'])

async function readUsers(session: MysqlSession): Promise<Definitions['users']> {
  const accounts = await session.query<{user: string; host: string}>("SELECT User AS user, Host AS host FROM mysql.user WHERE User <> '' ORDER BY User, Host")
  const users: Definitions['users'] = []
  for (const {user, host} of accounts) {
    if (SYSTEM_USERS.has(String(user))) continue
    const [create] = await session.query<Record<string, string>>('SHOW CREATE USER ?@?', [user, host])
    const grants = await session.query<Record<string, string>>('SHOW GRANTS FOR ?@?', [user, host])
    const statements = [Object.values(create ?? {})[0]!.replace(/^CREATE USER /i, 'CREATE USER IF NOT EXISTS '), ...grants.map((g) => Object.values(g)[0]!)]
    users.push({user: `${user}@${host}`, statements})
  }
  return users
}

const SECONDARY_KEY = /^\s*(?:UNIQUE |FULLTEXT |SPATIAL |VECTOR )?KEY\s/i
const FOREIGN_KEY = /^\s*CONSTRAINT\s+`(?:[^`]|``)+`\s+FOREIGN KEY\s/i

/**
 * A CREATE TABLE without its secondary keys and foreign keys, and the ALTER that adds them after
 * the rows are in: one sorted build per index is much faster than maintaining it row by row. A key
 * that starts with the AUTO_INCREMENT column stays, because the table cannot exist without it.
 */
export function deferIndexes(createSql: string): {create: string; addIndexes: string[]} {
  const lines = createSql.split('\n')
  const autoIncrement = lines.map((line) => /^\s*`((?:[^`]|``)+)`.*\bAUTO_INCREMENT\b/.exec(line)?.[1]?.replaceAll('``', '`')).find((name) => name !== undefined)
  const kept: string[] = []
  const deferred: string[] = []
  for (const line of lines) {
    const definition = line.replace(/,$/, '')
    const keyColumns = /\(`((?:[^`]|``)+)`/.exec(definition.replace(/^[^(]*?KEY\s+`(?:[^`]|``)+`\s*/i, ''))
    const startsWithAutoIncrement = autoIncrement !== undefined && keyColumns?.[1]?.replaceAll('``', '`') === autoIncrement
    if ((SECONDARY_KEY.test(line) && !startsWithAutoIncrement) || FOREIGN_KEY.test(line)) deferred.push(definition.trim())
    else kept.push(line)
  }
  if (deferred.length === 0) return {create: createSql, addIndexes: []}
  // The line before ")" may now end in a comma it no longer needs.
  const close = kept.findIndex((line) => /^\)/.test(line))
  if (close > 0) kept[close - 1] = kept[close - 1]!.replace(/,$/, '')
  return {create: kept.join('\n'), addIndexes: deferred}
}

/** `db`. qualifiers in a view, routine, trigger or event body, pointed at the database it is restored into. */
export function renameQualifiers(sql: string, renames: Map<string, string>): string {
  let out = sql
  for (const [from, to] of renames) out = out.replaceAll(`${ident(from)}.`, `${ident(to)}.`)
  return out
}

export function isSystemDatabase(name: string): boolean {
  return SYSTEM_DATABASES.has(name.toLowerCase())
}
