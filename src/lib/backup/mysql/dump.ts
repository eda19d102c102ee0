import {DbakitError, ExitCode, environmentError, usageError} from '../../core/errors.ts'
import {errnoOf, openMysql, permissionFailure, type MysqlSession} from '../../connect/drivers/mysql.ts'
import type {ConnectionTarget} from '../../connect/target.ts'
import {rowsDigest} from '../../sql/checksum.ts'
import {ident, qualified} from '../../sql/identifiers.ts'
import type {BackupWriter, Repository} from '../repository.ts'
import {CHUNK_FORMAT, encodeRows} from './rows.ts'
import {shareAmong, TransferProgress, type TransferEvent} from './sessions.ts'
import {readDefinitions, selectObjects, type SchemaObjects, type Selection, type TableDef} from './schema.ts'

export const BODY_FORMAT = 'dbakit-mysql-logical-v1'
/** The chunk that holds every CREATE statement (and the users, when asked): JSON, encrypted like the rows. */
export const SCHEMA_CHUNK = 'schema.json'
/** A primary-key range is sized to about this much data, so that several workers share a big table. */
const RANGE_BYTES = 64 * 1024 * 1024
/** A chunk file ends after about this many plain bytes, whatever its range: restore and verify work chunk by chunk. */
const CHUNK_BYTES = 256 * 1024 * 1024
/** How long the global lock may wait for running statements before the backup gives up instead of stalling writes. */
const LOCK_WAIT_SECONDS = 10
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'])

/** A table's order-independent digest of its rows (see rowsDigest); combined over ranges by adding counts and XORing hashes. */
export interface RowsChecksum {
  rows: number
  xor: number
}

export interface TableEntry {
  database: string
  name: string
  kind: 'table' | 'sequence'
  engine: string
  /** The columns the chunks hold, in their order: every column but generated ones. */
  columns: string[]
  /** Those among them hashed as DOUBLEs by the digest. */
  floatColumns: string[]
  rows: number
  checksum: RowsChecksum
  chunks: string[]
  /** A sequence's next value, as the snapshot saw it. */
  sequenceNext?: string
  systemVersioned?: boolean
}

export interface Coordinates {
  binlogFile?: string
  binlogPosition?: number
  /** MariaDB's gtid_binlog_pos, or MySQL's gtid_executed. */
  gtid?: string
  /** On a replica: the replication position of what it has applied (MariaDB gtid_slave_pos). */
  replicaGtid?: string
}

export interface BackupBody {
  format: typeof BODY_FORMAT
  tables: TableEntry[]
  databases: string[]
  coordinates: Coordinates
  lock: {method: string; milliseconds: number}
  includesUsers: boolean
  objects: {views: number; routines: number; triggers: number; events: number; users: number}
  notes: string[]
}

export interface BackupOptions {
  target: ConnectionTarget
  repository: Repository
  selection: Selection
  threads: number
  includeUsers: boolean
  allowNonTransactional: boolean
  signal?: AbortSignal
  /** Registers what to undo if the process is stopped by a signal before the backup ends: it removes what was written. */
  onInterrupt?: (cleanup: () => Promise<void>) => void
  onProgress?: (event: TransferEvent) => void
}

export interface BackupResult {
  id: string
  engine: 'mysql'
  server: Record<string, unknown>
  coordinates: Coordinates
  databases: string[]
  tables: number
  rows: number
  bytes: number
  storedBytes: number
  durationMs: number
  lock: {method: string; milliseconds: number}
  notes: string[]
}

interface Task {
  table: TableEntry
  def: TableDef
  where?: string
  /** Bytes information_schema estimates for the task, to start the biggest first. */
  weight: number
}

/**
 * A logical backup of a MySQL/MariaDB server, consistent across `threads` connections: each starts
 * a snapshot under a global lock held only for that (and for the tables a snapshot does not cover,
 * when they are allowed), the binlog coordinates are read under it, and the rows stream, range by
 * range, into the repository's chunks. docs/backup-mysql.md.
 */
export async function backupMysql(options: BackupOptions): Promise<BackupResult> {
  const started = Date.now()
  // Streams and the digests of big tables run long; the command timeout is for interactive statements.
  const target: ConnectionTarget = {...options.target, commandTimeoutMs: 0}
  const control = await openMysql(target)
  const workers: MysqlSession[] = []
  let writer: BackupWriter | undefined
  try {
    const objects = await selectObjects(control, options.selection)
    const unsafe = objects.tables.filter((t) => !t.transactional && t.kind === 'table')
    if (unsafe.length > 0 && !options.allowNonTransactional) {
      throw usageError('NON_TRANSACTIONAL_TABLES', `${unsafe.length} table${unsafe.length === 1 ? ' is' : 's are'} not transactional (${unsafe.slice(0, 5).map((t) => `${t.database}.${t.name} ${t.engine}`).join(', ')}${unsafe.length > 5 ? ', ...' : ''}): a snapshot does not cover them`, {
        hint: 'convert them to InnoDB, leave them out with --exclude, or pass --allow-non-transactional to hold the global read lock while they are dumped (writes wait meanwhile)',
      })
    }
    const server = {host: target.url.hosts[0] ? `${target.url.hosts[0].host}:${target.url.hosts[0].port}` : target.label, flavor: control.identity.flavor, version: control.identity.version}
    writer = await options.repository.begin({engine: 'mysql', server})
    const begun = writer
    options.onInterrupt?.(async () => {
      for (const worker of workers) worker.destroy()
      await begun.abort()
    })
    const threads = Math.max(1, Math.min(options.threads, Math.max(1, objects.tables.length * 8)))
    for (let i = 0; i < threads; i++) workers.push(await openWorker(target))
    const snapshot = await takeSnapshot(control, workers, unsafe.length > 0)
    const notes: string[] = []
    const entries = objects.tables.map((def) => newEntry(def))
    let coordinates: Coordinates
    const tasks: Task[] = []
    const progress = new TransferProgress({verb: 'reading', tables: entries.length, totalBytes: objects.tables.reduce((sum, t) => sum + t.dataBytes, 0), listener: options.onProgress})
    try {
      coordinates = await readCoordinates(control)
      if (unsafe.length > 0) {
        notes.push(`${unsafe.length} non-transactional table${unsafe.length === 1 ? ' was' : 's were'} dumped under FLUSH TABLES WITH READ LOCK: writes waited until they were read`)
        const unsafeTasks = entries.filter((e) => unsafe.some((t) => t.database === e.database && t.name === e.name)).map((table) => ({table, def: defOf(objects, table), weight: 0}))
        await runTasks(unsafeTasks, workers, writer, progress, options.signal)
      }
    } finally {
      await snapshot.release()
    }
    const lock = {method: snapshot.method, milliseconds: snapshot.milliseconds()}
    // Definitions are read after the lock, so the lock stays short; a table changed meanwhile is caught here or by the server (1412).
    const definitions = await readDefinitions(control, objects, {includeUsers: options.includeUsers})
    await assertUnchanged(control, options.selection, objects)
    const remaining = entries.filter((e) => !unsafe.some((t) => t.database === e.database && t.name === e.name))
    for (const entry of remaining) {
      const def = defOf(objects, entry)
      if (def.kind === 'sequence') {
        const [row] = await workers[0]!.query<{next: Buffer | string}>(`SELECT next_not_cached_value AS next FROM ${qualified(def.database, def.name)}`)
        entry.sequenceNext = String(row?.next)
        progress.tableDone()
      } else tasks.push(...(await planTasks(workers[0]!, entry, def)))
    }
    if (objects.tables.some((t) => t.systemVersioned)) notes.push('system-versioned tables: only their current rows are kept; history rows are not, and restored rows start their history at the restore')
    await runTasks(tasks, workers, writer, progress, options.signal)
    await writer.writeChunk(SCHEMA_CHUNK, [JSON.stringify(definitions)], {meta: {format: 'mysql-definitions-v1'}})
    const body: BackupBody = {
      format: BODY_FORMAT,
      tables: entries,
      databases: objects.databases,
      coordinates,
      lock,
      includesUsers: options.includeUsers,
      objects: {views: definitions.views.length, routines: definitions.routines.length, triggers: definitions.triggers.length, events: definitions.events.length, users: definitions.users.length},
      notes,
    }
    const manifest = await writer.commit(body as unknown as Record<string, unknown>)
    return {
      id: manifest.id,
      engine: 'mysql',
      server,
      coordinates,
      databases: objects.databases,
      tables: entries.length,
      rows: entries.reduce((sum, e) => sum + e.rows, 0),
      bytes: manifest.chunks.reduce((sum, c) => sum + c.bytes, 0),
      storedBytes: manifest.chunks.reduce((sum, c) => sum + c.storedBytes, 0),
      durationMs: Date.now() - started,
      lock,
      notes,
    }
  } catch (error) {
    for (const worker of workers) worker.destroy()
    await writer?.abort().catch(() => {})
    throw backupFailure(error)
  } finally {
    for (const worker of workers) await worker.close().catch(() => {})
    await control.close()
  }
}

async function openWorker(target: ConnectionTarget): Promise<MysqlSession> {
  const session = await openMysql(target)
  // Values as the bytes stored (no conversion to the connection's character set), times in UTC, and
  // no server-side timeout while the client applies backpressure to a long stream.
  for (const sql of ["SET SESSION time_zone = '+00:00'", 'SET SESSION character_set_results = binary', 'SET SESSION net_write_timeout = 86400', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ']) await session.query(sql)
  return session
}

interface Snapshot {
  method: string
  milliseconds(): number
  release(): Promise<void>
}

/**
 * The global lock, the snapshot of every worker under it, and nothing else: MariaDB's BACKUP STAGE
 * BLOCK_COMMIT stops commits but not reads or writes in flight; FLUSH TABLES WITH READ LOCK (MySQL,
 * or when non-transactional tables must be read under the lock) stops writes. Either waits at most
 * LOCK_WAIT_SECONDS for running statements rather than holding the application up behind them.
 */
async function takeSnapshot(control: MysqlSession, workers: MysqlSession[], blockWrites: boolean): Promise<Snapshot> {
  const backupStage = control.identity.flavor === 'mariadb' && !blockWrites
  const method = backupStage ? 'BACKUP STAGE BLOCK_COMMIT' : 'FLUSH TABLES WITH READ LOCK'
  await control.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`)
  const start = Date.now()
  let end: number | undefined
  try {
    if (backupStage) {
      await control.query('BACKUP STAGE START')
      await control.query('BACKUP STAGE BLOCK_COMMIT')
    } else await control.query('FLUSH TABLES WITH READ LOCK')
  } catch (error) {
    await control.query(backupStage ? 'BACKUP STAGE END' : 'UNLOCK TABLES').catch(() => {})
    if (errnoOf(error) === 1205) {
      throw environmentError('BACKUP_LOCK_TIMEOUT', `${method} waited ${LOCK_WAIT_SECONDS} s for running statements and gave up, so that writes would not queue behind it`, {hint: 'a long query or an ALTER holds it: see SHOW PROCESSLIST, and run the backup when it has finished'})
    }
    throw error
  }
  try {
    await Promise.all(workers.map((worker) => worker.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')))
  } catch (error) {
    await control.query(backupStage ? 'BACKUP STAGE END' : 'UNLOCK TABLES').catch(() => {})
    throw error
  }
  return {
    method,
    milliseconds: () => (end ?? Date.now()) - start,
    release: async () => {
      await control.query(backupStage ? 'BACKUP STAGE END' : 'UNLOCK TABLES')
      end = Date.now()
    },
  }
}

/** Where the binlog stood when the snapshots began: where point-in-time recovery replays from. */
async function readCoordinates(session: MysqlSession): Promise<Coordinates> {
  const coordinates: Coordinates = {}
  let status: Record<string, unknown> | undefined
  for (const statement of ['SHOW MASTER STATUS', 'SHOW BINARY LOG STATUS']) {
    try {
      ;[status] = await session.query(statement)
      break
    } catch (error) {
      // MySQL 8.4 renamed the statement; a missing privilege (BINLOG MONITOR, REPLICATION CLIENT) leaves the coordinates out.
      if (errnoOf(error) !== 1064) break
    }
  }
  if (status?.File) {
    coordinates.binlogFile = String(status.File)
    coordinates.binlogPosition = Number(status.Position)
  }
  const gtid = session.identity.flavor === 'mariadb' ? '@@GLOBAL.gtid_binlog_pos' : '@@GLOBAL.gtid_executed'
  const [row] = await session.query<{gtid: string | null; replica: string | null}>(`SELECT ${gtid} AS gtid, ${session.identity.flavor === 'mariadb' ? '@@GLOBAL.gtid_slave_pos' : 'NULL'} AS replica`).catch(() => [undefined])
  if (row?.gtid) coordinates.gtid = String(row.gtid).replaceAll('\n', '')
  if (row?.replica) coordinates.replicaGtid = String(row.replica)
  return coordinates
}

function newEntry(def: TableDef): TableEntry {
  const kept = def.columns.filter((c) => !c.generated)
  return {
    database: def.database,
    name: def.name,
    kind: def.kind,
    engine: def.engine,
    columns: kept.map((c) => c.name),
    floatColumns: kept.filter((c) => c.dataType === 'float').map((c) => c.name),
    rows: 0,
    checksum: {rows: 0, xor: 0},
    chunks: [],
    ...(def.systemVersioned ? {systemVersioned: true} : {}),
  }
}

const defOf = (objects: SchemaObjects, entry: TableEntry) => objects.tables.find((t) => t.database === entry.database && t.name === entry.name)!

/** The columns a chunk holds, as the worker selects them: FLOAT as the DOUBLE it is exactly (its text would have 6 digits). */
export function selectList(entry: Pick<TableEntry, 'columns' | 'floatColumns'>): string {
  return entry.columns.map((c) => (entry.floatColumns.includes(c) ? `CAST(${ident(c)} AS DOUBLE)` : ident(c))).join(', ')
}

export const digestColumns = (entry: Pick<TableEntry, 'columns' | 'floatColumns'>) => entry.columns.map((name) => ({name, float: entry.floatColumns.includes(name)}))

/** A table with a one-column integer primary key is split into key ranges of about RANGE_BYTES, read inside the snapshot. */
async function planTasks(session: MysqlSession, entry: TableEntry, def: TableDef): Promise<Task[]> {
  const key = def.primaryKey.length === 1 ? def.columns.find((c) => c.name === def.primaryKey[0]) : undefined
  const ranges = Math.ceil(def.dataBytes / RANGE_BYTES)
  if (!key || !INTEGER_TYPES.has(key.dataType) || ranges < 2) return [{table: entry, def, weight: def.dataBytes}]
  const [bounds] = await session.query<{low: Buffer | null; high: Buffer | null}>(`SELECT MIN(${ident(key.name)}) AS low, MAX(${ident(key.name)}) AS high FROM ${qualified(def.database, def.name)}`)
  if (bounds?.low === null || bounds?.low === undefined || bounds.high === null) return [{table: entry, def, weight: def.dataBytes}]
  const low = BigInt(String(bounds.low))
  const high = BigInt(String(bounds.high))
  const step = (high - low) / BigInt(ranges) + 1n
  const tasks: Task[] = []
  const column = ident(key.name)
  for (let i = 0n; i < BigInt(ranges); i++) {
    const from = low + i * step
    if (from > high) break
    const to = from + step
    const conditions = [...(i === 0n ? [] : [`${column} >= ${from}`]), ...(to > high ? [] : [`${column} < ${to}`])]
    tasks.push({table: entry, def, ...(conditions.length > 0 ? {where: conditions.join(' AND ')} : {}), weight: def.dataBytes / ranges})
  }
  return tasks
}

/** The tasks, biggest first, each on the next free worker; every worker stays in its snapshot throughout. */
async function runTasks(tasks: Task[], workers: MysqlSession[], writer: BackupWriter, progress: TransferProgress, signal?: AbortSignal): Promise<void> {
  const queue = [...tasks].sort((a, b) => b.weight - a.weight)
  await shareAmong(workers, queue, (worker, task) => dumpTask(worker, task, writer, progress), {group: (task) => task.table, onGroupDone: () => progress.tableDone(), ...(signal ? {signal} : {}), interrupted: 'the backup was interrupted; nothing was kept'})
}

async function dumpTask(worker: MysqlSession, task: Task, writer: BackupWriter, progress: TransferProgress): Promise<void> {
  const {table} = task
  const from = `${qualified(table.database, table.name)}${task.where ? ` WHERE ${task.where}` : ''}`
  const rows = encodeRows((onRow) => worker.rawRows(`SELECT ${selectList(table)} FROM ${from}`, onRow))
  let more = true
  do {
    const name = chunkName(table, table.chunks.length + 1)
    table.chunks.push(name)
    progress.working(`${table.database}.${table.name}`)
    let chunkRows = 0
    const source = async function* () {
      let bytes = 0
      while (bytes < CHUNK_BYTES) {
        const next = await rows.next()
        if (!next) {
          more = false
          return
        }
        chunkRows += next.rows
        bytes += next.piece.length
        progress.add(next.rows, next.piece.length)
        yield next.piece
      }
    }
    await writer.writeChunk(name, source(), {rows: () => chunkRows, meta: {format: CHUNK_FORMAT, table: `${table.database}.${table.name}`}})
    table.rows += chunkRows
  } while (more)
  const [digest] = await worker.query<{n: Buffer | string; x: Buffer | string}>(`SELECT ${rowsDigest(digestColumns(table))} FROM ${from}`)
  table.checksum.rows += Number(String(digest?.n ?? 0))
  table.checksum.xor = (table.checksum.xor ^ Number(String(digest?.x ?? 0))) >>> 0
}

/** `db.table/00001`: readable where verify names a chunk. */
const chunkName = (table: TableEntry, part: number) => `${table.database}.${table.name}/${String(part).padStart(5, '0')}`

/** The selected tables' columns now, against what the snapshot read: a table changed meanwhile makes the backup unsound. */
async function assertUnchanged(session: MysqlSession, selection: Selection, before: SchemaObjects): Promise<void> {
  const after = await selectObjects(session, selection)
  for (const table of before.tables) {
    const now = after.tables.find((t) => t.database === table.database && t.name === table.name)
    const shape = (t: TableDef | undefined) => JSON.stringify(t?.columns.map((c) => [c.name, c.type, c.generated]))
    if (shape(now) !== shape(table)) throw tableChanged(`${table.database}.${table.name}`)
  }
}

const tableChanged = (name?: string) =>
  new DbakitError(ExitCode.stopped, 'TABLE_CHANGED_DURING_BACKUP', `${name ? `${name} was` : 'a table was'} altered while the backup read it, so its rows and its definition would not match; nothing was kept`, {hint: 'run the backup again when no schema change is running'})

function backupFailure(error: unknown): unknown {
  const errno = errnoOf(error)
  if (errno === 1412) return tableChanged()
  return permissionFailure(error, 'grant the account SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the databases, and RELOAD (for the global lock) and REPLICATION CLIENT or BINLOG MONITOR (for the coordinates)', 'the backup was refused')
}
