import {errnoOf, type MysqlSession} from '../connect/drivers/mysql.ts'

export {ident, qualified} from '../sql/identifiers.ts'

export {errnoOf} from '../connect/drivers/mysql.ts'

/** Lock wait timeout, deadlock, and NOWAIT's refusal: another session holds what this statement needs. */
export const LOCK_ERRORS = new Set([1205, 1213])

export interface RetryOptions {
  /** Give up at this time (ms since epoch) and rethrow the last lock error. */
  deadline: number
  intervalMs?: number
  signal?: AbortSignal
  onAttempt?: (attempt: number) => void
}

/**
 * Runs a statement that needs a metadata lock on a hot table without ever queueing for it: the
 * session's lock_wait_timeout is 0 (or the statement says NOWAIT), so an attempt that cannot take
 * its locks fails at once, and it is tried again a few milliseconds later. A statement that waited
 * would make every application query on the table queue behind it.
 */
export async function withoutQueueing<T>(session: MysqlSession, sql: string, options: RetryOptions): Promise<{result: T; attempts: number}> {
  const interval = options.intervalMs ?? 3
  for (let attempt = 1; ; attempt++) {
    options.onAttempt?.(attempt)
    try {
      return {result: (await session.query(sql)) as T, attempts: attempt}
    } catch (error) {
      if (!LOCK_ERRORS.has(errnoOf(error) ?? 0) || Date.now() + interval > options.deadline || options.signal?.aborted) throw error
      await new Promise((resolve) => setTimeout(resolve, interval))
    }
  }
}
