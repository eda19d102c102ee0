import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after} from 'node:test'
import {fileURLToPath} from 'node:url'
import {openRepository, type Repository} from '../../src/lib/backup/index.ts'
import {withSecrets} from '../../src/lib/secrets/index.ts'
import {runCli} from './cli.ts'

export const PASSPHRASE = 'correct horse battery staple'

/** The S3 side of a test: s3rver's endpoint and credentials as variables the CLI and the SDK read. */
export function s3Env(): Record<string, string> {
  const endpoint = process.env.DBAKIT_TEST_S3_ENDPOINT
  if (!endpoint) throw new Error('DBAKIT_TEST_S3_ENDPOINT is not set: run the tests with `npm test`, which starts the test servers (scripts/services)')
  return {DBAKIT_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: process.env.DBAKIT_TEST_S3_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: process.env.DBAKIT_TEST_S3_SECRET_ACCESS_KEY!, AWS_REGION: 'us-east-1'}
}

/**
 * A DBAKIT_HOME with a passphrase key set up by `dbakit kms init`, and ways to use a repository
 * through the library (there is no backup create yet) and through the CLI.
 */
export async function kmsHome(extraEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-backup-'))
  const env: Record<string, string> = {DBAKIT_HOME: dir, DBAKIT_KMS_PASSPHRASE: PASSPHRASE, ...extraEnv}
  const init = await runCli(['kms', 'init', '--provider', 'passphrase', '--yes'], {env})
  if (init.code !== 0) throw new Error(`kms init failed: ${init.stderr}`)
  const processEnv = {...process.env, ...env}
  return {
    dir,
    env,
    run: (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, {env: {...env, ...extra}}),
    repository: <T>(location: string, work: (repository: Repository) => Promise<T>) =>
      withSecrets({configPath: join(dir, 'config.yaml'), env: processEnv, warn: () => {}}, async (secrets) => {
        const repository = await openRepository(location, {secrets, ...(env.DBAKIT_S3_ENDPOINT ? {s3Endpoint: env.DBAKIT_S3_ENDPOINT} : {}), env: processEnv})
        try {
          return await work(repository)
        } finally {
          await repository.close()
        }
      }),
  }
}

/** `size` bytes, half random and half repetitive, as a stream of 64 KiB pieces: zstd has work of both kinds. */
export function sampleData(size: number): {bytes: Buffer; stream: () => Readable} {
  const bytes = Buffer.alloc(size)
  randomBytes(Math.floor(size / 2)).copy(bytes)
  bytes.fill('dbakit row data ', Math.floor(size / 2))
  return {bytes, stream: () => Readable.from((function* () {
    for (let offset = 0; offset < size; offset += 65536) yield bytes.subarray(offset, offset + 65536)
  })())}
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

const writerScript = fileURLToPath(new URL('./backup-writer.ts', import.meta.url))

/**
 * Starts a writer in a process of its own that begins a backup, writes a chunk, says the id and
 * waits; the test kills it, as an OOM killer or a power cut would.
 */
export function startWriter(location: string, env: Record<string, string>): Promise<{id: string; kill: () => Promise<void>}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, location], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stderr.on('data', (chunk) => (err += chunk))
    child.stdout.on('data', (chunk) => {
      out += chunk
      const id = /^ready (\S+)$/m.exec(out)?.[1]
      if (id) resolve({id, kill: () => new Promise((done) => (child.once('exit', () => done()), child.kill('SIGKILL')))})
    })
    child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready: ${err}`)))
  })
}

/**
 * A 2 MiB tmpfs, unmounted after the suite, to fill a disk with; undefined (with the reason to skip)
 * where the test cannot mount one (not root, or no CAP_SYS_ADMIN in this container).
 */
export function smallTmpfs(): {dir?: string; skip: string | false} {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-tmpfs-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], {stdio: 'ignore'})
  } catch {
    rmSync(dir, {recursive: true, force: true})
    return {skip: 'cannot mount a 2 MiB tmpfs here (needs root or CAP_SYS_ADMIN), so a full disk cannot be made'}
  }
  after(() => {
    execFileSync('umount', [dir])
    rmSync(dir, {recursive: true, force: true})
  })
  return {dir, skip: false}
}

/** Sends the child `signal` once `ready()` holds, checked every few milliseconds: "kill it while it works". */
export function signalWhen(signal: NodeJS.Signals, ready: () => boolean | Promise<boolean>): (child: ChildProcess) => void {
  return (child) => {
    let sent = false
    const timer = setInterval(() => {
      void Promise.resolve(ready()).then((now) => {
        if (!now || sent) return
        sent = true
        clearInterval(timer)
        child.kill(signal)
      })
    }, 10)
    child.on('exit', () => clearInterval(timer))
  }
}
