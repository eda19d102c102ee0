// Capacity reports against their peers, in the same run, on the MariaDB primary and the Redis
// primary that scripts/services runs: `dbakit capacity report` next to pt-mysql-summary (Debian
// percona-toolkit) on a database of --tables tables, and next to `redis-cli --memkeys` on --keys
// keys. Prints a Markdown table for docs/benchmarks.md and the command that produced it.
//
// Usage (from the repository root; built, services running, percona-toolkit installed):
//   set -a; . "$(scripts/services env)"; set +a
//   scripts/node node bench/capacity/run.mjs [--tables 10000] [--keys 2000000] [--json FILE]
//
// MariaDB: a database cap_bench_<pid> of --tables InnoDB tables (an id, a VARCHAR and a secondary
// key, 10 rows each), written with sql_log_bin=0 so the replica is spared, and dropped at the end.
// Each tool runs once warm-up and once measured; the figures are the measured run's wall time and
// the server's Questions counter across it (the server is otherwise idle: the count is the tool's).
// pt-mysql-summary reads the password from a 0600 option file, dbakit from DBAKIT_PASSWORD.
// Redis: --keys keys in database 9 across five namespaces (strings, hashes, lists, sets), flushed at
// the end; redis-cli --memkeys (MEMORY USAGE of every key, SCAN) against `dbakit capacity report`
// with its default 10,000-key sample (and, for the error, with --sample-keys 0: every key).
import {randomBytes} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {createConnection} from 'mysql2/promise'
import {Redis} from 'ioredis'
import {commandLine, dbakitBin, main, onCleanup, options, runProcess, say, secretFile} from '../osc/common.mjs'

const USAGE = 'Usage: scripts/node node bench/capacity/run.mjs [--tables N] [--keys N] [--json FILE]\n'
const opts = options({tables: {type: 'number', default: 10_000}, keys: {type: 'number', default: 2_000_000}, json: {type: 'string'}}, USAGE)
const env = (name) => {
  if (!process.env[name]) {
    process.stderr.write(`${name} is not set: set -a; . "$(scripts/services env)"; set +a\n`)
    process.exit(2)
  }
  return process.env[name]
}
const mysqlUrl = new URL(env('DBAKIT_TEST_MARIADB_PRIMARY_URL'))
const mysqlPassword = env('DBAKIT_TEST_MARIADB_PASSWORD')
const redisUrl = new URL(env('DBAKIT_TEST_REDIS_PRIMARY_URL'))
const redisPassword = env('DBAKIT_TEST_REDIS_PASSWORD')

async function questions(connection) {
  const [[row]] = await connection.query("SHOW GLOBAL STATUS LIKE 'Questions'")
  return Number(row.Value)
}

async function timed(connection, command, args, extraEnv) {
  const before = connection ? await questions(connection) : 0
  const started = performance.now()
  const result = await runProcess(command, args, {env: {...process.env, NO_COLOR: '1', ...extraEnv}})
  const seconds = (performance.now() - started) / 1000
  const after = connection ? await questions(connection) : 0
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${result.code}: ${result.stderr.slice(0, 500)}`)
  // The two SHOW GLOBAL STATUS of this script are not the tool's.
  return {seconds, queries: connection ? after - before - 1 : null, stdout: result.stdout}
}

main(async () => {
  const results = {}
  const admin = await createConnection({host: mysqlUrl.hostname, port: Number(mysqlUrl.port), user: mysqlUrl.username, password: mysqlPassword, multipleStatements: true})
  await admin.query('SET SESSION sql_log_bin = 0')
  const database = `cap_bench_${process.pid}`
  onCleanup(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {})
    await admin.end()
  })
  say(`creating ${opts.tables} tables in ${database}`)
  await admin.query(`CREATE DATABASE \`${database}\``)
  for (let start = 0; start < opts.tables; start += 100) {
    const statements = []
    for (let i = start; i < Math.min(opts.tables, start + 100); i++) {
      statements.push(`CREATE TABLE \`${database}\`.t${i} (id INT PRIMARY KEY, v VARCHAR(64), KEY kv (v)) ENGINE=InnoDB`, `INSERT INTO \`${database}\`.t${i} VALUES ${Array.from({length: 10}, (_, r) => `(${r}, '${randomBytes(8).toString('hex')}')`).join(',')}`)
    }
    await admin.query(statements.join(';'))
  }
  const home = `/tmp/dbakit-bench-capacity-${process.pid}`
  const dbakitArgs = ['capacity', 'report', '--url', `mysql://${mysqlUrl.username}@${mysqlUrl.host}`, '--json']
  const dbakitEnv = {DBAKIT_HOME: home, DBAKIT_PASSWORD: mysqlPassword}
  const ptDefaults = secretFile('pt.cnf', `[client]\nuser=${mysqlUrl.username}\npassword=${mysqlPassword}\nhost=${mysqlUrl.hostname}\nport=${mysqlUrl.port}\n`, 'cap-bench-')
  const ptArgs = ['--', `--defaults-file=${ptDefaults.file}`]
  for (const warm of [true, false]) {
    const dbakit = await timed(admin, process.execPath, [dbakitBin(), ...dbakitArgs], dbakitEnv)
    const pt = await timed(admin, 'pt-mysql-summary', ptArgs, {})
    if (!warm) {
      const report = JSON.parse(dbakit.stdout)
      results.mysql = {
        tables: opts.tables,
        dbakit: {seconds: dbakit.seconds, queries: dbakit.queries, tablesSized: report.tables.filter((t) => t.database === database && t.onDisk.exact).length},
        ptMysqlSummary: {seconds: pt.seconds, queries: pt.queries, bytesReported: /\d+(\.\d+)?\s*[KMGT]i?B/.test(pt.stdout.split('# Schema')[1]?.split('\n# ')[0] ?? '')},
      }
      say(`MariaDB: dbakit ${dbakit.seconds.toFixed(2)} s, ${dbakit.queries} queries; pt-mysql-summary ${pt.seconds.toFixed(2)} s, ${pt.queries} queries`)
    }
  }
  await admin.query(`DROP DATABASE \`${database}\``)

  const redis = new Redis({host: redisUrl.hostname, port: Number(redisUrl.port), username: redisUrl.username, password: redisPassword, db: 9, lazyConnect: true})
  await redis.connect()
  onCleanup(async () => {
    await redis.flushdb().catch(() => {})
    redis.disconnect()
  })
  await redis.flushdb()
  say(`writing ${opts.keys} keys to Redis db 9`)
  const shapes = [
    (i, p) => p.set(`user:${i}`, 'u'.repeat(60 + (i % 80))),
    (i, p) => p.hset(`session:${i}`, 'a', `${i}`, 'b', 'x'.repeat(i % 50), 'c', 'y'),
    (i, p) => p.rpush(`queue:${i}`, 'j1', 'j2', 'j3', `j-${i}`),
    (i, p) => p.sadd(`tags:${i}`, 't1', 't2', `t-${i}`),
    (i, p) => p.set(`cache:${i}`, 'c'.repeat(200), 'EX', 86400),
  ]
  for (let start = 0; start < opts.keys; start += 10_000) {
    const pipeline = redis.pipeline()
    for (let i = start; i < Math.min(opts.keys, start + 10_000); i++) shapes[i % shapes.length](i, pipeline)
    await pipeline.exec()
  }
  const redisEnv = {DBAKIT_HOME: home, DBAKIT_PASSWORD: redisPassword}
  const sampled = await timed(null, process.execPath, [dbakitBin(), 'capacity', 'report', '--url', `redis://${redisUrl.username}@${redisUrl.host}/9`, '--json'], redisEnv)
  const every = await timed(null, process.execPath, [dbakitBin(), 'capacity', 'report', '--url', `redis://${redisUrl.username}@${redisUrl.host}/9`, '--json', '--sample-keys', '0', '--pause', '0'], redisEnv)
  const memkeys = await timed(null, 'redis-cli', ['-h', redisUrl.hostname, '-p', redisUrl.port, '--user', redisUrl.username, '--no-auth-warning', '-n', '9', '--memkeys'], {REDISCLI_AUTH: redisPassword})
  const prefixes = (stdout) => Object.fromEntries(JSON.parse(stdout).keyspaces.find((space) => space.db === 9).prefixes.map((group) => [group.prefix, group.bytes.value]))
  const [estimate, exact] = [prefixes(sampled.stdout), prefixes(every.stdout)]
  const worstError = Math.max(...Object.keys(exact).map((prefix) => Math.abs((estimate[prefix] ?? 0) - exact[prefix]) / exact[prefix]))
  results.redis = {keys: opts.keys, dbakitSampled: {seconds: sampled.seconds, worstPrefixError: worstError}, dbakitEveryKey: {seconds: every.seconds}, memkeys: {seconds: memkeys.seconds}}
  say(`Redis: dbakit sample ${sampled.seconds.toFixed(2)} s (worst namespace error ${(worstError * 100).toFixed(1)}%), every key ${every.seconds.toFixed(2)} s; redis-cli --memkeys ${memkeys.seconds.toFixed(2)} s`)

  const m = results.mysql
  const r = results.redis
  const report = [
    '| server | tool | time | queries | what it reports |',
    '|---|---|---|---|---|',
    `| MariaDB, ${m.tables.toLocaleString('en-US')} tables | \`dbakit capacity report\` | ${m.dbakit.seconds.toFixed(2)} s | ${m.dbakit.queries} | on-disk size of each table (${m.dbakit.tablesSized.toLocaleString('en-US')} exact), estimates marked, reclaimable, auto-increment, binlogs, disk |`,
    `| MariaDB, ${m.tables.toLocaleString('en-US')} tables | \`pt-mysql-summary\` | ${m.ptMysqlSummary.seconds.toFixed(2)} s | ${m.ptMysqlSummary.queries} | counts of tables, engines, types; ${m.ptMysqlSummary.bytesReported ? 'some sizes' : 'no sizes'} in its schema section |`,
    `| Redis, ${r.keys.toLocaleString('en-US')} keys | \`dbakit capacity report\` (10,000-key sample) | ${r.dbakitSampled.seconds.toFixed(2)} s | | memory by namespace, worst namespace within ${(r.dbakitSampled.worstPrefixError * 100).toFixed(1)}% of exact |`,
    `| Redis, ${r.keys.toLocaleString('en-US')} keys | \`dbakit capacity report --sample-keys 0\` | ${r.dbakitEveryKey.seconds.toFixed(2)} s | | memory by namespace, exact |`,
    `| Redis, ${r.keys.toLocaleString('en-US')} keys | \`redis-cli --memkeys\` | ${r.memkeys.seconds.toFixed(2)} s | | the biggest key per type, totals per type |`,
    '',
    `Command: \`${commandLine('bench/capacity/run.mjs')}\``,
  ].join('\n')
  process.stdout.write(`${report}\n`)
  if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2))
  return 0
})
