import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {createConnection} from 'mysql2/promise'
import {Redis} from 'ioredis'
import {withSecrets, type Secrets} from '../../src/lib/secrets/index.ts'

export interface LoginTally {
  logins: number
  failures: string[]
  seconds: number
}

/** A MariaDB/MySQL login as an application makes one: connect, one query, quit. */
export async function mysqlLogin(url: string, user: string, password: string): Promise<void> {
  const parsed = new URL(url)
  const connection = await createConnection({host: parsed.hostname, port: Number(parsed.port), user, password, connectTimeout: 5000})
  try {
    await connection.query('SELECT 1')
  } finally {
    await connection.end()
  }
}

/** A Redis login: AUTH on connect, and nothing else (the user may be allowed nothing more). */
export async function redisLogin(url: string, user: string, password: string): Promise<void> {
  const parsed = new URL(url)
  const client = new Redis({host: parsed.hostname, port: Number(parsed.port), username: user, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false})
  client.on('error', () => {})
  try {
    await client.connect()
  } finally {
    client.disconnect()
  }
}

/**
 * Applications logging in over and over during a rotation, each time with the password that
 * `secret get` returns at that moment (the library call behind it, in this process), until stopped.
 */
export class LoginLoop {
  private stopping = false
  private readonly runs: Array<Promise<LoginTally>>
  /** Settles when every client has logged in once: the KMS key is derived, the loop is at speed. */
  readonly ready: Promise<unknown>

  constructor(home: {dir: string; env: Record<string, string>}, secret: string, logins: Array<(password: string) => Promise<void>>) {
    const env = {...process.env, ...home.env}
    const warm: Array<Promise<void>> = []
    this.runs = logins.map((login) => {
      let warmed!: () => void
      warm.push(new Promise<void>((resolve) => (warmed = resolve)))
      return withSecrets({configPath: join(home.dir, 'config.yaml'), env, warn: () => {}}, async (secrets: Secrets) => {
        const tally: LoginTally = {logins: 0, failures: [], seconds: 0}
        let started = Date.now()
        while (!this.stopping) {
          const {value} = await secrets.get(secret)
          const password = value.toString('utf8')
          value.fill(0)
          try {
            await login(password)
          } catch (error) {
            tally.failures.push((error as Error).message)
          }
          if (tally.logins++ === 0) {
            started = Date.now()
            warmed()
          }
        }
        warmed()
        tally.seconds = (Date.now() - started) / 1000
        return tally
      })
    })
    this.ready = Promise.all(warm)
  }

  async stop(): Promise<LoginTally[]> {
    this.stopping = true
    return Promise.all(this.runs)
  }
}

/** The state each rotation in a home's journal is at. */
export const journalStates = (home: string): string[] => journalRecords(home).map((record) => record.state)

/** The journal records of a home's rotations. */
export function journalRecords(home: string): Array<{state: string; switchedAt?: string}> {
  const directory = join(home, 'state', 'rotations')
  let names: string[]
  try {
    names = readdirSync(directory)
  } catch {
    return []
  }
  return names.filter((name) => /^\d{8}T\d{6}Z-[0-9a-f]{8}\.json$/.test(name)).map((name) => JSON.parse(readFileSync(join(directory, name), 'utf8')) as {state: string; switchedAt?: string})
}
