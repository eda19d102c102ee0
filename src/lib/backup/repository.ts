import {createHash, randomBytes} from 'node:crypto'
import {hostname} from 'node:os'
import {resolve} from 'node:path'
import type {Readable} from 'node:stream'
import {DbakitError, ExitCode, environmentError, firstLine, isDbakitError, usageError} from '../core/errors.ts'
import {editDistance} from '../core/text.ts'
import type {Envelope} from '../secrets/envelope.ts'
import {ChunkProblem, decodeChunk, encodeChunk, type ChunkSource} from './codec.ts'
import {LocalStore} from './local-store.ts'
import {
  checkChunkName,
  checkManifestMac,
  chunkAad,
  chunkFileName,
  ENGINES,
  isBackupId,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  manifestInvalid,
  manifestMac,
  newBackupId,
  parseManifest,
  serialiseManifest,
  type ChunkRef,
  type Engine,
  type Manifest,
} from './manifest.ts'
import {DEFAULT_ROW_COUNTERS} from './row-counters.ts'
import {S3Store} from './s3-store.ts'
import {currentOwner, HEARTBEAT_MS, inParallel, ownerLiveness, type ChunkSink, type Leftover, type StagedBackup, type Store} from './store.ts'

export type {ChunkRef, Engine, Manifest} from './manifest.ts'
export type {ChunkSource} from './codec.ts'

/** What the repository needs of the KMS layer: `Secrets` has both. */
export interface BackupKeys {
  sealBackupKey(backupId: string, key: Uint8Array): Promise<Envelope>
  openBackupKey(backupId: string, envelope: Envelope, where?: string): Promise<Buffer>
}

/** Counts the rows in a chunk's plain bytes, for an engine whose chunk format the repository cannot read. */
export interface RowCounter {
  update(plain: Buffer): void
  rows(): number
}
export type RowCounterFactory = (chunk: ChunkRef) => RowCounter | undefined

export interface RepositoryOptions {
  /** Seals and opens data keys; needed to write or read chunks, not to list, show, delete or clean up. */
  secrets?: BackupKeys
  s3Endpoint?: string
  env?: NodeJS.ProcessEnv
  /** Told about what list() skips: a manifest that cannot be read. */
  warn?: (message: string) => void
  /** Row counters by engine, for verify; chunks without one are checked without counting rows. */
  rowCounters?: Partial<Record<Engine, RowCounterFactory>>
}

/** Something under backups/ that is not a complete backup, and what cleanup would do with it. */
export interface IncompleteBackup {
  id: string
  kind: 'incomplete' | 'deleting'
  host?: string
  pid?: number
  lastActivity: string
  idleMs: number
  /** live or dead as this host can tell; unknown for another host's writer, judged by its heartbeat. */
  writer: 'live' | 'dead' | 'unknown'
  removable: boolean
  reason: string
}

export interface VerifyResult {
  ok: boolean
  bad: Array<{chunk: string; problem: string}>
  chunks: number
  /** Chunks whose row count was checked, by the engine's counter. */
  rowsChecked: number
}

export interface Repository {
  readonly location: string
  begin(options: {engine: Engine; server: Record<string, unknown>}): Promise<BackupWriter>
  /** Complete backups only, newest first, read from their manifests (there is no shared index). */
  list(): Promise<Manifest[]>
  /** One complete backup's manifest, read without its key (its MAC is checked by open()). */
  manifest(id: string): Promise<Manifest>
  /** Unknown id: usage error (exit 2) with the closest ids. */
  open(id: string): Promise<BackupReader>
  /** What killed or running writers and unfinished deletions left, with what cleanup would do. */
  incomplete(options?: {olderThanMs?: number}): Promise<IncompleteBackup[]>
  /** Removes what killed runs left; returns the ids removed (with dryRun, those it would remove). */
  cleanupIncomplete(options?: {olderThanMs?: number; dryRun?: boolean}): Promise<string[]>
  delete(id: string): Promise<void>
  close(): Promise<void>
}

/** What the manifest records of a chunk besides its hashes; `rows` may be counted as the chunk streams, and is read when it ends. */
export interface ChunkInfo {
  rows?: number | (() => number)
  meta?: Record<string, unknown>
}

export interface BackupWriter {
  readonly id: string
  /**
   * Streams one chunk: zstd, AES-256-GCM under the backup's data key with a fresh IV and AAD =
   * backup id + chunk name, SHA-256 of stored and plain bytes, all in one pass with flat memory.
   * Chunks may be written concurrently.
   */
  writeChunk(name: string, source: ChunkSource, info?: ChunkInfo): Promise<ChunkRef>
  /** Writes the manifest last and makes the backup visible atomically. */
  commit(body: Record<string, unknown>): Promise<Manifest>
  /** Removes everything the backup wrote; chunks still being written fail. */
  abort(): Promise<void>
}

export interface BackupReader {
  readonly manifest: Manifest
  /**
   * Plain bytes of a chunk, decrypted and decompressed. The stream errors (exit 1, code
   * CHUNK_CORRUPT, naming the chunk) if the stored hash, the GCM tag or the plain hash does not
   * match; those checks end the stream, so bytes read before an error must be discarded.
   */
  readChunk(name: string): Readable
  /** Checks every chunk (hash, decrypt, decompress, plain hash, row count when recorded) without writing anything. */
  verify(onProgress?: (done: number, total: number) => void): Promise<VerifyResult>
  /** Zeroes the data key; the reader reads nothing after. */
  close(): void
}

export const DEFAULT_CLEANUP_AGE_MS = 60 * 60_000
/**
 * A writer on another host is presumed alive while its heartbeat is younger than this, whatever
 * the threshold asked for: ten missed heartbeats, and room for clocks that disagree a little.
 */
export const FOREIGN_WRITER_GRACE_MS = 10 * HEARTBEAT_MS
const DATA_KEY_BYTES = 32
/** The KMS layer calls these usage errors; for a backup they mean its key is out of reach here (exit 3). */
const UNREACHABLE_KEY = ['KMS_NOT_CONFIGURED', 'KMS_PROVIDER_NOT_CONFIGURED', 'KMS_CREDENTIAL_MISSING']
const VERIFY_PARALLEL = 2

export async function openRepository(location: string, options: RepositoryOptions = {}): Promise<Repository> {
  if (typeof location !== 'string' || location.trim() === '') throw usageError('REPO_REQUIRED', 'no backup repository was named', {hint: 'pass --repo DIR or s3://bucket/prefix, set DBAKIT_REPO, or set backup.repo in the config'})
  const env = options.env ?? process.env
  let store: Store
  if (location.startsWith('s3://')) store = new S3Store(location, {...(options.s3Endpoint ? {endpoint: options.s3Endpoint} : {}), env})
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) throw usageError('REPO_INVALID', `${location}: dbakit keeps backups in a directory or under s3://bucket/prefix`, {hint: 'for another S3-compatible store, use s3://bucket/prefix with --s3-endpoint URL'})
  else store = new LocalStore(resolve(location))
  return new BackupRepository(store, options)
}

class BackupRepository implements Repository {
  private readonly store: Store
  private readonly options: RepositoryOptions

  constructor(store: Store, options: RepositoryOptions) {
    this.store = store
    this.options = options
  }

  get location(): string {
    return this.store.location
  }

  async begin(options: {engine: Engine; server: Record<string, unknown>}): Promise<BackupWriter> {
    if (!ENGINES.includes(options.engine)) throw usageError('BACKUP_ENGINE_INVALID', `${String(options.engine)} is not one of ${ENGINES.join(', ')}`)
    const secrets = this.secrets()
    // The next run cleans up what a killed one left; a failure here must not stop a backup.
    await this.cleanupIncomplete().catch((error: unknown) => this.options.warn?.(`could not clean up incomplete backups in ${this.location}: ${firstLine(error)}`))
    const createdAt = new Date()
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = newBackupId(options.engine, createdAt)
      const key = randomBytes(DATA_KEY_BYTES)
      let staged: StagedBackup | false
      try {
        // Sealed before anything is written: an unreachable KMS leaves the repository untouched.
        const envelope = await secrets.sealBackupKey(id, key).catch((error: unknown) => {
          // Without the credential the KMS cannot be reached, as when it does not answer: an environment problem, as on restore.
          if (isDbakitError(error) && error.code === 'KMS_CREDENTIAL_MISSING') throw environmentError('BACKUP_KEY_UNAVAILABLE', `cannot seal the new backup's data key: ${error.message}`, {...(error.hint ? {hint: error.hint} : {}), cause: error})
          throw error
        })
        staged = await this.reading(`starting backup ${id}`, () => this.store.create(id, currentOwner(createdAt)))
        if (staged) return new Writer({id, engine: options.engine, server: options.server, createdAt, key, envelope, staged, location: this.location})
      } catch (error) {
        key.fill(0)
        throw error
      }
      key.fill(0)
    }
    throw new DbakitError(ExitCode.bug, 'BACKUP_ID_TAKEN', 'five new backup ids in a row were already taken')
  }

  async list(): Promise<Manifest[]> {
    const ids = await this.reading('listing backups', () => this.store.candidateIds())
    if (ids === undefined) throw this.noRepository()
    const manifests = await inParallel(ids, 8, async (id) => {
      try {
        return await this.manifestOf(id)
      } catch (error) {
        if (!isDbakitError(error) || error.exitCode !== ExitCode.findings) throw error
        this.options.warn?.(error.message)
        return undefined
      }
    })
    return manifests.filter((m): m is Manifest => m !== undefined).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  }

  async manifest(id: string): Promise<Manifest> {
    const manifest = await this.manifestOf(id)
    if (!manifest) throw await this.notFound(id)
    return manifest
  }

  async open(id: string): Promise<BackupReader> {
    const manifest = await this.manifest(id)
    const key = await this.unseal(manifest)
    try {
      checkManifestMac(manifest, key, this.where(id))
    } catch (error) {
      key.fill(0)
      throw error
    }
    return new Reader(manifest, key, this.store, this.where(id), (this.options.rowCounters ?? DEFAULT_ROW_COUNTERS)[manifest.engine])
  }

  async incomplete(options: {olderThanMs?: number} = {}): Promise<IncompleteBackup[]> {
    return (await this.judged(options.olderThanMs)).map(({entry}) => entry)
  }

  async cleanupIncomplete(options: {olderThanMs?: number; dryRun?: boolean} = {}): Promise<string[]> {
    const removable = (await this.judged(options.olderThanMs)).filter(({entry}) => entry.removable)
    if (options.dryRun) return removable.map(({entry}) => entry.id)
    const removed: string[] = []
    for (const {entry, leftover} of removable) {
      await this.reading(`removing incomplete backup ${entry.id}`, () => this.store.removeLeftover(leftover))
      removed.push(entry.id)
    }
    return removed
  }

  private async judged(olderThanMs = DEFAULT_CLEANUP_AGE_MS): Promise<Array<{entry: IncompleteBackup; leftover: Leftover}>> {
    const now = Date.now()
    const leftovers = await this.reading('looking for incomplete backups', () => this.store.leftovers())
    return leftovers.map((leftover) => ({entry: judge(leftover, olderThanMs, now), leftover})).sort((a, b) => (a.entry.id < b.entry.id ? -1 : 1))
  }

  async delete(id: string): Promise<void> {
    // A backup whose manifest is damaged must still be deletable.
    if (!isBackupId(id) || (await this.store.readManifest(id)) === undefined) throw await this.notFound(id)
    await this.reading(`deleting backup ${id}`, () => this.store.remove(id))
  }

  close(): Promise<void> {
    return this.store.close()
  }

  private async manifestOf(id: string): Promise<Manifest | undefined> {
    if (!isBackupId(id)) return undefined
    const text = await this.reading(`reading the manifest of backup ${id}`, () => this.store.readManifest(id))
    if (text === undefined) return undefined
    const manifest = parseManifest(text, this.where(id))
    if (manifest.id !== id) throw manifestInvalid(this.where(id), `it describes backup ${manifest.id}: it was copied or moved here`)
    return manifest
  }

  private async reading<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw storeFailure(error, this.location, what)
    }
  }

  private where(id: string): string {
    return `backup ${id} in ${this.location}`
  }

  private secrets(): BackupKeys {
    if (!this.options.secrets) throw new DbakitError(ExitCode.bug, 'BACKUP_NO_KEYS', 'the repository was opened without access to the KMS')
    return this.options.secrets
  }

  /** The data key; a key this config cannot reach is an environment problem (exit 3), like a KMS that does not answer. */
  private async unseal(manifest: Manifest): Promise<Buffer> {
    try {
      return await this.secrets().openBackupKey(manifest.id, manifest.key, this.where(manifest.id))
    } catch (error) {
      if (isDbakitError(error) && UNREACHABLE_KEY.includes(error.code)) {
        const {provider, keyId, keyVersion} = manifest.key.key
        const missing = error.code === 'KMS_CREDENTIAL_MISSING'
        throw environmentError('BACKUP_KEY_UNAVAILABLE', `backup ${manifest.id}: its data key is sealed by ${provider} key ${keyId} version ${keyVersion}, ${missing ? `and ${error.message}` : 'which this config cannot use'}`, {
          hint: missing ? error.hint : `run dbakit with the config that made the backup, or set up the same key here with \`dbakit kms init --provider ${provider} ...\``,
          data: {backup: manifest.id, key: manifest.key.key},
          cause: error,
        })
      }
      throw error
    }
  }

  private noRepository(): DbakitError {
    return usageError('REPO_NOT_FOUND', `there is no backup repository at ${this.location}`, {hint: 'check --repo (or DBAKIT_REPO, backup.repo in the config); a repository is created by its first backup'})
  }

  private async notFound(id: string): Promise<DbakitError> {
    const incomplete = (await this.store.leftovers().catch(() => [])).find((leftover) => leftover.id === id)
    if (incomplete) {
      return usageError('BACKUP_INCOMPLETE', `backup ${id} in ${this.location} is not complete: its writer ${incomplete.kind === 'deleting' ? 'was deleting it' : 'never committed it'}`, {
        hint: '`dbakit backup cleanup` removes what killed runs left',
      })
    }
    const ids = (await this.list()).map((m) => m.id)
    const near = closestIds(id, ids)
    return usageError('BACKUP_NOT_FOUND', `there is no backup ${id} in ${this.location}`, {
      hint: near.length > 0 ? `did you mean ${near.join(', ')}? (\`dbakit backup list\` shows them all)` : ids.length > 0 ? `\`dbakit backup list\` shows the ${ids.length} there are` : 'the repository holds no complete backup',
      data: {closest: near},
    })
  }
}

/** Up to three ids that contain what was typed, or are a few edits from it. */
function closestIds(typed: string, ids: string[]): string[] {
  const text = typed.toLowerCase()
  const containing = ids.filter((id) => text.length >= 4 && id.includes(text))
  const tolerance = Math.max(2, Math.floor(text.length / 3))
  const near = ids
    .map((id) => ({id, distance: editDistance(text, id)}))
    .filter(({id, distance}) => distance <= tolerance && !containing.includes(id))
    .sort((a, b) => a.distance - b.distance)
    .map(({id}) => id)
  return [...containing, ...near].slice(0, 3)
}

/**
 * Whether cleanup may remove a leftover. On this host the writer's process says it: a dead one's
 * leftovers go at once, a live one's never. Another host's writer cannot be asked, so its
 * heartbeat must be older than the threshold (and never younger than FOREIGN_WRITER_GRACE_MS).
 */
function judge(leftover: Leftover, threshold: number, now: number): IncompleteBackup {
  const idleMs = Math.max(0, now - leftover.lastActivity.getTime())
  const owner = leftover.owner
  const base = {id: leftover.id, kind: leftover.kind, ...(owner ? {host: owner.host, pid: owner.pid} : {}), lastActivity: leftover.lastActivity.toISOString(), idleMs}
  if (leftover.kind === 'deleting') return {...base, writer: 'dead', removable: true, reason: 'a deletion that did not finish'}
  const writer = owner ? ownerLiveness(owner) : 'unknown'
  if (writer === 'live') return {...base, writer, removable: false, reason: `its writer, process ${owner!.pid} on this host, is still running`}
  if (writer === 'dead') return {...base, writer, removable: true, reason: `its writer, process ${owner!.pid} on this host, is gone`}
  const limit = Math.max(threshold, FOREIGN_WRITER_GRACE_MS)
  const who = owner ? `its writer on ${owner.host}` : 'a writer that left no owner record'
  return idleMs >= limit
    ? {...base, writer, removable: true, reason: `${who} has not been heard from for ${minutes(idleMs)}`}
    : {...base, writer, removable: false, reason: `${who} was heard from ${minutes(idleMs)} ago: presumed still running (removed after ${minutes(limit)} without a heartbeat)`}
}

const minutes = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`)

/** A failure writing or reading the repository, in dbakit's terms; the S3 store has already translated its own. */
function storeFailure(error: unknown, location: string, what: string): DbakitError {
  if (isDbakitError(error)) return error
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return environmentError('REPO_FULL', `${location}: no space left (${code}) while ${what}; what the backup had written was removed`, {
      hint: 'free space in the repository (`dbakit backup delete` old backups), or use another --repo',
      data: {location, errno: code},
    })
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return environmentError('REPO_NOT_WRITABLE', `${location}: ${code} while ${what}`, {hint: 'check the permissions of the repository directory, or use another --repo', data: {location, errno: code}})
  }
  if (typeof code === 'string') return environmentError('REPO_IO', `${location}: ${code} while ${what}: ${firstLine(error)}`, {data: {location, errno: code}})
  return new DbakitError(ExitCode.bug, 'INTERNAL', `${what}: ${firstLine(error)}`, {cause: error})
}

interface WriterInit {
  id: string
  engine: Engine
  server: Record<string, unknown>
  createdAt: Date
  key: Buffer
  envelope: Envelope
  staged: StagedBackup
  location: string
}

class Writer implements BackupWriter {
  readonly id: string
  private readonly init: WriterInit
  private state: 'open' | 'committing' | 'committed' | 'aborted' = 'open'
  /** Why the backup was given up (a full disk): every later call says the same. */
  private failure: DbakitError | undefined
  private readonly chunks: Array<ChunkRef | undefined> = []
  private readonly names = new Set<string>()
  private readonly sinks = new Set<ChunkSink>()
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly heartbeat: NodeJS.Timeout

  constructor(init: WriterInit) {
    this.id = init.id
    this.init = init
    this.heartbeat = setInterval(() => void init.staged.heartbeat().catch(() => {}), HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  writeChunk(name: string, source: ChunkSource, info: ChunkInfo = {}): Promise<ChunkRef> {
    try {
      this.usable()
      checkChunkName(name)
      if (this.names.has(name)) throw usageError('CHUNK_DUPLICATE', `backup ${this.id} already has a chunk named ${name}`)
    } catch (error) {
      return Promise.reject(error)
    }
    this.names.add(name)
    const sequence = this.chunks.push(undefined)
    const work = this.write(sequence, name, source, info)
    this.inflight.add(work)
    void work.then(
      () => this.inflight.delete(work),
      () => this.inflight.delete(work),
    )
    return work
  }

  private async write(sequence: number, name: string, source: ChunkSource, info: ChunkInfo): Promise<ChunkRef> {
    const file = chunkFileName(sequence, name)
    let sink: ChunkSink | undefined
    let sinkError: unknown
    let encoding = false
    try {
      sink = await this.init.staged.chunkSink(file)
      this.sinks.add(sink)
      this.usable()
      sink.stream.once('error', (error) => (sinkError ??= error))
      encoding = true
      const encoded = await encodeChunk(source, this.init.key, chunkAad(this.id, name), sink.stream)
      encoding = false
      await sink.finish()
      const rows = typeof info.rows === 'function' ? info.rows() : info.rows
      const ref: ChunkRef = {name, file, ...encoded, ...(rows === undefined ? {} : {rows}), ...(info.meta === undefined ? {} : {meta: info.meta})}
      this.chunks[sequence - 1] = ref
      return ref
    } catch (error) {
      await sink?.discard().catch(() => {})
      this.names.delete(name)
      if (this.failure) throw this.failure
      if (this.state === 'aborted') throw aborted(this.id)
      // Errors of the engine's source stream are its own; those of the store are the repository's.
      if (encoding && sinkError === undefined) throw error
      const failure = storeFailure(sinkError ?? error, this.init.location, `writing chunk ${name} of backup ${this.id}`)
      if (failure.code === 'REPO_FULL') await this.giveUp(failure)
      throw failure
    } finally {
      if (sink) this.sinks.delete(sink)
      this.release()
    }
  }

  async commit(body: Record<string, unknown>): Promise<Manifest> {
    this.usable()
    if (this.inflight.size > 0) throw new DbakitError(ExitCode.bug, 'BACKUP_CHUNKS_PENDING', `backup ${this.id}: commit while ${this.inflight.size} chunk(s) are still being written`)
    this.state = 'committing'
    clearInterval(this.heartbeat)
    const {init} = this
    let manifest: Manifest
    try {
      // Through JSON and back: the MAC covers exactly what a reader will parse.
      const unsigned = JSON.parse(
        JSON.stringify({
          format: MANIFEST_FORMAT,
          version: MANIFEST_VERSION,
          id: this.id,
          engine: init.engine,
          createdAt: init.createdAt.toISOString(),
          completedAt: new Date().toISOString(),
          host: hostname(),
          server: init.server,
          key: init.envelope,
          chunks: this.chunks.filter((chunk): chunk is ChunkRef => chunk !== undefined),
          body,
        }),
      ) as Omit<Manifest, 'mac'>
      manifest = {...unsigned, mac: manifestMac(unsigned, init.key)}
    } catch (error) {
      this.state = 'open'
      throw usageError('MANIFEST_BODY_INVALID', `backup ${this.id}: the manifest cannot be written as JSON: ${firstLine(error)}`)
    }
    try {
      await init.staged.commit(serialiseManifest(manifest))
    } catch (error) {
      const failure = storeFailure(error, init.location, `committing backup ${this.id}`)
      await this.giveUp(failure)
      throw failure
    }
    this.state = 'committed'
    this.release()
    return manifest
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return
    // Also after giveUp: chunks that were in flight then may have written files since, and must be gone too.
    this.state = 'aborted'
    clearInterval(this.heartbeat)
    for (const sink of this.sinks) await sink.discard().catch(() => {})
    await Promise.allSettled([...this.inflight])
    await this.init.staged.discard()
    this.release()
  }

  /** Stops the backup for good and removes what it wrote; chunks still in flight fail with `failure`. */
  private async giveUp(failure: DbakitError): Promise<void> {
    this.failure = failure
    this.state = 'aborted'
    clearInterval(this.heartbeat)
    for (const sink of this.sinks) await sink.discard().catch(() => {})
    await this.init.staged.discard().catch(() => {})
    this.release()
  }

  private usable(): void {
    if (this.failure) throw this.failure
    if (this.state === 'aborted') throw aborted(this.id)
    if (this.state !== 'open') throw new DbakitError(ExitCode.bug, 'BACKUP_COMMITTED', `backup ${this.id} is already ${this.state === 'committed' ? 'committed' : 'being committed'}`)
  }

  /** The key is zeroed once nothing can use it: the backup ended and no chunk is being encrypted. */
  private release(): void {
    if (this.state !== 'open' && this.state !== 'committing' && this.sinks.size === 0) this.init.key.fill(0)
  }
}

const aborted = (id: string) => new DbakitError(ExitCode.stopped, 'BACKUP_ABORTED', `backup ${id} was aborted`)

class Reader implements BackupReader {
  readonly manifest: Manifest
  private readonly key: Buffer
  private readonly store: Store
  private readonly where: string
  private readonly rowCounter: RowCounterFactory | undefined

  constructor(manifest: Manifest, key: Buffer, store: Store, where: string, rowCounter: RowCounterFactory | undefined) {
    this.manifest = manifest
    this.key = key
    this.store = store
    this.where = where
    this.rowCounter = rowCounter
  }

  readChunk(name: string): Readable {
    const chunk = this.manifest.chunks.find((c) => c.name === name)
    if (!chunk) {
      const near = closestIds(name, this.manifest.chunks.map((c) => c.name))
      throw usageError('CHUNK_NOT_FOUND', `${this.where} has no chunk ${name}`, {hint: near.length > 0 ? `did you mean ${near.join(', ')}?` : '`dbakit backup show ID --json` lists its chunks'})
    }
    return this.decode(chunk).stream
  }

  async verify(onProgress?: (done: number, total: number) => void): Promise<VerifyResult> {
    const {chunks} = this.manifest
    const problems = new Map<string, string>()
    let done = 0
    let rowsChecked = 0
    onProgress?.(0, chunks.length)
    await inParallel(chunks, VERIFY_PARALLEL, async (chunk) => {
      const counter = chunk.rows === undefined ? undefined : this.rowCounter?.(chunk)
      const decoded = this.decode(chunk, counter ? (plain) => counter.update(plain) : undefined)
      // The outcome is read from `done`; the stream's own error event would go unheard.
      decoded.stream.on('error', () => {}).resume()
      try {
        await decoded.done
        if (counter) {
          rowsChecked++
          if (counter.rows() !== chunk.rows) problems.set(chunk.name, `it holds ${counter.rows()} rows, and the manifest says ${chunk.rows}`)
        }
      } catch (error) {
        if (!isDbakitError(error) || error.code !== 'CHUNK_CORRUPT') throw error
        problems.set(chunk.name, String(error.data?.problem))
      }
      onProgress?.(++done, chunks.length)
    })
    const bad = chunks.filter((c) => problems.has(c.name)).map((c) => ({chunk: c.name, problem: problems.get(c.name)!}))
    return {ok: bad.length === 0, bad, chunks: chunks.length, rowsChecked}
  }

  close(): void {
    this.key.fill(0)
  }

  private decode(chunk: ChunkRef, onPlain?: (plain: Buffer) => void): {stream: Readable; done: Promise<void>} {
    const {stream, done} = decodeChunk(this.store.chunk(this.manifest.id, chunk.file), this.key, chunkAad(this.manifest.id, chunk.name), chunk, onPlain)
    const settled = done.catch(async (error: unknown) => {
      const failure = await this.explain(chunk, error)
      stream.destroy(failure)
      throw failure
    })
    settled.catch(() => {})
    return {stream, done: settled}
  }

  private async explain(chunk: ChunkRef, error: unknown): Promise<DbakitError | Error> {
    if (isDbakitError(error)) return error
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_STREAM_PREMATURE_CLOSE') return error as Error
    let problem: string
    if (error instanceof ChunkProblem) {
      problem = error.message
      // A damaged frame or tag is nearly always stored bytes that changed: say so when they did.
      if (error.kind !== 'size' && error.kind !== 'stored-hash' && (await this.storedChanged(chunk))) problem = 'its stored bytes do not match their SHA-256 in the manifest: they changed after the backup was written'
    } else if (code === 'ENOENT') {
      problem = 'its stored file is missing'
    } else if (typeof code === 'string') {
      return environmentError('REPO_IO', `${this.where}: chunk ${chunk.name}: ${code}: ${firstLine(error)}`, {data: {backup: this.manifest.id, chunk: chunk.name, errno: code}})
    } else {
      return error as Error
    }
    return new DbakitError(ExitCode.findings, 'CHUNK_CORRUPT', `${this.where}: chunk ${chunk.name}: ${problem}`, {
      hint: 'this backup cannot be restored whole; verify the others (`dbakit backup verify ID`) and restore from one that passes',
      data: {backup: this.manifest.id, chunk: chunk.name, problem},
    })
  }

  /** Re-reads the stored bytes only to hash them; false when they cannot be read either. */
  private async storedChanged(chunk: ChunkRef): Promise<boolean> {
    const hash = createHash('sha256')
    try {
      for await (const part of this.store.chunk(this.manifest.id, chunk.file)) hash.update(part)
    } catch {
      return false
    }
    return hash.digest('hex') !== chunk.sha256
  }
}
