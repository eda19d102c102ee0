import {DbakitError, ExitCode} from '../../core/errors.ts'
import type {MysqlSession} from '../../connect/drivers/mysql.ts'
import {inParallel} from '../store.ts'

/**
 * Hands the items, in their order, to whichever session is free; once one fails the others stop
 * taking new ones. `group` names the table an item belongs to, and `onGroupDone` hears when the last
 * item of a table is done.
 */
export async function shareAmong<T, G>(
  sessions: MysqlSession[],
  items: T[],
  work: (session: MysqlSession, item: T) => Promise<void>,
  options: {group?: (item: T) => G; onGroupDone?: (group: G) => void; signal?: AbortSignal; interrupted?: string} = {},
): Promise<void> {
  const queue = [...items]
  const remaining = new Map<G, number>()
  if (options.group) for (const item of queue) remaining.set(options.group(item), (remaining.get(options.group(item)) ?? 0) + 1)
  let failed = false
  await inParallel(sessions, sessions.length, async (session) => {
    for (let item = queue.shift(); item !== undefined && !failed; item = queue.shift()) {
      if (options.signal?.aborted) throw new DbakitError(ExitCode.interrupted, 'INTERRUPTED', options.interrupted ?? 'interrupted')
      try {
        await work(session, item)
      } catch (error) {
        failed = true
        throw error
      }
      if (options.group) {
        const group = options.group(item)
        const left = remaining.get(group)! - 1
        remaining.set(group, left)
        if (left === 0) options.onGroupDone?.(group)
      }
    }
  })
}

/** What a backup or restore reports as it goes: tables done, rows and bytes moved, and the rate and ETA once they mean something. */
export interface TransferEvent {
  message: string
  tablesDone: number
  tables: number
  rows: number
  bytes: number
  /** The bytes expected in all: information_schema's estimate for a backup, the chunks' sizes for a restore. */
  totalBytes: number
  bytesPerSecond?: number
  etaSeconds?: number
}

export class TransferProgress {
  private rows = 0
  private bytes = 0
  private tablesDone = 0
  private current = ''
  private readonly started = Date.now()
  private readonly verb: string
  private readonly tables: number
  private readonly totalBytes: number
  private readonly listener: ((event: TransferEvent) => void) | undefined

  constructor(options: {verb: string; tables: number; totalBytes: number; listener?: ((event: TransferEvent) => void) | undefined}) {
    this.verb = options.verb
    this.tables = options.tables
    this.totalBytes = options.totalBytes
    this.listener = options.listener
  }

  working(table: string): void {
    this.current = table
  }

  add(rows: number, bytes: number): void {
    this.rows += rows
    this.bytes += bytes
    if (bytes > 0) this.report()
  }

  tableDone(): void {
    this.tablesDone++
    this.report()
  }

  private report(): void {
    if (!this.listener) return
    const seconds = (Date.now() - this.started) / 1000
    const bytesPerSecond = seconds > 1 ? this.bytes / seconds : undefined
    this.listener({
      message: `${this.tablesDone}/${this.tables} tables${this.current ? `, ${this.verb} ${this.current}` : ''}`,
      tablesDone: this.tablesDone,
      tables: this.tables,
      rows: this.rows,
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      ...(bytesPerSecond ? {bytesPerSecond, etaSeconds: Math.round(Math.max(0, this.totalBytes - this.bytes) / bytesPerSecond)} : {}),
    })
  }
}
