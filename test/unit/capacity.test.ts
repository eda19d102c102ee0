import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {fixedBytes, rebuiltFileBytes, rebuiltLeafPages, type ColumnShape} from '../../src/lib/capacity/innodb.ts'
import {autoIncrementMax, tablespaceTable} from '../../src/lib/capacity/mysql.ts'
import {crossings} from '../../src/lib/capacity/forecast.ts'
import {healthOf} from '../../src/lib/capacity/health.ts'
import {parseBytes} from '../../src/lib/core/text.ts'

const column = (name: string, dataType: string, columnType = dataType, extra: Partial<ColumnShape> = {}): ColumnShape => ({name, dataType, columnType, maxBytes: null, precision: null, scale: null, datetimePrecision: null, nullable: false, ...extra})

describe('InnoDB rebuild model', () => {
  it('sizes fixed columns as InnoDB stores them', () => {
    assert.equal(fixedBytes(column('a', 'int')), 4)
    assert.equal(fixedBytes(column('a', 'bigint')), 8)
    assert.equal(fixedBytes(column('a', 'datetime', 'datetime(6)', {datetimePrecision: 6})), 8)
    assert.equal(fixedBytes(column('a', 'decimal', 'decimal(10,2)', {precision: 10, scale: 2})), 5)
    assert.equal(fixedBytes(column('a', 'decimal', 'decimal(18,9)', {precision: 18, scale: 9})), 8)
    assert.equal(fixedBytes(column('a', 'bit', 'bit(9)')), 2)
  })

  // Shapes and page counts measured on MariaDB 10.11 after OPTIMIZE TABLE (innodb_index_stats n_leaf_pages).
  it('predicts the leaf pages a sorted rebuild leaves, within 5% of those measured', () => {
    const sbtest = {
      columns: [column('id', 'int'), column('k', 'int'), column('c', 'char', 'char(120)', {maxBytes: 480}), column('pad', 'char', 'char(60)', {maxBytes: 240})],
      indexes: [{name: 'PRIMARY', columns: [{name: 'id', prefix: null}]}, {name: 'k_1', columns: [{name: 'k', prefix: null}]}],
      meanBytes: {c: 96, pad: 60},
      rows: 100_000,
      pageSize: 16384,
    }
    const pages = rebuiltLeafPages(sbtest)
    assert.ok(Math.abs(pages.PRIMARY! - 1370) / 1370 < 0.05, `PRIMARY ${pages.PRIMARY}`)
    assert.ok(Math.abs(pages.k_1! - 84) / 84 < 0.05, `k_1 ${pages.k_1}`)
    // The file OPTIMIZE left was 27 MiB.
    const file = rebuiltFileBytes(sbtest)
    assert.ok(Math.abs(file - 27 * 1024 * 1024) <= 0.05 * 27 * 1024 * 1024, `file ${file}`)
    assert.equal(file % (64 * 16384), 0, 'not whole extents')
  })

  it('counts the primary key in every secondary index record, and a hidden row id without one', () => {
    const table = (primary: boolean) => ({
      columns: [column('id', 'bigint'), column('b', 'int')],
      indexes: [...(primary ? [{name: 'PRIMARY', columns: [{name: 'id', prefix: null}]}] : []), {name: 'kb', columns: [{name: 'b', prefix: null}]}],
      meanBytes: {},
      rows: 1_000_000,
      pageSize: 16384,
    })
    // b (4) + id (8) + header (5) against b (4) + row id (6) + header (5).
    assert.ok(rebuiltLeafPages(table(true)).kb! > rebuiltLeafPages(table(false)).kb!)
  })
})

describe('MySQL capacity helpers', () => {
  it('knows each integer type\'s auto-increment ceiling', () => {
    assert.equal(autoIncrementMax('int(11)'), 2147483647)
    assert.equal(autoIncrementMax('int(10) unsigned'), 4294967295)
    assert.equal(autoIncrementMax('tinyint(4)'), 127)
    assert.equal(autoIncrementMax('bigint(20) unsigned'), 2 ** 64 - 1)
  })

  it('reads tablespace names as tables, partitions folded, file-name escapes decoded', () => {
    assert.deepEqual(tablespaceTable('shop/orders'), ['shop', 'orders'])
    assert.deepEqual(tablespaceTable('shop/orders#P#p2024'), ['shop', 'orders'])
    assert.deepEqual(tablespaceTable('my@002ddb/t@0024x'), ['my-db', 't$x'])
    assert.equal(tablespaceTable('innodb_system'), undefined)
  })

  it('parses sizes as people write them', () => {
    assert.equal(parseBytes('500G', '--disk-size'), 500 * 1024 ** 3)
    assert.equal(parseBytes('1.5T', '--disk-size'), 1.5 * 1024 ** 4)
    assert.equal(parseBytes('2048MiB', '--disk-size'), 2048 * 1024 ** 2)
    assert.equal(parseBytes('1048576', '--disk-size'), 1048576)
    assert.throws(() => parseBytes('lots', '--disk-size'), /--disk-size lots is not a size/)
  })
})

describe('forecasts on series of known growth', () => {
  const DAY = 86_400_000
  // A fixed pseudo-random noise, so that the test is the same every run.
  const noise = (() => {
    let seed = 42
    return () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5)
  })()
  const within10 = (days: number | null, truth: number) => assert.ok(days !== null && Math.abs(days - truth) <= 0.1 * truth, `${days} is not within 10% of ${truth}`)

  it('straight growth with noise: the line leads, and lands within 10% of the true day', async () => {
    const points = Array.from({length: 60}, (_, day) => ({at: day * DAY, value: 500e9 + 2e9 * day + noise() * 6e9}))
    // 500 GB + 2 GB a day reaches 880 GB on day 190: 131 days after the last point (day 59).
    const [best, ...others] = await crossings(points, 880e9)
    assert.equal(best!.method, 'linear')
    within10(best!.days, 131)
    assert.ok(best!.earliest! <= best!.days! && best!.days! <= best!.latest!)
    assert.ok(others.some((other) => other.method === 'ets'), 'no exponential smoothing with 60 points')
  })

  it('compound growth: the logarithmic line leads, and lands within 10% of the true day', async () => {
    const points = Array.from({length: 90}, (_, day) => ({at: day * DAY, value: 100e9 * 1.01 ** day * (1 + noise() * 0.01)}))
    const truth = Math.log(8.8) / Math.log(1.01) - 89
    const [best] = await crossings(points, 880e9)
    assert.equal(best!.method, 'exponential')
    within10(best!.days, truth)
  })

  it('snapshots at uneven times, fewer than ten: the line alone', async () => {
    const times = [0, 1, 3, 4, 8]
    const [best, ...rest] = await crossings(times.map((day) => ({at: day * DAY, value: 100 + 10 * day})), 200)
    within10(best!.days, 2)
    assert.equal(rest.some((fit) => fit.method === 'ets'), false)
  })

  it('usage that does not grow never reaches the threshold, and two snapshots are not enough', async () => {
    const flat = Array.from({length: 20}, (_, day) => ({at: day * DAY, value: 300 - day}))
    assert.equal((await crossings(flat, 880))[0]!.days, null)
    assert.deepEqual(await crossings(flat.slice(0, 2), 880), [])
  })
})

describe('the health score', () => {
  const figure = (value: number, exact = true) => ({value, exact, source: 'test'})
  const report = (tables: Array<{onDisk: number; reclaimable: number; autoIncrementPercent?: number}>) => ({
    instance: 'db1',
    engine: 'mariadb',
    version: '10.11',
    takenAt: '',
    disk: null,
    binlogs: figure(0),
    warnings: [],
    tables: tables.map((table, index) => ({
      database: 'shop',
      table: `t${index}`,
      engine: 'InnoDB',
      onDisk: figure(table.onDisk),
      data: figure(0, false),
      indexes: figure(0, false),
      rows: figure(0, false),
      reclaimable: figure(table.reclaimable, false),
      ...(table.autoIncrementPercent === undefined ? {} : {autoIncrement: {next: 1, max: 100, columnType: 'int(11)', usedPercent: table.autoIncrementPercent, exact: true}}),
    })),
  })

  it('is 100 with room everywhere, and names what pulls it down', () => {
    assert.equal(healthOf(report([{onDisk: 100, reclaimable: 1, autoIncrementPercent: 1}]), 20).score, 100)
    const health = healthOf(report([{onDisk: 100, reclaimable: 60, autoIncrementPercent: 95}]), 95)
    assert.equal(health.score, 0)
    assert.deepEqual(health.components.map((component) => [component.name, component.score]), [['usage', 0], ['auto-increment', 0], ['reclaimable', 0]])
    assert.match(health.components[1]!.why, /shop\.t0 has used 95\.00% of its int\(11\)/)
  })

  it('weighs usage four times a reclaimable share', () => {
    // usage 72.5% → 50 points (weight 4); reclaimable 30% → 50 points (weight 1); auto-increment 70% → 50 (weight 2).
    assert.equal(healthOf(report([{onDisk: 100, reclaimable: 30, autoIncrementPercent: 70}]), 72.5).score, 50)
    assert.equal(healthOf(report([{onDisk: 100, reclaimable: 50}]), 50).score, 80)
  })
})
