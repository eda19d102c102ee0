// What bench/osc/run.mjs and bench/osc/ledger.mjs share: the server from the environment, a
// database of their own that is dropped on exit, the sysbench-style table, the ledger check, the
// watcher that sees the cut-over, and running dbakit and pt-online-schema-change as child processes.
import {spawn, spawnSync} from 'node:child_process'
import {accessSync, constants as fsConstants, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import mysql from 'mysql2/promise'
import {now} from './load.mjs'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const sleep = (ms) => new Promise((done) => setTimeout(done, ms))
export const quote = (name) => '`' + String(name).replaceAll('`', '``') + '`'
export const say = (...parts) => process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${parts.join(' ')}\n`)

/** node:util parseArgs with numbers, defaults and --help; spec: {name: {type: 'number'|'string'|'boolean', default}}. */
export function options(spec, usage) {
  const config = {help: {type: 'boolean'}}
  for (const [name, {type}] of Object.entries(spec)) config[name] = {type: type === 'boolean' ? 'boolean' : 'string'}
  let values
  try {
    ;({values} = parseArgs({options: config, strict: true, allowPositionals: false}))
  } catch (error) {
    process.stderr.write(`${error.message}\n\n${usage}`)
    process.exit(2)
  }
  if (values.help) {
    process.stdout.write(usage)
    process.exit(0)
  }
  const out = {}
  for (const [name, {type, default: fallback}] of Object.entries(spec)) {
    const raw = values[name]
    if (raw === undefined) out[name] = fallback
    else if (type === 'number') {
      out[name] = Number(raw.replaceAll('_', '').replaceAll(',', ''))
      if (!Number.isFinite(out[name]) || out[name] < 0) {
        process.stderr.write(`--${name} must be a non-negative number, not ${JSON.stringify(raw)}\n`)
        process.exit(2)
      }
    } else out[name] = raw
  }
  return out
}

/**
 * The server: --url (or DBAKIT_TEST_MARIADB_PRIMARY_URL) as mysql://USER@HOST:PORT, the password
 * from DBAKIT_PASSWORD or DBAKIT_TEST_MARIADB_PASSWORD. A password inside the URL is refused, so
 * that it never sits in argv.
 */
export function serverFromEnv(urlFlag) {
  const raw = urlFlag ?? process.env.DBAKIT_TEST_MARIADB_PRIMARY_URL
  if (!raw) {
    process.stderr.write('no server: pass --url mysql://USER@HOST:PORT or source the services env:\n  scripts/services start mariadb && set -a && . "$(scripts/services env)" && set +a\n')
    process.exit(2)
  }
  let url
  try {
    url = new URL(raw)
  } catch {
    process.stderr.write('--url must look like mysql://USER@HOST:PORT\n')
    process.exit(2)
  }
  if (url.password) {
    process.stderr.write('the URL holds a password: put it in DBAKIT_PASSWORD instead, so it stays out of argv and output\n')
    process.exit(2)
  }
  const password = process.env.DBAKIT_PASSWORD ?? process.env.DBAKIT_TEST_MARIADB_PASSWORD ?? ''
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port || 3306)
  const user = decodeURIComponent(url.username || 'root')
  return {host, port, user, password, url: `mysql://${encodeURIComponent(user)}@${url.hostname}:${port}`}
}

// Server thread ids of the connections this process opened, so that the exit handlers can KILL
// their running statements (closing a socket does not stop a query already running).
const ownThreads = new Set()
export async function connect(server, database) {
  // server.socket (a Unix socket path), when set, is used instead of host and port.
  const where = server.socket ? {socketPath: server.socket} : {host: server.host, port: server.port}
  const conn = await mysql.createConnection({...where, user: server.user, password: server.password, database, connectTimeout: 10000, decimalNumbers: true})
  const id = conn.threadId
  ownThreads.add(id)
  conn.on('end', () => ownThreads.delete(id))
  conn.on('error', () => ownThreads.delete(id))
  const end = conn.end.bind(conn)
  conn.end = (...args) => (ownThreads.delete(id), end(...args))
  return conn
}

/** Hides the password in text that is about to be printed, in case a tool echoed it. */
export function masker(server) {
  return (text) => (server.password ? String(text).replaceAll(server.password, '***') : String(text))
}

// --- cleanup on exit ------------------------------------------------------------------------

const cleanups = []
let cleaning = null
/** Registers fn to run (last registered first) on normal exit, an error, SIGINT, SIGTERM or SIGHUP. */
export function onCleanup(fn) {
  cleanups.push(fn)
  return () => {
    const i = cleanups.indexOf(fn)
    if (i >= 0) cleanups.splice(i, 1)
  }
}
export function runCleanups() {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop()
      try {
        await fn()
      } catch (error) {
        say(`cleanup: ${error.message}`)
      }
    }
  })()
  return cleaning
}
let signalled = false
// While cleaning up after a signal, statements on connections being closed fail: that is expected.
process.on('unhandledRejection', (error) => {
  if (signalled) return
  process.stderr.write(`unhandled: ${error?.stack ?? error}\n`)
  runCleanups().finally(() => process.exit(1))
})
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    if (signalled) return
    signalled = true
    say(`${signal}: cleaning up`)
    runCleanups().finally(() => process.exit(code))
  })
}
/** Runs main, then the cleanups; an uncaught error is printed (masked) and exits 1. */
export function main(fn, mask = (text) => text) {
  fn()
    .then(async (code) => {
      if (signalled) return
      await runCleanups()
      process.exit(code ?? 0)
    })
    .catch(async (error) => {
      if (signalled) return // the signal handler cleans up and exits
      process.stderr.write(`${mask(error.stack ?? error)}\n`)
      await runCleanups()
      process.exit(1)
    })
}

/**
 * Creates the database osc_bench_<pid> (never an existing one) and registers its DROP. Returns
 * its name and a connection to it.
 */
export async function benchDatabase(server, prefix = 'osc_bench') {
  const name = `${prefix}_${process.pid}`
  const admin = await connect(server)
  await admin.query(`CREATE DATABASE ${quote(name)}`)
  onCleanup(async () => {
    const conn = await connect(server)
    for (const id of ownThreads) {
      if (id === conn.threadId) continue
      await conn.query(`KILL CONNECTION ${Number(id)}`).catch(() => {}) // 1094: already gone
    }
    await conn.query('SET SESSION lock_wait_timeout = 60')
    await conn.query(`DROP DATABASE IF EXISTS ${quote(name)}`)
    await conn.end()
    say(`dropped database ${name}`)
  })
  await admin.query(`USE ${quote(name)}`)
  onCleanup(() => admin.destroy())
  return {name, conn: admin}
}

// --- data -------------------------------------------------------------------------------------

export const SBTEST_DEFINITION = `(
  id INT NOT NULL AUTO_INCREMENT,
  k INT NOT NULL DEFAULT 0,
  c CHAR(120) NOT NULL DEFAULT '',
  pad CHAR(60) NOT NULL DEFAULT '',
  PRIMARY KEY (id),
  KEY k_1 (k)
) ENGINE=InnoDB`

const digits = (groups) => `CONCAT_WS('-', ${Array.from({length: groups}, () => "LPAD(FLOOR(RAND() * 100000000000), 11, '0')").join(', ')})`

/**
 * Fills a new table like sysbench's sbtest1 (same columns, same secondary key k_1, k uniform in
 * [1, rows], c and pad as sysbench's 11-digit groups) from MariaDB's sequence engine, in chunks.
 */
export async function generateSbtest(conn, table, rows, chunk = 50000) {
  await conn.query(`CREATE TABLE ${quote(table)} ${SBTEST_DEFINITION}`)
  for (let from = 1; from <= rows; from += chunk) {
    const to = Math.min(rows, from + chunk - 1)
    await conn.query(`INSERT INTO ${quote(table)} (id, k, c, pad) SELECT seq, 1 + FLOOR(RAND() * ${rows}), ${digits(10)}, ${digits(5)} FROM seq_${from}_to_${to}`)
  }
}

/** Copies table `from` into a new table `to` of the same definition, in chunks of ids. */
export async function copyTable(conn, from, to, chunk = 50000) {
  await conn.query(`CREATE TABLE ${quote(to)} LIKE ${quote(from)}`)
  const [[{lo, hi}]] = await conn.query(`SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${quote(from)}`)
  for (let a = lo; a !== null && a <= hi; a += chunk) await conn.query(`INSERT INTO ${quote(to)} SELECT * FROM ${quote(from)} WHERE id BETWEEN ? AND ?`, [a, a + chunk - 1])
}

export async function createLedger(conn, ledger = 'osc_ledger') {
  await conn.query(`CREATE TABLE ${quote(ledger)} (seq BIGINT NOT NULL PRIMARY KEY, id INT NOT NULL, op CHAR(3) NOT NULL, KEY (id, op)) ENGINE=InnoDB`)
}

/** Drops every table of the database but the ones named in keep (their triggers go with them). */
export async function dropTablesExcept(conn, database, keep) {
  const [rows] = await conn.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])
  const drop = rows.map((r) => r.name).filter((name) => !keep.includes(name))
  if (drop.length > 0) {
    await conn.query('SET SESSION lock_wait_timeout = 60')
    await conn.query(`DROP TABLE IF EXISTS ${drop.map(quote).join(', ')}`)
  }
  return drop
}

export async function columnType(conn, database, table, column) {
  const [rows] = await conn.query('SELECT COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?', [database, table, column])
  return rows[0]?.type ?? null
}

export async function tablesAndTriggers(conn, database) {
  const [tables] = await conn.query('SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [database])
  const [triggers] = await conn.query('SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1', [database])
  return {tables: tables.map((r) => r.name), triggers: triggers.map((r) => `${r.name} on ${r.tbl}`)}
}

// --- the ledger check ---------------------------------------------------------------------------

/**
 * Checks, in one consistent snapshot (safe under load), that each table holds exactly the
 * committed writes: every k0 row present with k = k0.k + its 'upd' ledger rows and c, pad
 * unchanged; every inserted id present (k = 0, c 'ins-<id>', pad 'ledger') unless a 'del' ledger
 * row says it was deleted; no deleted id back; no row the ledger does not explain.
 */
export async function checkLedger(conn, tables, {k0 = 'osc_k0', ledger = 'osc_ledger'} = {}) {
  const results = []
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
  try {
    const [[{ledgerRows, inserted, deleted, k0Rows}]] = await conn.query(
      `SELECT (SELECT COUNT(*) FROM ${quote(ledger)}) AS ledgerRows,
              (SELECT COUNT(*) FROM ${quote(ledger)} WHERE op = 'ins') AS inserted,
              (SELECT COUNT(*) FROM ${quote(ledger)} WHERE op = 'del') AS deleted,
              (SELECT COUNT(*) FROM ${quote(k0)}) AS k0Rows`,
    )
    for (const table of tables) {
      const t = quote(table)
      const [[base]] = await conn.query(
        `SELECT COUNT(*) AS k0Checked,
                COALESCE(SUM(t.id IS NULL), 0) AS missing,
                COALESCE(SUM(IF(t.id IS NULL, 0, GREATEST(k0.k + COALESCE(l.n, 0) - t.k, 0))), 0) AS lostUpdates,
                COALESCE(SUM(IF(t.id IS NULL, 0, GREATEST(t.k - k0.k - COALESCE(l.n, 0), 0))), 0) AS extraUpdates,
                COALESCE(SUM(t.id IS NOT NULL AND t.k <> k0.k + COALESCE(l.n, 0)), 0) AS wrongRows,
                COALESCE(SUM(t.id IS NOT NULL AND (t.c <> k0.c OR t.pad <> k0.pad)), 0) AS changedColumns
           FROM ${quote(k0)} k0
           LEFT JOIN ${t} t ON t.id = k0.id
           LEFT JOIN (SELECT id, COUNT(*) AS n FROM ${quote(ledger)} WHERE op = 'upd' GROUP BY id) l ON l.id = k0.id`,
      )
      const [[ins]] = await conn.query(
        `SELECT COALESCE(SUM(d.id IS NULL AND t.id IS NULL), 0) AS missingInserted,
                COALESCE(SUM(d.id IS NOT NULL AND t.id IS NOT NULL), 0) AS resurrected,
                COALESCE(SUM(d.id IS NULL AND t.id IS NOT NULL AND (t.k <> 0 OR t.c <> CONCAT('ins-', i.id) OR t.pad <> 'ledger')), 0) AS changedInserted,
                COALESCE(SUM(d.id IS NULL), 0) AS liveInserted
           FROM (SELECT DISTINCT id FROM ${quote(ledger)} WHERE op = 'ins') i
           LEFT JOIN (SELECT DISTINCT id FROM ${quote(ledger)} WHERE op = 'del') d ON d.id = i.id
           LEFT JOIN ${t} t ON t.id = i.id`,
      )
      const [[other]] = await conn.query(`SELECT COUNT(*) AS rowsNow FROM ${t}`)
      // k0 ids and inserted ids are disjoint (new ids are above every existing one) and id is the
      // primary key, so whatever the three counts above do not explain is a row from nowhere.
      other.phantom = other.rowsNow - (base.k0Checked - base.missing) - (ins.liveInserted - ins.missingInserted) - ins.resurrected
      const r = {
        table,
        rows: other.rowsNow,
        expectedRows: k0Rows + ins.liveInserted,
        missing: base.missing + ins.missingInserted,
        lostUpdates: base.lostUpdates,
        extraUpdates: base.extraUpdates,
        wrongRows: base.wrongRows,
        changedColumns: base.changedColumns + ins.changedInserted,
        resurrected: ins.resurrected,
        phantom: other.phantom,
        ledgerRows,
        inserted,
        deleted,
      }
      for (const key of Object.keys(r)) if (key !== 'table') r[key] = Number(r[key])
      r.ok = r.rows === r.expectedRows && r.missing + r.lostUpdates + r.extraUpdates + r.wrongRows + r.changedColumns + r.resurrected + r.phantom === 0
      results.push(r)
    }
  } finally {
    await conn.query('COMMIT')
  }
  return results
}

export function describeCheck(r) {
  if (r.ok) return `ok ${r.table} (${r.rows.toLocaleString('en-US')} rows, ${r.ledgerRows.toLocaleString('en-US')} ledger rows)`
  const parts = []
  if (r.missing) parts.push(`${r.missing} missing rows`)
  if (r.lostUpdates) parts.push(`${r.lostUpdates} lost updates`)
  if (r.extraUpdates) parts.push(`${r.extraUpdates} doubled updates`)
  if (r.wrongRows) parts.push(`${r.wrongRows} rows with a wrong k`)
  if (r.changedColumns) parts.push(`${r.changedColumns} rows with changed c/pad`)
  if (r.resurrected) parts.push(`${r.resurrected} deleted rows back`)
  if (r.phantom) parts.push(`${r.phantom} rows the ledger does not explain`)
  if (r.rows !== r.expectedRows) parts.push(`${r.rows} rows, ${r.expectedRows} expected`)
  return `FAIL ${r.table}: ${parts.join(', ')}`
}

// --- seeing the cut-over ------------------------------------------------------------------------

/**
 * Polls InnoDB's dictionary (information_schema.INNODB_SYS_TABLES, which takes no metadata lock
 * on the user's table) every intervalMs for the table id behind DB/TABLE. A RENAME that puts
 * another table under the name changes it. flips: {before, at, from, to}: the swap happened
 * between the poll at `before` (old id) and the one at `at` (new id), epoch ms.
 */
export async function watchTable(server, database, table, intervalMs = 10) {
  const conn = await connect(server)
  const name = `${database}/${table}`
  const flips = []
  let last = null
  let lastAt = null
  let polls = 0
  let stopped = false
  const poll = async () => {
    const [rows] = await conn.query('SELECT TABLE_ID AS id FROM information_schema.INNODB_SYS_TABLES WHERE NAME = ?', [name])
    const at = now()
    const id = rows[0]?.id ?? null
    polls++
    if (lastAt !== null && id !== last) flips.push({before: lastAt, at, from: last, to: id})
    last = id
    lastAt = at
  }
  await poll()
  let error = null
  const loop = (async () => {
    while (!stopped) {
      await sleep(intervalMs)
      try {
        await poll()
      } catch (e) {
        if (!stopped) error = e
        return
      }
    }
  })()
  const unregister = onCleanup(() => conn.destroy())
  return {
    flips,
    /**
     * The swaps: flips merged where the name was briefly absent from the dictionary in between
     * (a multi-table RENAME or ALTER's copy rename the tables one after the other inside InnoDB,
     * which SQL sessions cannot see but this poller can).
     */
    swaps() {
      const out = []
      for (const flip of flips) {
        const last = out[out.length - 1]
        if (last && last.to === null && flip.from === null && flip.before - last.at < 1000) out[out.length - 1] = {...last, at: flip.at, to: flip.to}
        else out.push({...flip})
      }
      return out
    },
    get polls() {
      return polls
    },
    get error() {
      return error
    },
    async stop() {
      stopped = true
      await loop
      unregister()
      await conn.end().catch(() => conn.destroy())
    },
  }
}

// --- child processes ----------------------------------------------------------------------------

/**
 * Runs a command with stdin closed, timestamping each line of its stdout and stderr. The child is
 * killed on timeout and by the exit handlers. Resolves {code, signal, stdout, stderr, lines, start, end}.
 * stdin / stdout: a file descriptor to connect instead (e.g. a dump file to read or write; that
 * stream's text is then empty); onSpawn(child) is called once it runs.
 */
export function runProcess(command, args, {env = process.env, timeoutMs = 3600000, cwd, stdin = 'ignore', stdout = 'pipe', onSpawn} = {}) {
  return new Promise((done) => {
    const start = now()
    const child = spawn(command, args, {env, cwd, stdio: [stdin, stdout, 'pipe']})
    onSpawn?.(child)
    const lines = []
    const text = {stdout: '', stderr: ''}
    const partial = {stdout: '', stderr: ''}
    for (const stream of ['stdout', 'stderr']) {
      if (!child[stream]) continue
      child[stream].setEncoding('utf8')
      child[stream].on('data', (chunk) => {
        const at = now()
        text[stream] += chunk
        const parts = (partial[stream] + chunk).split(/\r?\n|\r/)
        partial[stream] = parts.pop()
        for (const line of parts) if (line.trim()) lines.push({at, stream, line})
      })
    }
    const unregister = onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        await sleep(500)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
    })
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs)
    child.on('error', (error) => {
      text.stderr += `${error.message}\n`
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      unregister()
      for (const stream of ['stdout', 'stderr']) if (partial[stream].trim()) lines.push({at: now(), stream, line: partial[stream]})
      done({code, signal, stdout: text.stdout, stderr: text.stderr, lines, start, end: now()})
    })
  })
}

/** The dbakit entry point: DBAKIT_BIN (bin/run.js or a checkout holding it), else this worktree's. */
export function dbakitBin() {
  let bin = process.env.DBAKIT_BIN ?? join(root, 'bin/run.js')
  if (existsSync(bin) && statSync(bin).isDirectory()) bin = join(bin, 'bin/run.js')
  return resolve(bin)
}

/** Runs `node BIN ARGS...` with the password in DBAKIT_PASSWORD (never in argv); env: more variables. */
export async function dbakit(server, args, {timeoutMs = 3600000, env: extra = {}, onSpawn} = {}) {
  const env = {...process.env, DBAKIT_PASSWORD: server.password, NO_COLOR: '1', ...extra}
  const result = await runProcess(process.execPath, [dbakitBin(), ...args], {env, timeoutMs, onSpawn})
  result.json = parseJson(result.stdout)
  result.missingCommand = result.code === 2 && /is not a dbakit command|command .* not found/i.test(result.stderr)
  return result
}

/** The JSON object a --json command printed (the last top-level one when there are several). */
export function parseJson(stdout) {
  const text = stdout.trim()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {}
  const lines = text.split('\n').filter((line) => line.trim().startsWith('{'))
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i])
    } catch {}
  }
  const first = text.indexOf('{')
  if (first >= 0) {
    try {
      return JSON.parse(text.slice(first))
    } catch {}
  }
  return null
}

/** Whether this dbakit has `schema change`: {available, reason}. */
export async function probeDbakit(server) {
  const bin = dbakitBin()
  if (!existsSync(bin)) return {available: false, bin, reason: `${bin} does not exist (set DBAKIT_BIN to a dbakit checkout's bin/run.js)`}
  const result = await dbakit(server, ['schema', 'change', '--help'], {timeoutMs: 60000})
  if (result.code === 0) return {available: true, bin}
  const first = (result.stderr.split('\n').find((line) => line.trim()) ?? '').replace(/^[\s›]*/, '')
  const shown = bin.startsWith(`${root}/`) ? bin.slice(root.length + 1) : bin
  if (result.missingCommand) return {available: false, bin, reason: `\`dbakit schema change\` does not exist in ${shown} yet (exit 2: ${first.trim()})`}
  return {available: false, bin, reason: `\`dbakit schema change --help\` failed in ${shown} (exit ${result.code}: ${first.trim()})`}
}

/**
 * A 0600 option file, in a 0700 directory, holding the password for pt-online-schema-change's F=
 * DSN part. Returns {file, remove}; the exit handlers remove it too.
 */
export function optionFile(server, prefix = 'osc-bench-') {
  const value = server.password.replaceAll('\\', '\\\\').replaceAll('"', '\\"')
  return secretFile('client.cnf', `[client]\nuser=${server.user}\npassword="${value}"\n`, prefix)
}

/** A 0600 file holding text (a secret), in a 0700 directory of its own; the exit handlers remove it too. Returns {file, remove}. */
export function secretFile(name, text, prefix = 'osc-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const file = join(dir, name)
  writeFileSync(file, text, {mode: 0o600})
  const remove = () => rmSync(dir, {recursive: true, force: true})
  const unregister = onCleanup(remove)
  return {file, remove: () => (unregister(), remove())}
}

/**
 * Samples every intervalMs the resident memory of process pid and all its descendants (from
 * /proc: VmRSS summed over the tree, and each process's own high-water mark VmHWM). stop() returns
 * {peakBytes, treeBytes, processBytes, samples, processes}: peakBytes is the larger of the highest
 * summed sample and the highest single VmHWM (so a peak between two samples of a one-process tool
 * is still seen).
 */
export function watchTreeRss(pid, intervalMs = 100) {
  const kib = (status, field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024
  const children = (id) => {
    const out = []
    let tasks = []
    try {
      tasks = readdirSync(`/proc/${id}/task`)
    } catch {
      return out
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${id}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (child) out.push(Number(child))
      } catch {}
    }
    return out
  }
  let treeBytes = 0
  let processBytes = 0
  let samples = 0
  const seen = new Set()
  const sample = () => {
    let sum = 0
    const queue = [pid]
    while (queue.length > 0) {
      const id = queue.shift()
      let status
      try {
        status = readFileSync(`/proc/${id}/status`, 'utf8')
      } catch {
        continue // gone already
      }
      seen.add(id)
      sum += kib(status, 'VmRSS')
      processBytes = Math.max(processBytes, kib(status, 'VmHWM'))
      queue.push(...children(id))
    }
    treeBytes = Math.max(treeBytes, sum)
    samples++
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      return {peakBytes: Math.max(treeBytes, processBytes), treeBytes, processBytes, samples, processes: seen.size}
    },
  }
}

/** Bytes in a file, or in all the files under a directory (their sizes, not the blocks they take). */
export function pathBytes(path) {
  const stat = lstatSync(path)
  if (!stat.isDirectory()) return stat.size
  let total = 0
  for (const entry of readdirSync(path)) total += pathBytes(join(path, entry))
  return total
}

/** The absolute path of an executable found on PATH (or the path itself when it has a slash), else null. */
export function which(command) {
  const candidates = command.includes('/') ? [command] : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, command))
  for (const file of candidates) {
    try {
      accessSync(file, fsConstants.X_OK)
      if (statSync(file).isFile()) return file
    } catch {}
  }
  return null
}

export function ptOscVersion() {
  const result = spawnSync('pt-online-schema-change', ['--version'], {encoding: 'utf8'})
  return result.status === 0 ? result.stdout.trim() : null
}

// --- reporting ----------------------------------------------------------------------------------

export async function environment(conn) {
  const [[server]] = await conn.query('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool, @@binlog_format AS binlog, @@tx_isolation AS isolation')
  const [[{value: running}]] = await conn.query("SELECT VARIABLE_VALUE AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_RUNNING'")
  let model = cpus()[0]?.model ?? 'cpu'
  try {
    model = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? model
  } catch {}
  return {
    node: process.version,
    cpus: cpus().length,
    cpu: model.trim(),
    mariadb: server.version,
    bufferPoolMiB: Math.round(Number(server.pool) / 1048576),
    binlog: server.binlog,
    isolation: server.isolation,
    threadsRunning: Number(running),
    loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
  }
}

export const ms = (value) => (value === null || value === undefined ? '—' : value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US'))
export const int = (value) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US'))
export const errorsText = (errors) => {
  const entries = Object.entries(errors ?? {})
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${n} × ${code}`).join(', ')
}
export const median = (values) => {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b)
  return sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null
}

/** The command line that reproduces this run, for the report (no secrets: they are in the env). */
export function commandLine(script) {
  const shellQuote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)
  return ['scripts/node', 'node', script, ...process.argv.slice(2)].map(shellQuote).join(' ')
}
