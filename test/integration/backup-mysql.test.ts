import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {createConnection, type Connection} from 'mysql2/promise'
import {kmsHome, s3Env, signalWhen, smallTmpfs} from '../helpers/backup.ts'
import {runCli} from '../helpers/cli.ts'
import {mariadb, mysqlSkipReason, mysqlUrl} from '../helpers/services.ts'

const prefix = `bk_test_${process.pid}_${randomBytes(2).toString('hex')}`
const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T

async function connect(url = mariadb.primaryUrl, options: {multipleStatements?: boolean} = {}): Promise<Connection> {
  const parsed = new URL(url)
  const password = url === mysqlUrl ? (process.env.DBAKIT_TEST_MYSQL_PASSWORD ?? '') : mariadb.password
  return createConnection({host: parsed.hostname, port: Number(parsed.port || 3306), user: decodeURIComponent(parsed.username), password, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, ...options})
}

async function query<T = Record<string, unknown>>(sql: string, url?: string): Promise<T[]> {
  const c = await connect(url)
  try {
    return (await c.query(sql))[0] as T[]
  } finally {
    await c.end()
  }
}

/** What the restores wrote bypassed the binlog, so it is dropped the same way: the replica never had it. */
async function dropUnlogged(...databases: string[]): Promise<void> {
  const c = await connect()
  try {
    await c.query('SET SESSION sql_log_bin = 0')
    for (const database of databases) await c.query(`DROP DATABASE IF EXISTS \`${database}\``)
  } finally {
    await c.end()
  }
}

const sources: string[] = []
const restored: string[] = []
after(async () => {
  await dropUnlogged(...restored)
  for (const database of sources) await query(`DROP DATABASE IF EXISTS \`${database}\``)
})

/**
 * A database holding every value the issue names as easy to lose: FLOAT and DOUBLE extremes and
 * 2,000 random FLOATs, DECIMAL(65,30), BIT, bytes that look like the dump format's escapes, JSON,
 * 4-byte unicode, latin1, zero and invalid dates, fractional times, ENUM/SET, NULL beside the
 * strings 'NULL' and '\N', generated and invisible columns, a foreign key, a sequence, a
 * system-versioned table, views on views, a function, a trigger and an event.
 */
async function edgeDatabase(name: string): Promise<string> {
  const database = `${prefix}_${name}`
  sources.push(database)
  const c = await connect(mariadb.primaryUrl, {multipleStatements: true})
  try {
    await c.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4; USE \`${database}\`;
      SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES';
      SET SESSION time_zone = '+05:30';
      CREATE TABLE edge (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        f FLOAT, d DOUBLE, dec65 DECIMAL(65,30), b BIT(13), bin BINARY(4), blb BLOB, j JSON,
        u VARCHAR(20) CHARACTER SET utf8mb4, l VARCHAR(20) CHARACTER SET latin1,
        zd DATE, zdt DATETIME(6), ts TIMESTAMP(3) NULL, t TIME(4), e ENUM('a','b','c'), s SET('x','y','z'),
        nulls VARCHAR(10), gen INT AS (id * 2) VIRTUAL, gens VARCHAR(30) AS (CONCAT(u, '!')) STORED,
        inv INT INVISIBLE DEFAULT 7,
        KEY k_f (f), UNIQUE KEY u_bin (bin), FULLTEXT KEY ft_u (u)
      ) ENGINE=InnoDB;
      INSERT INTO edge (id, f, d, dec65, b, bin, blb, j, u, l, zd, zdt, ts, t, e, s, nulls, inv) VALUES
        (0, 0.1, 0.1, 12345678901234567890123456789012345.123456789012345678901234567890, b'1010101010101', 0x00090a5c, 0x000102030405090a0d5c4e5cff, '{"a": [1, 2.50, "x\\\\ty"], "b": null}', 'emoji 😀 ü', _latin1 0x636166e9, '0000-00-00', '0000-00-00 00:00:00', '2038-01-19 08:44:07.999', '-838:59:59.0000', 'b', 'x,z', 'NULL', 1),
        (2, 3.40282e38, -1.7976931348623157e308, -0.000000000000000000000000000001, b'0', 0x5c4e0000, '', '[]', '', '', '2020-02-30', '1000-01-01 00:00:00.000001', '1970-01-01 05:30:01.000', '00:00:00.0001', 'a', '', NULL, 2),
        (3, -1.17549e-38, 4.9e-324, 0, NULL, NULL, NULL, NULL, '\\\\N', 'tab\\there', NULL, NULL, NULL, NULL, NULL, NULL, '\\\\N', 3),
        (4, -0.0, -0.0, -0.5, b'1111111111111', 0x0a0a0a0a, 0x0a, '"\\\\n"', 'new\\nline', 'back\\\\slash', '9999-12-31', '9999-12-31 23:59:59.999999', NULL, '838:59:59.9999', 'c', 'x,y,z', 'null', NULL);
      INSERT INTO edge (f, d, u) SELECT RAND() * POW(10, FLOOR(RAND() * 70) - 35), RAND() * POW(10, FLOOR(RAND() * 600) - 300), CONCAT('r', seq) FROM seq_1_to_2000;
      CREATE TABLE child (id INT PRIMARY KEY, edge_id INT, note TEXT, CONSTRAINT fk_edge FOREIGN KEY (edge_id) REFERENCES edge (id)) ENGINE=InnoDB;
      INSERT INTO child VALUES (1, 0, 'zero'), (2, 2, 'two');
      CREATE TABLE empty_one (id BIGINT UNSIGNED PRIMARY KEY) ENGINE=InnoDB;
      CREATE SEQUENCE seq1 START WITH 100 INCREMENT BY 5 CACHE 10;
      DO NEXTVAL(seq1); DO NEXTVAL(seq1);
      CREATE TABLE versioned (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;
      INSERT INTO versioned VALUES (1, 1); UPDATE versioned SET v = 2;
      CREATE VIEW v1 AS SELECT id, u FROM edge WHERE id < 10;
      CREATE VIEW v0 AS SELECT id FROM v1;
      CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
      CREATE TRIGGER child_bi BEFORE INSERT ON child FOR EACH ROW SET NEW.note = CONCAT(NEW.note, '!');
      CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM child WHERE id < 0;`)
  } finally {
    await c.end()
  }
  return database
}

/**
 * Every row of every table of a database, each column as text that cannot hide a difference: bytes
 * as hex, numbers as the server prints them (FLOAT through DOUBLE, so all its bits show), NULL as
 * NULL; invisible and generated columns included. And CHECKSUM TABLE of each table.
 */
async function contents(database: string, url?: string): Promise<{rows: Record<string, string[]>; checksums: Record<string, string>}> {
  const columns = await query<{tbl: string; name: string; type: string}>(
    `SELECT c.TABLE_NAME AS tbl, c.COLUMN_NAME AS name, c.DATA_TYPE AS type FROM information_schema.COLUMNS c JOIN information_schema.TABLES t USING (TABLE_SCHEMA, TABLE_NAME) WHERE c.TABLE_SCHEMA = '${database}' AND t.TABLE_TYPE = 'BASE TABLE' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    url,
  )
  const rows: Record<string, string[]> = {}
  const checksums: Record<string, string> = {}
  for (const table of [...new Set(columns.map((c) => c.tbl))]) {
    const own = columns.filter((c) => c.tbl === table && !/^row_(start|end)$/.test(c.name))
    const expression = own.map((c) => {
      const column = `\`${c.name}\``
      const text = /^(float|double)$/.test(c.type) ? `CAST(CAST(${column} AS DOUBLE) AS CHAR)` : /int|decimal|year/.test(c.type) ? `CAST(${column} AS CHAR)` : `HEX(${column})`
      return `IFNULL(${text}, 'NULL')`
    })
    rows[table] = (await query<{r: string}>(`SELECT CONCAT_WS('|', ${expression.join(', ')}) AS r FROM \`${database}\`.\`${table}\` ORDER BY 1`, url)).map((r) => r.r)
    if (!/versioned/.test(table)) checksums[table] = String((await query<{Checksum: string}>(`CHECKSUM TABLE \`${database}\`.\`${table}\``, url))[0]!.Checksum)
  }
  return {rows, checksums}
}

async function objects(database: string) {
  const names = async (sql: string) => (await query<{n: string}>(sql)).map((r) => r.n).sort()
  return {
    tables: await names(`SELECT CONCAT(TABLE_TYPE, ' ', TABLE_NAME) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}'`),
    indexes: await names(`SELECT DISTINCT CONCAT(TABLE_NAME, '.', INDEX_NAME, ' ', INDEX_TYPE, ' ', NON_UNIQUE) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '${database}'`),
    foreignKeys: await names(`SELECT CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME, ' -> ', REFERENCED_TABLE_NAME) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '${database}'`),
    routines: await names(`SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${database}'`),
    triggers: await names(`SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${database}'`),
    events: await names(`SELECT CONCAT(EVENT_NAME, ' ', STATUS) AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${database}'`),
  }
}

/** A local repository's backups still being written, and the chunk files they hold so far. */
function incompleteIn(backups: string) {
  const staged = () => (existsSync(backups) ? readdirSync(backups).filter((name) => name.startsWith('.incomplete-')) : [])
  const stagedChunks = () => staged().flatMap((dir) => (existsSync(join(backups, dir, 'chunks')) ? readdirSync(join(backups, dir, 'chunks')) : []))
  return {staged, stagedChunks}
}

const databaseExists = async (database: string, url?: string) => (await query(`SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${database}'`, url)).length > 0

describe('dbakit backup create and restore against MariaDB', () => {
  let h: Awaited<ReturnType<typeof kmsHome>>
  let edge: string
  let original: Awaited<ReturnType<typeof contents>>
  let id: string
  const repo = mkdtempSync(join(tmpdir(), 'dbakit-mysql-repo-'))
  const backup = (args: string[], env: Record<string, string | undefined> = {}) => h.run(['backup', ...args, '--repo', repo], {DBAKIT_PASSWORD: mariadb.password, ...env})
  const server = ['--url', mariadb.primaryUrl]

  before(async () => {
    h = await kmsHome()
    edge = await edgeDatabase('edge')
    original = await contents(edge)
    const created = await backup(['create', ...server, '--databases', edge, '--json'])
    assert.equal(created.code, 0, created.stderr)
    id = json<{id: string}>(created.stdout).id
  })

  it('round-trips every edge case: each value, CHECKSUM TABLE, keys, foreign keys, views, routines, triggers, events and sequences', async () => {
    const target = `${edge}_r`
    restored.push(target)
    const result = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const summary = json<{tables: number; rows: number; checksums: {checked: number; mismatched: string[]}}>(result.stdout)
    assert.equal(summary.rows, 2004 + 2 + 1)
    assert.deepEqual(summary.checksums, {checked: 4, mismatched: []})
    const after = await contents(target)
    assert.deepEqual(after.rows, original.rows)
    assert.deepEqual(after.checksums, original.checksums)
    assert.ok(original.rows.edge!.some((r) => /^0\|0\.100000001/.test(r)), 'the row with id 0 is there')
    assert.deepEqual(await objects(target), await objects(edge))
    // The objects work in their new database: the view on a view, the function, the trigger, the sequence.
    assert.deepEqual(await query(`SELECT id FROM \`${target}\`.v0 ORDER BY id`), [{id: 0}, {id: 2}, {id: 3}, {id: 4}, {id: 5}, {id: 6}, {id: 7}, {id: 8}, {id: 9}])
    assert.deepEqual(await query(`SELECT \`${target}\`.twice(21) AS x`), [{x: 42}])
    const c = await connect()
    try {
      await c.query('SET SESSION sql_log_bin = 0')
      await c.query(`INSERT INTO \`${target}\`.child (id, edge_id, note) VALUES (3, 3, 'three')`)
      assert.deepEqual((await c.query(`SELECT note FROM \`${target}\`.child WHERE id = 3`))[0], [{note: 'three!'}])
      await assert.rejects(c.query(`INSERT INTO \`${target}\`.child VALUES (4, 999999, 'dangling')`), /foreign key constraint fails/)
      const [[next]] = (await c.query(`SELECT NEXTVAL(\`${target}\`.seq1) AS n`)) as unknown as [[{n: string}]]
      // The source handed out 100 and 105 and reserved a cache of 10 beyond: the restore goes on after them.
      assert.ok(Number(next.n) >= 110, `the sequence went back to ${next.n}`)
    } finally {
      await c.end()
    }
    // The restore's sessions wrote nothing to the binlog, so the replica has none of it (once it has the source).
    for (let tries = 0; !(await databaseExists(edge, mariadb.replicaUrl)); tries++) {
      assert.ok(tries < 600, `the replica did not get ${edge} in a minute: is it replicating?`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(await databaseExists(target, mariadb.replicaUrl), false)
  })

  it('refuses a target that holds the same objects unless --force, asks before replacing, and --dry-run changes nothing', async () => {
    const target = `${edge}_force`
    restored.push(target)
    assert.equal((await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`])).code, 0)
    const c = await connect()
    try {
      await c.query('SET SESSION sql_log_bin = 0')
      await c.query(`DELETE FROM \`${target}\`.child`)
    } finally {
      await c.end()
    }
    const refused = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, new RegExp(`database ${target} already holds table child, table edge`))
    assert.match(refused.stderr, /--force/)
    const unconfirmed = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`, '--force'])
    assert.equal(unconfirmed.code, 2)
    assert.match(unconfirmed.stderr, /confirmation needed[\s\S]*--yes/)
    const dryRun = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`, '--force', '--dry-run', '--json'])
    assert.equal(dryRun.code, 0, dryRun.stderr)
    assert.equal(json<{databases: Array<{replaces: string[]}>}>(dryRun.stdout).databases[0]!.replaces.length, 9)
    assert.deepEqual(await query(`SELECT COUNT(*) AS n FROM \`${target}\`.child`), [{n: '0'}])
    const forced = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`, '--force', '--yes'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual((await contents(target)).rows, original.rows)
  })

  it('restores one table into another database, and names what it does not know', async () => {
    const target = `${edge}_one`
    restored.push(target)
    const one = await backup(['restore', id, ...server, '--tables', `${edge}.child`, '--rename-db', `${edge}:${target}`, '--json'])
    assert.equal(one.code, 0, one.stderr)
    const got = await objects(target)
    assert.deepEqual(got.tables, ['BASE TABLE child'])
    assert.deepEqual(got.triggers, ['child_bi'])
    assert.deepEqual(got.routines, [])
    assert.deepEqual((await contents(target)).rows.child, original.rows.child)
    const typo = await backup(['restore', id, ...server, '--tables', `${edge}.chld`, '--rename-db', `${edge}:${target}_x`])
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, new RegExp(`no table ${edge}\\.chld[\\s\\S]*did you mean ${edge}\\.child\\?`))
    const system = await backup(['restore', id, ...server, '--rename-db', `${edge}:mysql`])
    assert.equal(system.code, 2)
    assert.match(system.stderr, /mysql is a system database/)
    const unknownDb = await backup(['create', ...server, '--databases', `${edge}x`])
    assert.equal(unknownDb.code, 2)
    assert.match(unknownDb.stderr, new RegExp(`database ${edge}x does not exist[\\s\\S]*did you mean ${edge}\\?`))
  })

  it('verify --restore-test restores into scratch databases, compares the checksums, and drops them', async () => {
    const verified = await backup(['verify', id, '--restore-test', ...server, '--json'])
    assert.equal(verified.code, 0, verified.stderr)
    const result = json<{ok: boolean; restoreTest: {tables: number; checksums: {checked: number; mismatched: string[]}}}>(verified.stdout)
    assert.equal(result.ok, true)
    assert.deepEqual(result.restoreTest.checksums, {checked: 4, mismatched: []})
    assert.deepEqual(await query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'dbakit\\_verify\\_%'"), [])
    const needsServer = await backup(['verify', id, '--restore-test'])
    assert.equal(needsServer.code, 2)
    assert.match(needsServer.stderr, /--profile or --url/)
  })

  it('with one flipped byte in a chunk: verify names the chunk, restore refuses it and leaves nothing behind', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'dbakit-mysql-flipped-'))
    execFileSync('cp', ['-a', `${repo}/.`, copy])
    const chunks = join(copy, 'backups', id, 'chunks')
    const file = readdirSync(chunks).find((f) => f.includes('.edge_'))!
    const bytes = readFileSync(join(chunks, file))
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01
    writeFileSync(join(chunks, file), bytes)
    const env = {DBAKIT_PASSWORD: mariadb.password}
    const verify = await h.run(['backup', 'verify', id, '--repo', copy], env)
    assert.equal(verify.code, 1)
    assert.match(verify.stdout, new RegExp(`${edge}\\.edge/00001`))
    const target = `${edge}_flipped`
    restored.push(target)
    const restore = await h.run(['backup', 'restore', id, '--repo', copy, ...server, '--rename-db', `${edge}:${target}`, '--threads', '1'], env)
    assert.equal(restore.code, 1)
    assert.match(restore.stderr, new RegExp(`chunk ${edge}\\.edge/00001: its stored bytes do not match`))
    assert.equal(await databaseExists(target), false)
    rmSync(copy, {recursive: true, force: true})
  })

  it('exits 1 naming a restored table that does not match the digest the backup took, and leaves it for inspection', async () => {
    // The same chunks under a manifest whose digest of child is off by one bit: what a row lost or changed on the way would look like.
    const doctored = await h.repository(repo, async (repository) => {
      const reader = await repository.open(id)
      const writer = await repository.begin({engine: 'mysql', server: reader.manifest.server})
      for (const chunk of reader.manifest.chunks) await writer.writeChunk(chunk.name, reader.readChunk(chunk.name), {...(chunk.rows === undefined ? {} : {rows: chunk.rows}), ...(chunk.meta ? {meta: chunk.meta} : {})})
      const body = structuredClone(reader.manifest.body) as {tables: Array<{name: string; checksum: {xor: number}}>}
      body.tables.find((t) => t.name === 'child')!.checksum.xor ^= 1
      reader.close()
      return (await writer.commit(body)).id
    })
    const target = `${edge}_mismatch`
    restored.push(target)
    const restore = await backup(['restore', doctored, ...server, '--rename-db', `${edge}:${target}`])
    assert.equal(restore.code, 1, restore.stderr)
    assert.match(restore.stderr, new RegExp(`1 restored table does not match the backup's checksums: ${target}\\.child`))
    assert.deepEqual((await contents(target)).rows, original.rows, 'the restored tables are left in place')
    const verified = await backup(['verify', doctored, '--restore-test', ...server])
    assert.equal(verified.code, 1, verified.stderr)
    assert.match(verified.stderr, /1 of 4 tables restored on \S+ do not match the backup's checksums: dbakit_verify_\w+\.child/)
    assert.deepEqual(await query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'dbakit\\_verify\\_%'"), [])
  })

  it('with a wrong or missing key, create, verify and restore exit 3 and change nothing', async () => {
    const target = `${edge}_nokey`
    const count = async () => json<{backups: unknown[]}>((await backup(['list', '--json'])).stdout).backups.length
    const backups = await count()
    for (const passphrase of ['not the passphrase at all', undefined]) {
      const env = {DBAKIT_KMS_PASSPHRASE: passphrase}
      const restore = await backup(['restore', id, ...server, '--rename-db', `${edge}:${target}`], env)
      assert.equal(restore.code, 3, restore.stderr)
      assert.equal((await backup(['verify', id], env)).code, 3)
      assert.equal((await backup(['create', ...server, '--databases', edge], env)).code, 3)
      assert.equal(await databaseExists(target), false)
    }
    assert.equal(await count(), backups, 'a failed create left a backup listed')
  })

  it('refuses MyISAM tables unless --allow-non-transactional, which dumps them under the global read lock', async () => {
    const database = `${prefix}_myisam`
    sources.push(database)
    await query(`CREATE DATABASE \`${database}\``)
    await query(`CREATE TABLE \`${database}\`.m (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=MyISAM`)
    await query(`INSERT INTO \`${database}\`.m VALUES (1, 'one'), (2, 'two')`)
    const refused = await backup(['create', ...server, '--databases', database])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, new RegExp(`not transactional \\(${database}\\.m MyISAM\\)[\\s\\S]*--allow-non-transactional`))
    const allowed = await backup(['create', ...server, '--databases', database, '--allow-non-transactional', '--json'])
    assert.equal(allowed.code, 0, allowed.stderr)
    const summary = json<{id: string; lock: {method: string}; notes: string[]}>(allowed.stdout)
    assert.equal(summary.lock.method, 'FLUSH TABLES WITH READ LOCK')
    assert.match(summary.notes.join('\n'), /dumped under FLUSH TABLES WITH READ LOCK/)
    const target = `${database}_r`
    restored.push(target)
    assert.equal((await backup(['restore', summary.id, ...server, '--rename-db', `${database}:${target}`])).code, 0)
    assert.deepEqual(await query(`SELECT id, v FROM \`${target}\`.m ORDER BY id`), [{id: 1, v: 'one'}, {id: 2, v: 'two'}])
  })

  it('keeps users and grants with --include-users, and restores them with it, pointed at the renamed database', async () => {
    const user = `bk_user_${process.pid}`
    await query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'some long password'`)
    await query(`GRANT SELECT, INSERT ON \`${edge}\`.* TO '${user}'@'%'`)
    const created = await backup(['create', ...server, '--databases', edge, '--include-users', '--json'])
    assert.equal(created.code, 0, created.stderr)
    await query(`DROP USER '${user}'@'%'`)
    const target = `${edge}_users`
    restored.push(target)
    try {
      const restore = await backup(['restore', json<{id: string}>(created.stdout).id, ...server, '--rename-db', `${edge}:${target}`, '--include-users'])
      assert.equal(restore.code, 0, restore.stderr)
      const grants = (await query<Record<string, string>>(`SHOW GRANTS FOR '${user}'@'%'`)).map((g) => Object.values(g)[0])
      assert.ok(grants.some((g) => g?.includes(`GRANT SELECT, INSERT ON \`${target}\`.*`)), grants.join('\n'))
    } finally {
      const c = await connect()
      await c.query('SET SESSION sql_log_bin = 0')
      await c.query(`DROP USER IF EXISTS '${user}'@'%'`)
      await c.end()
    }
  })

  it('round-trips through an S3 repository', async () => {
    const s3 = await kmsHome(s3Env())
    const location = `s3://${process.env.DBAKIT_TEST_S3_BUCKET}/${prefix}-mysql`
    const env = {DBAKIT_PASSWORD: mariadb.password}
    const created = await s3.run(['backup', 'create', ...server, '--databases', edge, '--repo', location, '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const s3Id = json<{id: string}>(created.stdout).id
    const listed = await s3.run(['backup', 'list', '--repo', location, '--json'], env)
    assert.deepEqual(json<{backups: Array<{id: string}>}>(listed.stdout).backups.map((b) => b.id), [s3Id])
    const target = `${edge}_s3`
    restored.push(target)
    const restore = await s3.run(['backup', 'restore', s3Id, ...server, '--repo', location, '--rename-db', `${edge}:${target}`], env)
    assert.equal(restore.code, 0, restore.stderr)
    const after = await contents(target)
    assert.deepEqual(after.rows, original.rows)
    assert.deepEqual(after.checksums, original.checksums)
  })
})

describe('dbakit backup create on a big table', () => {
  let h: Awaited<ReturnType<typeof kmsHome>>
  let big: string
  const env = {DBAKIT_PASSWORD: mariadb.password}
  const server = ['--url', mariadb.primaryUrl]

  before(async () => {
    h = await kmsHome()
    big = `${prefix}_big`
    sources.push(big)
    const c = await connect(mariadb.primaryUrl, {multipleStatements: true})
    try {
      // About 90 MB: more than one 64 MiB key range, so two workers share it.
      await c.query(`CREATE DATABASE \`${big}\`; USE \`${big}\`; CREATE TABLE \`${big}\`.t (id INT PRIMARY KEY, k INT NOT NULL, pad VARCHAR(400) NOT NULL, KEY k (k)) ENGINE=InnoDB;
        INSERT INTO \`${big}\`.t SELECT seq, seq % 1000, CONCAT(MD5(seq), REPEAT(SHA2(seq, 256), 5)) FROM seq_1_to_200000;
        ANALYZE TABLE \`${big}\`.t`)
    } finally {
      await c.end()
    }
  })

  it('splits it by key ranges across the threads and restores it with its key built after', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbakit-mysql-big-'))
    const created = await h.run(['backup', 'create', ...server, '--databases', big, '--repo', repo, '--threads', '2', '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const backupId = json<{id: string}>(created.stdout).id
    const shown = json<{chunks: Array<{name: string; rows: number}>; body: {tables: Array<{name: string; chunks: string[]; rows: number}>}}>((await h.run(['backup', 'show', backupId, '--repo', repo, '--json'], env)).stdout)
    const table = shown.body.tables.find((t) => t.name === 't')!
    assert.equal(table.rows, 200000)
    assert.ok(table.chunks.length >= 2, `one chunk only: ${table.chunks.join(', ')}`)
    const target = `${big}_r`
    restored.push(target)
    const restore = await h.run(['backup', 'restore', backupId, ...server, '--repo', repo, '--rename-db', `${big}:${target}`, '--json'], env)
    assert.equal(restore.code, 0, restore.stderr)
    assert.deepEqual(await query(`CHECKSUM TABLE \`${target}\`.t`).then((r) => r.map((x) => x.Checksum)), await query(`CHECKSUM TABLE \`${big}\`.t`).then((r) => r.map((x) => x.Checksum)))
    assert.deepEqual(await query(`SELECT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '${target}' ORDER BY 1`), [{i: 'k'}, {i: 'PRIMARY'}])
  })

  it('killed with SIGKILL mid-backup, leaves no backup listed, and the next run cleans up', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbakit-mysql-kill-'))
    const backups = join(repo, 'backups')
    const {staged, stagedChunks} = incompleteIn(backups)
    const killed = await runCli(['backup', 'create', ...server, '--databases', big, '--repo', repo, '--threads', '1'], {
      env: {...h.env, ...env},
      onSpawn: signalWhen('SIGKILL', () => stagedChunks().some((name) => name.includes('.t_'))),
    })
    assert.equal(killed.signal, 'SIGKILL', `the backup ended before it could be killed: ${killed.stderr}`)
    assert.equal(staged().length, 1)
    const list = await h.run(['backup', 'list', '--repo', repo, '--json'], env)
    assert.deepEqual(json<{backups: unknown[]}>(list.stdout).backups, [])
    const next = await h.run(['backup', 'create', ...server, '--databases', big, '--repo', repo, '--json'], env)
    assert.equal(next.code, 0, next.stderr)
    assert.deepEqual(readdirSync(backups), [json<{id: string}>(next.stdout).id])
  })

  it('interrupted by SIGINT, a backup removes what it wrote and a restore drops the database it created', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'dbakit-mysql-int-'))
    const backups = join(repo, 'backups')
    const {stagedChunks} = incompleteIn(backups)
    const interrupted = await runCli(['backup', 'create', ...server, '--databases', big, '--repo', repo, '--threads', '1'], {
      env: {...h.env, ...env},
      onSpawn: signalWhen('SIGINT', () => stagedChunks().length > 0),
    })
    assert.equal(interrupted.code, 130, interrupted.stderr)
    assert.deepEqual(readdirSync(backups), [])
    const created = await h.run(['backup', 'create', ...server, '--databases', big, '--repo', repo, '--json'], env)
    assert.equal(created.code, 0, created.stderr)
    const target = `${big}_int`
    restored.push(target)
    const restore = await runCli(['backup', 'restore', json<{id: string}>(created.stdout).id, ...server, '--repo', repo, '--rename-db', `${big}:${target}`, '--threads', '1'], {
      env: {...h.env, ...env},
      onSpawn: signalWhen('SIGINT', async () => Number((await query<{n: string}>(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${target}'`))[0]?.n) > 0),
    })
    assert.equal(restore.code, 130, restore.stderr)
    assert.equal(await databaseExists(target), false)
  })

  const tmpfs = smallTmpfs()

  it('on a full disk fails with an environment error and removes its partial files', {skip: tmpfs.skip}, async () => {
    const repo = join(tmpfs.dir!, 'repo')
    const full = await h.run(['backup', 'create', ...server, '--databases', big, '--repo', repo], env)
    assert.equal(full.code, 3, full.stderr)
    assert.match(full.stderr, /no space left \(ENOSPC\)/)
    assert.deepEqual(readdirSync(join(repo, 'backups')), [])
  })
})

describe('dbakit backup create and restore against MySQL 8', {skip: mysqlSkipReason}, () => {
  it('round-trips the types MySQL has, FLOATs exactly, with its objects', async () => {
    const h = await kmsHome()
    const database = `${prefix}_mysql8`
    const target = `${database}_r`
    const repo = mkdtempSync(join(tmpdir(), 'dbakit-mysql8-repo-'))
    const env = {DBAKIT_PASSWORD: process.env.DBAKIT_TEST_MYSQL_PASSWORD ?? ''}
    const c = await connect(mysqlUrl, {multipleStatements: true})
    try {
      await c.query(`SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES'; SET SESSION cte_max_recursion_depth = 5000;
        CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4; USE \`${database}\`;
        CREATE TABLE edge (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, f FLOAT, d DOUBLE, dec65 DECIMAL(65,30), b BIT(13), bin VARBINARY(16), j JSON,
          u VARCHAR(20) CHARACTER SET utf8mb4, zd DATE, zdt DATETIME(6), ts TIMESTAMP(3) NULL, e ENUM('a','b'), s SET('x','y'), nulls VARCHAR(10),
          gen INT AS (id * 2) VIRTUAL, inv INT INVISIBLE DEFAULT 7, KEY k_f (f)) ENGINE=InnoDB;
        INSERT INTO edge (id, f, d, dec65, b, bin, j, u, zd, zdt, ts, e, s, nulls, inv) VALUES
          (0, 0.1, 0.1, 12345678901234567890123456789012345.123456789012345678901234567890, b'1010101010101', 0x00090a5c0d, '{"a": [1, 2.5]}', 'emoji 😀', '0000-00-00', '2020-02-30 00:00:00', '2038-01-19 03:14:07.999', 'b', 'x,y', 'NULL', 1),
          (2, -1.17549e-38, 4.9e-324, 0, NULL, NULL, NULL, '\\\\N', NULL, NULL, NULL, NULL, NULL, NULL, 2);
        INSERT INTO edge (f, d, u) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT RAND() * POW(10, FLOOR(RAND() * 70) - 35), RAND() * POW(10, FLOOR(RAND() * 600) - 300), CONCAT('r', i) FROM n;
        CREATE VIEW v1 AS SELECT id, u FROM edge WHERE id < 10;
        CREATE TRIGGER edge_bi BEFORE INSERT ON edge FOR EACH ROW SET NEW.nulls = 'trigger';`)
    } finally {
      await c.end()
    }
    try {
      const before = await contents(database, mysqlUrl)
      const created = await h.run(['backup', 'create', '--url', mysqlUrl!, '--databases', database, '--repo', repo, '--json'], env)
      assert.equal(created.code, 0, created.stderr)
      const restore = await h.run(['backup', 'restore', json<{id: string}>(created.stdout).id, '--url', mysqlUrl!, '--repo', repo, '--rename-db', `${database}:${target}`], env)
      assert.equal(restore.code, 0, restore.stderr)
      assert.deepEqual(await contents(target, mysqlUrl), before)
      assert.deepEqual(await query(`SELECT COUNT(*) AS n FROM \`${target}\`.v1`, mysqlUrl), await query(`SELECT COUNT(*) AS n FROM \`${database}\`.v1`, mysqlUrl))
      assert.deepEqual(await query(`SELECT TRIGGER_NAME AS t FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${target}'`, mysqlUrl), [{t: 'edge_bi'}])
    } finally {
      await query(`DROP DATABASE IF EXISTS \`${database}\``, mysqlUrl)
      await query(`DROP DATABASE IF EXISTS \`${target}\``, mysqlUrl)
    }
  })
})
