import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3'
import type {Manifest} from '../../src/lib/backup/index.ts'
import {kmsHome, readAll, s3Env, sampleData, smallTmpfs, startWriter} from '../helpers/backup.ts'
import {runCli} from '../helpers/cli.ts'
import {rejection} from '../helpers/errors.ts'
import {destroyKeysWithPrefix} from '../helpers/pkcs11.ts'
import {softhsm} from '../helpers/services.ts'

const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T
const runPrefix = `dbakit-backup-test-${process.pid}-${randomBytes(3).toString('hex')}`

/** How a test reaches into a repository's storage behind dbakit's back, as a disk error or an intruder would. */
interface Storage {
  kind: 'local' | 's3'
  location: () => string
  env: Record<string, string>
  read(id: string, path: string): Promise<Buffer>
  write(id: string, path: string, bytes: Buffer): Promise<void>
  /** Paths under backups/ in any state, for checking that nothing was left. */
  everything(): Promise<string[]>
}

function localStorage(): Storage {
  let dir = ''
  const base = mkdtempSync(join(tmpdir(), 'dbakit-repo-'))
  let count = 0
  const backupDir = (id: string) => (existsSync(join(dir, 'backups', id)) ? join(dir, 'backups', id) : join(dir, 'backups', `.incomplete-${id}`))
  return {
    kind: 'local',
    location: () => (dir = join(base, `repo-${++count}`)),
    env: {},
    read: async (id, path) => readFileSync(join(backupDir(id), path)),
    write: async (id, path, bytes) => writeFileSync(join(backupDir(id), path), bytes),
    everything: async () => (existsSync(join(dir, 'backups')) ? readdirSync(join(dir, 'backups')) : []),
  }
}

function s3Storage(): Storage {
  const env = s3Env()
  const bucket = process.env.DBAKIT_TEST_S3_BUCKET!
  const client = new S3Client({endpoint: env.DBAKIT_S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!}, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'})
  let prefix = ''
  let count = 0
  return {
    kind: 's3',
    location: () => `s3://${bucket}/${(prefix = `${runPrefix}/repo-${++count}`)}`,
    env,
    read: async (id, path) => Buffer.from(await (await client.send(new GetObjectCommand({Bucket: bucket, Key: `${prefix}/backups/${id}/${path}`}))).Body!.transformToByteArray()),
    write: async (id, path, bytes) => void (await client.send(new PutObjectCommand({Bucket: bucket, Key: `${prefix}/backups/${id}/${path}`, Body: bytes}))),
    everything: async () => ((await client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: `${prefix}/backups/`}))).Contents ?? []).map((o) => o.Key!.slice(`${prefix}/backups/`.length)),
  }
}

/** A backup of three chunks (empty, several MB through a stream, strings), committed. */
async function threeChunkBackup(h: Awaited<ReturnType<typeof kmsHome>>, location: string, big = sampleData(3 * 1024 * 1024)) {
  return h.repository(location, async (repository) => {
    const writer = await repository.begin({engine: 'mysql', server: {host: 'db1:3306', flavor: 'mariadb', version: '10.11.19'}})
    await writer.writeChunk('schema/db.sql', (async function* () {})())
    await writer.writeChunk('db.t.00001', big.stream(), {rows: 42, meta: {table: 'db.t'}})
    await writer.writeChunk('db.t.00002', ['id\t', 'naïve ☃ 𝄞\n'])
    return writer.commit({tables: [{name: 'db.t', rows: 42}]})
  })
}

for (const make of [localStorage, s3Storage]) {
  describe(`backup repository (${make === localStorage ? 'directory' : 'S3 on s3rver'})`, () => {
    let storage: Storage
    let h: Awaited<ReturnType<typeof kmsHome>>
    before(async () => {
      storage = make()
      h = await kmsHome(storage.env)
    })

    it('round-trips an empty chunk, a multi-MB stream and strings; list, show and verify read it back', async () => {
      const location = storage.location()
      const big = sampleData(6 * 1024 * 1024 + 17)
      const manifest = await threeChunkBackup(h, location, big)
      assert.match(manifest.id, /^\d{8}T\d{6}Z-mysql-[0-9a-f]{8}$/)
      assert.deepEqual(manifest.chunks.map((c) => [c.name, c.bytes, c.rows]), [['schema/db.sql', 0, undefined], ['db.t.00001', big.bytes.length, 42], ['db.t.00002', Buffer.byteLength('id\tnaïve ☃ 𝄞\n'), undefined]])
      assert.ok(manifest.chunks[1]!.storedBytes < big.bytes.length, 'the repetitive half did not compress')
      assert.equal(manifest.key.aad.name, `backup/${manifest.id}`)
      await h.repository(location, async (repository) => {
        const reader = await repository.open(manifest.id)
        assert.equal((await readAll(reader.readChunk('schema/db.sql'))).length, 0)
        assert.ok((await readAll(reader.readChunk('db.t.00001'))).equals(big.bytes))
        // A consumer slower than the decoder (as LOAD DATA is) still gets every byte, the tail too.
        const slowly: Buffer[] = []
        for await (const part of reader.readChunk('db.t.00001')) {
          slowly.push(part as Buffer)
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
        assert.ok(Buffer.concat(slowly).equals(big.bytes), `a slow reader got ${Buffer.concat(slowly).length} of ${big.bytes.length} bytes`)
        assert.equal((await readAll(reader.readChunk('db.t.00002'))).toString('utf8'), 'id\tnaïve ☃ 𝄞\n')
        assert.equal((await rejection(Promise.resolve().then(() => reader.readChunk('db.t.0001')))).code, 'CHUNK_NOT_FOUND')
        reader.close()
      })
      const stored = await storage.read(manifest.id, `chunks/${manifest.chunks[1]!.file}`)
      assert.ok(!stored.includes(big.bytes.subarray(big.bytes.length - 64)), 'plain bytes reached the repository')
      const list = await h.run(['backup', 'list', '--repo', location, '--json'])
      assert.equal(list.code, 0, list.stderr)
      assert.deepEqual(json<{backups: Array<{id: string; chunks: number; rows: number}>}>(list.stdout).backups.map((b) => [b.id, b.chunks, b.rows]), [[manifest.id, 3, 42]])
      const show = await h.run(['backup', 'show', manifest.id, '--repo', location, '--json'])
      assert.equal(show.code, 0, show.stderr)
      assert.deepEqual(json<Manifest>(show.stdout), manifest)
      const verify = await h.run(['backup', 'verify', manifest.id, '--repo', location, '--json'])
      assert.equal(verify.code, 0, verify.stderr)
      assert.deepEqual(json(verify.stdout), {id: manifest.id, ok: true, bad: [], chunks: 3, rowsChecked: 0})
    })

    it('names the chunk in which one byte was flipped (verify exits 1), and its stream errors', async () => {
      const location = storage.location()
      const manifest = await threeChunkBackup(h, location)
      for (const chunk of manifest.chunks) {
        const path = `chunks/${chunk.file}`
        const original = await storage.read(manifest.id, path)
        // The IV, the middle of the ciphertext, the last byte of the tag.
        for (const at of [3, Math.floor(original.length / 2), original.length - 1]) {
          const flipped = Buffer.from(original)
          flipped[at]! ^= 0x10
          await storage.write(manifest.id, path, flipped)
          const verify = await h.run(['backup', 'verify', manifest.id, '--repo', location, '--json'])
          assert.equal(verify.code, 1, `${chunk.name}@${at}: ${verify.stdout}${verify.stderr}`)
          const error = json<{error: {code: string; message: string; data: {bad: Array<{chunk: string; problem: string}>}}}>(verify.stdout).error
          assert.equal(error.code, 'BACKUP_CORRUPT')
          assert.deepEqual(error.data.bad.map((b) => b.chunk), [chunk.name], `flipping byte ${at} of ${chunk.name}`)
          assert.match(error.data.bad[0]!.problem, /stored bytes do not match their SHA-256/)
          assert.ok(error.message.includes(chunk.name))
        }
        await h.repository(location, async (repository) => {
          const reader = await repository.open(manifest.id)
          const failure = await rejection(readAll(reader.readChunk(chunk.name)))
          assert.equal(failure.code, 'CHUNK_CORRUPT')
          assert.equal(failure.exitCode, 1)
          assert.equal(failure.data?.chunk, chunk.name)
        })
        await storage.write(manifest.id, path, original)
      }
      assert.equal((await h.run(['backup', 'verify', manifest.id, '--repo', location])).code, 0)
    })

    it('refuses a manifest edited after the backup was written (exit 1), and still deletes it', async () => {
      const location = storage.location()
      const manifest = await threeChunkBackup(h, location)
      const edited = json<Manifest>((await storage.read(manifest.id, 'manifest.json')).toString())
      edited.chunks.pop()
      await storage.write(manifest.id, 'manifest.json', Buffer.from(JSON.stringify(edited)))
      const verify = await h.run(['backup', 'verify', manifest.id, '--repo', location, '--json'])
      assert.equal(verify.code, 1, verify.stderr)
      assert.equal(json<{error: {code: string; message: string}}>(verify.stdout).error.code, 'MANIFEST_INVALID')
      assert.match(json<{error: {message: string}}>(verify.stdout).error.message, /MAC does not match/)
      await storage.write(manifest.id, 'manifest.json', Buffer.from('{"format": "dbakit-backup", "vers'))
      const list = await h.run(['backup', 'list', '--repo', location, '--json'])
      assert.equal(list.code, 0)
      assert.deepEqual(json<{backups: unknown[]}>(list.stdout).backups, [])
      assert.match(list.stderr, /not complete JSON/)
      const removed = await h.run(['backup', 'delete', manifest.id, '--repo', location, '--yes'])
      assert.equal(removed.code, 0, removed.stderr)
      assert.deepEqual(await storage.everything(), [])
    })

    it('does not list a backup whose writer was killed, and cleanup removes what it left', async () => {
      const location = storage.location()
      const complete = await threeChunkBackup(h, location)
      const writer = await startWriter(location, h.env)
      await writer.kill()
      const list = await h.run(['backup', 'list', '--repo', location, '--json'])
      assert.deepEqual(json<{backups: Array<{id: string}>}>(list.stdout).backups.map((b) => b.id), [complete.id])
      assert.ok((await storage.everything()).some((path) => path.includes(writer.id)), 'the killed writer left nothing to clean up')
      const shown = await h.run(['backup', 'show', writer.id, '--repo', location])
      assert.equal(shown.code, 2)
      assert.match(shown.stderr, /is not complete/)
      const dry = await h.run(['backup', 'cleanup', '--repo', location, '--dry-run', '--json'])
      assert.equal(dry.code, 0, dry.stderr)
      const plan = json<{leftovers: Array<{id: string; writer: string; removable: boolean; host: string}>}>(dry.stdout)
      assert.deepEqual(plan.leftovers.map((l) => [l.id, l.writer, l.removable, l.host]), [[writer.id, 'dead', true, hostname()]])
      assert.ok((await storage.everything()).some((path) => path.includes(writer.id)), '--dry-run removed something')
      assert.equal((await h.run(['backup', 'cleanup', '--repo', location])).code, 2, 'cleanup without --yes and no terminal must refuse')
      const cleanup = await h.run(['backup', 'cleanup', '--repo', location, '--yes', '--json'])
      assert.equal(cleanup.code, 0, cleanup.stderr)
      assert.deepEqual(json<{removed: string[]}>(cleanup.stdout).removed, [writer.id])
      assert.ok(!(await storage.everything()).some((path) => path.includes(writer.id)))
      assert.equal((await h.run(['backup', 'verify', complete.id, '--repo', location])).code, 0)
    })

    it("never cleans up a live writer's backup, nor another host's while its heartbeat is fresh", async () => {
      const location = storage.location()
      const liveId = await h.repository(location, async (repository) => {
        const live = await repository.begin({engine: 'redis', server: {}})
        await live.writeChunk('dump.rdb', [randomBytes(1000)])
        const foreign = await repository.begin({engine: 'mongodb', server: {}})
        const owner = json<Record<string, unknown>>((await storage.read(foreign.id, 'owner.json')).toString())
        await storage.write(foreign.id, 'owner.json', Buffer.from(JSON.stringify({...owner, host: 'another-host', pid: 1})))
        assert.deepEqual(await repository.cleanupIncomplete({olderThanMs: 0}), [])
        const cli = await h.run(['backup', 'cleanup', '--repo', location, '--older-than', '0s', '--yes', '--json'])
        assert.equal(cli.code, 0, cli.stderr)
        const result = json<{removed: string[]; leftovers: Array<{id: string; writer: string; reason: string}>}>(cli.stdout)
        assert.deepEqual(result.removed, [])
        assert.deepEqual(result.leftovers.map((l) => [l.id, l.writer]).sort(), [[live.id, 'live'], [foreign.id, 'unknown']].sort())
        assert.match(result.leftovers.find((l) => l.id === foreign.id)!.reason, /another-host was heard from .* ago: presumed still running/)
        if (storage.kind === 'local') {
          // The owner file's time is the heartbeat: two hours without one, and the writer is presumed dead.
          const old = new Date(Date.now() - 2 * 3_600_000)
          utimesSync(join(location, 'backups', `.incomplete-${foreign.id}`, 'owner.json'), old, old)
          assert.deepEqual(await repository.cleanupIncomplete(), [foreign.id])
        }
        await live.commit({})
        assert.deepEqual((await repository.list()).map((m) => m.id), [live.id])
        await foreign.abort()
        return live.id
      })
      assert.deepEqual((await storage.everything()).filter((path) => !path.startsWith(liveId)), [])
    })

    it('makes two complete backups of two writers at once', async () => {
      const location = storage.location()
      const [one, two] = await h.repository(location, async (repository) => {
        const writers = await Promise.all([repository.begin({engine: 'mysql', server: {n: 1}}), repository.begin({engine: 'mysql', server: {n: 2}})])
        const data = sampleData(1024 * 1024)
        await Promise.all(writers.flatMap((writer) => [0, 1, 2].map((n) => writer.writeChunk(`db.t.${n}`, data.stream(), {rows: n}))))
        return Promise.all(writers.map((writer, n) => writer.commit({writer: n})))
      })
      assert.notEqual(one!.id, two!.id)
      const list = json<{backups: Array<{id: string; chunks: number}>}>((await h.run(['backup', 'list', '--repo', location, '--json'])).stdout).backups
      assert.deepEqual(list.map((b) => b.id).sort(), [one!.id, two!.id].sort())
      assert.deepEqual(list.map((b) => b.chunks), [3, 3])
      for (const id of [one!.id, two!.id]) assert.equal((await h.run(['backup', 'verify', id, '--repo', location])).code, 0)
      assert.deepEqual((await storage.everything()).filter((path) => !path.startsWith(one!.id) && !path.startsWith(two!.id)), [])
    })

    it('answers an unknown id with the closest ones (exit 2); delete asks, --dry-run keeps, --yes deletes', async () => {
      const location = storage.location()
      const manifest = await threeChunkBackup(h, location)
      const typo = `${manifest.id.slice(0, -1)}${manifest.id.endsWith('0') ? '1' : '0'}`
      const unknown = await h.run(['backup', 'verify', typo, '--repo', location, '--json'])
      assert.equal(unknown.code, 2)
      const error = json<{error: {code: string; data: {closest: string[]}}}>(unknown.stdout).error
      assert.equal(error.code, 'BACKUP_NOT_FOUND')
      assert.deepEqual(error.data.closest, [manifest.id])
      assert.equal((await h.run(['backup', 'delete', manifest.id, '--repo', location])).code, 2)
      const dry = await h.run(['backup', 'delete', manifest.id, '--repo', location, '--dry-run'])
      assert.equal(dry.code, 0, dry.stderr)
      assert.match(dry.stderr, /Would delete backup .* 3 chunks/)
      assert.equal(json<{backups: unknown[]}>((await h.run(['backup', 'list', '--repo', location, '--json'])).stdout).backups.length, 1)
      assert.equal((await h.run(['backup', 'delete', manifest.id, '--repo', location, '--yes'])).code, 0)
      assert.deepEqual(await storage.everything(), [])
      assert.equal((await h.run(['backup', 'show', manifest.id, '--repo', location])).code, 2)
    })

    it('aborting removes everything the backup wrote', async () => {
      const location = storage.location()
      await h.repository(location, async (repository) => {
        const writer = await repository.begin({engine: 'mysql', server: {}})
        await writer.writeChunk('a', [randomBytes(100_000)])
        const pending = writer.writeChunk('b', sampleData(2 * 1024 * 1024).stream())
        await writer.abort()
        assert.equal((await rejection(pending)).code, 'BACKUP_ABORTED')
        assert.equal((await rejection(writer.writeChunk('c', ['x']))).code, 'BACKUP_ABORTED')
      })
      assert.deepEqual(await storage.everything(), [])
    })
  })
}

describe('backup repository keys, space and configuration', () => {
  const labels: string[] = []
  after(() => {
    if (labels.length > 0) destroyKeysWithPrefix(runPrefix)
  })

  it('exits 3 when the key is wrong or out of reach, and opens under the right one', async () => {
    const h = await kmsHome()
    const location = join(h.dir, 'repo')
    const manifest = await threeChunkBackup(h, location)
    const verify = (env: Record<string, string | undefined>) => h.run(['backup', 'verify', manifest.id, '--repo', location, '--json'], env)
    const wrong = await verify({DBAKIT_KMS_PASSPHRASE: 'not the passphrase at all'})
    assert.equal(wrong.code, 3, wrong.stdout)
    assert.equal(json<{error: {code: string}}>(wrong.stdout).error.code, 'PASSPHRASE_WRONG')
    const missing = await verify({DBAKIT_KMS_PASSPHRASE: undefined})
    assert.equal(missing.code, 3, missing.stdout)
    assert.equal(json<{error: {code: string}}>(missing.stdout).error.code, 'BACKUP_KEY_UNAVAILABLE')
    // Listing and showing need no key.
    assert.equal((await h.run(['backup', 'show', manifest.id, '--repo', location], {DBAKIT_KMS_PASSPHRASE: undefined})).code, 0)

    // A backup sealed by a PKCS#11 key: unreadable from a config that lacks it, and once the key is gone.
    const label = `${runPrefix}-${labels.push('x')}`
    const init = await h.run(['kms', 'init', '--provider', 'pkcs11', '--module', softhsm.module, '--token', softhsm.token, '--key', label, '--pin-file', softhsm.pinFile, '--yes'])
    assert.equal(init.code, 0, init.stderr)
    const sealed = await threeChunkBackup(h, location)
    assert.equal(sealed.key.key.provider, 'pkcs11')
    assert.equal((await h.run(['backup', 'verify', sealed.id, '--repo', location])).code, 0)
    const elsewhere = mkdtempSync(join(tmpdir(), 'dbakit-backup-other-'))
    const foreign = await runCli(['backup', 'verify', sealed.id, '--repo', location, '--json'], {env: {DBAKIT_HOME: elsewhere}})
    assert.equal(foreign.code, 3, foreign.stdout)
    assert.equal(json<{error: {code: string; message: string}}>(foreign.stdout).error.code, 'BACKUP_KEY_UNAVAILABLE')
    assert.match(json<{error: {message: string}}>(foreign.stdout).error.message, new RegExp(`pkcs11 key ${label}`))
    destroyKeysWithPrefix(label)
    const destroyed = await h.run(['backup', 'verify', sealed.id, '--repo', location, '--json'])
    assert.equal(destroyed.code, 3, destroyed.stdout)
    assert.equal(json<{error: {code: string}}>(destroyed.stdout).error.code, 'PKCS11_KEY_NOT_FOUND')
    // The older backup, under the passphrase key, still opens.
    assert.equal((await h.run(['backup', 'verify', manifest.id, '--repo', location])).code, 0)
    // Every seal and open of a data key is in the secret audit log, refusals too.
    const audit = await h.run(['secret', 'audit', '--json'])
    assert.equal(audit.code, 0, audit.stderr)
    const entries = json<{entries: Array<{action: string; target: string; outcome: string}>}>(audit.stdout).entries.filter((e) => e.target === `backup/${sealed.id}`)
    assert.deepEqual(entries.map((e) => [e.action, e.outcome]), [['write', 'ok'], ['read', 'ok'], ['read', 'error']])
  })

  const tmpfs = smallTmpfs()

  it('on a full disk fails with an environment error and removes what the backup wrote', {skip: tmpfs.skip}, async () => {
    const h = await kmsHome()
    const location = join(tmpfs.dir!, 'repo')
    const failure = await rejection(
      h.repository(location, async (repository) => {
        const writer = await repository.begin({engine: 'mysql', server: {}})
        await writer.writeChunk('small', ['fits'])
        // Random bytes do not compress: 4 MiB cannot fit in 2.
        await writer.writeChunk('big', [randomBytes(4 * 1024 * 1024)])
      }),
    )
    assert.equal(failure.code, 'REPO_FULL')
    assert.equal(failure.exitCode, 3)
    assert.match(failure.message, /no space left \(ENOSPC\) while writing chunk big/)
    assert.deepEqual(readdirSync(join(location, 'backups')), [])
    // With the space back, the next backup works.
    const manifest = await threeChunkBackup(h, location, sampleData(100_000))
    assert.equal((await h.run(['backup', 'verify', manifest.id, '--repo', location])).code, 0)
  })

  it('takes the repository from DBAKIT_REPO or backup.repo in the config, files 0600 and directories 0700', async () => {
    const h = await kmsHome()
    const manifest = await threeChunkBackup(h, join(h.dir, 'repo'))
    const directory = join(h.dir, 'repo', 'backups', manifest.id)
    assert.equal(statSync(directory).mode & 0o777, 0o700)
    assert.equal(statSync(join(directory, 'manifest.json')).mode & 0o777, 0o600)
    for (const file of readdirSync(join(directory, 'chunks'))) assert.equal(statSync(join(directory, 'chunks', file)).mode & 0o777, 0o600)
    const none = await h.run(['backup', 'list'])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /no backup repository was named/)
    const fromEnv = await h.run(['backup', 'list', '--json'], {DBAKIT_REPO: join(h.dir, 'repo')})
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
    assert.equal(json<{backups: unknown[]}>(fromEnv.stdout).backups.length, 1)
    // Relative to the config file, not to where dbakit runs.
    writeFileSync(join(h.dir, 'config.yaml'), `${readFileSync(join(h.dir, 'config.yaml'), 'utf8')}backup:\n  repo: repo\n`)
    const fromConfig = await h.run(['backup', 'list', '--json'])
    assert.equal(fromConfig.code, 0, fromConfig.stderr)
    assert.equal(json<{repo: string}>(fromConfig.stdout).repo, join(h.dir, 'repo'))
    const missing = await h.run(['backup', 'list', '--repo', join(h.dir, 'no-such-repo')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /there is no backup repository at/)
    mkdirSync(join(h.dir, 'empty'))
    const empty = await h.run(['backup', 'list', '--repo', join(h.dir, 'empty')])
    assert.equal(empty.code, 0)
    assert.match(empty.stderr, /No complete backups/)
    writeFileSync(join(h.dir, 'config.yaml'), `${readFileSync(join(h.dir, 'config.yaml'), 'utf8')}  retention: 7d\n`)
    const bad = await h.run(['backup', 'list'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /backup\.retention: unknown key/)
  })
})
