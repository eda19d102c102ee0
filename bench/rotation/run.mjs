// Password rotation under a login loop: `dbakit secret rotate` next to the naive one-step change
// (MariaDB `ALTER USER ... IDENTIFIED BY`, Redis `ACL SETUSER u resetpass >new` on each node) with
// the application's secret switched afterwards, in the same run, on the MariaDB primary + replica and
// the Redis primary + replica that scripts/services runs. Prints a Markdown table for
// docs/benchmarks.md, the goals with pass/fail, and the command that produced it.
//
// Usage (from the repository root; the project must be built, the services running):
//   set -a; . "$(scripts/services env)"; set +a
//   scripts/node node bench/rotation/run.mjs [--runs N] [--clients N] [--json FILE]
//
//   --runs N      rotations per engine and method; the table shows the median time and all failures (default 5)
//   --clients N   login loops per node, each logging in as fast as it can (default 2)
//   --kms KIND    the key provider the secrets are sealed with: pkcs11 (SoftHSM2 from scripts/services,
//                 the default) or passphrase (scrypt: half a second per process, by design)
//   --json FILE   also write every figure to FILE
//
// The application: on every node (primary and replica), --clients loops, each of which reads the
// password from the secret at each login (the library call behind `dbakit secret get`), logs in
// (MariaDB: connect, SELECT 1, quit; Redis: connect with AUTH, quit) and counts a failure when the
// login is refused. The loops run from before a rotation starts until a second after it ends.
// dbakit: `dbakit secret rotate --url PRIMARY --user U --secret S --yes`, end to end (process start
// to exit), with its defaults (--grace 1s, --discard-after 10s). Naive: the password changed in one
// statement on the primary (MariaDB, which replicates it) or on each node in turn (Redis, whose ACLs
// are per node), then `dbakit secret set S` with the new password, as a runbook does it. Every
// rotation gets a fresh account, dropped afterwards.
import {randomBytes} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {createConnection} from 'mysql2/promise'
import {Redis} from 'ioredis'
import {commandLine, dbakitBin, main, median, onCleanup, options, root, runProcess, say} from '../osc/common.mjs'

const USAGE = 'Usage: scripts/node node bench/rotation/run.mjs [--runs N] [--clients N] [--kms pkcs11|passphrase] [--json FILE]\n'
const opts = options({runs: {type: 'number', default: 5}, clients: {type: 'number', default: 2}, kms: {type: 'string', default: 'pkcs11'}, json: {type: 'string'}}, USAGE)

function required(name) {
  const value = process.env[name]
  if (!value) {
    process.stderr.write(`${name} is not set: load the services' environment first: set -a; . "$(scripts/services env)"; set +a\n`)
    process.exit(2)
  }
  return value
}
const hostPort = (url) => {
  const parsed = new URL(url)
  return {host: parsed.hostname, port: Number(parsed.port)}
}
const engines = {
  mariadb: {primary: required('DBAKIT_TEST_MARIADB_PRIMARY_URL'), replica: required('DBAKIT_TEST_MARIADB_REPLICA_URL'), password: required('DBAKIT_TEST_MARIADB_PASSWORD')},
  redis: {primary: required('DBAKIT_TEST_REDIS_PRIMARY_URL'), replica: required('DBAKIT_TEST_REDIS_REPLICA_URL'), password: required('DBAKIT_TEST_REDIS_PASSWORD')},
}

async function mysqlAdmin(url) {
  return createConnection({...hostPort(url), user: new URL(url).username, password: engines.mariadb.password})
}
async function redisAdmin(url) {
  const client = new Redis({...hostPort(url), username: new URL(url).username, password: engines.redis.password, lazyConnect: true, maxRetriesPerRequest: 1})
  await client.connect()
  return client
}

const login = {
  async mariadb(url, user, password) {
    const connection = await createConnection({...hostPort(url), user, password, connectTimeout: 5000})
    try {
      await connection.query('SELECT 1')
    } finally {
      await connection.end()
    }
  },
  async redis(url, user, password) {
    const client = new Redis({...hostPort(url), username: user, password, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false})
    client.on('error', () => {})
    try {
      await client.connect()
    } finally {
      client.disconnect()
    }
  },
}

/** A fresh account with password `password`: MariaDB on the primary (it replicates), Redis on each node. */
async function createAccount(engine, user, password) {
  if (engine === 'mariadb') {
    const admin = await mysqlAdmin(engines.mariadb.primary)
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password])
    const [[{gtid}]] = await admin.query('SELECT @@gtid_binlog_pos AS gtid')
    await admin.end()
    const replica = await mysqlAdmin(engines.mariadb.replica)
    await replica.query('SELECT MASTER_GTID_WAIT(?, 30)', [gtid])
    await replica.end()
    return async () => {
      const again = await mysqlAdmin(engines.mariadb.primary)
      await again.query('DROP USER IF EXISTS ?@?', [user, '%'])
      await again.end()
    }
  }
  for (const url of [engines.redis.primary, engines.redis.replica]) {
    const admin = await redisAdmin(url)
    await admin.call('ACL', 'SETUSER', user, 'on', `>${password}`, '~bench:*', '+get')
    admin.disconnect()
  }
  return async () => {
    for (const url of [engines.redis.primary, engines.redis.replica]) {
      const admin = await redisAdmin(url)
      await admin.call('ACL', 'DELUSER', user)
      admin.disconnect()
    }
  }
}

/** The naive rotation: one statement per node, no overlap; the application is switched afterwards. */
async function naiveChange(engine, user, password) {
  if (engine === 'mariadb') {
    const admin = await mysqlAdmin(engines.mariadb.primary)
    await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', password])
    await admin.end()
    return
  }
  for (const url of [engines.redis.primary, engines.redis.replica]) {
    const admin = await redisAdmin(url)
    await admin.call('ACL', 'SETUSER', user, 'resetpass', `>${password}`)
    admin.disconnect()
  }
}

function dbakit(home, args, input, engine) {
  return runProcess(process.execPath, [dbakitBin(), ...args], {env: {...process.env, ...home.env, DBAKIT_PASSWORD: engines[engine].password, NO_COLOR: '1'}, stdin: input === undefined ? 'ignore' : 'pipe', onSpawn: (child) => input !== undefined && child.stdin.end(input)})
}

async function rotation(engine, method, run, secrets, home) {
  const user = `bench_rot_${process.pid}_${run}_${method}`
  const old = `old-${randomBytes(9).toString('hex')}`
  const drop = await createAccount(engine, user, old)
  onCleanup(drop)
  const secret = `bench/${user}`
  const stored = await dbakit(home, ['secret', 'set', secret, '--stdin', '--backend', 'kms', '--yes'], old, engine)
  if (stored.code !== 0) throw new Error(`secret set: ${stored.stderr}`)
  let stopping = false
  const tallies = {primary: {logins: 0, failed: 0}, replica: {logins: 0, failed: 0}}
  const loops = []
  for (const node of ['primary', 'replica']) {
    for (let client = 0; client < opts.clients; client++) {
      loops.push(
        (async () => {
          while (!stopping) {
            const {value} = await secrets.get(secret)
            const password = value.toString('utf8')
            value.fill(0)
            try {
              await login[engine](engines[engine][node], user, password)
            } catch {
              tallies[node].failed++
            }
            tallies[node].logins++
          }
        })(),
      )
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500))
  const started = performance.now()
  let seconds
  if (method === 'dbakit') {
    const result = await dbakit(home, ['secret', 'rotate', '--url', engines[engine].primary, '--user', user, '--secret', secret, '--yes', '--json'], undefined, engine)
    seconds = (performance.now() - started) / 1000
    if (result.code !== 0) throw new Error(`secret rotate: ${result.stderr}`)
  } else {
    const fresh = `new-${randomBytes(9).toString('hex')}`
    await naiveChange(engine, user, fresh)
    const switched = await dbakit(home, ['secret', 'set', secret, '--stdin', '--backend', 'kms', '--yes'], fresh, engine)
    seconds = (performance.now() - started) / 1000
    if (switched.code !== 0) throw new Error(`secret set: ${switched.stderr}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const windowSeconds = (performance.now() - started) / 1000 + 0.5
  stopping = true
  await Promise.all(loops)
  await drop()
  return {engine, method, seconds, windowSeconds, ...Object.fromEntries(Object.entries(tallies).map(([node, tally]) => [node, {...tally, perSecond: tally.logins / windowSeconds}]))}
}

main(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-bench-rotation-'))
  onCleanup(() => rmSync(dir, {recursive: true, force: true}))
  const home = {env: {DBAKIT_HOME: dir, DBAKIT_KMS_PASSPHRASE: randomBytes(16).toString('hex')}}
  const provider =
    opts.kms === 'pkcs11'
      ? ['--provider', 'pkcs11', '--module', required('DBAKIT_TEST_PKCS11_MODULE'), '--token', required('DBAKIT_TEST_PKCS11_TOKEN'), '--pin-file', required('DBAKIT_TEST_PKCS11_PIN_FILE'), '--key', `bench-rotation-${process.pid}`]
      : ['--provider', 'passphrase']
  const init = await runProcess(process.execPath, [dbakitBin(), 'kms', 'init', ...provider, '--yes'], {env: {...process.env, ...home.env}})
  if (init.code !== 0) throw new Error(`kms init: ${init.stderr}`)
  const {withSecrets} = await import(join(root, 'dist/lib/secrets/index.js'))
  const results = await withSecrets({configPath: join(dir, 'config.yaml'), env: {...process.env, ...home.env}, warn: () => {}}, async (secrets) => {
    const all = []
    for (const engine of ['mariadb', 'redis']) {
      for (let run = 0; run < opts.runs; run++) {
        for (const method of ['dbakit', 'naive']) {
          const result = await rotation(engine, method, run, secrets, home)
          say(`${engine} ${method} run ${run + 1}: ${result.seconds.toFixed(2)} s, failed logins ${result.primary.failed} primary / ${result.replica.failed} replica of ${result.primary.logins + result.replica.logins}`)
          all.push(result)
        }
      }
    }
    return all
  })
  const rows = []
  const goals = []
  for (const engine of ['mariadb', 'redis']) {
    for (const method of ['dbakit', 'naive']) {
      const runs = results.filter((r) => r.engine === engine && r.method === method)
      const failed = runs.reduce((sum, r) => sum + r.primary.failed + r.replica.failed, 0)
      const logins = runs.reduce((sum, r) => sum + r.primary.logins + r.replica.logins, 0)
      const rate = (node) => Math.round(median(runs.map((r) => r[node].perSecond)))
      const time = median(runs.map((r) => r.seconds))
      rows.push(`| ${engine === 'mariadb' ? 'MariaDB' : 'Redis'} | ${method === 'dbakit' ? '`dbakit secret rotate`' : engine === 'mariadb' ? '`ALTER USER … IDENTIFIED BY`, then `secret set`' : '`ACL SETUSER u resetpass >new` per node, then `secret set`'} | ${runs.length} | ${time.toFixed(2)} s | ${rate('primary')} / ${rate('replica')} | ${failed} of ${logins.toLocaleString('en-US')} |`)
      if (method === 'dbakit') {
        goals.push(`- ${engine}: 0 failed logins with dbakit: ${failed === 0 ? 'pass' : 'FAIL'} (${failed})`)
        goals.push(`- ${engine}: rotation on primary + replica under 2 s: ${time < 2 ? 'pass' : 'FAIL'} (median ${time.toFixed(2)} s)`)
      } else goals.push(`- ${engine}: the naive way shows its failures in the same run: ${failed > 0 ? 'pass' : 'FAIL'} (${failed})`)
    }
  }
  const report = [
    '| engine | rotation | runs | time (median, end to end) | logins/s primary / replica (median) | failed logins |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    ...goals,
    '',
    `KMS: ${opts.kms}; ${opts.clients} login loop(s) per node. Command: \`${commandLine('bench/rotation/run.mjs')}\``,
  ].join('\n')
  process.stdout.write(`${report}\n`)
  if (opts.json) writeFileSync(opts.json, JSON.stringify({results}, null, 2))
  return goals.some((goal) => goal.includes('FAIL')) ? 1 : 0
})
