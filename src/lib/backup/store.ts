import {readFileSync, readlinkSync} from 'node:fs'
import {hostname} from 'node:os'
import type {Writable} from 'node:stream'

/**
 * Where a repository's bytes live: a directory or an S3 prefix. The repository's rules (ids,
 * codec, manifest, when a backup counts as complete) are above this; a store only knows how to
 * make a backup appear all at once and how to find what a killed writer left.
 */
export interface Store {
  readonly location: string
  /** Ids that may be complete backups, unordered; `undefined` when the location itself does not exist. */
  candidateIds(): Promise<string[] | undefined>
  /** The manifest's text, or undefined when the backup is not (or no longer) complete. */
  readManifest(id: string): Promise<string | undefined>
  /** What is there but not complete: killed or running writers, half-finished deletions. */
  leftovers(): Promise<Leftover[]>
  removeLeftover(leftover: Leftover): Promise<void>
  /** Reserves `id`; false when something already has it. */
  create(id: string, owner: Owner): Promise<StagedBackup | false>
  /** Makes a complete backup invisible at once, then removes its chunks. */
  remove(id: string): Promise<void>
  chunk(id: string, file: string): AsyncIterable<Buffer>
  close(): Promise<void>
}

export interface StagedBackup {
  chunkSink(file: string): Promise<ChunkSink>
  /** Proves the writer is alive to cleaners on other hosts. */
  heartbeat(): Promise<void>
  /** Writes the manifest and makes the backup visible; nothing is visible before this returns. */
  commit(manifestText: string): Promise<void>
  discard(): Promise<void>
}

export interface ChunkSink {
  stream: Writable
  /** After the stream finished: durable once this resolves. */
  finish(): Promise<void>
  /** Removes whatever part of the chunk reached the store. */
  discard(): Promise<void>
}

/** Who is writing a backup, kept beside its chunks until it commits. */
export interface Owner {
  host: string
  pid: number
  /** Tells a reboot, or another machine with the same name, from the same running system. */
  bootId?: string
  pidNamespace?: string
  /** The process's start time in clock ticks since boot: a recycled pid is not mistaken for the writer. */
  processStart?: string
  startedAt: string
}

export interface Leftover {
  id: string
  kind: 'incomplete' | 'deleting'
  owner?: Owner
  /** The writer's last heartbeat, or the newest write when it left no owner record. */
  lastActivity: Date
}

export const OWNER_FILE = 'owner.json'
export const MANIFEST_FILE = 'manifest.json'
export const HEARTBEAT_MS = 30_000

const readText = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** /proc/PID/stat field 22; the command name before it may hold spaces and parentheses. */
function processStart(pid: number | 'self'): string | undefined {
  const stat = readText(`/proc/${pid}/stat`)
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return undefined
  }
}

export function currentOwner(now = new Date()): Owner {
  const bootId = readText('/proc/sys/kernel/random/boot_id')
  const namespace = pidNamespace()
  const start = processStart('self')
  return {host: hostname(), pid: process.pid, ...(bootId ? {bootId} : {}), ...(namespace ? {pidNamespace: namespace} : {}), ...(start ? {processStart: start} : {}), startedAt: now.toISOString()}
}

/**
 * Whether the writer is alive, as far as this host can tell: `unknown` for another host (or the
 * same name after a reboot, or in another pid namespace), where only its heartbeat can say.
 */
export function ownerLiveness(owner: Owner): 'live' | 'dead' | 'unknown' {
  const here = currentOwner()
  if (owner.host !== here.host || owner.bootId !== here.bootId || owner.pidNamespace !== here.pidNamespace) return 'unknown'
  if (owner.processStart !== undefined && here.processStart !== undefined) {
    const start = processStart(owner.pid)
    if (start !== undefined) return start === owner.processStart ? 'live' : 'dead'
    return readText('/proc/self/stat') === undefined ? probe(owner.pid) : 'dead'
  }
  return probe(owner.pid)
}

function probe(pid: number): 'live' | 'dead' {
  try {
    process.kill(pid, 0)
    return 'live'
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'live' : 'dead'
  }
}

export function parseOwner(text: string | undefined): Owner | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as Owner
    return typeof value === 'object' && value !== null && typeof value.host === 'string' && Number.isInteger(value.pid) ? value : undefined
  } catch {
    return undefined
  }
}

/** `work` over `items`, at most `limit` at a time, results in order. */
export async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index]!)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}
