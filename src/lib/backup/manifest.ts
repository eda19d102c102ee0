import {createHmac, hkdfSync, randomBytes, timingSafeEqual} from 'node:crypto'
import {DbakitError, ExitCode} from '../core/errors.ts'
import {parseWrittenJson} from '../core/text.ts'
import {parseEnvelope, type Envelope} from '../secrets/envelope.ts'

export const ENGINES = ['mysql', 'redis', 'mongodb'] as const
export type Engine = (typeof ENGINES)[number]

export interface ChunkRef {
  name: string
  /** Where the stored bytes are, relative to the backup's `chunks/` folder or prefix. */
  file: string
  /** Plain bytes, as the engine wrote them. */
  bytes: number
  /** Bytes stored: IV, ciphertext of the zstd frame, GCM tag. */
  storedBytes: number
  /** SHA-256 of the stored (compressed and encrypted) bytes, hex. */
  sha256: string
  /** SHA-256 of the plain bytes, hex. */
  plainSha256: string
  rows?: number
  meta?: Record<string, unknown>
}

export interface Manifest {
  format: 'dbakit-backup'
  version: 1
  id: string
  engine: Engine
  createdAt: string
  completedAt: string
  host: string
  server: Record<string, unknown>
  /** The backup's data key, sealed by the KMS layer, bound to `backup/<id>`. */
  key: Envelope
  chunks: ChunkRef[]
  /** Engine-specific: tables, coordinates, checksums. */
  body: Record<string, unknown>
  /** HMAC-SHA256 of the rest of the manifest under a key derived from the data key (docs/backup-repository.md). */
  mac: string
}

export const MANIFEST_FORMAT = 'dbakit-backup'
export const MANIFEST_VERSION = 1
export const BACKUP_ID = /^(\d{8}T\d{6}Z)-(mysql|redis|mongodb)-([0-9a-f]{8})$/

/**
 * A backup id: the UTC second it began, the engine and 32 random bits. Sorting ids sorts backups by
 * time, and two hosts that begin in the same second still get different ids without asking anyone.
 */
export function newBackupId(engine: Engine, now = new Date()): string {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(/[-:]/g, '')
  return `${stamp}-${engine}-${randomBytes(4).toString('hex')}`
}

export const isBackupId = (text: string) => BACKUP_ID.test(text)

/** The AAD of a chunk's GCM stream: a chunk moved to another name or backup does not authenticate. */
export const chunkAad = (backupId: string, chunk: string) => Buffer.from(JSON.stringify(['dbakit-chunk-v1', backupId, chunk]), 'utf8')

/**
 * JSON with object keys sorted and no whitespace: RFC 8785 (JCS) for the values a manifest holds,
 * so another implementation can recompute the MAC.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value)
}

/** The manifest's MAC key, derived from the data key so that only a holder of the key can forge a manifest. */
const macKey = (dataKey: Uint8Array) => Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'dbakit-backup-manifest-mac-v1', 32))

export function manifestMac(manifest: Omit<Manifest, 'mac'>, dataKey: Uint8Array): string {
  const {mac: _ignored, ...rest} = manifest as Manifest
  return createHmac('sha256', macKey(dataKey)).update(canonicalJson(rest), 'utf8').digest('base64')
}

/** Refuses a manifest edited after it was written: a chunk removed from the list, a checksum changed. */
export function checkManifestMac(manifest: Manifest, dataKey: Uint8Array, where: string): void {
  const expected = Buffer.from(manifestMac(manifest, dataKey), 'base64')
  const actual = Buffer.from(manifest.mac, 'base64')
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw manifestInvalid(where, 'its MAC does not match: the manifest was changed after the backup was written')
  }
}

export interface BackupSummary {
  id: string
  engine: Engine
  host: string
  server: Record<string, unknown>
  createdAt: string
  completedAt: string
  chunks: number
  rows: number | null
  bytes: number
  storedBytes: number
}

/** What a listing shows of a backup: its manifest without the chunk list and key. */
export function summariseManifest(manifest: Manifest): BackupSummary {
  const counted = manifest.chunks.filter((chunk) => chunk.rows !== undefined)
  return {
    id: manifest.id,
    engine: manifest.engine,
    host: manifest.host,
    server: manifest.server,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    chunks: manifest.chunks.length,
    rows: counted.length === 0 ? null : counted.reduce((sum, chunk) => sum + chunk.rows!, 0),
    bytes: manifest.chunks.reduce((sum, chunk) => sum + chunk.bytes, 0),
    storedBytes: manifest.chunks.reduce((sum, chunk) => sum + chunk.storedBytes, 0),
  }
}

export const serialiseManifest = (manifest: Manifest) => `${JSON.stringify(manifest, null, 2)}\n`

/** Reads a manifest's text; anything that is not a whole version-1 manifest is refused, naming where it came from. */
export function parseManifest(text: string, where: string): Manifest {
  const value = parseWrittenJson(text, (why) => manifestInvalid(where, why))
  const problem = manifestProblem(value, where)
  if (problem) throw manifestInvalid(where, problem)
  return value as Manifest
}

function manifestProblem(value: unknown, where: string): string | undefined {
  if (!isObject(value)) return 'it is not a manifest object'
  const m = value
  if (m.format !== MANIFEST_FORMAT) return `its format is not ${MANIFEST_FORMAT}`
  if (m.version !== MANIFEST_VERSION) return `its version ${String(m.version)} is not one this dbakit reads (${MANIFEST_VERSION}); a newer dbakit may have written it`
  if (typeof m.id !== 'string' || !isBackupId(m.id)) return 'its id is not a backup id'
  if (!ENGINES.includes(m.engine as Engine)) return `its engine ${String(m.engine)} is not one of ${ENGINES.join(', ')}`
  for (const field of ['createdAt', 'completedAt', 'host', 'mac'] as const) if (typeof m[field] !== 'string') return `its ${field} is missing`
  if (!isObject(m.server) || !isObject(m.body)) return 'its server or body is not an object'
  try {
    parseEnvelope(JSON.stringify(m.key), `${where} (key)`)
  } catch (error) {
    return `its key is not a sealed data key: ${(error as Error).message}`
  }
  if (!Array.isArray(m.chunks)) return 'its chunk list is missing'
  const names = new Set<string>()
  for (const [index, chunk] of (m.chunks as unknown[]).entries()) {
    if (!isObject(chunk) || typeof chunk.name !== 'string' || typeof chunk.file !== 'string') return `chunk ${index + 1} has no name or file`
    if (names.has(chunk.name)) return `chunk ${chunk.name} is listed twice`
    names.add(chunk.name)
    if (!safeFileName(chunk.file)) return `chunk ${chunk.name} names a file outside the backup`
    for (const field of ['bytes', 'storedBytes'] as const) if (!Number.isSafeInteger(chunk[field]) || (chunk[field] as number) < 0) return `chunk ${chunk.name} has no ${field}`
    for (const field of ['sha256', 'plainSha256'] as const) if (typeof chunk[field] !== 'string' || !/^[0-9a-f]{64}$/.test(chunk[field] as string)) return `chunk ${chunk.name} has no ${field}`
    if (chunk.rows !== undefined && (!Number.isSafeInteger(chunk.rows) || (chunk.rows as number) < 0)) return `chunk ${chunk.name} has a bad row count`
  }
  return undefined
}

/**
 * A chunk's file name: its position, then its name with anything outside [A-Za-z0-9._-] made `_`
 * and cut short, so that any engine's names (a table called `a/b`, in any script) make a safe,
 * unique name that a person can still recognise.
 */
export function chunkFileName(sequence: number, name: string): string {
  const slug = name.replaceAll(/[^A-Za-z0-9._-]/g, '_').slice(0, 80)
  return `${String(sequence).padStart(6, '0')}-${slug}`
}

const safeFileName = (file: string) => /^[A-Za-z0-9._-]{1,120}$/.test(file) && file !== '.' && file !== '..'

/** A chunk name the engine chose: anything printable, unique within the backup. */
export function checkChunkName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new DbakitError(ExitCode.usage, 'CHUNK_NAME_INVALID', `chunk name ${JSON.stringify(name)} is empty, too long or has control characters`)
  }
}

export function manifestInvalid(where: string, why: string): DbakitError {
  return new DbakitError(ExitCode.findings, 'MANIFEST_INVALID', `${where}: refused: ${why}`, {
    hint: 'nothing was restored from it; use another backup, or copy this one again from a good copy',
    data: {where},
  })
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
