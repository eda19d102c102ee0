import {createHash} from 'node:crypto'
import {hostname, userInfo} from 'node:os'
import {mkdir, open, readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {DbakitError, ExitCode, environmentError, usageError} from '../core/errors.ts'
import {withFileLock, type FileLockOptions} from '../core/lock.ts'
import {stateDirPath} from '../core/paths.ts'

/**
 * The secret audit log: one entry per secret read, write, rotation and rewrap, each chained to the one
 * before by a SHA-256 hash, so that changing, removing or reordering an entry is detected by walking
 * the chain. The format is specified in docs/secret-audit-log.md; keep the two in step.
 *
 * An entry has no field for a secret value, and append() accepts only the fields below with bounded,
 * shaped values: a caller cannot smuggle a value in under another name.
 */

export type AuditAction = 'read' | 'write' | 'delete' | 'rotate' | 'rewrap' | 'init' | 'list' | 'status'
export type AuditOutcome = 'ok' | 'denied' | 'error'

/** What the caller says happened; who, where and when are filled in by append(). */
export interface AuditEvent {
  action: AuditAction
  /** The secret's name or the profile it belongs to; never its value. */
  target: string
  /** The key provider involved (pkcs11, vault-transit, aws-kms, passphrase, keychain), if any. */
  provider?: string | null
  keyId?: string | null
  keyVersion?: number | null
  outcome: AuditOutcome
  /** The DbakitError code of a denied or failed operation, e.g. KMS_UNREACHABLE. */
  code?: string | null
}

export interface AuditEntry {
  v: 1
  seq: number
  time: string
  user: string
  host: string
  pid: number
  action: string
  target: string
  provider: string | null
  keyId: string | null
  keyVersion: number | null
  outcome: AuditOutcome
  code: string | null
  /** The hash of the entry before, or GENESIS_PREV for seq 1. */
  prev: string
  hash: string
}

export const GENESIS_PREV = '0'.repeat(64)
export const ENTRY_FIELDS = ['v', 'seq', 'time', 'user', 'host', 'pid', 'action', 'target', 'provider', 'keyId', 'keyVersion', 'outcome', 'code', 'prev', 'hash'] as const

export type AuditProblemKind = 'changed' | 'removed' | 'reordered' | 'chain' | 'corrupt' | 'truncated' | 'head-missing' | 'head-mismatch'

export interface AuditProblem {
  kind: AuditProblemKind
  /** 1-based line of the file, or row in seq order of the table. */
  line: number
  seq?: number
  message: string
}

export interface AuditHead {
  seq: number
  hash: string
}

export interface AuditVerification {
  location: string
  intact: boolean
  entries: number
  head: AuditHead | null
  problem?: AuditProblem
}

export interface AuditReading {
  location: string
  entries: AuditEntry[]
  /** Lines (or rows) that are not valid entries; `verify` says why. */
  unreadable: number[]
}

export interface AuditLog {
  /** The file path, or `mysql://host:port/db.table`; for messages. */
  readonly location: string
  append(event: AuditEvent): Promise<AuditEntry>
  read(): Promise<AuditReading>
  verify(options?: {expectHead?: AuditHead}): Promise<AuditVerification>
  close(): Promise<void>
}

/**
 * The bytes the hash covers: every field but the hash, in a fixed order, as compact JSON
 * (ECMAScript JSON.stringify of an array, so no key order or whitespace question arises).
 */
export function canonicalBytes(entry: Omit<AuditEntry, 'hash'>): Buffer {
  const fields = [entry.v, entry.seq, entry.time, entry.user, entry.host, entry.pid, entry.action, entry.target, entry.provider, entry.keyId, entry.keyVersion, entry.outcome, entry.code, entry.prev]
  return Buffer.from(JSON.stringify(fields), 'utf8')
}

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(canonicalBytes(entry)).digest('hex')
}

/** The line written to the file: the fields in ENTRY_FIELDS order, then a newline. */
export function entryLine(entry: AuditEntry): string {
  const ordered: Record<string, unknown> = {}
  for (const field of ENTRY_FIELDS) ordered[field] = entry[field]
  return `${JSON.stringify(ordered)}\n`
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/
const HASH = /^[0-9a-f]{64}$/
const MAX_TEXT = 512
const ALLOWED_EVENT_FIELDS = new Set(['action', 'target', 'provider', 'keyId', 'keyVersion', 'outcome', 'code'])

/**
 * A malformed event is a bug in the caller, not user input: it fails loudly (exit 70) rather than
 * writing an entry that might carry something it should not.
 */
function checkedEvent(event: AuditEvent): AuditEvent {
  const unknown = Object.keys(event).filter((key) => !ALLOWED_EVENT_FIELDS.has(key))
  if (unknown.length > 0) throw new TypeError(`audit event has fields the log does not record: ${unknown.join(', ')}`)
  if (!NAME.test(event.action)) throw new TypeError(`audit event action "${event.action}" is not a lower-case word`)
  if (!['ok', 'denied', 'error'].includes(event.outcome)) throw new TypeError(`audit event outcome "${event.outcome}" is not ok, denied or error`)
  if (typeof event.target !== 'string' || event.target === '' || event.target.length > MAX_TEXT) throw new TypeError('audit event target must be a name of 1 to 512 characters')
  if (event.provider != null && !NAME.test(event.provider)) throw new TypeError(`audit event provider "${event.provider}" is not a provider name`)
  if (event.keyId != null && (typeof event.keyId !== 'string' || event.keyId.length > MAX_TEXT)) throw new TypeError('audit event keyId must be a string of up to 512 characters')
  if (event.keyVersion != null && !(Number.isSafeInteger(event.keyVersion) && event.keyVersion >= 0)) throw new TypeError('audit event keyVersion must be a non-negative integer')
  if (event.code != null && !CODE.test(event.code)) throw new TypeError(`audit event code "${event.code}" is not an error code`)
  return event
}

function who(): {user: string; host: string; pid: number} {
  let user: string
  try {
    user = userInfo().username
  } catch {
    // Containers often run as a uid with no passwd entry.
    user = process.env.USER || `uid:${process.getuid?.() ?? 'unknown'}`
  }
  return {user, host: hostname(), pid: process.pid}
}

/** The next entry after `head` (null for an empty log), sealed with its hash. */
export function nextEntry(event: AuditEvent, head: AuditHead | null, now = new Date()): AuditEntry {
  const checked = checkedEvent(event)
  const unsealed: Omit<AuditEntry, 'hash'> = {
    v: 1,
    seq: head ? head.seq + 1 : 1,
    time: now.toISOString(),
    ...who(),
    action: checked.action,
    target: checked.target,
    provider: checked.provider ?? null,
    keyId: checked.keyId ?? null,
    keyVersion: checked.keyVersion ?? null,
    outcome: checked.outcome,
    code: checked.code ?? null,
    prev: head ? head.hash : GENESIS_PREV,
  }
  return {...unsealed, hash: entryHash(unsealed)}
}

const nullableString = (value: unknown) => value === null || typeof value === 'string'

/** Checks the shape of something read back; returns the reason it is not an entry, or the entry. */
export function parseEntry(value: unknown): AuditEntry | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  const extra = keys.filter((key) => !(ENTRY_FIELDS as readonly string[]).includes(key))
  if (extra.length > 0) return `unknown field ${extra.join(', ')}`
  const missing = ENTRY_FIELDS.filter((field) => !(field in record))
  if (missing.length > 0) return `missing field ${missing.join(', ')}`
  if (record.v !== 1) return `unknown format version ${JSON.stringify(record.v)}`
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return 'seq is not a positive integer'
  if (!Number.isSafeInteger(record.pid)) return 'pid is not an integer'
  for (const field of ['time', 'user', 'host', 'action', 'target', 'outcome'] as const) if (typeof record[field] !== 'string') return `${field} is not a string`
  for (const field of ['provider', 'keyId', 'code'] as const) if (!nullableString(record[field])) return `${field} is not a string or null`
  if (record.keyVersion !== null && !Number.isSafeInteger(record.keyVersion)) return 'keyVersion is not an integer or null'
  if (!['ok', 'denied', 'error'].includes(record.outcome as string)) return `outcome ${JSON.stringify(record.outcome)} is not ok, denied or error`
  if (typeof record.prev !== 'string' || !HASH.test(record.prev)) return 'prev is not a SHA-256 hex digest'
  if (typeof record.hash !== 'string' || !HASH.test(record.hash)) return 'hash is not a SHA-256 hex digest'
  return record as unknown as AuditEntry
}

/** One stored entry as read back: parsed, or the reason it could not be. */
export type StoredRecord = {line: number; entry: AuditEntry} | {line: number; unreadable: string; torn?: boolean}

/**
 * Walks the chain and stops at the first bad record. `unit` names what a record is ("line", "row")
 * in the messages. The checks run in the order that names the cause best: a record that does not
 * parse, then one whose hash does not match its own content (changed), then its place in the
 * sequence (removed or reordered), then its link to the record before (changed and rehashed).
 */
export function verifyChain(location: string, records: StoredRecord[], unit: string, expectHead?: AuditHead): AuditVerification {
  const seqs = records.map((record) => ('entry' in record ? record.entry.seq : undefined))
  let previous: AuditEntry | null = null
  const fail = (problem: AuditProblem): AuditVerification => ({location, intact: false, entries: records.length, head: previous ? {seq: previous.seq, hash: previous.hash} : null, problem})
  for (const [index, record] of records.entries()) {
    const at = `${unit} ${record.line}`
    if (!('entry' in record)) {
      if (record.torn) return fail({kind: 'truncated', line: record.line, message: `${at} is cut short (no final newline): a write was torn or the file was truncated there`})
      return fail({kind: 'corrupt', line: record.line, message: `${at} is not an audit entry: ${record.unreadable}`})
    }
    const {entry} = record
    const expected = previous ? previous.seq + 1 : 1
    if (entryHash(entry) !== entry.hash) {
      return fail({kind: 'changed', line: record.line, seq: entry.seq, message: `${at} (seq ${entry.seq}) was changed: its hash does not match its content`})
    }
    if (entry.seq > expected) {
      const later = seqs.indexOf(expected, index + 1)
      if (later >= 0) {
        return fail({kind: 'reordered', line: record.line, seq: entry.seq, message: `${at} holds seq ${entry.seq} where seq ${expected} belongs (seq ${expected} is at ${unit} ${records[later]!.line}): entries were reordered`})
      }
      const gap = entry.seq - expected
      return fail({kind: 'removed', line: record.line, seq: entry.seq, message: `${at} holds seq ${entry.seq} where seq ${expected} belongs: ${gap === 1 ? `entry ${expected} was` : `entries ${expected} to ${entry.seq - 1} were`} removed before it`})
    }
    if (entry.seq < expected) {
      return fail({kind: 'reordered', line: record.line, seq: entry.seq, message: `${at} holds seq ${entry.seq} after seq ${expected - 1}: entries were reordered or duplicated`})
    }
    if (entry.prev !== (previous ? previous.hash : GENESIS_PREV)) {
      const before = previous ? `the hash of seq ${previous.seq}` : 'the genesis value (64 zeros)'
      return fail({kind: 'chain', line: record.line, seq: entry.seq, message: `${at} (seq ${entry.seq}) does not link to ${before}: an entry was changed and its hash recomputed, or replaced`})
    }
    previous = entry
  }
  const head = previous ? {seq: previous.seq, hash: previous.hash} : null
  if (expectHead) {
    const match = records.find((record) => 'entry' in record && record.entry.seq === expectHead.seq)
    if (!match || !('entry' in match)) {
      return {location, intact: false, entries: records.length, head, problem: {kind: 'head-missing', line: records.length + 1, seq: expectHead.seq, message: `the log ends at seq ${head?.seq ?? 0}, before the expected head seq ${expectHead.seq}: entries were cut off the end`}}
    }
    if (match.entry.hash !== expectHead.hash) {
      return {location, intact: false, entries: records.length, head, problem: {kind: 'head-mismatch', line: match.line, seq: expectHead.seq, message: `${unit} ${match.line} (seq ${expectHead.seq}) has hash ${match.entry.hash}, not the expected ${expectHead.hash}: the log was rewritten`}}
    }
  }
  return {location, intact: true, entries: records.length, head}
}

/** `SEQ:HASH`, as `--expect-head` takes it and `--verify` prints it. */
export function parseHead(text: string, flag = '--expect-head'): AuditHead {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text.trim())
  if (!match || Number(match[1]) < 1) {
    throw usageError('AUDIT_HEAD_INVALID', `${flag} ${text} is not SEQ:HASH`, {hint: 'pass the head printed by `dbakit secret audit --verify`, e.g. 42:3f0c…(64 hex digits)'})
  }
  return {seq: Number(match[1]), hash: match[2]!}
}

export const formatHead = (head: AuditHead) => `${head.seq}:${head.hash}`

export function defaultAuditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDirPath(env), 'secret-audit.jsonl')
}

/** Splits file content into records; the last line without a newline is torn. */
export function recordsOfText(text: string): StoredRecord[] {
  if (text === '') return []
  const lines = text.split('\n')
  const torn = !text.endsWith('\n')
  if (!torn) lines.pop()
  return lines.map((line, index) => {
    const number = index + 1
    const isTorn = torn && index === lines.length - 1
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      return {line: number, unreadable: line.trim() === '' ? 'an empty line' : 'not valid JSON', ...(isTorn ? {torn: true} : {})}
    }
    const parsed = parseEntry(value)
    if (typeof parsed === 'string') return {line: number, unreadable: parsed, ...(isTorn ? {torn: true} : {})}
    // A complete JSON entry without its newline is still a torn write: the next append would glue onto it.
    return isTorn ? {line: number, unreadable: 'no final newline', torn: true} : {line: number, entry: parsed}
  })
}

function corruptTail(path: string, problem: string): DbakitError {
  return new DbakitError(ExitCode.findings, 'AUDIT_LOG_CORRUPT', `the audit log ${path} ${problem}; nothing was appended`, {
    hint: 'run `dbakit secret audit --verify` to see where; keep the file as evidence and move it aside to start a new log',
  })
}

/** The last entry of the file, read from its tail; null for a missing or empty file. */
async function readHead(path: string): Promise<AuditHead | null> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw environmentError('AUDIT_LOG_UNREADABLE', `cannot read the audit log ${path}: ${(error as Error).message}`, {hint: 'check the file\'s owner and permissions'})
  }
  try {
    const {size} = await handle.stat()
    if (size === 0) return null
    // Entries are bounded (a few KiB at most), so the tail holds the whole last line.
    const length = Math.min(size, 64 * 1024)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    const tail = buffer.toString('utf8')
    if (!tail.endsWith('\n')) throw corruptTail(path, 'ends in a torn line (no final newline)')
    const start = tail.lastIndexOf('\n', tail.length - 2)
    if (start < 0 && length < size) throw corruptTail(path, 'ends in a line too long to be an entry')
    const records = recordsOfText(tail.slice(start + 1))
    const last = records[0]
    if (!last || !('entry' in last)) throw corruptTail(path, `ends in a line that is not an entry${last && 'unreadable' in last ? ` (${last.unreadable})` : ''}`)
    if (entryHash(last.entry) !== last.entry.hash) throw corruptTail(path, 'ends in an entry whose hash does not match its content')
    return {seq: last.entry.seq, hash: last.entry.hash}
  } finally {
    await handle.close()
  }
}

/** The embedded default: a JSON Lines file, 0600, in the state directory. */
export function fileAuditLog(path: string = defaultAuditLogPath(), lock: Pick<FileLockOptions, 'timeoutMs' | 'staleMs'> = {}): AuditLog {
  const readRecords = async (): Promise<StoredRecord[]> => {
    try {
      return recordsOfText(await readFile(path, 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw environmentError('AUDIT_LOG_UNREADABLE', `cannot read the audit log ${path}: ${(error as Error).message}`, {hint: 'check the file\'s owner and permissions'})
    }
  }
  return {
    location: path,
    async append(event) {
      checkedEvent(event)
      await mkdir(dirname(path), {recursive: true, mode: 0o700})
      return withFileLock(`${path}.lock`, async () => {
        const entry = nextEntry(event, await readHead(path))
        // O_APPEND and one write per entry: the line lands whole at the end even if the lock were bypassed.
        const handle = await open(path, 'a', 0o600)
        try {
          await handle.write(entryLine(entry))
          await handle.sync()
        } finally {
          await handle.close()
        }
        return entry
      }, {
        ...lock,
        busy: (holder, waitedMs) =>
          environmentError('AUDIT_LOG_LOCKED', `the audit log lock ${path}.lock is held${holder ? ` by process ${holder.pid} on ${holder.host}` : ''} and was not released within ${Math.round(waitedMs / 1000)} s`, {
            hint: 'wait for the other dbakit process to finish; if none is running, remove the lock file',
          }),
        unwritable: (error) => environmentError('AUDIT_LOG_UNWRITABLE', `cannot create the audit log lock ${path}.lock: ${(error as Error).message}`, {hint: 'check that the state directory exists and is writable by this user'}),
      })
    },
    async read() {
      const records = await readRecords()
      return {location: path, entries: records.flatMap((record) => ('entry' in record ? [record.entry] : [])), unreadable: records.flatMap((record) => ('entry' in record ? [] : [record.line]))}
    },
    async verify(options = {}) {
      return verifyChain(path, await readRecords(), 'line', options.expectHead)
    },
    async close() {},
  }
}

/** The log `--store` names: a MySQL table for mysql:// URLs, else the local file. */
export async function openAuditLog(options: {store?: string; resolveStore?: (url: string) => Promise<import('../connect/target.ts').ConnectionTarget>; env?: NodeJS.ProcessEnv} = {}): Promise<AuditLog> {
  if (!options.store) return fileAuditLog(defaultAuditLogPath(options.env))
  const {parseConnectionUrl, assertNoPasswordInUrl} = await import('../connect/url.ts')
  const parsed = parseConnectionUrl(options.store)
  assertNoPasswordInUrl(parsed, '--store')
  if (parsed.engine !== 'mysql') {
    throw usageError('STORE_ENGINE', `--store ${parsed.display} is not a MySQL URL`, {hint: 'the shared audit log lives in MySQL/MariaDB: --store mysql://user@host:3306/dbakit_state'})
  }
  const {resolveTarget} = await import('../connect/target.ts')
  const target = options.resolveStore ? await options.resolveStore(options.store) : await resolveTarget({url: options.store, ...(options.env ? {env: options.env} : {})})
  const {mysqlAuditLog} = await import('./audit-log-mysql.ts')
  return mysqlAuditLog(target)
}
