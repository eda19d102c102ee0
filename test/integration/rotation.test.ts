import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {createConnection, type Connection} from 'mysql2/promise'
import {Redis} from 'ioredis'
import {kmsHome, signalWhen} from '../helpers/backup.ts'
import {runCli, type CliOptions} from '../helpers/cli.ts'
import {assertNoFailedLogins, journalRecords, journalStates, LoginLoop, mysqlLogin, redisLogin} from '../helpers/rotation.ts'
import {mariadb, mongodbSkipReason, mongodbUri, mysqlSkipReason, mysqlUrl, redis} from '../helpers/services.ts'

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`
const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T

type Home = Awaited<ReturnType<typeof kmsHome>>

async function admin(url = mariadb.primaryUrl): Promise<Connection> {
  const parsed = new URL(url)
  return createConnection({host: parsed.hostname, port: Number(parsed.port), user: decodeURIComponent(parsed.username), password: mariadb.password})
}

async function sql<T = Record<string, unknown>>(statement: string, values: unknown[] = [], url?: string): Promise<T[]> {
  const connection = await admin(url)
  try {
    return (await connection.query(statement, values))[0] as T[]
  } finally {
    await connection.end()
  }
}

/** SHOW GRANTS without the credential part MariaDB prints in the USAGE line. */
const grants = async (user: string, url?: string) =>
  (await sql<Record<string, string>>('SHOW GRANTS FOR ?@?', [user, '%'], url)).map((row) => Object.values(row)[0]!.replace(/ IDENTIFIED (BY PASSWORD '[^']*'|VIA .*?)(?= WITH |$)/, '')).sort()

const logsIn = async (login: (password: string) => Promise<void>, password: string) =>
  login(password).then(
    () => true,
    () => false,
  )

/** Waits until the replica has what the primary wrote so far (accounts are created on the primary). */
async function replicaCaughtUp(): Promise<void> {
  const [position] = await sql<{gtid: string}>('SELECT @@gtid_binlog_pos AS gtid')
  await sql('SELECT MASTER_GTID_WAIT(?, 30)', [position!.gtid], mariadb.replicaUrl)
}

/** The account's stored ways in on the primary: one after a finished rotation or rollback. */
const alternatives = async (user: string) => {
  const [row] = await sql<{priv: {auth_or?: unknown[]}}>('SELECT Priv AS priv FROM mysql.global_priv WHERE User = ? AND Host = ?', [user, '%'])
  return row!.priv.auth_or?.length ?? 1
}


const users: string[] = []
async function mariadbUser(password: string): Promise<string> {
  const user = `rot_${tag}_${users.length}`
  users.push(user)
  await sql('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password])
  await sql(`GRANT SELECT, INSERT ON mysql.help_topic TO ?@?`, [user, '%'])
  await replicaCaughtUp()
  return user
}

const mysqlRun = (home: Home, args: string[], extra: Record<string, string> = {}, options: Pick<CliOptions, 'onSpawn'> = {}) =>
  runCli(args, {env: {...home.env, DBAKIT_PASSWORD: mariadb.password, ...extra}, ...options})
const primaryLogin = (user: string) => (password: string) => mysqlLogin(mariadb.primaryUrl, user, password)
const replicaLogin = (user: string) => (password: string) => mysqlLogin(mariadb.replicaUrl, user, password)

async function storeSecret(home: Home, name: string, value: string): Promise<void> {
  const result = await runCli(['secret', 'set', name, '--stdin', '--backend', 'kms', '--yes'], {env: home.env, input: value})
  assert.equal(result.code, 0, result.stderr)
}

const secretValue = async (home: Home, name: string) => {
  const result = await home.run(['secret', 'get', name])
  assert.equal(result.code, 0, result.stderr)
  return result.stdout
}

const storeDatabases: string[] = []
after(async () => {
  for (const user of users) await sql('DROP USER IF EXISTS ?@?', [user, '%'])
  for (const database of storeDatabases) await sql(`DROP DATABASE IF EXISTS \`${database}\``)
})

describe('secret rotate on MariaDB primary + replica', () => {
  let home: Home
  before(async () => {
    home = await kmsHome()
  })

  it('rotates with zero failed logins on primary and replica, privileges unchanged, the old password refused after', async () => {
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await mariadbUser(old)
    const secret = `app/${user}`
    await storeSecret(home, secret, old)
    const grantsBefore = {primary: await grants(user), replica: await grants(user, mariadb.replicaUrl)}
    // A session from before the rotation, gone a second in: the rotation waits for it before discarding.
    const straggler = await createConnection({...connectionOf(mariadb.primaryUrl), user, password: old})
    setTimeout(() => void straggler.end(), 1000)
    const loop = new LoginLoop(home, secret, {primary: primaryLogin(user), replica: replicaLogin(user)})
    await loop.ready
    // --grace covers an application that reads the secret and logs in a moment later; on a CI machine
    // running other test files at once, that moment can pass a second.
    const rotated = await mysqlRun(home, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--secret', secret, '--grace', '3s', '--discard-after', '20s', '--yes', '--json'])
    const tallies = await loop.stop()
    assert.equal(rotated.code, 0, rotated.stderr)
    const report = json<{state: string; nodes: Array<{address: string; role: string}>; checks: Array<{proof: string}>; id: string}>(rotated.stdout)
    assert.equal(report.state, 'done')
    assert.deepEqual(report.nodes.map((node) => node.role), ['primary', 'replica'])
    assert.deepEqual(report.checks.map((check) => check.proof), ['login', 'login'])
    assertNoFailedLogins(tallies, 'MariaDB')
    const fresh = await secretValue(home, secret)
    assert.notEqual(fresh, old)
    assert.match(fresh, /^[A-Za-z][A-Za-z0-9._-]{31}$/)
    for (const login of [primaryLogin(user), replicaLogin(user)]) {
      assert.equal(await logsIn(login, fresh), true)
      assert.equal(await logsIn(login, old), false, 'the old password still logs in')
    }
    assert.deepEqual({primary: await grants(user), replica: await grants(user, mariadb.replicaUrl)}, grantsBefore)
    assert.doesNotMatch(rotated.stdout + rotated.stderr, new RegExp(`${old}|${fresh}`), 'a password was printed')

    const rolledBack = await mysqlRun(home, ['secret', 'rollback', report.id, '--yes', '--json'])
    assert.equal(rolledBack.code, 0, rolledBack.stderr)
    assert.equal(await secretValue(home, secret), old)
    for (const login of [primaryLogin(user), replicaLogin(user)]) {
      assert.equal(await logsIn(login, old), true)
      assert.equal(await logsIn(login, fresh), false)
    }
    const status = await home.run(['secret', 'status', report.id, '--json'])
    assert.deepEqual(json<{rotations: Array<{history: Array<{state: string}>}>}>(status.stdout).rotations[0]!.history.map((step) => step.state), ['pending', 'set', 'verified', 'discarded', 'done', 'rolling-back', 'rolled-back'])
  })

  /**
   * Starts a rotation and kills it with SIGKILL once its journal says `state`. It is held there for
   * real: at set, ALTER USER waits on a read lock of the grant table; at verified, the rotation waits
   * for a session from before the switch; at discarded, both.
   */
  async function killedAt(state: 'set' | 'verified' | 'discarded') {
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await mariadbUser(old)
    const secret = `kill/${user}`
    const own = await kmsHome()
    await storeSecret(own, secret, old)
    const holder = await admin()
    const straggler = state === 'set' ? undefined : await createConnection({...connectionOf(mariadb.primaryUrl), user, password: old})
    if (state === 'set') await holder.query('LOCK TABLES mysql.global_priv READ')
    let locked = state === 'set'
    const killed = await mysqlRun(own, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--secret', secret, '--discard-after', '120s', '--yes'], {}, {
      onSpawn: signalWhen('SIGKILL', async () => {
        const [record] = journalRecords(own.dir)
        // Verified is written just before the secret switches: held means switched and waiting.
        const now = record?.state === 'verified' && !record.switchedAt ? 'switching' : record?.state
        if (state === 'discarded' && now === 'verified' && !locked) {
          locked = true
          await holder.query('LOCK TABLES mysql.global_priv READ')
          await straggler!.end()
        }
        return now === state
      }),
    })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    assert.deepEqual(journalStates(own.dir), [state])
    await holder.query('UNLOCK TABLES')
    await holder.end()
    if (state === 'verified') await straggler!.end()
    const [rotation] = json<{rotations: Array<{id: string}>}>((await own.run(['secret', 'status', '--json'])).stdout).rotations
    return {own, user, old, secret, id: rotation!.id}
  }

  for (const state of ['set', 'verified', 'discarded'] as const) {
    it(`resumes after kill -9 at ${state}: the account ends with the one password secret get returns`, async () => {
      const {own, user, old, secret, id} = await killedAt(state)
      // Until it is resumed, the secret's password logs in (the old one, or the new one from verified on).
      const meanwhile = await secretValue(own, secret)
      assert.equal(await logsIn(primaryLogin(user), meanwhile), true)
      // Resumed with `secret resume`, or (at discarded) by running the same rotate again.
      const again = state === 'discarded' ? ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--secret', secret, '--yes', '--json'] : ['secret', 'resume', id, '--yes', '--json']
      const resumed = await mysqlRun(own, again)
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.deepEqual(json<{id: string; state: string; resumed: boolean}>(resumed.stdout), {...json(resumed.stdout), id, state: 'done', resumed: true})
      const fresh = await secretValue(own, secret)
      assert.notEqual(fresh, old)
      for (const login of [primaryLogin(user), replicaLogin(user)]) {
        assert.equal(await logsIn(login, fresh), true)
        assert.equal(await logsIn(login, old), false, 'the old password still logs in')
      }
      assert.equal(await alternatives(user), 1)
    })
  }

  it('keeps the journal in a MySQL --store: another host sees the rotation and is refused its lock; after kill -9 the server has released it', async () => {
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await mariadbUser(old)
    const database = `dbakit_rot_${tag}`
    storeDatabases.push(database)
    const store = `${mariadb.primaryUrl}/${database}`
    const [a, b] = [await kmsHome(), await kmsHome()]
    await storeSecret(a, `shared/${user}`, old)
    const straggler = await createConnection({...connectionOf(mariadb.primaryUrl), user, password: old})
    // Until the first transition is written, the table does not exist yet.
    const stateInStore = async () => (await sql<{state: string}>(`SELECT state FROM \`${database}\`.rotation_journal`).catch(() => []))[0]?.state
    let seenFromB: string | undefined
    let refused: Awaited<ReturnType<typeof runCli>> | undefined
    const killed = await mysqlRun(a, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--secret', `shared/${user}`, '--store', store, '--discard-after', '120s', '--yes'], {}, {
      onSpawn: signalWhen('SIGKILL', async () => {
        if ((await stateInStore()) !== 'verified') return false
        seenFromB ??= (await mysqlRun(b, ['secret', 'status', '--store', store])).stdout
        refused ??= await mysqlRun(b, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--store', store, '--yes'])
        return true
      }),
    })
    assert.equal(killed.signal, 'SIGKILL', killed.stderr)
    await straggler.end()
    assert.match(seenFromB!, new RegExp(`${user}@%.*verified`))
    assert.equal(refused!.code, 2, refused!.stderr)
    assert.match(refused!.stderr, /is being rotated by another process \(its lock is held by the session of dbakit@/)
    assert.deepEqual(journalStates(a.dir), [], 'the journal went to the state directory too')
    const [rotation] = json<{rotations: Array<{id: string}>}>((await mysqlRun(a, ['secret', 'status', '--store', store, '--json'])).stdout).rotations
    const resumed = await mysqlRun(a, ['secret', 'resume', rotation!.id, '--store', store, '--yes'])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.equal(await stateInStore(), 'done')
    assert.equal(await logsIn(primaryLogin(user), await secretValue(a, `shared/${user}`)), true)
    assert.equal(await logsIn(primaryLogin(user), old), false)
  })

  it('rolls back after kill -9 at verified: the old password only, and secret get returns it', async () => {
    const {own, user, old, secret, id} = await killedAt('verified')
    const fresh = await secretValue(own, secret)
    const rolledBack = await mysqlRun(own, ['secret', 'rollback', id, '--yes'])
    assert.equal(rolledBack.code, 0, rolledBack.stderr)
    assert.equal(await secretValue(own, secret), old)
    for (const login of [primaryLogin(user), replicaLogin(user)]) {
      assert.equal(await logsIn(login, old), true)
      assert.equal(await logsIn(login, fresh), false)
    }
    assert.equal(await alternatives(user), 1)
  })
})

function connectionOf(url: string) {
  const parsed = new URL(url)
  return {host: parsed.hostname, port: Number(parsed.port)}
}

describe('secret rotate refuses bad input, and changes nothing', () => {
  let home: Home
  let user: string
  const old = `old-${randomBytes(6).toString('hex')}`
  before(async () => {
    home = await kmsHome()
    user = await mariadbUser(old)
  })
  const unchanged = async () => {
    assert.equal(await logsIn(primaryLogin(user), old), true)
    assert.equal(await alternatives(user), 1, 'a second password was added')
  }
  const rotate = (args: string[], extra: Record<string, string> = {}, on: Home = home) => mysqlRun(on, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--yes', ...args], extra)

  it('an unknown user: exit 2 naming the accounts there are', async () => {
    const result = await rotate(['--user', `${user}x`])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, new RegExp(`there is no account named ${user}x[\\s\\S]*did you mean ${user}\\?`))
  })

  it('an unknown host: exit 2 naming the hosts the user has', async () => {
    const result = await rotate(['--user', user, '--host', '10.9.9.9'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, new RegExp(`${user} has no account for host '10.9.9.9'[\\s\\S]*${user}@'%'`))
  })

  it('a replica as the target: exit 2 pointing at the primary', async () => {
    const result = await mysqlRun(home, ['secret', 'rotate', '--url', mariadb.replicaUrl, '--user', user, '--yes'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /read-only replica[\s\S]*point --profile\/--url at the primary, 127\.0\.0\.1:33701/)
    await unchanged()
  })

  /** Statements on the primary that do not reach the replica, as someone with sql_log_bin=0 makes them. */
  const unlogged = async (statement: string, values: unknown[]) => {
    const connection = await admin()
    try {
      await connection.query('SET SESSION sql_log_bin = 0')
      await connection.query(statement, values)
    } finally {
      await connection.end()
    }
  }

  it('an account the replica lacks (created with sql_log_bin=0): exit 2 naming the replica, replication left running', async () => {
    const lonely = `rot_${tag}_lonely`
    await unlogged('CREATE USER ?@? IDENTIFIED BY ?', [lonely, '%', old])
    try {
      const result = await rotate(['--user', lonely])
      assert.equal(result.code, 2, result.stderr)
      assert.match(result.stderr, new RegExp(`exists on the primary but not on replica ${new URL(mariadb.replicaUrl).host}[\\s\\S]*would stop replication`))
      const [status] = await sql<{Slave_SQL_Running: string}>('SHOW SLAVE STATUS', [], mariadb.replicaUrl)
      assert.equal(status!.Slave_SQL_Running, 'Yes')
    } finally {
      await unlogged('DROP USER ?@?', [lonely, '%'])
    }
  })

  it('a password changed on the primary with sql_log_bin=0: exit 2 naming the replica that lacks the change', async () => {
    const diverged = await mariadbUser(old)
    await unlogged('ALTER USER ?@? IDENTIFIED BY ?', [diverged, '%', 'changed-on-the-primary-only'])
    const result = await rotate(['--user', diverged])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, new RegExp(`replica ${new URL(mariadb.replicaUrl).host} does not have the password ${diverged}@% has on the primary: a change made with sql_log_bin=0`))
    assert.equal(await logsIn(replicaLogin(diverged), old), true)
  })

  it('the account the connection itself uses: exit 2, so the profile is not left with the old password', async () => {
    const result = await rotate(['--user', 'dbakit', '--host', '127.0.0.1'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /dbakit@127\.0\.0\.1 is the account this connection logs in as[\s\S]*connect as another administrator/)
  })

  it('an admin without CREATE USER: exit 3 naming the grant', async () => {
    const weak = `rotadm_${tag}`
    users.push(weak)
    const weakPassword = `adm-${randomBytes(6).toString('hex')}`
    await sql('CREATE USER ?@? IDENTIFIED BY ?', [weak, '%', weakPassword])
    await sql('GRANT SELECT ON mysql.* TO ?@?', [weak, '%'])
    await sql('GRANT PROCESS ON *.* TO ?@?', [weak, '%'])
    const result = await mysqlRun(home, ['secret', 'rotate', '--url', `mysql://${weak}@127.0.0.1:${new URL(mariadb.primaryUrl).port}`, '--user', user, '--yes'], {DBAKIT_PASSWORD: weakPassword})
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /may not change other accounts' passwords[\s\S]*GRANT CREATE USER ON \*\.\* TO/)
    assert.deepEqual(journalStates(home.dir), [])
    await unchanged()
  })

  it('a secret that does not hold the account\'s password: exit 2', async () => {
    await storeSecret(home, `wrong/${user}`, 'not-the-password')
    const result = await rotate(['--user', user, '--secret', `wrong/${user}`])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /does not hold the current password/)
    await unchanged()
  })

  it('an unreachable KMS: exit 3, no journal, the password unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbakit-rot-kms-'))
    writeFileSync(join(dir, 'config.yaml'), 'kms:\n  provider: vault-transit\n  vault-transit:\n    address: http://127.0.0.1:9\n    key: dbakit\n')
    const result = await runCli(['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--yes'], {env: {DBAKIT_HOME: dir, DBAKIT_PASSWORD: mariadb.password, VAULT_TOKEN: 'unused'}})
    assert.equal(result.code, 3, result.stderr)
    assert.match(result.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/)
    assert.deepEqual(journalStates(dir), [])
    await unchanged()
  })

  it('two rotations of one account at once: the second is refused with exit 2', async () => {
    const straggler = await createConnection({...connectionOf(mariadb.primaryUrl), user, password: old})
    const own = await kmsHome()
    const first = mysqlRun(own, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--discard-after', '60s', '--yes'])
    // Bounded: a first rotation that fails early must fail the test, not hang it.
    for (let waited = 0; journalStates(own.dir)[0] !== 'verified'; waited += 20) {
      assert.ok(waited < 30_000, `the first rotation never reached verified (journal: ${journalStates(own.dir).join(', ') || 'empty'})`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const second = await mysqlRun(own, ['secret', 'rotate', '--url', mariadb.primaryUrl, '--user', user, '--yes'])
    assert.equal(second.code, 2, second.stderr)
    assert.match(second.stderr, /is being rotated by another process \(pid \d+/)
    await straggler.end()
    assert.equal((await first).code, 0)
    // Back to the password the other tests expect.
    const [rotation] = json<{rotations: Array<{id: string}>}>((await own.run(['secret', 'status', '--json'])).stdout).rotations
    assert.equal((await mysqlRun(own, ['secret', 'rollback', rotation!.id, '--yes'])).code, 0)
    await unchanged()
  })

  it('an ed25519 account: exit 2 saying mysql2 cannot speak it, before anything changes', async (t) => {
    const plugin = await sql<{n: number}>("SELECT COUNT(*) AS n FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'")
    const connection = await admin()
    try {
      // Primary only: the replica need not have the plugin, and nothing here may reach it.
      await connection.query('SET SESSION sql_log_bin = 0')
      if (Number(plugin[0]!.n) === 0) {
        try {
          await connection.query("INSTALL SONAME 'auth_ed25519'")
        } catch (error) {
          t.skip(`the ed25519 plugin cannot be loaded here: ${(error as Error).message}`)
          return
        }
      }
      const edUser = `rot_ed_${tag}`
      await connection.query("CREATE USER ?@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pass-1')", [edUser])
      try {
        const result = await rotate(['--user', edUser])
        assert.equal(result.code, 2, result.stderr)
        assert.match(result.stderr, /ed25519, which mysql2[\s\S]*cannot speak/)
        assert.deepEqual(journalStates(home.dir), [])
      } finally {
        await connection.query("DROP USER ?@'%'", [edUser])
      }
    } finally {
      await connection.end()
    }
  })
})

const redisUsers: string[] = []
async function redisAdmin(url: string): Promise<Redis> {
  const parsed = new URL(url)
  const client = new Redis({host: parsed.hostname, port: Number(parsed.port), username: 'dbakit', password: redis.password, lazyConnect: true, maxRetriesPerRequest: 1})
  await client.connect()
  return client
}
async function onRedisNodes<T>(work: (client: Redis, node: 'primary' | 'replica') => Promise<T>): Promise<T[]> {
  const results: T[] = []
  for (const [node, url] of [['primary', redis.primaryUrl], ['replica', redis.replicaUrl]] as const) {
    const client = await redisAdmin(url)
    try {
      results.push(await work(client, node))
    } finally {
      client.disconnect()
    }
  }
  return results
}
/** An ACL user on both nodes (ACLs are per node), allowed GET and SET on app:* only. */
async function redisUser(password: string, nodes: Array<'primary' | 'replica'> = ['primary', 'replica']): Promise<string> {
  const user = `rot_${tag}_${redisUsers.length}`
  redisUsers.push(user)
  await onRedisNodes(async (client, node) => nodes.includes(node) && client.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~app:*', '+get', '+set'))
  return user
}
const aclRules = (user: string) =>
  onRedisNodes(async (client) => {
    const reply = (await client.call('ACL', 'GETUSER', user)) as unknown[]
    const fields = Object.fromEntries(Array.from({length: reply.length / 2}, (_, index) => [String(reply[index * 2]), reply[index * 2 + 1]]))
    return {passwords: (fields.passwords as string[]).length, rules: {...fields, passwords: undefined}}
  })
const redisRun = (home: Home, args: string[], options: Pick<CliOptions, 'onSpawn'> = {}) => runCli(args, {env: {...home.env, DBAKIT_PASSWORD: redis.password}, ...options})
const redisLogins = (user: string) => [(password: string) => redisLogin(redis.primaryUrl, user, password), (password: string) => redisLogin(redis.replicaUrl, user, password)]

after(async () => {
  await onRedisNodes(async (client) => {
    for (const user of redisUsers) await client.call('ACL', 'DELUSER', user)
  })
})

describe('secret rotate on Redis primary + replica', () => {
  it('rotates on every node with zero failed logins, rules unchanged, the old password refused after', async () => {
    const home = await kmsHome()
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await redisUser(old)
    const secret = `cache/${user}`
    await storeSecret(home, secret, old)
    const before = await aclRules(user)
    const loop = new LoginLoop(home, secret, {primary: redisLogins(user)[0]!, replica: redisLogins(user)[1]!})
    await loop.ready
    const rotated = await redisRun(home, ['secret', 'rotate', '--url', redis.primaryUrl, '--user', user, '--secret', secret, '--grace', '3s', '--discard-after', '5s', '--yes', '--json'])
    const tallies = await loop.stop()
    assert.equal(rotated.code, 0, rotated.stderr)
    const report = json<{state: string; nodes: Array<{role: string}>; warnings: string[]}>(rotated.stdout)
    assert.equal(report.state, 'done')
    assert.deepEqual(report.nodes.map((node) => node.role), ['primary', 'replica'])
    assert.ok(report.warnings.some((warning) => /has no aclfile: its ACL lives in memory/.test(warning)))
    assertNoFailedLogins(tallies, 'Redis')
    const fresh = await secretValue(home, secret)
    for (const login of redisLogins(user)) {
      assert.equal(await logsIn(login, fresh), true)
      assert.equal(await logsIn(login, old), false, 'the old password still logs in')
    }
    assert.deepEqual(await aclRules(user), before, 'the ACL rules or the number of passwords changed')
  })

  it('names the clients whose logins are refused once the old password is gone (ACL LOG)', async () => {
    const home = await kmsHome()
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await redisUser(old)
    // A client that never reads the secret again: it keeps logging in with the old password.
    let stopping = false
    const stale = (async () => {
      while (!stopping) await logsIn((password) => redisLogin(redis.primaryUrl, user, password), old)
    })()
    // Once the old password is being removed, the replica is paused for a moment: the rotation's last
    // checks wait on it, and the stale client is refused on the primary meanwhile, for certain.
    const replica = await redisAdmin(redis.replicaUrl)
    let paused = false
    const rotated = await redisRun(home, ['secret', 'rotate', '--url', redis.primaryUrl, '--user', user, '--grace', '0s', '--discard-after', '0s', '--yes', '--json'], {
      onSpawn: signalWhen('SIGCONT', async () => {
        if (paused || journalStates(home.dir)[0] !== 'discarded') return false
        paused = true
        await replica.call('CLIENT', 'PAUSE', '1000', 'ALL')
        return true
      }),
    })
    replica.disconnect()
    stopping = true
    await stale
    assert.equal(rotated.code, 0, rotated.stderr)
    assert.ok(json<{warnings: string[]}>(rotated.stdout).warnings.some((warning) => new RegExp(`login\\(s\\) as ${user} were refused since the old password was removed \\(127\\.0\\.0\\.1:\\d+ id \\d+ from 127\\.0\\.0\\.1:\\d+`).test(warning)), rotated.stdout)
  })

  it('resumes after kill -9 at verified, and rolls back to the old password', async () => {
    const home = await kmsHome()
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await redisUser(old)
    const secret = `cache/${user}`
    await storeSecret(home, secret, old)
    const straggler = new Redis({...connectionOf(redis.primaryUrl), username: user, password: old, lazyConnect: true, enableReadyCheck: false})
    await straggler.connect()
    const killed = await redisRun(home, ['secret', 'rotate', '--url', redis.primaryUrl, '--user', user, '--secret', secret, '--discard-after', '120s', '--yes'], {onSpawn: signalWhen('SIGKILL', () => Boolean(journalRecords(home.dir)[0]?.switchedAt))})
    assert.equal(killed.signal, 'SIGKILL')
    straggler.disconnect()
    const [rotation] = json<{rotations: Array<{id: string}>}>((await home.run(['secret', 'status', '--json'])).stdout).rotations
    const resumed = await redisRun(home, ['secret', 'resume', rotation!.id, '--yes', '--json'])
    assert.equal(resumed.code, 0, resumed.stderr)
    const fresh = await secretValue(home, secret)
    assert.deepEqual((await aclRules(user)).map((node) => node.passwords), [1, 1])
    for (const login of redisLogins(user)) assert.equal(await logsIn(login, old), false)
    const rolledBack = await redisRun(home, ['secret', 'rollback', rotation!.id, '--yes'])
    assert.equal(rolledBack.code, 0, rolledBack.stderr)
    assert.equal(await secretValue(home, secret), old)
    for (const login of redisLogins(user)) {
      assert.equal(await logsIn(login, old), true)
      assert.equal(await logsIn(login, fresh), false)
    }
  })

  it('a user missing on the replica: exit 2 naming the node, nothing changed', async () => {
    const home = await kmsHome()
    const old = `old-${randomBytes(6).toString('hex')}`
    const user = await redisUser(old, ['primary'])
    const result = await redisRun(home, ['secret', 'rotate', '--url', redis.primaryUrl, '--user', user, '--yes'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, new RegExp(`exists on the primary but not on replica ${new URL(redis.replicaUrl).host}`))
    const primary = await redisAdmin(redis.primaryUrl)
    try {
      const reply = (await primary.call('ACL', 'GETUSER', user)) as unknown[]
      assert.deepEqual(reply[reply.indexOf('passwords') + 1], [createHash('sha256').update(old).digest('hex')])
    } finally {
      primary.disconnect()
    }
  })

  it('a replica as the target: exit 2 pointing at the primary', async () => {
    const home = await kmsHome()
    const result = await redisRun(home, ['secret', 'rotate', '--url', redis.replicaUrl, '--user', 'app', '--yes'])
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, new RegExp(`point --profile/--url at the primary, ${new URL(redis.primaryUrl).host}`))
  })

  it('saves the ACL where an aclfile is configured: the file has the new password and not the old', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbakit-rot-acl-'))
    const port = 20000 + (process.pid % 20000)
    const adminPassword = randomBytes(12).toString('hex')
    const old = `old-${randomBytes(6).toString('hex')}`
    writeFileSync(join(dir, 'users.acl'), `user default off\nuser admin on >${adminPassword} ~* &* +@all\nuser app on >${old} ~app:* +get\n`)
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--aclfile', join(dir, 'users.acl'), '--save', '', '--appendonly', 'no'], {stdio: 'ignore'})
    try {
      const url = `redis://admin@127.0.0.1:${port}`
      for (let tries = 0; tries < 100 && !(await logsIn((password) => redisLogin(url, 'admin', password), adminPassword)); tries++) await new Promise((resolve) => setTimeout(resolve, 50))
      const home = await kmsHome()
      const result = await runCli(['secret', 'rotate', '--url', url, '--user', 'app', '--secret', 'acl/app', '--yes', '--json'], {env: {...home.env, DBAKIT_PASSWORD: adminPassword}})
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(json<{warnings: string[]}>(result.stdout).warnings, [])
      const fresh = await secretValue(home, 'acl/app')
      const file = readFileSync(join(dir, 'users.acl'), 'utf8')
      assert.match(file, new RegExp(`user app on #${createHash('sha256').update(fresh).digest('hex')} `))
      assert.doesNotMatch(file, new RegExp(createHash('sha256').update(old).digest('hex')))
    } finally {
      server.kill()
    }
  })
})

describe('secret rotate on MySQL 8 (RETAIN CURRENT PASSWORD)', {skip: mysqlSkipReason}, () => {
  const url = mysqlUrl!
  const password = process.env.DBAKIT_TEST_MYSQL_PASSWORD ?? ''
  const run = (home: Home, args: string[]) => runCli(args, {env: {...home.env, DBAKIT_PASSWORD: password}})
  const mysqlSql = async (statement: string, values: unknown[] = []) => {
    const connection = await createConnection({...connectionOf(url), user: decodeURIComponent(new URL(url).username), password})
    try {
      return (await connection.query(statement, values))[0]
    } finally {
      await connection.end()
    }
  }
  const user = `rot_${tag}_mysql8`
  after(async () => {
    await mysqlSql('DROP USER IF EXISTS ?@?', [user, '%'])
  })

  it('rotates with both passwords valid in between, then only the new; rollback brings the old back', async () => {
    const home = await kmsHome()
    const old = `Old-${randomBytes(6).toString('hex')}-1`
    await mysqlSql('CREATE USER ?@? IDENTIFIED WITH caching_sha2_password BY ?', [user, '%', old])
    await storeSecret(home, `m8/${user}`, old)
    const appLogin = (secret: string) => mysqlLogin(url, user, secret)
    const loop = new LoginLoop(home, `m8/${user}`, {primary: appLogin})
    await loop.ready
    const rotated = await run(home, ['secret', 'rotate', '--url', url, '--user', user, '--secret', `m8/${user}`, '--yes', '--json'])
    const tallies = await loop.stop()
    assert.equal(rotated.code, 0, rotated.stderr)
    assertNoFailedLogins(tallies, 'MySQL 8')
    const fresh = await secretValue(home, `m8/${user}`)
    assert.equal(await logsIn(appLogin, fresh), true)
    assert.equal(await logsIn(appLogin, old), false)
    const {id} = json<{id: string}>(rotated.stdout)
    assert.equal((await run(home, ['secret', 'rollback', id, '--yes'])).code, 0)
    assert.equal(await logsIn(appLogin, old), true)
    assert.equal(await logsIn(appLogin, fresh), false)
  })
})

describe('secret rotate on MongoDB (alternating users)', {skip: mongodbSkipReason}, () => {
  it('flips the secret to the _clone user with the same roles, then back on the next rotation; rollback restores the pair', async () => {
    const {MongoClient} = await import('mongodb')
    const uri = new URL(mongodbUri!)
    const adminPassword = decodeURIComponent(uri.password)
    const client = new MongoClient(mongodbUri!)
    await client.connect()
    const base = `rot_${tag}_mongo`
    const admin = client.db('admin')
    const old = `old-${randomBytes(6).toString('hex')}`
    await admin.command({createUser: base, pwd: old, roles: [{role: 'read', db: 'dbakit_rotation_test'}]})
    uri.password = ''
    const url = uri.toString()
    const mongoLogin = async (user: string, password: string) => {
      const probe = new MongoClient(url.replace(/\/\/[^@]*@/, '//'), {auth: {username: user, password}, authSource: 'admin', serverSelectionTimeoutMS: 3000})
      try {
        await probe.connect()
        await probe.db('admin').command({ping: 1})
      } finally {
        await probe.close()
      }
    }
    try {
      const home = await kmsHome()
      await storeSecret(home, `mongo/${base}`, old)
      const run = (args: string[]) => runCli(args, {env: {...home.env, DBAKIT_PASSWORD: adminPassword}})
      const first = await run(['secret', 'rotate', '--url', url, '--user', base, '--secret', `mongo/${base}`, '--yes', '--json'])
      assert.equal(first.code, 0, first.stderr)
      assert.equal(await secretValue(home, `mongo/${base}.user`), `${base}_clone`)
      const fresh = await secretValue(home, `mongo/${base}`)
      assert.equal(await logsIn((password) => mongoLogin(`${base}_clone`, password), fresh), true)
      assert.equal(await logsIn((password) => mongoLogin(base, password), old), false, 'the old user still logs in with the old password')
      const clone = (await admin.command({usersInfo: `${base}_clone`})).users[0]
      assert.deepEqual(clone.roles, [{role: 'read', db: 'dbakit_rotation_test'}])
      const second = await run(['secret', 'rotate', '--url', url, '--user', base, '--secret', `mongo/${base}`, '--yes', '--json'])
      assert.equal(second.code, 0, second.stderr)
      assert.equal(await secretValue(home, `mongo/${base}.user`), base)
      const {id} = json<{id: string}>(second.stdout)
      assert.equal((await run(['secret', 'rollback', id, '--yes'])).code, 0)
      assert.equal(await secretValue(home, `mongo/${base}.user`), `${base}_clone`)
      assert.equal(await logsIn((password) => mongoLogin(`${base}_clone`, password), await secretValue(home, `mongo/${base}`)), true)
    } finally {
      for (const user of [base, `${base}_clone`]) await admin.command({dropUser: user}).catch(() => {})
      await client.close()
    }
  })
})
