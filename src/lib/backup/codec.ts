import {createCipheriv, createDecipheriv, createHash, randomBytes, type DecipherGCM} from 'node:crypto'
import {PassThrough, Readable, Transform, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {constants, createZstdCompress, createZstdDecompress} from 'node:zlib'
import {DbakitError, ExitCode} from '../core/errors.ts'

/**
 * A stored chunk is IV (12 bytes) || AES-256-GCM ciphertext of one zstd frame || tag (16 bytes).
 * One pass computes everything the manifest records, so memory stays flat whatever the size.
 */
export const IV_BYTES = 12
export const TAG_BYTES = 16
/** GCM's limit for one IV is 2^39 - 256 bits of plaintext; engines split long before that. */
const MAX_CIPHERTEXT = 2 ** 36 - 32
/** Level 1: on two cores zstd is most of a dump's CPU, and level 3 was 2.4x slower for no gain (research notes). */
const ZSTD_LEVEL = 1
/** zstd hands its output back in pieces this big: each piece is a trip from the thread pool to the main thread, and 16 KiB (the default) made thousands per chunk. */
const ZSTD_CHUNK_BYTES = 256 * 1024

export interface EncodedChunk {
  bytes: number
  storedBytes: number
  sha256: string
  plainSha256: string
}

/** A stream, an async generator, or for small chunks an array of pieces. */
export type ChunkSource = AsyncIterable<Buffer | string> | Iterable<Buffer | string> | NodeJS.ReadableStream

/** Compresses, encrypts and hashes `source` into `sink`. */
export async function encodeChunk(source: ChunkSource, key: Uint8Array, aad: Buffer, sink: Writable): Promise<EncodedChunk> {
  const plain = meter()
  const stored = meter()
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv, {authTagLength: TAG_BYTES})
  cipher.setAAD(aad)
  let ciphertext = 0
  let started = false
  const encrypt = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!started) {
        started = true
        this.push(iv)
      }
      ciphertext += chunk.length
      if (ciphertext > MAX_CIPHERTEXT) return done(new DbakitError(ExitCode.usage, 'CHUNK_TOO_LARGE', 'a chunk passed 64 GiB compressed, the most one AES-GCM stream may hold', {hint: 'split the data into smaller chunks'}))
      done(null, cipher.update(chunk))
    },
    flush(done) {
      if (!started) this.push(iv)
      this.push(cipher.final())
      done(null, cipher.getAuthTag())
    },
  })
  const input = typeof (source as NodeJS.ReadableStream).pipe === 'function' ? (source as NodeJS.ReadableStream) : Readable.from(source as AsyncIterable<Buffer | string> | Iterable<Buffer | string>)
  await pipeline(input, plain.stream, createZstdCompress({chunkSize: ZSTD_CHUNK_BYTES, params: {[constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL}}), encrypt, stored.stream, sink)
  return {bytes: plain.bytes(), storedBytes: stored.bytes(), sha256: stored.hex(), plainSha256: plain.hex()}
}

export interface ExpectedChunk {
  storedBytes: number
  sha256: string
  bytes: number
  plainSha256: string
}

/** Why a chunk failed to decode; `problem` is the sentence verify prints. */
export class ChunkProblem extends Error {
  readonly kind: 'missing' | 'size' | 'stored-hash' | 'truncated' | 'tag' | 'decompress' | 'plain-size' | 'plain-hash'
  constructor(kind: ChunkProblem['kind'], problem: string) {
    super(problem)
    this.kind = kind
  }
}

/**
 * The plain bytes of a stored chunk. Every check that can only be made at the end (stored hash and
 * size, GCM tag, plain hash and size) is made before `stream` ends, so a consumer that sees 'end'
 * has authentic bytes; one that sees 'error' must discard what it read. `done` rejects with the
 * cause, a ChunkProblem when the chunk itself is bad; the caller destroys `stream` with the error
 * it wants its consumer to see.
 */
export function decodeChunk(source: AsyncIterable<Buffer>, key: Uint8Array, aad: Buffer, expected: ExpectedChunk, onPlain?: (bytes: Buffer) => void): {stream: Readable; done: Promise<void>} {
  const stored = meter((bytes, hex) => {
    if (bytes !== expected.storedBytes) return new ChunkProblem('size', `it is ${bytes} bytes stored, and the manifest says ${expected.storedBytes}`)
    if (hex !== expected.sha256) return new ChunkProblem('stored-hash', 'its stored bytes do not match their SHA-256 in the manifest: they changed after the backup was written')
    return undefined
  })
  const plain = meter((bytes, hex) => {
    if (bytes !== expected.bytes) return new ChunkProblem('plain-size', `it decodes to ${bytes} bytes, and the manifest says ${expected.bytes}`)
    if (hex !== expected.plainSha256) return new ChunkProblem('plain-hash', 'its decoded bytes do not match their SHA-256 in the manifest')
    return undefined
  }, onPlain)
  const out = new PassThrough()
  const done = pipeline(Readable.from(source, {objectMode: false}), stored.stream, decryptStream(key, aad), createZstdDecompress({chunkSize: ZSTD_CHUNK_BYTES}), plain.stream).catch((error: unknown) => {
    throw zstdProblem(error) ?? error
  })
  // zstd ends its output at the end of the frame, before the tag and the stored hash are
  // checked: the consumer's stream ends only once every check passed. And only once every byte has
  // been passed on: the pipeline settles when its last stream has *taken* the bytes, while a slow
  // consumer may not have read them yet (ending early cut the tail off a chunk under backpressure).
  plain.stream.pipe(out, {end: false})
  const passedOn = new Promise<void>((resolve) => plain.stream.once('end', resolve))
  Promise.all([done, passedOn]).then(
    () => out.end(),
    () => {},
  )
  out.on('close', () => {
    if (!out.writableFinished) plain.stream.destroy()
  })
  return {stream: out, done}
}

function decryptStream(key: Uint8Array, aad: Buffer): Transform {
  let decipher: DecipherGCM | undefined
  let head = Buffer.alloc(0)
  // The last TAG_BYTES seen so far might be the tag: they are held back until more arrives.
  let tail = Buffer.alloc(0)
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!decipher) {
        head = Buffer.concat([head, chunk])
        if (head.length < IV_BYTES) return done()
        decipher = createDecipheriv('aes-256-gcm', key, head.subarray(0, IV_BYTES), {authTagLength: TAG_BYTES})
        decipher.setAAD(aad)
        chunk = head.subarray(IV_BYTES)
        head = Buffer.alloc(0)
      }
      const joined = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
      const cut = Math.max(0, joined.length - TAG_BYTES)
      tail = Buffer.from(joined.subarray(cut))
      done(null, cut > 0 ? decipher.update(joined.subarray(0, cut)) : undefined)
    },
    flush(done) {
      if (!decipher || tail.length < TAG_BYTES) return done(new ChunkProblem('truncated', 'it is too short to hold an IV and a tag'))
      decipher.setAuthTag(tail)
      try {
        done(null, decipher.final())
      } catch {
        done(new ChunkProblem('tag', "it does not authenticate under the backup's key (AES-GCM tag mismatch): it was changed, or belongs to another backup or chunk"))
      }
    },
  })
}

/** zlib's own words for a bad frame, as a problem of the chunk. */
function zstdProblem(error: unknown): ChunkProblem | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (typeof code !== 'string' || !(code.startsWith('ZSTD_') || code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR')) return undefined
  return new ChunkProblem('decompress', `it does not decompress: ${(error as Error).message}`)
}

/** Counts and hashes what passes; `check` runs at the end and may fail the stream. */
function meter(check?: (bytes: number, hex: string) => Error | undefined, onData?: (bytes: Buffer) => void) {
  const hash = createHash('sha256')
  let bytes = 0
  let hex: string | undefined
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      bytes += chunk.length
      onData?.(chunk)
      done(null, chunk)
    },
    flush(done) {
      hex = hash.digest('hex')
      done(check?.(bytes, hex))
    },
  })
  return {stream, bytes: () => bytes, hex: () => hex ?? ''}
}
