import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {environmentError, usageError} from '../core/errors.ts'
import {writeFileAtomic} from '../core/files.ts'
import {withFileLock} from '../core/lock.ts'
import {stateDirPath} from '../core/paths.ts'

/**
 * pending: the new password is stored, nothing changed. set: the server accepts both passwords.
 * verified: the new one logged in on every node and the grants are unchanged; `secret get` returns
 * it. discarded: the old one is removed. done. A rollback goes through rolling-back to rolled-back.
 */
export const ROTATION_STATES = ['pending', 'set', 'verified', 'discarded', 'done', 'rolling-back', 'rolled-back'] as const
export type RotationState = (typeof ROTATION_STATES)[number]

export const FINISHED_STATES: ReadonlySet<RotationState> = new Set(['done', 'rolled-back'])

export type RotationEngine = 'mariadb' | 'mysql' | 'redis' | 'mongodb'

export interface RotationNode {
  /** host:port */
  address: string
  role: 'primary' | 'replica' | 'cluster-node'
  /** How it was found: the target itself, a --replica profile, SHOW SLAVE HOSTS, INFO replication. */
  foundBy: string
  /** The replica's profile, when it came from --replica. */
  profile?: string
}

export interface RotationRecord {
  v: 1
  id: string
  engine: RotationEngine
  /** The admin connection, without a password: the profile, else the URL. */
  profile?: string
  url?: string
  /** `user@host` for MySQL/MariaDB, the ACL user for Redis. */
  account: string
  user: string
  host?: string
  secret: string
  /** Whether --secret held a value before: then it was the old password, and rollback restores it. */
  secretExisted: boolean
  state: RotationState
  nodes: RotationNode[]
  /** Per node, the highest session id when the new password was handed out: older sessions may use the old one. */
  sessionMark?: Record<string, number>
  /** When `secret get` began returning the new password. */
  switchedAt?: string
  /** The old password stays valid at least this long after the switch, for clients that read the secret just before it. */
  graceMs: number
  discardAfterMs: number
  forceDiscard: boolean
  retainMs: number
  /** Per node, the account's privileges before the change (no credentials), compared after it. */
  privilegesBefore: Record<string, string[]>
  /** After done: when the old password's envelope is removed and rollback is no longer possible. */
  retainUntil?: string
  /** The rotation's envelopes were removed (retention over, or rolled back). */
  pruned?: boolean
  history: Array<{state: RotationState; at: string; note?: string}>
  warnings: string[]
  createdAt: string
  updatedAt: string
}

export const accountKey = (record: Pick<RotationRecord, 'engine' | 'nodes' | 'account'>) => `${record.engine}:${record.nodes.find((node) => node.role === 'primary')?.address ?? '?'}:${record.account}`

export const newRotationId = (now = new Date()) => `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`

const ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/

/**
 * The rotation journal: every rotation's record, replaced at each transition (written before the
 * server is changed), and a lock per account so that two rotations of one account cannot run at
 * once. Kept in the state directory, or in a shared MySQL schema (--store).
 */
export abstract class RotationJournal {
  /** Where the records are, for messages. */
  abstract readonly location: string
  abstract save(record: RotationRecord): Promise<void>
  /** The record, or undefined when there is none. */
  protected abstract find(id: string): Promise<RotationRecord | undefined>
  abstract list(): Promise<RotationRecord[]>
  /** Runs work holding the account's lock; held by a live process: refused at once, exit 2. */
  abstract withLock<T>(key: string, work: () => Promise<T>): Promise<T>
  async close(): Promise<void> {}

  async transition(record: RotationRecord, state: RotationState, note?: string): Promise<void> {
    const at = new Date().toISOString()
    record.state = state
    record.updatedAt = at
    record.history.push({state, at, ...(note ? {note} : {})})
    await this.save(record)
  }

  async get(id: string): Promise<RotationRecord> {
    if (!ID.test(id)) throw usageError('ROTATION_ID_INVALID', `"${id}" is not a rotation id`, {hint: '`dbakit secret status` lists the rotations and their ids'})
    const record = await this.find(id)
    if (!record) throw usageError('ROTATION_NOT_FOUND', `there is no rotation ${id} in ${this.location}`, {hint: '`dbakit secret status` lists the rotations there are (the same --store as the rotation, if it had one)'})
    return record
  }

  /** The unfinished rotation of this account, if there is one. */
  async unfinished(key: string): Promise<RotationRecord | undefined> {
    return (await this.list()).find((record) => accountKey(record) === key && !FINISHED_STATES.has(record.state))
  }
}

export const lockedError = (key: string, holder: string | undefined) =>
  usageError('ROTATION_LOCKED', `${key.replace(/^[^:]+:/, '')} is being rotated by another process${holder ? ` (${holder})` : ''}`, {
    hint: 'wait for it to finish (`dbakit secret status` shows where it is): two rotations of one account at once could lose a password',
  })


/** One JSON file per rotation under the state directory (0600, replaced atomically), a lock file per account. */
export class FileRotationJournal extends RotationJournal {
  readonly directory: string

  constructor(env: NodeJS.ProcessEnv = process.env) {
    super()
    this.directory = join(stateDirPath(env), 'rotations')
  }

  get location(): string {
    return this.directory
  }

  private file(id: string) {
    return join(this.directory, `${id}.json`)
  }

  async save(record: RotationRecord): Promise<void> {
    await writeFileAtomic(this.file(record.id), `${JSON.stringify(record, null, 2)}\n`, 0o600)
  }

  protected async find(id: string): Promise<RotationRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.file(id), 'utf8')) as RotationRecord
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async list(): Promise<RotationRecord[]> {
    let names: string[]
    try {
      names = await readdir(this.directory)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const records: RotationRecord[] = []
    for (const name of names.filter((entry) => entry.endsWith('.json') && ID.test(entry.slice(0, -5))).sort()) {
      records.push(JSON.parse(await readFile(join(this.directory, name), 'utf8')) as RotationRecord)
    }
    return records
  }

  /**
   * Runs work holding the account's lock. Held by a live process: refused at once, exit 2; left by
   * a dead one on this host (kill -9): taken over.
   */
  async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    await mkdir(this.directory, {recursive: true, mode: 0o700})
    const file = join(this.directory, `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.lock`)
    return withFileLock(file, work, {
      timeoutMs: 0,
      staleMs: Number.POSITIVE_INFINITY,
      busy: (holder) => lockedError(key, holder ? `pid ${holder.pid} on ${holder.host}` : undefined),
      unwritable: (error) => environmentError('ROTATION_JOURNAL_UNWRITABLE', `cannot create the rotation lock ${file}: ${(error as Error).message}`, {hint: 'check that the state directory exists and is writable by this user'}),
    })
  }
}
