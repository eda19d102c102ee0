import {usageError} from '../core/errors.ts'
import {STATE_DATABASE} from '../core/paths.ts'
import type {MysqlSession} from '../connect/drivers/mysql.ts'
import {ident} from './sql.ts'

const CHANGES = `${ident(STATE_DATABASE)}.schema_changes`
const EVENTS = `${ident(STATE_DATABASE)}.schema_change_events`

/**
 * Where a change is. The journal lives in the database it changes, so another terminal (or a rerun
 * after the process died) sees the same state the copier does.
 */
export type ChangeState =
  | 'started'
  | 'capturing'
  | 'copying'
  | 'copied'
  | 'cutting-over'
  | 'revert-window'
  | 'done'
  | 'rolled-back'
  | 'aborted'
  | 'failed'

/** States in which the change holds triggers or tables on the server. */
export const ACTIVE_STATES: readonly ChangeState[] = ['started', 'capturing', 'copying', 'copied', 'cutting-over', 'revert-window']

/** What another terminal asks a running change to do; the copier reads it between chunks. */
export type ChangeRequest = 'pause' | 'resume' | 'cutover' | 'abort' | null

export interface ChangeRecord {
  id: number
  database: string
  table: string
  alter: string
  method: 'instant' | 'inplace' | 'online-copy' | 'copy'
  state: ChangeState
  request: ChangeRequest
  /** Names of the shadow, old, placeholder tables and triggers of this change. */
  artifacts: Record<string, string>
  /** Rows copied, rate, throttle state: the copier's last report. */
  progress: Record<string, unknown>
  revertUntil: string | null
  createdAt: string
  updatedAt: string
  error: string | null
}

export interface ChangeEvent {
  at: string
  state: string
  message: string
}

export async function ensureJournal(session: MysqlSession): Promise<void> {
  await session.query(`CREATE DATABASE IF NOT EXISTS ${ident(STATE_DATABASE)}`)
  await session.query(`CREATE TABLE IF NOT EXISTS ${CHANGES} (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    db VARCHAR(64) NOT NULL,
    tbl VARCHAR(64) NOT NULL,
    alter_text TEXT NOT NULL,
    method VARCHAR(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    request VARCHAR(16) NULL,
    artifacts JSON NOT NULL,
    progress JSON NOT NULL,
    revert_until DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    error TEXT NULL,
    KEY by_table (db, tbl, state)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
  await session.query(`CREATE TABLE IF NOT EXISTS ${EVENTS} (
    change_id BIGINT UNSIGNED NOT NULL,
    seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    state VARCHAR(16) NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (seq),
    KEY by_change (change_id, seq)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
}

interface Row {
  id: string | number
  db: string
  tbl: string
  alter_text: string
  method: ChangeRecord['method']
  state: ChangeState
  request: ChangeRequest
  artifacts: string | Record<string, string>
  progress: string | Record<string, unknown>
  revert_until: string | null
  created_at: string
  updated_at: string
  error: string | null
}

const json = <T>(value: string | T): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value)
const record = (row: Row): ChangeRecord => ({
  id: Number(row.id),
  database: row.db,
  table: row.tbl,
  alter: row.alter_text,
  method: row.method,
  state: row.state,
  request: row.request,
  artifacts: json(row.artifacts),
  progress: json(row.progress),
  revertUntil: row.revert_until,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  error: row.error,
})

export class Journal {
  private readonly session: MysqlSession

  constructor(session: MysqlSession) {
    this.session = session
  }

  /**
   * Records a new change, refusing when the table already has one that is not finished: two
   * changes' triggers and renames on one table would undo each other.
   */
  async begin(change: Pick<ChangeRecord, 'database' | 'table' | 'alter' | 'method'>): Promise<ChangeRecord> {
    const busy = await this.active(change.database, change.table)
    if (busy) {
      throw usageError('CHANGE_IN_PROGRESS', `${change.database}.${change.table} already has change ${busy.id} (${busy.state}) in progress`, {
        hint: busy.state === 'revert-window' ? `finish it first: dbakit schema cleanup ${busy.id} (or schema rollback ${busy.id})` : `see dbakit schema status ${busy.id}; end it with schema abort ${busy.id}`,
      })
    }
    const result = (await this.session.query(`INSERT INTO ${CHANGES} (db, tbl, alter_text, method, state, artifacts, progress) VALUES (?, ?, ?, ?, 'started', '{}', '{}')`, [change.database, change.table, change.alter, change.method])) as unknown as {insertId: number}
    const id = Number(result.insertId)
    await this.event(id, 'started', `change ${change.alter} on ${change.database}.${change.table} (${change.method})`)
    return (await this.get(id))!
  }

  async get(id: number): Promise<ChangeRecord | undefined> {
    const [row] = await this.session.query<Row>(`SELECT * FROM ${CHANGES} WHERE id = ?`, [id])
    return row ? record(row) : undefined
  }

  async require(id: number): Promise<ChangeRecord> {
    const found = await this.get(id)
    if (!found) throw usageError('CHANGE_NOT_FOUND', `there is no schema change ${id} on this server`, {hint: 'dbakit schema status lists the changes'})
    return found
  }

  async active(database: string, table: string): Promise<ChangeRecord | undefined> {
    const [row] = await this.session.query<Row>(`SELECT * FROM ${CHANGES} WHERE db = ? AND tbl = ? AND state IN (${ACTIVE_STATES.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT 1`, [database, table, ...ACTIVE_STATES])
    return row ? record(row) : undefined
  }

  /** Changes whose revert window has passed, on the server's clock. */
  async expired(): Promise<ChangeRecord[]> {
    return (await this.session.query<Row>(`SELECT * FROM ${CHANGES} WHERE state = 'revert-window' AND revert_until <= NOW(3) ORDER BY id`)).map(record)
  }

  async list(limit = 50): Promise<ChangeRecord[]> {
    return (await this.session.query<Row>(`SELECT * FROM ${CHANGES} ORDER BY id DESC LIMIT ${Number(limit)}`)).map(record)
  }

  /** Moves to a state and records why, with the time, for `schema status` to show afterwards. */
  async transition(id: number, state: ChangeState, message: string, fields: {artifacts?: Record<string, string>; revertUntil?: Date | null; error?: string | null} = {}): Promise<void> {
    const sets = ['state = ?']
    const values: unknown[] = [state]
    if (fields.artifacts) {
      sets.push('artifacts = ?')
      values.push(JSON.stringify(fields.artifacts))
    }
    if (fields.revertUntil === null) sets.push('revert_until = NULL')
    else if (fields.revertUntil !== undefined) {
      // Counted on the server's clock, which is the one `expired` compares with.
      sets.push('revert_until = NOW(3) + INTERVAL ? MICROSECOND')
      values.push(Math.max(0, fields.revertUntil.getTime() - Date.now()) * 1000)
    }
    if (fields.error !== undefined) {
      sets.push('error = ?')
      values.push(fields.error)
    }
    await this.session.query(`UPDATE ${CHANGES} SET ${sets.join(', ')} WHERE id = ?`, [...values, id])
    await this.event(id, state, message)
  }

  async progress(id: number, progress: Record<string, unknown>): Promise<void> {
    await this.session.query(`UPDATE ${CHANGES} SET progress = ? WHERE id = ?`, [JSON.stringify(progress), id])
  }

  async request(id: number, request: ChangeRequest): Promise<void> {
    await this.session.query(`UPDATE ${CHANGES} SET request = ? WHERE id = ?`, [request, id])
    if (request) await this.event(id, (await this.require(id)).state, `requested: ${request}`)
  }

  async pendingRequest(id: number): Promise<ChangeRequest> {
    const [row] = await this.session.query<{request: ChangeRequest}>(`SELECT request FROM ${CHANGES} WHERE id = ?`, [id])
    return row?.request ?? null
  }

  async event(id: number, state: string, message: string): Promise<void> {
    await this.session.query(`INSERT INTO ${EVENTS} (change_id, state, message) VALUES (?, ?, ?)`, [id, state, message])
  }

  async events(id: number): Promise<ChangeEvent[]> {
    return this.session.query<ChangeEvent>(`SELECT at, state, message FROM ${EVENTS} WHERE change_id = ? ORDER BY seq`, [id])
  }
}
