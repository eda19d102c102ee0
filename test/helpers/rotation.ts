import assert from 'node:assert/strict'
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
 * `secret get` returns at that moment (the library call behind it, in this process), until stopped:
 * `clients` loops per node.
 */
export class LoginLoop {
  private stopping = false
  private readonly nodes: string[]
  private readonly runs: Array<Promise<LoginTally>>
  /** Settles when every client has logged in once: the KMS key is derived, the loop is at speed. */
  readonly ready: Promise<unknown>

  constructor(home: {dir: string; env: Record<string, string>}, secret: string, nodes: Record<string, (password: string) => Promise<void>>, clients = 2) {
    const env = {...process.env, ...home.env}
    const warm: Array<Promise<void>> = []
    this.nodes = Object.keys(nodes).flatMap((node) => Array<string>(clients).fill(node))
    this.runs = this.nodes.map((node) => {
      const login = nodes[node]!
      let warmed!: () => void
      warm.push(new Promise<void>((resolve) => (warmed = resolve)))
      return withSecrets({configPath: join(home.dir, 'config.yaml'), env, warn: () => {}}, async (secrets: Secrets) => {
        const tally: LoginTally = {logins: 0, failures: [], seconds: 0}
        let started = Date.now()
        while (!this.stopping) {
          const {value} = await secrets.get(secret)
          const password = value.toString('utf8')
          value.fill(0)
          const readAt = Date.now()
          try {
            await login(password)
          } catch (error) {
            // How stale the password was says whether a grace period, or the overlap itself, failed.
            tally.failures.push(`${(error as Error).message} (${Date.now() - readAt} ms after the password was read, at ${new Date().toISOString()})`)
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

  /** Per node, every client's logins and failures together. */
  async stop(): Promise<Record<string, LoginTally>> {
    this.stopping = true
    const tallies = await Promise.all(this.runs)
    const byNode: Record<string, LoginTally> = {}
    tallies.forEach((tally, index) => {
      const sum = (byNode[this.nodes[index]!] ??= {logins: 0, failures: [], seconds: 0})
      sum.logins += tally.logins
      sum.failures.push(...tally.failures)
      sum.seconds = Math.max(sum.seconds, tally.seconds)
    })
    return byNode
  }
}

/** No login failed on any node; the rates go to the test's output. */
export function assertNoFailedLogins(tallies: Record<string, LoginTally>, what: string): void {
  for (const [node, tally] of Object.entries(tallies)) {
    assert.deepEqual(tally.failures, [], `a login to the ${node} failed during the rotation`)
    assert.ok(tally.logins > 0, `no login to the ${node} was made`)
    process.stdout.write(`# ${what} ${node}: ${tally.logins} logins in ${tally.seconds.toFixed(2)} s (${Math.round(tally.logins / tally.seconds)}/s), 0 failed\n`)
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
