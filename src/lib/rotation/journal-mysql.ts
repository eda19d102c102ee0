import {createHash} from 'node:crypto'
import {environmentError} from '../core/errors.ts'
import {redactSecrets} from '../core/text.ts'
import type {MysqlSession} from '../connect/drivers/mysql.ts'
import {openStateStore} from '../connect/store.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {accountKey, lockedError, RotationJournal, type RotationRecord} from './journal.ts'

const TABLE = 'rotation_journal'

const CREATE_TABLE = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
  id VARCHAR(32) NOT NULL,
  account_key VARCHAR(512) NOT NULL,
  state VARCHAR(16) NOT NULL,
  updated_at VARCHAR(32) NOT NULL,
  record LONGTEXT NOT NULL,
  PRIMARY KEY (id),
  KEY account_state (account_key(191), state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

/**
 * The journal in a team's MySQL schema (`--store mysql://…/dbakit_state`), so a rotation started on
 * one host is seen, locked and resumed from another. The account lock is GET_LOCK on the journal's
 * own connection: the server releases it when the process holding it dies, so kill -9 needs no
 * stale-lock detection.
 */
export class MysqlRotationJournal extends RotationJournal {
  readonly location: string
  private readonly table: string
  private created = false
  private readonly session: MysqlSession
  private readonly target: ConnectionTarget
  private readonly database: string

  private constructor(session: MysqlSession, target: ConnectionTarget, database: string) {
    super()
    this.session = session
    this.target = target
    this.database = database
    this.table = `\`${database}\`.\`${TABLE}\``
    this.location = `mysql://${target.label}/${database}.${TABLE}`
  }

  static async open(target: ConnectionTarget): Promise<MysqlRotationJournal> {
    const {session, database} = await openStateStore(target)
    return new MysqlRotationJournal(session, target, database)
  }

  override async close(): Promise<void> {
    await this.session.close()
  }

  private failure(what: string, error: unknown) {
    const detail = redactSecrets(error instanceof Error ? error.message : String(error), [this.target.password]).split('\n')[0]
    return environmentError('ROTATION_STORE_FAILED', `cannot ${what} the rotation journal ${this.location}: ${detail}`, {hint: `check that ${this.target.label} may create and write ${this.database}.${TABLE} (CREATE, SELECT, INSERT, UPDATE)`})
  }

  private async exists(): Promise<boolean> {
    if (this.created) return true
    const [row] = await this.session.query<{n: number | string}>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [this.database, TABLE])
    return (this.created = Number(row?.n ?? 0) > 0)
  }

  async save(record: RotationRecord): Promise<void> {
    try {
      if (!(await this.exists())) {
        await this.session.query(`CREATE DATABASE IF NOT EXISTS \`${this.database}\``)
        await this.session.query(CREATE_TABLE(this.table))
        this.created = true
      }
      await this.session.query(`INSERT INTO ${this.table} (id, account_key, state, updated_at, record) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE state = VALUES(state), updated_at = VALUES(updated_at), record = VALUES(record)`, [
        record.id,
        accountKey(record),
        record.state,
        record.updatedAt,
        JSON.stringify(record),
      ])
    } catch (error) {
      throw this.failure('write', error)
    }
  }

  protected async find(id: string): Promise<RotationRecord | undefined> {
    try {
      if (!(await this.exists())) return undefined
      const [row] = await this.session.query<{record: string}>(`SELECT record FROM ${this.table} WHERE id = ?`, [id])
      return row ? (JSON.parse(row.record) as RotationRecord) : undefined
    } catch (error) {
      throw this.failure('read', error)
    }
  }

  async list(): Promise<RotationRecord[]> {
    try {
      if (!(await this.exists())) return []
      return (await this.session.query<{record: string}>(`SELECT record FROM ${this.table} ORDER BY id`)).map((row) => JSON.parse(row.record) as RotationRecord)
    } catch (error) {
      throw this.failure('read', error)
    }
  }

  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const name = `dbakit_rotation_${createHash('sha256').update(key).digest('hex').slice(0, 40)}`
    const [taken] = await this.session.query<{ok: number | string | null}>('SELECT GET_LOCK(?, 0) AS ok', [name])
    if (Number(taken?.ok) !== 1) {
      const [holder] = await this.session.query<{who: string | null}>('SELECT (SELECT CONCAT(USER, \'@\', HOST) FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK(?)) AS who', [name])
      throw lockedError(key, holder?.who ? `its lock is held by the session of ${holder.who} on ${this.target.label}` : undefined)
    }
    try {
      return await work()
    } finally {
      await this.session.query('SELECT RELEASE_LOCK(?)', [name]).catch(() => {})
    }
  }
}
