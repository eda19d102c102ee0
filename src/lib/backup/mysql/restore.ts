import {randomBytes} from 'node:crypto'
import type {Readable} from 'node:stream'
import {DbakitError, ExitCode, environmentError, usageError} from '../../core/errors.ts'
import {closestMatch} from '../../core/text.ts'
import {errnoOf, openMysql, permissionFailure, type MysqlSession} from '../../connect/drivers/mysql.ts'
import type {ConnectionTarget} from '../../connect/target.ts'
import {rowsDigest} from '../../sql/checksum.ts'
import {ident, qualified} from '../../sql/identifiers.ts'
import type {BackupReader} from '../repository.ts'
import {BODY_FORMAT, SCHEMA_CHUNK, digestColumns, type BackupBody, type RowsChecksum, type TableEntry} from './dump.ts'
import {LOAD_DATA_FORMAT} from './rows.ts'
import {shareAmong, TransferProgress, type TransferEvent} from './sessions.ts'
import {deferIndexes, isSystemDatabase, renameQualifiers, splitTableName, type Definition, type Definitions} from './schema.ts'

/**
 * How restore sessions read the rows: strict, so that a value the column cannot hold is an error and
 * not a silent truncation; zero and invalid dates as the source held them; 0 in an AUTO_INCREMENT
 * column kept as 0.
 */
const LOAD_SQL_MODE = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION'
const DEFINER = /\bDEFINER\s*=\s*(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s@]+)@(?:`(?:[^`]|``)*`|'(?:[^']|'')*'|\S+)\s*/i

export interface RestoreOptions {
  target: ConnectionTarget
  reader: BackupReader
  databases?: string[]
  tables?: string[]
  /** Source database → target database. */
  renames?: Map<string, string>
  threads: number
  /** Restore into databases that already hold objects, replacing those of the same names. */
  force: boolean
  /** Write the restore to the binlog (so that replicas get it); off by default. */
  binlog: boolean
  includeUsers: boolean
  dryRun: boolean
  signal?: AbortSignal
  /** Registers what to undo if the process is stopped by a signal before the restore ends: it drops what was created. */
  onInterrupt?: (cleanup: () => Promise<void>) => void
  onProgress?: (event: TransferEvent) => void
  /** Asked before objects of the backup's names are dropped from existing databases (with `force`); false stops the restore, nothing changed. */
  confirmReplace?: (targets: RestoreTarget[]) => Promise<boolean>
}

export interface RestoreTarget {
  from: string
  to: string
  /** It exists on the target server already. */
  exists: boolean
  /** Objects of the backup's names that it holds already: replaced with --force. */
  replaces: string[]
  tables: number
}

export interface RestoreResult {
  id: string
  dryRun: boolean
  databases: RestoreTarget[]
  tables: number
  rows: number
  bytes: number
  objects: {views: number; routines: number; triggers: number; events: number; users: number}
  durationMs: number
  /** Tables whose rows the server hashed after loading, and whether each matches the manifest. */
  checksums: {checked: number; mismatched: string[]}
  warnings: string[]
}

interface Load {
  entry: TableEntry
  database: string
  chunk: string
  bytes: number
  rows: number
}

/**
 * Restores a logical MySQL backup: databases and tables first, rows in parallel with LOAD DATA
 * (secondary keys and foreign keys added after them), then sequences, routines, views, triggers and
 * events, and last the server's digest of every table compared with the manifest's. A failure drops
 * what the restore created. docs/backup-mysql.md.
 */
export async function restoreMysql(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now()
  const {manifest} = options.reader
  if (manifest.engine !== 'mysql' || manifest.body.format !== BODY_FORMAT) {
    throw usageError('BACKUP_ENGINE_MISMATCH', `${manifest.id} is a ${manifest.engine} backup, not a logical MySQL one`, {hint: 'restore it with the tool for its engine'})
  }
  const body = manifest.body as unknown as BackupBody
  const tables = selectTables(body, options)
  const renames = new Map<string, string>()
  for (const database of new Set(tables.map((t) => t.database))) renames.set(database, options.renames?.get(database) ?? database)
  for (const [from, to] of options.renames ?? []) {
    if (!renames.has(from)) throw usageError('RENAME_UNKNOWN_DATABASE', `--rename-db ${from}:${to}: ${from} is not among the databases restored`, {hint: `the backup holds ${body.databases.join(', ')}`})
  }
  for (const to of renames.values()) {
    if (isSystemDatabase(to)) throw usageError('RESTORE_INTO_SYSTEM_DATABASE', `${to} is a system database: a backup is not restored into it`, {hint: 'restore into another name with --rename-db'})
  }
  const definitions = await readSchema(options.reader)
  const wholeDatabases = !options.tables?.length
  const chosen = pickDefinitions(definitions, tables, renames, wholeDatabases)
  const target: ConnectionTarget = {...options.target, commandTimeoutMs: 0}
  const control = await openMysql(target)
  const created: {databases: string[]; tables: string[]} = {databases: [], tables: []}
  const workers: MysqlSession[] = []
  let finished = false
  if (!options.dryRun) {
    options.onInterrupt?.(async () => {
      if (finished) return
      for (const worker of workers) worker.destroy()
      await dropDatabases(target, created.databases, {tables: created.tables, binlog: options.binlog})
    })
  }
  const warnings: string[] = []
  try {
    const targets = await inspectTargets(control, renames, tables, chosen)
    const occupied = targets.filter((t) => t.replaces.length > 0)
    if (occupied.length > 0 && !options.force) {
      const first = occupied[0]!
      throw usageError('RESTORE_TARGET_NOT_EMPTY', `database ${first.to} already holds ${first.replaces.slice(0, 5).join(', ')}${first.replaces.length > 5 ? ', ...' : ''}, which the restore would replace`, {
        hint: `restore into a new database with --rename-db ${first.from}:${first.from}_restored, or pass --force to replace them`,
        data: {databases: occupied.map((t) => ({database: t.to, replaces: t.replaces}))},
      })
    }
    if (occupied.length > 0 && !options.dryRun && options.confirmReplace && !(await options.confirmReplace(occupied))) {
      throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing restored: not confirmed')
    }
    const loads = planLoads(manifest.chunks, tables, renames)
    const result = (checksums: RestoreResult['checksums']): RestoreResult => ({
      id: manifest.id,
      dryRun: options.dryRun,
      databases: targets,
      tables: tables.length,
      rows: tables.reduce((sum, t) => sum + t.rows, 0),
      bytes: loads.reduce((sum, l) => sum + l.bytes, 0),
      objects: {views: chosen.views.length, routines: chosen.routines.length, triggers: chosen.triggers.length, events: chosen.events.length, users: options.includeUsers ? definitions.users.length : 0},
      durationMs: Date.now() - started,
      checksums,
      warnings,
    })
    if (options.dryRun) return result({checked: 0, mismatched: []})
    if (options.includeUsers && !body.includesUsers) warnings.push('the backup holds no users (it was taken without --include-users)')
    await prepareSession(control, options.binlog)
    for (let i = 0; i < Math.max(1, Math.min(options.threads, loads.length)); i++) {
      const worker = await openMysql(target)
      workers.push(worker)
      await prepareSession(worker, options.binlog)
    }
    const progress = new TransferProgress({verb: 'loading', tables: tables.length, totalBytes: loads.reduce((sum, l) => sum + l.bytes, 0), listener: options.onProgress})
    for (const t of targets) {
      if (!t.exists) {
        await control.query(createDatabaseSql(definitions, t.from, t.to))
        created.databases.push(t.to)
      } else if (t.replaces.length > 0) await dropReplaced(control, t)
    }
    const deferred = new Map<TableEntry, {indexes: string[]; foreignKeys: string[]}>()
    for (const entry of tables) {
      const database = renames.get(entry.database)!
      const definition = chosen.tables.find((d) => d.database === entry.database && d.name === entry.name)
      if (!definition) throw new DbakitError(ExitCode.findings, 'BACKUP_INCOMPLETE', `${manifest.id} has rows for ${entry.database}.${entry.name} but no definition of it`, {hint: 'the backup is damaged: restore another one'})
      const {create, addIndexes} = entry.kind === 'table' ? deferIndexes(definition.sql) : {create: definition.sql, addIndexes: []}
      await control.query(`USE ${ident(database)}`)
      await control.query(create)
      if (!created.databases.includes(database)) created.tables.push(qualified(database, entry.name))
      const foreignKeys = addIndexes.filter((d) => /^CONSTRAINT\b/i.test(d)).map((d) => renameQualifiers(d, renames))
      deferred.set(entry, {indexes: addIndexes.filter((d) => !/^CONSTRAINT\b/i.test(d)), foreignKeys})
      if (entry.kind === 'sequence' && entry.sequenceNext !== undefined) {
        await control.query(`SELECT SETVAL(${qualified(database, entry.name)}, ${BigInt(entry.sequenceNext)}, 0)`)
        progress.tableDone()
      } else if (entry.chunks.length === 0) progress.tableDone()
    }
    await loadRows(loads, workers, options.reader, progress, options.signal)
    const alters = [...deferred].filter(([, d]) => d.indexes.length > 0)
    await shareAmong(workers, alters, async (worker, [entry, d]) => {
      progress.working(`indexes of ${renames.get(entry.database)}.${entry.name}`)
      await worker.query(`ALTER TABLE ${qualified(renames.get(entry.database)!, entry.name)} ${d.indexes.map((i) => `ADD ${i}`).join(', ')}`)
    })
    for (const [entry, d] of deferred) {
      if (d.foreignKeys.length > 0) await control.query(`ALTER TABLE ${qualified(renames.get(entry.database)!, entry.name)} ${d.foreignKeys.map((f) => `ADD ${f}`).join(', ')}`)
    }
    await createObjects(control, chosen, renames, warnings)
    if (options.includeUsers) await createUsers(control, definitions.users, renames, warnings)
    const checksums = await compareChecksums(workers, tables, renames)
    // Tables that do not match stay, for the DBA to look at: the caller says so.
    finished = true
    return result(checksums)
  } catch (error) {
    if (created.databases.length > 0 || created.tables.length > 0) {
      for (const worker of workers) worker.destroy()
      workers.length = 0
      await dropDatabases(target, created.databases, {tables: created.tables, binlog: options.binlog})
    }
    throw restoreFailure(error)
  } finally {
    for (const worker of workers) await worker.close().catch(() => {})
    await control.close()
  }
}

function selectTables(body: BackupBody, options: Pick<RestoreOptions, 'databases' | 'tables'>): TableEntry[] {
  let tables = body.tables
  if (options.databases?.length) {
    for (const name of options.databases) {
      if (!body.databases.includes(name)) {
        const closest = closestMatch(name, body.databases)
        throw usageError('DATABASE_NOT_IN_BACKUP', `the backup holds no database ${name}`, {hint: closest ? `did you mean ${closest}?` : `it holds ${body.databases.join(', ')}`})
      }
    }
    tables = tables.filter((t) => options.databases!.includes(t.database))
  }
  if (options.tables?.length) {
    const wanted = options.tables.map((text) => splitTableName(text))
    for (const w of wanted) {
      if (!tables.some((t) => t.database === w.database && t.name === w.table)) {
        const closest = closestMatch(`${w.database}.${w.table}`, tables.map((t) => `${t.database}.${t.name}`))
        throw usageError('TABLE_NOT_IN_BACKUP', `the backup holds no table ${w.database}.${w.table}`, {hint: closest ? `did you mean ${closest}?` : '`dbakit backup show ID --json` lists its tables'})
      }
    }
    tables = tables.filter((t) => wanted.some((w) => w.database === t.database && w.table === t.name))
  }
  if (tables.length === 0 && !options.databases?.length) throw usageError('RESTORE_NOTHING_SELECTED', 'nothing is selected to restore', {hint: 'check --databases and --tables'})
  return tables
}

async function readSchema(reader: BackupReader): Promise<Definitions> {
  const text = (await readWhole(reader.readChunk(SCHEMA_CHUNK))).toString('utf8')
  return JSON.parse(text) as Definitions
}

async function readWhole(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

type Chosen = Pick<Definitions, 'tables' | 'views' | 'routines' | 'triggers' | 'events'>

/** The definitions that go with the selected tables: all of a database's objects when whole databases are restored, else the tables and their triggers. */
function pickDefinitions(definitions: Definitions, tables: TableEntry[], renames: Map<string, string>, wholeDatabases: boolean): Chosen {
  const inDatabases = (d: Definition) => renames.has(d.database)
  const ofTables = (d: Definition) => tables.some((t) => t.database === d.database && t.name === d.name)
  const triggerOfTables = (d: Definition) => tables.some((t) => t.database === d.database && t.name === d.table)
  return {
    tables: definitions.tables.filter(ofTables),
    views: wholeDatabases ? definitions.views.filter(inDatabases) : [],
    routines: wholeDatabases ? definitions.routines.filter(inDatabases) : [],
    triggers: definitions.triggers.filter((d) => inDatabases(d) && (wholeDatabases || triggerOfTables(d))),
    events: wholeDatabases ? definitions.events.filter(inDatabases) : [],
  }
}

/** What each target database holds already of the objects the restore would create. */
async function inspectTargets(session: MysqlSession, renames: Map<string, string>, tables: TableEntry[], chosen: Chosen): Promise<RestoreTarget[]> {
  const targets: RestoreTarget[] = []
  for (const [from, to] of renames) {
    const [exists] = await session.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [to])
    const names = new Set<string>()
    if (exists) {
      for (const row of await session.query<{name: string}>('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [to])) names.add(`table ${row.name}`)
      for (const row of await session.query<{name: string}>("SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')", [to])) names.add(`routine ${row.name}`)
      for (const row of await session.query<{name: string}>('SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [to])) names.add(`event ${row.name}`)
    }
    const mine = (list: Definition[]) => list.filter((d) => d.database === from).map((d) => d.name)
    const replaces = [
      ...[...mine(chosen.tables), ...mine(chosen.views)].filter((n) => names.has(`table ${n}`)).map((n) => `table ${n}`),
      ...mine(chosen.routines).filter((n) => names.has(`routine ${n}`)).map((n) => `routine ${n}`),
      ...mine(chosen.events).filter((n) => names.has(`event ${n}`)).map((n) => `event ${n}`),
    ]
    targets.push({from, to, exists: exists !== undefined, replaces, tables: tables.filter((t) => t.database === from).length})
  }
  return targets
}

/**
 * Every session of the restore: rows as bytes, times in UTC, no per-row key checks (the keys are
 * built after), and the binlog off unless asked for, so that a restore does not flood the replicas.
 */
async function prepareSession(session: MysqlSession, binlog: boolean): Promise<void> {
  if (!binlog) {
    await session.query('SET SESSION sql_log_bin = 0').catch((error: unknown) => {
      throw permissionFailure(error, 'grant it SUPER or BINLOG ADMIN, or pass --binlog to write the restore to the binlog, and so to every replica', 'the account may not turn the binlog off for its session')
    })
  }
  for (const sql of [
    "SET SESSION time_zone = '+00:00'",
    `SET SESSION sql_mode = '${LOAD_SQL_MODE}'`,
    'SET SESSION foreign_key_checks = 0',
    'SET SESSION unique_checks = 0',
    'SET SESSION autocommit = 0',
  ])
    await session.query(sql)
}

function createDatabaseSql(definitions: Definitions, from: string, to: string): string {
  const sql = definitions.databases.find((d) => d.name === from)?.sql
  if (!sql) return `CREATE DATABASE ${ident(to)}`
  return sql.replace(/^CREATE DATABASE\s+`(?:[^`]|``)+`/i, `CREATE DATABASE ${ident(to)}`)
}

async function dropReplaced(session: MysqlSession, target: RestoreTarget): Promise<void> {
  for (const item of target.replaces) {
    const [kind, name] = [item.slice(0, item.indexOf(' ')), item.slice(item.indexOf(' ') + 1)]
    const object = qualified(target.to, name)
    if (kind === 'table') {
      // The name may be a view in one and a table in the other.
      const [row] = await session.query<{type: string}>('SELECT TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [target.to, name])
      await session.query(row?.type === 'VIEW' ? `DROP VIEW IF EXISTS ${object}` : `DROP ${row?.type === 'SEQUENCE' ? 'SEQUENCE' : 'TABLE'} IF EXISTS ${object}`)
    } else if (kind === 'routine') {
      await session.query(`DROP PROCEDURE IF EXISTS ${object}`)
      await session.query(`DROP FUNCTION IF EXISTS ${object}`)
    } else await session.query(`DROP EVENT IF EXISTS ${object}`)
  }
}

function planLoads(chunks: BackupReader['manifest']['chunks'], tables: TableEntry[], renames: Map<string, string>): Load[] {
  const byName = new Map(chunks.map((c) => [c.name, c]))
  const loads: Load[] = []
  for (const entry of tables) {
    for (const name of entry.chunks) {
      const chunk = byName.get(name)
      if (!chunk) throw new DbakitError(ExitCode.findings, 'BACKUP_INCOMPLETE', `the manifest names chunk ${name} for ${entry.database}.${entry.name} but does not list it`, {hint: 'the backup is damaged: restore another one'})
      loads.push({entry, database: renames.get(entry.database)!, chunk: name, bytes: chunk.bytes, rows: chunk.rows ?? 0})
    }
  }
  return loads.sort((a, b) => b.bytes - a.bytes)
}

/** Every chunk in one transaction of its own: a chunk that fails to decode or load is rolled back whole. */
async function loadRows(loads: Load[], workers: MysqlSession[], reader: BackupReader, progress: TransferProgress, signal?: AbortSignal): Promise<void> {
  await shareAmong(workers, loads, (worker, load) => loadChunk(worker, load, reader, progress), {group: (load) => load.entry, onGroupDone: () => progress.tableDone(), ...(signal ? {signal} : {}), interrupted: 'the restore was interrupted; what it created was dropped'})
}

async function loadChunk(worker: MysqlSession, load: Load, reader: BackupReader, progress: TransferProgress): Promise<void> {
  const {entry} = load
  progress.working(`${load.database}.${entry.name}`)
  const columns = entry.columns.map((c) => ident(c)).join(', ')
  const sql = `LOAD DATA LOCAL INFILE ? INTO TABLE ${qualified(load.database, entry.name)} ${LOAD_DATA_FORMAT} (${columns})`
  try {
    const result = await worker.loadData(sql, [load.chunk], () => {
      const stream = reader.readChunk(load.chunk)
      stream.on('data', (piece: Buffer) => progress.add(0, piece.length))
      return stream
    })
    // LOCAL turns data errors into warnings (the server cannot stop the client's file), so any warning fails the chunk.
    if (result.warningStatus > 0) {
      const warnings = await worker.query<{Message: string}>('SHOW WARNINGS LIMIT 3')
      throw new DbakitError(ExitCode.findings, 'RESTORE_ROWS_REJECTED', `the server did not take chunk ${load.chunk} as it is: ${warnings.map((w) => w.Message).join('; ')}`, {hint: 'the target server may differ from the source (version, sql_mode, character sets): restore into the same version, and report this if it is'})
    }
    if (result.affectedRows !== load.rows) {
      throw new DbakitError(ExitCode.findings, 'RESTORE_ROWS_REJECTED', `chunk ${load.chunk} holds ${load.rows} rows and the server loaded ${result.affectedRows}`, {hint: 'a unique key may have rejected rows as duplicates: restore into an empty table'})
    }
    await worker.query('COMMIT')
    progress.add(result.affectedRows, 0)
  } catch (error) {
    await worker.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** Routines, then views in an order that creates each after what it reads, then triggers and events; each under the sql_mode it was created with. */
async function createObjects(session: MysqlSession, chosen: Chosen, renames: Map<string, string>, warnings: string[]): Promise<void> {
  const run = async (definition: Definition) => {
    await session.query(`USE ${ident(renames.get(definition.database)!)}`)
    await session.query('SET SESSION sql_mode = ?', [definition.sqlMode ?? ''])
    const sql = renameQualifiers(definition.sql, renames)
    try {
      await session.query(sql)
    } catch (error) {
      // Creating an object for another DEFINER needs SET USER (or SUPER); the restore keeps it, under the restoring account.
      if (errnoOf(error) !== 1227 || !DEFINER.test(sql)) throw error
      await session.query(sql.replace(DEFINER, ''))
      warnings.push(`${definition.database}.${definition.name}: created with the restoring account as its definer (the account may not name another)`)
    }
  }
  try {
    for (const routine of chosen.routines) await run(routine)
    let pending = [...chosen.views]
    while (pending.length > 0) {
      const failed: Array<{view: Definition; error: unknown}> = []
      for (const view of pending) {
        try {
          await run(view)
        } catch (error) {
          if (errnoOf(error) !== 1146) throw error
          failed.push({view, error})
        }
      }
      if (failed.length === pending.length) throw failed[0]!.error
      pending = failed.map((f) => f.view)
    }
    for (const trigger of chosen.triggers) await run(trigger)
    for (const event of chosen.events) await run(event)
  } finally {
    await session.query(`SET SESSION sql_mode = '${LOAD_SQL_MODE}'`)
  }
}

async function createUsers(session: MysqlSession, users: Definitions['users'], renames: Map<string, string>, warnings: string[]): Promise<void> {
  for (const user of users) {
    for (const statement of user.statements) {
      try {
        await session.query(renameQualifiers(statement, renames))
      } catch (error) {
        warnings.push(`${user.user}: ${(error as Error).message}`)
        break
      }
    }
  }
}

/** The server's digest of every restored table, in parallel, against the one the backup computed inside its snapshot. */
async function compareChecksums(workers: MysqlSession[], tables: TableEntry[], renames: Map<string, string>): Promise<RestoreResult['checksums']> {
  const mismatched: string[] = []
  await shareAmong(workers, tables.filter((t) => t.kind === 'table'), async (worker, entry) => {
      const [row] = await worker.query<{n: string | number; x: string | number}>(`SELECT ${rowsDigest(digestColumns(entry))} FROM ${qualified(renames.get(entry.database)!, entry.name)}`)
      const now: RowsChecksum = {rows: Number(row?.n ?? 0), xor: Number(row?.x ?? 0) >>> 0}
      if (now.rows !== entry.checksum.rows || now.xor !== entry.checksum.xor >>> 0) mismatched.push(`${renames.get(entry.database)}.${entry.name}`)
  })
  return {checked: tables.filter((t) => t.kind === 'table').length, mismatched: mismatched.sort()}
}

/**
 * Drops databases (and tables in others) through a session of its own, as after a failed restore,
 * where the workers may be mid-statement; unlogged unless the restore was. Errors are swallowed:
 * the failure that led here is what the user needs to hear about.
 */
async function dropDatabases(target: ConnectionTarget, databases: string[], options: {tables?: string[]; binlog?: boolean} = {}): Promise<void> {
  const session = await openMysql(target).catch(() => undefined)
  if (!session) return
  try {
    if (!options.binlog) await session.query('SET SESSION sql_log_bin = 0')
    for (const database of databases) await session.query(`DROP DATABASE IF EXISTS ${ident(database)}`)
    for (const table of options.tables ?? []) await session.query(`DROP TABLE IF EXISTS ${table}`)
  } catch {
    // See above.
  } finally {
    await session.close()
  }
}

export type RestoreTestOptions = Pick<RestoreOptions, 'target' | 'reader' | 'threads' | 'signal' | 'onInterrupt' | 'onProgress'>

/**
 * Restores the whole backup into scratch databases (`dbakit_verify_<random>_<name>`, binlog off),
 * compares every table with the backup's digest, and drops them whatever happens.
 */
export async function restoreTestMysql(options: RestoreTestOptions): Promise<Pick<RestoreResult, 'tables' | 'rows' | 'checksums'>> {
  const prefix = `dbakit_verify_${randomBytes(3).toString('hex')}_`
  const body = options.reader.manifest.body as unknown as BackupBody
  const renames = new Map(body.databases.map((name) => [name, `${prefix}${name}`.slice(0, 64)]))
  const scratch = [...renames.values()]
  options.onInterrupt?.(() => dropDatabases(options.target, scratch))
  try {
    const {tables, rows, checksums} = await restoreMysql({...options, renames, force: false, binlog: false, includeUsers: false, dryRun: false})
    return {tables, rows, checksums}
  } finally {
    await dropDatabases(options.target, scratch)
  }
}

function restoreFailure(error: unknown): unknown {
  const errno = errnoOf(error)
  if (errno === 1148 || errno === 3948 || errno === 4166) {
    return environmentError('LOCAL_INFILE_DISABLED', 'the server refuses LOAD DATA LOCAL INFILE, which the restore loads rows with', {hint: 'SET GLOBAL local_infile = 1 on the target server for the restore (MySQL 8 turns it off by default)'})
  }
  return permissionFailure(error, 'grant the account CREATE, DROP, ALTER, INDEX, INSERT, CREATE VIEW, CREATE ROUTINE, TRIGGER and EVENT on the target databases', 'the restore was refused')
}
