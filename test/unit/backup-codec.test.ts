import assert from 'node:assert/strict'
import {createDecipheriv, createHash, randomBytes} from 'node:crypto'
import {Writable} from 'node:stream'
import {describe, it} from 'node:test'
import {zstdDecompressSync} from 'node:zlib'
import {ChunkProblem, decodeChunk, encodeChunk, IV_BYTES, TAG_BYTES} from '../../src/lib/backup/codec.ts'
import {BACKUP_ID, canonicalJson, checkManifestMac, chunkAad, chunkFileName, manifestMac, newBackupId, parseManifest, type Manifest} from '../../src/lib/backup/manifest.ts'

const key = randomBytes(32)
const aad = chunkAad('20261202T154500Z-mysql-0a1b2c3d', 'db.t.00001')

async function encode(source: Iterable<Buffer | string> | AsyncIterable<Buffer | string>) {
  const parts: Buffer[] = []
  const sink = new Writable({write: (chunk: Buffer, _encoding, done) => (parts.push(chunk), done())})
  const encoded = await encodeChunk(source, key, aad, sink)
  return {encoded, stored: Buffer.concat(parts)}
}

/** Decodes `stored`, reporting how the consumer's stream ended as well as the outcome. */
async function decode(stored: Buffer, expected: Parameters<typeof decodeChunk>[3], useAad = aad) {
  const {stream, done} = decodeChunk((async function* () {
    // Odd pieces: the IV and the tag straddle them.
    for (let at = 0; at < stored.length; at += 7) yield stored.subarray(at, at + 7)
  })(), key, useAad, expected)
  const parts: Buffer[] = []
  let ended = false
  stream.on('data', (part: Buffer) => parts.push(part)).on('end', () => (ended = true)).on('error', () => {})
  const outcome = await done.then(() => undefined, (error: unknown) => error)
  if (outcome) stream.destroy(outcome as Error)
  await new Promise((resolve) => setImmediate(resolve))
  return {plain: Buffer.concat(parts), ended, problem: outcome as ChunkProblem | undefined}
}

describe('backup chunk codec', () => {
  it('stores IV, the GCM ciphertext of one zstd frame and the tag, and records both hashes', async () => {
    const plain = Buffer.concat([randomBytes(100_000), Buffer.alloc(100_000, 'x')])
    const {encoded, stored} = await encode([plain.subarray(0, 12_345), plain.subarray(12_345)])
    assert.equal(encoded.bytes, plain.length)
    assert.equal(encoded.storedBytes, stored.length)
    assert.equal(encoded.sha256, createHash('sha256').update(stored).digest('hex'))
    assert.equal(encoded.plainSha256, createHash('sha256').update(plain).digest('hex'))
    // Decoded by hand, as another tool would from docs/backup-repository.md.
    const decipher = createDecipheriv('aes-256-gcm', key, stored.subarray(0, IV_BYTES))
    decipher.setAAD(aad)
    decipher.setAuthTag(stored.subarray(stored.length - TAG_BYTES))
    const frame = Buffer.concat([decipher.update(stored.subarray(IV_BYTES, stored.length - TAG_BYTES)), decipher.final()])
    assert.ok(zstdDecompressSync(frame).equals(plain))
    const decoded = await decode(stored, encoded)
    assert.ok(decoded.ended && decoded.plain.equals(plain) && decoded.problem === undefined)
  })

  it('encodes nothing as a chunk that decodes to nothing, and strings as UTF-8', async () => {
    const empty = await encode([])
    assert.equal(empty.encoded.bytes, 0)
    assert.equal((await decode(empty.stored, empty.encoded)).plain.length, 0)
    const text = await encode(['naïve ', '𝄞'])
    assert.equal((await decode(text.stored, text.encoded)).plain.toString('utf8'), 'naïve 𝄞')
  })

  it('never ends the stream of a chunk whose stored bytes, tag or AAD are wrong', async () => {
    const {encoded, stored} = await encode(['a short chunk, so that zstd ends its frame before the tag arrives'])
    for (const at of [0, IV_BYTES + 2, stored.length - 1]) {
      const flipped = Buffer.from(stored)
      flipped[at]! ^= 0x01
      const decoded = await decode(flipped, encoded)
      assert.equal(decoded.ended, false, `byte ${at}: the stream ended`)
      assert.ok(decoded.problem instanceof ChunkProblem, `byte ${at}: ${String(decoded.problem)}`)
    }
    // The manifest's hash is right, but the tag is checked on its own: bytes from another chunk.
    const moved = await decode(stored, encoded, chunkAad('20261202T154500Z-mysql-0a1b2c3d', 'db.t.00002'))
    assert.equal(moved.ended, false)
    assert.equal(moved.problem?.kind, 'tag')
    const truncated = await decode(stored.subarray(0, 20), {...encoded, storedBytes: 20, sha256: createHash('sha256').update(stored.subarray(0, 20)).digest('hex')})
    assert.equal(truncated.problem?.kind, 'truncated')
    const wrongSize = await decode(stored, {...encoded, bytes: encoded.bytes + 1})
    assert.equal(wrongSize.problem?.kind, 'plain-size')
    assert.equal(wrongSize.ended, false)
  })
})

describe('backup chunk codec memory', () => {
  it('streams a 256 MiB chunk through encode and decode in flat memory', async () => {
    const piece = Buffer.concat([randomBytes(512 * 1024), Buffer.alloc(512 * 1024, 'row ')])
    const pieces = 256
    const source = async function* () {
      for (let n = 0; n < pieces; n++) yield piece
    }
    let peak = 0
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss))
    const timer = setInterval(sample, 5)
    const baseline = process.memoryUsage().rss
    const stored: Buffer[] = []
    // Only the stored bytes are kept (about half of the input, the random half); the plain side is hashed and dropped.
    const sink = new Writable({write: (chunk: Buffer, _encoding, done) => (stored.push(chunk), sample(), done())})
    const encoded = await encodeChunk(source(), key, aad, sink)
    const storedBytes = stored.reduce((sum, part) => sum + part.length, 0)
    assert.equal(encoded.bytes, pieces * piece.length)
    const {stream, done} = decodeChunk((async function* () {
      yield* stored
    })(), key, aad, encoded)
    let plain = 0
    stream.on('data', (part: Buffer) => (plain += part.length))
    await done
    clearInterval(timer)
    assert.equal(plain, encoded.bytes)
    const growth = peak - baseline - storedBytes
    assert.ok(growth < 96 * 1024 * 1024, `memory grew by ${Math.round(growth / 1048576)} MiB beyond the stored bytes kept for the test`)
  })
})

describe('backup ids and manifests', () => {
  it('makes ids that sort by time and name their engine', () => {
    const early = newBackupId('mysql', new Date('2026-12-02T15:45:00.999Z'))
    const late = newBackupId('redis', new Date('2026-12-02T15:45:01Z'))
    assert.match(early, /^20261202T154500Z-mysql-[0-9a-f]{8}$/)
    assert.ok(BACKUP_ID.test(late) && early < late)
    assert.notEqual(newBackupId('mysql', new Date(0)), newBackupId('mysql', new Date(0)))
  })

  it('makes chunk file names safe and unique whatever the chunk name', () => {
    assert.equal(chunkFileName(7, 'db.t.00001'), '000007-db.t.00001')
    assert.equal(chunkFileName(8, '../../etc/passwd'), '000008-.._.._etc_passwd')
    assert.equal(chunkFileName(9, 'таблица/1'), '000009-________1')
    assert.ok(chunkFileName(10, 'x'.repeat(500)).length <= 87)
  })

  it('writes canonical JSON with sorted keys, and the MAC catches any edit', () => {
    assert.equal(canonicalJson({b: [2, {d: 1, c: 'é'}], a: null}), '{"a":null,"b":[2,{"c":"é","d":1}]}')
    const dataKey = randomBytes(32)
    const unsigned = {format: 'dbakit-backup', version: 1, id: '20261202T154500Z-mysql-0a1b2c3d', engine: 'mysql', createdAt: 'x', completedAt: 'y', host: 'h', server: {}, key: {}, chunks: [], body: {tables: 3}} as unknown as Omit<Manifest, 'mac'>
    const manifest = {...unsigned, mac: manifestMac(unsigned, dataKey)} as Manifest
    // Key order does not matter, values do.
    checkManifestMac(JSON.parse(JSON.stringify({...manifest, body: {tables: 3}})) as Manifest, dataKey, 'here')
    assert.throws(() => checkManifestMac({...manifest, body: {tables: 4}}, dataKey, 'here'), /MAC does not match/)
    assert.throws(() => checkManifestMac(manifest, randomBytes(32), 'here'), /MAC does not match/)
  })

  it('refuses manifests that are not whole version-1 manifests', () => {
    assert.throws(() => parseManifest('', 'm'), /m: refused: it is empty/)
    assert.throws(() => parseManifest('{"format": "dbakit-backup", "version": 2}', 'm'), /version 2 is not one this dbakit reads/)
    assert.throws(() => parseManifest('{"format": "dbakit-backup", "version": 1, "id": "../x"}', 'm'), /its id is not a backup id/)
  })
})
