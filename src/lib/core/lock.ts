import {randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import {link, open, readFile, rename, rm, stat} from 'node:fs/promises'

export interface FileLockOptions {
  /** How long to wait for the holder to finish (0: refuse at once). */
  timeoutMs?: number
  /** A lock older than this is left over from a crash, whoever holds it (Infinity: only a dead holder's is). */
  staleMs?: number
  /** The error for a lock still held when the wait is over. */
  busy: (holder: LockOwner | null, waitedMs: number) => Error
  /** The error for a lock file that cannot be created. */
  unwritable: (error: unknown) => Error
}

export interface LockOwner {
  pid: number
  host: string
  nonce: string
}

/**
 * An exclusive lock across processes from a lock file created with O_EXCL ('wx'). A lock whose
 * process is gone (same host) or that is older than staleMs is taken over. Takeover renames the lock aside and checks it is still the stale one it judged, so two
 * processes recovering at once do not both remove the other's fresh lock.
 */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const staleMs = options.staleMs ?? 30_000
  const owner: LockOwner = {pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex')}
  const started = Date.now()
  let delay = 2
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600)
      try {
        await handle.writeFile(JSON.stringify(owner))
      } finally {
        await handle.close()
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw options.unwritable(error)
    }
    const holder = await readLockOwner(lockPath)
    if (holder && (await isStale(lockPath, holder.owner, staleMs))) {
      await takeOver(lockPath, holder.text)
      continue
    }
    if (Date.now() - started >= timeoutMs) throw options.busy(holder?.owner ?? null, Date.now() - started)
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay))
    delay = Math.min(delay * 2, 100)
  }
  try {
    return await work()
  } finally {
    const mine = await readLockOwner(lockPath)
    if (mine?.owner?.nonce === owner.nonce) await rm(lockPath, {force: true})
  }
}

async function readLockOwner(lockPath: string): Promise<{text: string; owner: LockOwner | null} | null> {
  let text: string
  try {
    text = await readFile(lockPath, 'utf8')
  } catch {
    return null
  }
  try {
    const owner = JSON.parse(text) as LockOwner
    return {text, owner: typeof owner?.pid === 'number' ? owner : null}
  } catch {
    // Created but not yet written by its owner, or torn by a crash: age decides.
    return {text, owner: null}
  }
}

async function isStale(lockPath: string, owner: LockOwner | null, staleMs: number): Promise<boolean> {
  if (owner && owner.host === hostname() && !processAlive(owner.pid)) return true
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs > staleMs
  } catch {
    return false
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function takeOver(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`
  try {
    await rename(lockPath, aside)
  } catch {
    return
  }
  const moved = await readFile(aside, 'utf8').catch(() => '')
  // Someone replaced the stale lock between our look and our rename: give theirs back.
  if (moved !== staleText) await link(aside, lockPath).catch(() => {})
  await rm(aside, {force: true})
}
