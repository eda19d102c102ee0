import {mkdir, open, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {environmentError, usageError} from '../core/errors.ts'
import {withFileLock} from '../core/lock.ts'
import {stateDirPath} from '../core/paths.ts'
import {redactSecrets} from '../core/text.ts'
import {openStateStore} from '../connect/store.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {InstanceCapacity} from './report.ts'

/** What the history keeps of a report: the instance's totals and its biggest objects' sizes. */
export interface Snapshot {
  v: 1
  instance: string
  engine: string
  takenAt: string
  /** What runs out: the disk under the data directory (MySQL), memory against maxmemory (Redis). */
  usage: {of: 'disk' | 'memory'; total: number | null; used: number | null}
  /** `db.table` (Redis: `db0 namespace`) → bytes, for the biggest OBJECTS_KEPT. */
  objects: Record<string, number>
}

const OBJECTS_KEPT = 500

export function snapshotOf(report: InstanceCapacity): Snapshot {
  const objects: Record<string, number> = {}
  for (const table of report.tables.slice(0, OBJECTS_KEPT)) objects[`${table.database}.${table.table}`] = table.onDisk.value ?? 0
  for (const space of report.keyspaces ?? []) for (const group of space.prefixes.slice(0, OBJECTS_KEPT)) objects[`db${space.db} ${group.prefix}`] = Math.round(group.bytes.value ?? 0)
  const usage = report.memory
    ? {of: 'memory' as const, total: report.memory.limit.value, used: report.memory.used.value}
    : {of: 'disk' as const, total: report.disk?.total.value ?? null, used: report.disk?.used.value ?? null}
  return {v: 1, instance: report.instance, engine: report.engine, takenAt: report.takenAt, usage, objects}
}

export interface CapacityHistory {
  readonly location: string
  append(snapshot: Snapshot): Promise<void>
  /** Oldest first; one instance's, or every instance's. */
  read(instance?: string): Promise<Snapshot[]>
  close(): Promise<void>
}

function parse(text: string, where: string): Snapshot {
  const snapshot = JSON.parse(text) as Snapshot
  if (snapshot?.v !== 1 || typeof snapshot.instance !== 'string' || typeof snapshot.takenAt !== 'string') throw usageError('HISTORY_INVALID', `${where} is not a capacity snapshot`, {hint: 'move the file aside; `dbakit capacity snapshot` starts a new history'})
  return snapshot
}

/** One JSON line per snapshot in the state directory, appended under a lock. */
export function fileHistory(env: NodeJS.ProcessEnv = process.env): CapacityHistory {
  const path = join(stateDirPath(env), 'capacity', 'history.jsonl')
  return {
    location: path,
    async append(snapshot) {
      await mkdir(dirname(path), {recursive: true, mode: 0o700})
      await withFileLock(`${path}.lock`, async () => {
        const handle = await open(path, 'a', 0o600)
        try {
          await handle.write(`${JSON.stringify(snapshot)}\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
      }, {
        busy: () => environmentError('HISTORY_LOCKED', `the capacity history ${path} is locked by another dbakit process`, {hint: 'wait for it; if none runs, remove the .lock file'}),
        unwritable: (error) => environmentError('HISTORY_UNWRITABLE', `cannot write the capacity history ${path}: ${(error as Error).message}`, {hint: 'check that the state directory is writable by this user'}),
      })
    },
    async read(instance) {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
        throw error
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((line, index) => parse(line, `${path} line ${index + 1}`))
        .filter((snapshot) => instance === undefined || snapshot.instance === instance)
        .sort((a, b) => a.takenAt.localeCompare(b.takenAt))
    },
    close: async () => {},
  }
}

/** A team's history: dbakit_state.capacity_snapshots (the --store URL's database). */
export async function mysqlHistory(target: ConnectionTarget): Promise<CapacityHistory> {
  const {session, database} = await openStateStore(target)
  const table = `\`${database}\`.capacity_snapshots`
  const location = `mysql://${target.label}/${database}.capacity_snapshots`
  const failure = (what: string, error: unknown) =>
    environmentError('HISTORY_STORE_FAILED', `cannot ${what} the capacity history ${location}: ${redactSecrets((error as Error).message, [target.password]).split('\n')[0]}`, {hint: `check that ${target.label} may create and write ${database}.capacity_snapshots`})
  return {
    location,
    async append(snapshot) {
      try {
        await session.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
        await session.query(`CREATE TABLE IF NOT EXISTS ${table} (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, instance VARCHAR(255) NOT NULL, taken_at VARCHAR(32) NOT NULL, snapshot LONGTEXT NOT NULL, KEY instance_time (instance, taken_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
        await session.query(`INSERT INTO ${table} (instance, taken_at, snapshot) VALUES (?, ?, ?)`, [snapshot.instance, snapshot.takenAt, JSON.stringify(snapshot)])
      } catch (error) {
        throw failure('write', error)
      }
    },
    async read(instance) {
      try {
        const [exists] = await session.query<{n: string | number}>("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'capacity_snapshots'", [database])
        if (Number(exists?.n) === 0) return []
        const rows = await session.query<{snapshot: string; id: string}>(`SELECT id, snapshot FROM ${table}${instance === undefined ? '' : ' WHERE instance = ?'} ORDER BY taken_at, id`, instance === undefined ? [] : [instance])
        return rows.map((row) => parse(row.snapshot, `${location} row ${row.id}`))
      } catch (error) {
        if ((error as {code?: string}).code === 'HISTORY_INVALID') throw error
        throw failure('read', error)
      }
    },
    close: () => session.close(),
  }
}
