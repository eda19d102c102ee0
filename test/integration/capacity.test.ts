import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {createConnection, type Connection} from 'mysql2/promise'
import {Redis} from 'ioredis'
import {freshHome, runCli} from '../helpers/cli.ts'
import {mariadb, mongodbSkipReason, mongodbUri, redis} from '../helpers/services.ts'

const database = `cap_${process.pid}_${randomBytes(2).toString('hex')}`
const json = <T>(stdout: string) => JSON.parse(stdout) as T

interface Table {
  database: string
  table: string
  onDisk: {value: number; exact: boolean}
  reclaimable: {value: number; exact: boolean; source: string}
  rows: {value: number; exact: boolean}
}

/** Writes here stay on the primary (sql_log_bin=0): the replica need not copy megabytes the test throws away. */
async function primary(): Promise<Connection> {
  const url = new URL(mariadb.primaryUrl)
  const connection = await createConnection({host: url.hostname, port: Number(url.port), user: url.username, password: mariadb.password, multipleStatements: true})
  await connection.query('SET SESSION sql_log_bin = 0')
  return connection
}

const report = async (...args: string[]) => {
  const result = await runCli(['capacity', 'report', '--url', mariadb.primaryUrl, '--json', ...args], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}})
  assert.equal(result.code, 0, result.stderr)
  return json<{tables: Table[]; diskUsedPercent: number; warnings: string[]}>(result.stdout)
}
const tableIn = (tables: Table[], name: string) => tables.find((table) => table.database === database && table.table === name)!
const within = (actual: number, expected: number, share: number, what: string) => assert.ok(Math.abs(actual - expected) <= share * expected, `${what}: ${actual} is not within ${share * 100}% of ${expected}`)

describe('capacity report on MariaDB', () => {
  let connection: Connection
  let datadir: string
  const ibd = (table: string) => statSync(join(datadir, database, `${table}.ibd`)).size
  before(async () => {
    connection = await primary()
    ;[[{datadir}]] = (await connection.query('SELECT @@datadir AS datadir')) as unknown as [[{datadir: string}]]
    await connection.query(`CREATE DATABASE \`${database}\``)
    // The seq_1_to_N sequence tables are looked up in the current database.
    await connection.query(`USE \`${database}\``)
    await connection.query(`CREATE TABLE \`${database}\`.sbtest (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0, c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_1 (k)) ENGINE=InnoDB`)
    await connection.query(`CREATE TABLE \`${database}\`.events (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, a VARCHAR(200), b INT, c DATETIME, KEY ka (a), KEY kb (b, c)) ENGINE=InnoDB`)
    await connection.query(`INSERT INTO \`${database}\`.sbtest (k, c, pad) SELECT FLOOR(RAND() * 300000), REPEAT(MD5(seq), 3), REPEAT('x', 60) FROM seq_1_to_300000`)
    await connection.query(`INSERT INTO \`${database}\`.events (a, b, c) SELECT CONCAT(MD5(seq), REPEAT('y', seq % 100)), seq % 1000, NOW() - INTERVAL seq SECOND FROM seq_1_to_400000`)
  })
  after(async () => {
    await connection.query(`DROP DATABASE IF EXISTS \`${database}\``)
    await connection.end()
  })

  it('reports the tablespace file\'s size right after a bulk insert, where information_schema still says 16 KiB', async () => {
    const {tables} = await report()
    for (const name of ['sbtest', 'events']) {
      const table = tableIn(tables, name)
      assert.equal(table.onDisk.exact, true)
      within(table.onDisk.value, ibd(name), 0.05, `${name} on disk`)
    }
  })

  it('after deleting two thirds of the rows, the reclaimable space is within 5% of what OPTIMIZE frees', async () => {
    await connection.query(`DELETE FROM \`${database}\`.sbtest WHERE id % 3 <> 0; DELETE FROM \`${database}\`.events WHERE id % 3 <> 0`)
    // Purge frees the deleted records' space in the background; the estimate is of the pages it leaves.
    for (let waited = 0; waited < 120; waited++) {
      const [[{length}]] = (await connection.query("SELECT COUNT AS length FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'")) as unknown as [[{length: number}]]
      if (Number(length) < 20) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const {tables} = await report('--analyze')
    for (const name of ['sbtest', 'events']) {
      const before = ibd(name)
      const table = tableIn(tables, name)
      within(table.onDisk.value, before, 0.05, `${name} on disk`)
      assert.equal(table.reclaimable.exact, false)
      assert.match(table.reclaimable.source, /rebuild/)
      await connection.query(`OPTIMIZE TABLE \`${database}\`.\`${name}\``)
      const freed = before - ibd(name)
      process.stdout.write(`# ${name}: reclaimable ${table.reclaimable.value} bytes reported, OPTIMIZE freed ${freed}\n`)
      within(table.reclaimable.value, freed, 0.05, `${name} reclaimable`)
    }
  })

  it('exits 1 when the disk is at or above --fail-on-usage, and 0 below it', async () => {
    const {diskUsedPercent} = await report()
    const run = (percent: number) => runCli(['capacity', 'report', '--url', mariadb.primaryUrl, '--fail-on-usage', String(percent)], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: mariadb.password}})
    const over = await run(Math.max(1, Math.floor(diskUsedPercent)))
    assert.equal(over.code, 1, over.stderr)
    assert.match(over.stderr, /the disk is [\d.]+% full, at or above --fail-on-usage/)
    assert.equal((await run(100)).code, diskUsedPercent >= 100 ? 1 : 0)
  })

  it('without PROCESS, reports information_schema\'s estimates, says what it lacks, and exits 0', async () => {
    const user = `cap_${process.pid}`
    const password = randomBytes(9).toString('hex')
    const admin = await primary()
    try {
      await admin.query('SET SESSION sql_log_bin = 1')
      await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password])
      await admin.query(`GRANT SELECT ON \`${database}\`.* TO ?@?`, [user, '%'])
      const url = `mysql://${user}@127.0.0.1:${new URL(mariadb.primaryUrl).port}`
      const result = await runCli(['capacity', 'report', '--url', url, '--json'], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: password}})
      assert.equal(result.code, 0, result.stderr)
      const parsed = json<{tables: Table[]; warnings: string[]}>(result.stdout)
      assert.ok(parsed.warnings.some((warning) => /on-disk sizes unavailable[\s\S]*PROCESS privilege/.test(warning)), result.stdout)
      assert.equal(tableIn(parsed.tables, 'sbtest').onDisk.exact, false)
    } finally {
      await admin.query('DROP USER IF EXISTS ?@?', [user, '%'])
      await admin.end()
    }
  })
})

describe('capacity snapshot and forecast', () => {
  const run = (home: string, args: string[]) => runCli(['capacity', ...args], {env: {DBAKIT_HOME: home, DBAKIT_PASSWORD: mariadb.password}})

  it('keeps snapshots of a real server, and says how many more a forecast needs', async () => {
    const home = freshHome()
    for (let i = 0; i < 2; i++) assert.equal((await run(home, ['snapshot', '--url', mariadb.primaryUrl, '--sample-tables', '0'])).code, 0)
    const lines = readFileSync(join(home, 'state', 'capacity', 'history.jsonl'), 'utf8').trim().split('\n')
    assert.equal(lines.length, 2)
    assert.ok((JSON.parse(lines[0]!) as {usage: {of: string; total: number}}).usage.total > 0)
    const forecast = await run(home, ['forecast'])
    assert.equal(forecast.code, 2, forecast.stderr)
    assert.match(forecast.stderr, /has 2 snapshot\(s\) with a disk or memory size; a forecast needs at least 3[\s\S]*dbakit capacity snapshot/)
  })

  it('forecasts from a history of known growth within 10% of the true day, names the growing table, and --fail-within exits 1', async () => {
    const home = freshHome()
    mkdirSync(join(home, 'state', 'capacity'), {recursive: true})
    // 30 daily snapshots as `capacity snapshot` writes them: 1 TB disk, 400 GB used, 3 GB more a day, all in shop.orders.
    const start = Date.parse('2026-11-01T03:00:00Z')
    const lines = Array.from({length: 30}, (_, day) =>
      JSON.stringify({v: 1, instance: 'prod', engine: 'mariadb', takenAt: new Date(start + day * 86_400_000).toISOString(), usage: {of: 'disk', total: 1e12, used: 400e9 + 3e9 * day}, objects: {'shop.orders': 100e9 + 3e9 * day, 'shop.users': 5e9}}),
    )
    writeFileSync(join(home, 'state', 'capacity', 'history.jsonl'), `${lines.join('\n')}\n`)
    const result = await run(home, ['forecast', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const [forecast] = json<{forecasts: Array<{instance: string; crossings: Array<{days: number; method: string}>; reachesAt: string; drivers: Array<{object: string}>}>}>(result.stdout).forecasts
    // 880 GB at 3 GB a day from 487 GB on the last day: 131 days.
    const days = forecast!.crossings[0]!.days
    assert.ok(Math.abs(days - 131) <= 13.1, `${days} days`)
    assert.equal(forecast!.drivers[0]!.object, 'shop.orders')
    const soon = await run(home, ['forecast', '--fail-within', '200'])
    assert.equal(soon.code, 1, soon.stderr)
    assert.match(soon.stderr, /prod reaches 88% in \d+ days \(2027-\d\d-\d\d\): within --fail-within 200/)
    assert.equal((await run(home, ['forecast', '--fail-within', '100'])).code, 0)
  })

  it('writes one self-contained HTML file whose charts and figures headless Chromium renders', async (t) => {
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path))
    if (!chromium) {
      t.skip('Chromium is not installed (Debian package chromium; .ci/run installs it)')
      return
    }
    const home = freshHome()
    mkdirSync(join(home, 'state', 'capacity'), {recursive: true})
    const start = Date.parse('2026-11-01T03:00:00Z')
    const lines = Array.from({length: 20}, (_, day) => JSON.stringify({v: 1, instance: 'prod', engine: 'mariadb', takenAt: new Date(start + day * 86_400_000).toISOString(), usage: {of: 'disk', total: 1e12, used: 600e9 + 5e9 * day}, objects: {'shop.orders': 200e9 + 5e9 * day}}))
    writeFileSync(join(home, 'state', 'capacity', 'history.jsonl'), `${lines.join('\n')}\n`)
    const forecast = await run(home, ['forecast', '--format', 'html'])
    assert.equal(forecast.code, 0, forecast.stderr)
    assert.doesNotMatch(forecast.stdout, /<script|<link|src=|href=/, 'the file loads something from elsewhere')
    const connection = await primary()
    await connection.query(`CREATE DATABASE \`${database}_html\``)
    await connection.query(`CREATE TABLE \`${database}_html\`.t (id INT PRIMARY KEY) ENGINE=InnoDB`)
    const report = await runCli(['capacity', 'report', '--url', mariadb.primaryUrl, '--format', 'html'], {env: {DBAKIT_HOME: home, DBAKIT_PASSWORD: mariadb.password}})
    await connection.query(`DROP DATABASE \`${database}_html\``)
    await connection.end()
    assert.equal(report.code, 0, report.stderr)
    const dom = (html: string) => {
      const file = join(home, `page-${randomBytes(3).toString('hex')}.html`)
      writeFileSync(file, html)
      return execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000})
    }
    const rendered = dom(forecast.stdout)
    // 880 GB at 5 GB a day from 695 GB: 37 days.
    assert.match(rendered, /<td>prod<\/td><td>69\.5% of [\d.]+ GiB disk<\/td><td class="days">3[4-9]<\/td>/)
    for (const part of ['polyline class="history"', 'polyline class="forecast"', 'line class="threshold"', 'shop.orders']) assert.ok(rendered.includes(part), `no ${part} in the rendered page`)
    const reportDom = dom(report.stdout)
    assert.match(reportDom, /<rect class="bar"/)
    assert.match(reportDom, new RegExp(`<tr><td>${database}_html\\.t</td><td>[\\d.]+ KiB</td>`))
  })

  it('shares the history through a MySQL --store', async () => {
    const store = `${mariadb.primaryUrl}/${database}_store`
    try {
      const [a, b] = [freshHome(), freshHome()]
      for (let i = 0; i < 3; i++) assert.equal((await run(a, ['snapshot', '--url', mariadb.primaryUrl, '--sample-tables', '0', '--store', store])).code, 0)
      const result = await run(b, ['forecast', '--store', store, '--json'])
      assert.equal(result.code, 0, result.stderr)
      assert.equal(json<{forecasts: Array<{snapshots: number}>}>(result.stdout).forecasts[0]!.snapshots, 3)
    } finally {
      const connection = await primary()
      await connection.query('SET SESSION sql_log_bin = 1')
      await connection.query(`DROP DATABASE IF EXISTS \`${database}_store\``)
      await connection.end()
    }
  })
})

describe('capacity report on Redis', () => {
  const DB = 7
  let client: Redis
  const exactTotals = new Map<string, {keys: number; bytes: number}>()
  before(async () => {
    const url = new URL(redis.primaryUrl)
    client = new Redis({host: url.hostname, port: Number(url.port), username: url.username, password: redis.password, db: DB, lazyConnect: true})
    await client.connect()
    await client.flushdb()
    // A known dataset: four namespaces of different types, sizes and TTLs.
    const pipeline = client.pipeline()
    for (let i = 0; i < 20_000; i++) pipeline.set(`user:${i}`, 'u'.repeat(80 + (i % 40)))
    for (let i = 0; i < 5_000; i++) pipeline.hset(`session:${i}`, Object.fromEntries(Array.from({length: 10}, (_, f) => [`field${f}`, `value-${i}-${f}`]))).expire(`session:${i}`, 3600)
    // Every namespace holds a tenth of the keys or more: 10,000 sampled keys put 1,000 or more in each,
    // so a 10% error is 3 standard errors. A smaller namespace is rougher, and its figure says by how much.
    for (let i = 0; i < 5_000; i++) pipeline.rpush(`queue:${i}`, ...Array.from({length: 20}, (_, e) => `job-${i}-${e}`))
    for (let i = 0; i < 10_000; i++) pipeline.set(`cache:${i}`, 'c'.repeat(300), 'EX', 3600)
    await pipeline.exec()
    // The exact totals, measured key by key.
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000)
      cursor = next
      const sizes = client.pipeline()
      for (const key of keys) sizes.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')
      const replies = (await sizes.exec()) ?? []
      keys.forEach((key, index) => {
        const prefix = key.split(':')[0]!
        const total = exactTotals.get(prefix) ?? {keys: 0, bytes: 0}
        exactTotals.set(prefix, {keys: total.keys + 1, bytes: total.bytes + Number(replies[index]![1])})
      })
    } while (cursor !== '0')
  })
  after(async () => {
    await client.flushdb()
    client.disconnect()
  })

  const redisReport = async (...args: string[]) => {
    const result = await runCli(['capacity', 'report', '--url', redis.primaryUrl, '--json', ...args], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: redis.password}})
    assert.equal(result.code, 0, result.stderr)
    const report = json<{keyspaces: Array<{db: number; sampled: number; prefixes: Array<{prefix: string; keys: {value: number; exact: boolean; source: string}; bytes: {value: number; exact: boolean}; freedByTtl: {value: number}}>}>; memory: {used: {value: number}}}>(result.stdout)
    return report.keyspaces.find((space) => space.db === DB)!
  }

  it('puts every namespace within 10% of its exact memory from a sample of 10,000 keys, saying so', async () => {
    const space = await redisReport()
    assert.equal(space.sampled, 10_000)
    for (const [prefix, truth] of exactTotals) {
      const group = space.prefixes.find((each) => each.prefix === prefix)!
      assert.equal(group.bytes.exact, false)
      assert.match(group.keys.source, /10000 keys sampled of 40000 \(RANDOMKEY, MEMORY USAGE\); \d+ in this namespace, about ±\d+% at 95%/)
      within(group.bytes.value, truth.bytes, 0.1, `${prefix} memory`)
    }
    // Sessions and cache entries expire; users and queues do not.
    within(space.prefixes.find((each) => each.prefix === 'cache')!.freedByTtl.value, exactTotals.get('cache')!.bytes, 0.1, 'cache memory with a TTL')
    assert.equal(space.prefixes.find((each) => each.prefix === 'user')!.freedByTtl.value, 0)
  })

  it('measures every key with --sample-keys 0, exactly', async () => {
    const space = await redisReport('--sample-keys', '0')
    for (const [prefix, truth] of exactTotals) {
      const group = space.prefixes.find((each) => each.prefix === prefix)!
      assert.equal(group.bytes.exact, true)
      assert.deepEqual({keys: group.keys.value, bytes: group.bytes.value}, truth)
    }
  })
})

describe('capacity over a fleet (--all)', () => {
  it('reports every profile, --concurrency at a time, an unreachable one in its own row without stopping the others', async () => {
    const home = freshHome()
    const env = {DBAKIT_HOME: home, CAP_MARIADB_PW: mariadb.password, CAP_REDIS_PW: redis.password}
    for (const [name, url, variable] of [['db', mariadb.primaryUrl, 'CAP_MARIADB_PW'], ['cache', redis.primaryUrl, 'CAP_REDIS_PW'], ['gone', 'mysql://nobody@127.0.0.1:9', 'CAP_MARIADB_PW']] as const) {
      const added = await runCli(['profile', 'add', name, '--url', url, '--password-env', variable], {env})
      assert.equal(added.code, 0, added.stderr)
    }
    const result = await runCli(['capacity', 'report', '--all', '--concurrency', '2', '--sample-tables', '0', '--sample-keys', '100', '--json'], {env})
    assert.equal(result.code, 0, result.stderr)
    const {instances} = json<{instances: Array<{instance: string; report?: {engine: string}; usedPercent?: number; error?: {code: string; message: string}}>}>(result.stdout)
    assert.deepEqual(instances.map((entry) => entry.instance).sort(), ['cache', 'db', 'gone'])
    const byName = Object.fromEntries(instances.map((entry) => [entry.instance, entry]))
    assert.equal(byName.db!.report!.engine, 'mariadb')
    assert.equal(byName.cache!.report!.engine, 'redis')
    assert.match(byName.gone!.error!.message, /127\.0\.0\.1:9/)
    const table = await runCli(['capacity', 'report', '--all', '--sample-tables', '0', '--sample-keys', '100'], {env})
    assert.match(table.stdout, /gone[\s\S]*error: /)
    const snapshot = await runCli(['capacity', 'snapshot', '--all', '--sample-tables', '0', '--sample-keys', '100'], {env})
    assert.equal(snapshot.code, 0, snapshot.stderr)
    assert.match(snapshot.stderr, /Kept 2 snapshot\(s\)[\s\S]*1 instance\(s\) failed/)

    // An inventory picks a subset by tags.
    const inventory = join(home, 'fleet.yaml')
    writeFileSync(inventory, '- {profile: db, tags: [eu, mysql]}\n- {profile: cache, tags: [eu]}\n- {profile: gone, tags: [us]}\n')
    const eu = await runCli(['capacity', 'report', '--inventory', inventory, '--tag', 'eu', '--sample-tables', '0', '--sample-keys', '100', '--json'], {env})
    assert.equal(eu.code, 0, eu.stderr)
    assert.deepEqual(json<{instances: Array<{instance: string; error?: unknown}>}>(eu.stdout).instances.map((entry) => [entry.instance, entry.error === undefined]), [['db', true], ['cache', true]])
    const none = await runCli(['capacity', 'report', '--inventory', inventory, '--tag', 'asia'], {env})
    assert.equal(none.code, 2, none.stderr)
    assert.match(none.stderr, /no member of the inventory has the tag asia[\s\S]*the tags there are: eu, mysql, us/)
  })
})

describe('capacity report on MongoDB', {skip: mongodbSkipReason}, () => {
  it('reports each collection\'s storage and the filesystem from the server\'s own counters', async () => {
    const {MongoClient} = await import('mongodb')
    const client = new MongoClient(mongodbUri!)
    await client.connect()
    const name = `cap_${process.pid}`
    try {
      await client.db(name).collection('events').insertMany(Array.from({length: 5000}, (_, i) => ({i, payload: 'p'.repeat(200)})))
      const uri = new URL(mongodbUri!)
      const password = decodeURIComponent(uri.password)
      uri.password = ''
      const result = await runCli(['capacity', 'report', '--url', uri.toString(), '--json'], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: password}})
      assert.equal(result.code, 0, result.stderr)
      const report = json<{disk: {total: {value: number}}; tables: Table[]}>(result.stdout)
      const events = report.tables.find((table) => table.database === name && table.table === 'events')!
      assert.ok(events.onDisk.value > 0 && events.onDisk.exact)
      assert.ok(report.disk.total.value > 0)
    } finally {
      await client.db(name).dropDatabase()
      await client.close()
    }
  })
})
