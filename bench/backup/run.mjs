// Logical backup and restore of MySQL/MariaDB: mysqldump (mariadb-dump), mydumper/myloader and
// `dbakit backup create` / `dbakit backup restore`, side by side in the same run, against a private
// MariaDB server that this script starts, fills with sysbench tables, and removes on exit. Prints a
// Markdown table for docs/benchmarks.md, the goals with pass/fail, and the command that produced it.
//
// Usage (from the repository root; the project must be built):
//   apt-get install -y sysbench mydumper        (Debian packages; mariadb-dump and mariadbd too)
//   scripts/node node bench/backup/run.mjs [options]
//
//   --tables N        sysbench tables (default 8)
//   --table-size N    rows per table (default 1000000: 8 × 1M is about 1.8 GB of data)
//   --threads N       threads for mydumper, myloader, dbakit and sysbench prepare (default 2);
//                     mysqldump and the mariadb client have one
//   --runs N          dump and restore every tool N times, report the median (default 1)
//   --tools LIST      default mysqldump,mydumper,dbakit (the goals need mydumper and dbakit)
//   --port N          the private server's TCP port on 127.0.0.1 (default 33791; must be free)
//   --dir DIR         where the work directory (datadir, dumps, repository) is made (default /tmp)
//   --buffer-pool S   innodb_buffer_pool_size of the private server (default 2G)
//   --dbakit-rev REV  the dbakit to measure: REV (default HEAD) is exported with git archive into the
//                     work directory and built there (node_modules linked from this checkout), so that
//                     a rebuild of this worktree meanwhile cannot change what is measured; 'worktree'
//                     runs $DBAKIT_BIN or this worktree's bin/run.js as it is built now
//   --keep            keep the work directory (datadir and dumps) on exit; the server is stopped anyway
//   --json FILE       also write every figure and each tool's output to FILE
//
// The server: `mariadb-install-db` into a new datadir, then `mariadbd --no-defaults` on 127.0.0.1 with
// the binlog off, innodb_flush_log_at_trx_commit=2 and local_infile on. Its root accounts are left
// with root@localhost only, identified by unix_socket, which sysbench and the setup use over the
// server's socket (so no password is ever in argv). Every measured tool connects as `bench` (ALL
// PRIVILEGES, a random password) over TCP to 127.0.0.1: mysqldump, mydumper and myloader read the
// password from a temporary 0600 option file (--defaults-file), dbakit from DBAKIT_PASSWORD. dbakit
// runs with a temporary DBAKIT_HOME whose passphrase KMS is initialised first. The server is
// stopped, and the work directory removed, on exit, on an error and on Ctrl-C.
//
// What is measured, per tool and run, in this order: the dump (after a CHECKSUM TABLE of every source
// table, which also warms the buffer pool the same way for each tool), then the restore into a
// database that does not exist yet (sbtest_<tool>), then CHECKSUM TABLE and SHOW CREATE TABLE of every
// restored table against the source, then the restored database and the dump are dropped and dirty
// pages flushed, so that every step starts from the same state. MB/s is DATA_LENGTH of the source
// tables (information_schema, after ANALYZE TABLE; MB = 10^6 bytes) over the wall time of the tool
// process, start-up included; the same denominator for every tool. Peak RSS is the client's whole
// process tree (VmRSS summed every 100 ms, or a process's own VmHWM when higher). CPU is the client
// tree's and mariadbd's user+system time over the step's wall time (100 % = one core), and the
// machine's busy share of all its cores.
import {spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join, resolve} from 'node:path'
import {
  commandLine,
  connect,
  dbakitBin,
  environment,
  main,
  masker,
  median,
  onCleanup,
  optionFile,
  options,
  pathBytes,
  quote,
  root,
  runProcess,
  say,
  sleep,
  watchTreeRss,
  which,
} from '../osc/common.mjs'

const SCRIPT = 'bench/backup/run.mjs'
const usage = `Usage: scripts/node node ${SCRIPT} [--tables N] [--table-size N] [--threads N] [--runs N]
         [--tools mysqldump,mydumper,dbakit] [--port N] [--dir DIR] [--buffer-pool SIZE] [--keep] [--json FILE]
Starts its own MariaDB server (mariadb-install-db, mariadbd); needs sysbench, mariadb-dump, mydumper and
myloader on PATH, and a built dbakit. See the top of ${SCRIPT}.
`
const opts = options(
  {
    tables: {type: 'number', default: 8},
    'table-size': {type: 'number', default: 1000000},
    threads: {type: 'number', default: 2},
    runs: {type: 'number', default: 1},
    tools: {type: 'string', default: 'mysqldump,mydumper,dbakit'},
    port: {type: 'number', default: 33791},
    dir: {type: 'string', default: '/tmp'},
    'buffer-pool': {type: 'string', default: '2G'},
    'dbakit-rev': {type: 'string', default: 'HEAD'},
    keep: {type: 'boolean', default: false},
    json: {type: 'string'},
  },
  usage,
)
const fail = (message) => (process.stderr.write(`${message}\n`), process.exit(2))
const TOOLS = ['mysqldump', 'mydumper', 'dbakit']
const tools = opts.tools.split(',').map((s) => s.trim()).filter(Boolean)
for (const tool of tools) if (!TOOLS.includes(tool)) fail(`unknown tool ${tool}; known: ${TOOLS.join(', ')}`)
if (!Number.isInteger(opts.tables) || opts.tables < 1) fail('--tables must be a whole number, at least 1')
if (!Number.isInteger(opts['table-size']) || opts['table-size'] < 1) fail('--table-size must be a whole number, at least 1')
if (!Number.isInteger(opts.threads) || opts.threads < 1) fail('--threads must be a whole number, at least 1')
if (!Number.isInteger(opts.runs) || opts.runs < 1) fail('--runs must be a whole number, at least 1')
if (!Number.isInteger(opts.port) || opts.port < 1024 || opts.port > 65535) fail('--port must be a port number from 1024 to 65535')
if ([33701, 33702].includes(opts.port)) fail(`--port ${opts.port} belongs to the test servers of scripts/services: choose another`)
if (!/^\d+[KMG]?$/i.test(opts['buffer-pool'])) fail('--buffer-pool must look like 2G, 512M or a number of bytes')

const SOURCE = 'sbtest'
const target = (tool) => `sbtest_${tool}`
const MB = 1e6
const password = randomBytes(18).toString('base64url')
const server = {host: '127.0.0.1', port: opts.port, user: 'bench', password, url: `mysql://bench@127.0.0.1:${opts.port}`}
const mask = masker(server)
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).stdout?.trim()) || 100

// --- the private server -------------------------------------------------------------------------

function portIsFree(port) {
  return new Promise((done) => {
    const probe = createServer()
    probe.once('error', () => done(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)))
  })
}

/** Runs the mariadb client as root over the server's socket (unix_socket or empty password), SQL on stdin. */
function rootSql(socket, sql, {database} = {}) {
  const args = ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '--skip-column-names', ...(database ? [database] : [])]
  const result = spawnSync('mariadb', args, {input: sql, encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`mariadb (root over the socket) failed: ${(result.stderr || result.error?.message || '').trim()}`)
  return result.stdout
}

async function startServer(work, password) {
  const datadir = join(work, 'data')
  const socket = join(work, 'mysql.sock')
  const log = join(work, 'mariadbd.log')
  say(`mariadb-install-db into ${datadir}`)
  const install = spawnSync('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=root'], {encoding: 'utf8'})
  if (install.status !== 0) throw new Error(`mariadb-install-db failed (exit ${install.status}): ${(install.stderr || install.stdout).trim().split('\n').slice(-5).join('\n')}`)
  const args = [
    '--no-defaults',
    '--user=root',
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--port=${opts.port}`,
    '--bind-address=127.0.0.1',
    '--skip-log-bin',
    `--innodb-buffer-pool-size=${opts['buffer-pool']}`,
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-log-file-size=512M',
    '--max-allowed-packet=256M',
    '--local-infile=1',
    '--skip-name-resolve',
  ]
  const logFd = openSync(log, 'a')
  const child = spawn('/usr/sbin/mariadbd', args, {stdio: ['ignore', logFd, logFd]})
  closeSync(logFd)
  let exited = null
  const exit = new Promise((done) => child.on('exit', (code, signal) => ((exited = {code, signal}), done())))
  child.on('error', (error) => say(`mariadbd: ${error.message}`))
  onCleanup(async () => {
    if (exited) return
    say(`stopping mariadbd (pid ${child.pid})`)
    child.kill('SIGTERM')
    const stopped = await Promise.race([exit.then(() => true), sleep(180000).then(() => false)])
    if (!stopped) {
      say('mariadbd did not stop within 180 s: SIGKILL')
      child.kill('SIGKILL')
      await exit
    }
  })
  const tail = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-8).join('\n') : '')
  const deadline = Date.now() + 120000
  for (;;) {
    if (exited) throw new Error(`mariadbd exited (${exited.code ?? exited.signal}) while starting:\n${tail()}`)
    const ping = spawnSync('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '--user=root', '--connect-timeout=2', 'ping'], {encoding: 'utf8'})
    if (ping.status === 0) break
    if (Date.now() > deadline) throw new Error(`mariadbd did not answer within 120 s:\n${tail()}`)
    await sleep(250)
  }
  // Only root@localhost over the socket (unix_socket: the OS user root), and the bench user.
  const others = rootSql(socket, "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user WHERE User = 'root' AND Host <> 'localhost' OR User = ''").trim().split('\n').filter(Boolean)
  const secret = password.replaceAll('\\', '\\\\').replaceAll("'", "\\'")
  rootSql(
    socket,
    [
      ...others.map((account) => `DROP USER ${account};`),
      'ALTER USER root@localhost IDENTIFIED VIA unix_socket;',
      ...['127.0.0.1', 'localhost'].flatMap((host) => [`CREATE USER 'bench'@'${host}' IDENTIFIED BY '${secret}';`, `GRANT ALL PRIVILEGES ON *.* TO 'bench'@'${host}';`]),
    ].join('\n'),
  )
  return {pid: child.pid, socket, datadir, log, exited: () => exited}
}

// --- sampling ---------------------------------------------------------------------------------

/** user+system CPU seconds of one process (all its threads), or null when it is gone. */
function processCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK // utime, stime
  } catch {
    return null
  }
}

function childrenOf(pid) {
  const out = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/)) if (child) out.push(Number(child))
      } catch {}
    }
  } catch {}
  return out
}

/**
 * CPU seconds of a process tree: every intervalMs the user+system time of each process in it is
 * read, and the last reading of each counts (so at most intervalMs of CPU at the very end of a
 * process is missed). stop() returns the sum in seconds.
 */
function watchTreeCpu(pid, intervalMs = 100) {
  const last = new Map()
  const sample = () => {
    const queue = [pid]
    while (queue.length > 0) {
      const id = queue.shift()
      const cpu = processCpu(id)
      if (cpu === null) continue
      last.set(id, cpu)
      queue.push(...childrenOf(id))
    }
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      sample()
      return [...last.values()].reduce((a, b) => a + b, 0)
    },
  }
}

/** The machine's CPU time counters from /proc/stat: {total, idle, iowait} in ticks, all cores. */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields
  return {total: user + nice + system + idle + iowait + irq + softirq + steal, idle, iowait}
}

/** Runs a measured step: the command with its RSS and CPU watched, mariadbd's CPU and the machine's too. */
async function measured(label, command, args, {env, stdin, stdout, serverPid}) {
  say(`${label}: ${[command, ...args].map((a) => (a.startsWith(root + '/') ? a.slice(root.length + 1) : a)).join(' ')}`)
  let rss = null
  let cpu = null
  const server0 = processCpu(serverPid)
  const machine0 = machineCpu()
  const result = await runProcess(command, args, {
    env,
    stdin,
    stdout,
    timeoutMs: 4 * 3600 * 1000,
    onSpawn: (child) => {
      if (child.pid) {
        rss = watchTreeRss(child.pid)
        cpu = watchTreeCpu(child.pid)
      }
    },
  })
  const clientCpu = cpu?.stop() ?? null
  const memory = rss?.stop() ?? null
  const server1 = processCpu(serverPid)
  const machine1 = machineCpu()
  const wallMs = result.end - result.start
  const total = machine1.total - machine0.total
  return {
    ...result,
    wallMs,
    peakRssBytes: memory?.peakBytes ?? null,
    rss: memory,
    clientCpuSeconds: clientCpu,
    serverCpuSeconds: server0 !== null && server1 !== null ? server1 - server0 : null,
    clientCpuPct: clientCpu === null ? null : (100 * clientCpu) / (wallMs / 1000),
    serverCpuPct: server0 !== null && server1 !== null ? (100 * (server1 - server0)) / (wallMs / 1000) : null,
    machineBusyPct: total > 0 ? 100 * (1 - (machine1.idle - machine0.idle + machine1.iowait - machine0.iowait) / total) : null,
    machineIowaitPct: total > 0 ? (100 * (machine1.iowait - machine0.iowait)) / total : null,
  }
}

// --- the data and its checks --------------------------------------------------------------------

async function tableNames(conn, database) {
  const [rows] = await conn.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1", [database])
  return rows.map((r) => r.name)
}

async function checksums(conn, database, tables) {
  const [rows] = await conn.query(`CHECKSUM TABLE ${tables.map((t) => `${quote(database)}.${quote(t)}`).join(', ')}`)
  const out = {}
  for (const row of rows) out[row.Table.slice(database.length + 1)] = row.Checksum === null ? null : String(row.Checksum)
  return out
}

async function definitions(conn, database, tables) {
  const out = {}
  for (const table of tables) {
    const [[row]] = await conn.query(`SHOW CREATE TABLE ${quote(database)}.${quote(table)}`)
    out[table] = row['Create Table'].replace(/ AUTO_INCREMENT=\d+/, '')
  }
  return out
}

/** Every source table in the restored database with the same CHECKSUM TABLE and definition. */
async function verify(conn, database, source) {
  const restored = await tableNames(conn, database)
  const problems = []
  const missing = source.tables.filter((t) => !restored.includes(t))
  const extra = restored.filter((t) => !source.tables.includes(t))
  if (missing.length) problems.push(`missing tables: ${missing.join(', ')}`)
  if (extra.length) problems.push(`extra tables: ${extra.join(', ')}`)
  const present = source.tables.filter((t) => restored.includes(t))
  const sums = present.length ? await checksums(conn, database, present) : {}
  const defs = await definitions(conn, database, present)
  let same = 0
  for (const table of present) {
    if (sums[table] !== source.checksums[table]) problems.push(`${table}: CHECKSUM TABLE ${sums[table]}, source ${source.checksums[table]}`)
    else same++
    if (defs[table] !== source.definitions[table]) problems.push(`${table}: definition differs from the source's:\n${defs[table]}`)
  }
  return {ok: problems.length === 0, same, of: source.tables.length, problems}
}

/** Waits (up to maxMs) until InnoDB has flushed its dirty pages, so that the next step starts clean. */
async function settle(conn, maxMs = 300000) {
  const [[{pct, lwm}]] = await conn.query('SELECT @@innodb_max_dirty_pages_pct AS pct, @@innodb_max_dirty_pages_pct_lwm AS lwm')
  const start = Date.now()
  await conn.query('SET GLOBAL innodb_max_dirty_pages_pct = 0, GLOBAL innodb_max_dirty_pages_pct_lwm = 0')
  try {
    for (;;) {
      const [rows] = await conn.query("SELECT VARIABLE_NAME AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('INNODB_BUFFER_POOL_PAGES_DIRTY', 'INNODB_HISTORY_LIST_LENGTH')")
      const status = Object.fromEntries(rows.map((r) => [r.name.toLowerCase(), Number(r.value)]))
      if ((status.innodb_buffer_pool_pages_dirty ?? 0) < 100 && (status.innodb_history_list_length ?? 0) < 1000) return Date.now() - start
      if (Date.now() - start > maxMs) {
        say(`settle: still ${status.innodb_buffer_pool_pages_dirty} dirty pages, history ${status.innodb_history_list_length} after ${maxMs / 1000} s; going on`)
        return Date.now() - start
      }
      await sleep(500)
    }
  } finally {
    await conn.query(`SET GLOBAL innodb_max_dirty_pages_pct = ${Number(pct)}, GLOBAL innodb_max_dirty_pages_pct_lwm = ${Number(lwm)}`)
  }
}

// --- the tools ----------------------------------------------------------------------------------

function cleanEnv(extra = {}) {
  const env = {}
  for (const [key, value] of Object.entries(process.env)) if (!/^(DBAKIT_|MYSQL_|MARIADB_)/.test(key)) env[key] = value
  return {...env, NO_COLOR: '1', ...extra}
}

function versionOf(command, args = ['--version']) {
  const result = spawnSync(command, args, {encoding: 'utf8'})
  return result.status === 0 ? (result.stdout || result.stderr).trim().split('\n')[0] : null
}

/** Each tool: dump(out) and restore(out, database) returning a measured step; out is its own path. */
function toolset({server, cnf, serverPid, dbakitEnv, dbakitEntry}) {
  const net = ['-h', '127.0.0.1', '-P', String(server.port)]
  const url = `mysql://bench@127.0.0.1:${server.port}`
  const dbakitRun = (label, args) => measured(label, process.execPath, [dbakitEntry, ...args], {env: dbakitEnv, serverPid})
  return {
    mysqldump: {
      output: (dir) => join(dir, 'sbtest.sql'),
      async dump(out) {
        const fd = openSync(out, 'w')
        try {
          return await measured('mysqldump dump', 'mariadb-dump', [`--defaults-file=${cnf}`, ...net, '--single-transaction', '--quick', SOURCE], {env: cleanEnv(), stdout: fd, serverPid})
        } finally {
          closeSync(fd)
        }
      },
      async restore(out, database, conn) {
        await conn.query(`CREATE DATABASE ${quote(database)}`) // mariadb-dump without --databases: the client loads into the database named
        const fd = openSync(out, 'r')
        try {
          return await measured('mysqldump restore', 'mariadb', [`--defaults-file=${cnf}`, ...net, database], {env: cleanEnv(), stdin: fd, serverPid})
        } finally {
          closeSync(fd)
        }
      },
    },
    mydumper: {
      output: (dir) => join(dir, 'out'),
      dump: (out) => measured('mydumper dump', 'mydumper', [`--defaults-file=${cnf}`, ...net, '-B', SOURCE, '-t', String(opts.threads), '-c', '-o', out, '-v', '2'], {env: cleanEnv(), serverPid}),
      restore: (out, database) => measured('myloader restore', 'myloader', [`--defaults-file=${cnf}`, ...net, '-t', String(opts.threads), '-d', out, '-B', database, '-v', '2'], {env: cleanEnv(), serverPid}),
    },
    dbakit: {
      output: (dir) => join(dir, 'repo'),
      async dump(out) {
        const step = await dbakitRun('dbakit backup create', ['backup', 'create', '--url', url, '--repo', out, '--databases', SOURCE, '--threads', String(opts.threads), '--json'])
        step.json = parseLastJson(step.stdout)
        if (step.code === 0 && !step.json?.id) throw new Error(`dbakit backup create printed no backup id:\n${step.stdout.slice(-2000)}`)
        return step
      },
      async restore(out, database, _conn, dumped) {
        const step = await dbakitRun('dbakit backup restore', ['backup', 'restore', dumped.json.id, '--url', url, '--repo', out, '--rename-db', `${SOURCE}:${database}`, '--threads', String(opts.threads), '--json'])
        step.json = parseLastJson(step.stdout)
        return step
      },
    },
  }
}

function parseLastJson(text) {
  const trimmed = text.trim()
  try {
    return JSON.parse(trimmed)
  } catch {}
  const first = trimmed.indexOf('{')
  try {
    return first >= 0 ? JSON.parse(trimmed.slice(first)) : null
  } catch {
    return null
  }
}

// --- the run ------------------------------------------------------------------------------------

/** bin/run.js of the dbakit to measure, and what it is (the commit, or the worktree). */
async function prepareDbakit(work) {
  if (opts['dbakit-rev'] === 'worktree') {
    const bin = dbakitBin()
    if (!existsSync(bin)) throw new Error(`${bin} does not exist (set DBAKIT_BIN, or build: scripts/node npm run build)`)
    const checkout = resolve(bin, '../..')
    const head = spawnSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'}).stdout?.trim()
    const dirty = spawnSync('git', ['-C', checkout, 'status', '--porcelain', '--', 'src'], {encoding: 'utf8'}).stdout?.trim()
    return {bin, what: `the worktree's build${head ? ` (HEAD ${head}${dirty ? ', src/ modified' : ''})` : ''}`}
  }
  const sha = spawnSync('git', ['-C', root, 'rev-parse', '--verify', `${opts['dbakit-rev']}^{commit}`], {encoding: 'utf8'}).stdout?.trim()
  if (!sha) throw new Error(`--dbakit-rev ${opts['dbakit-rev']} is not a commit of ${root}`)
  const dir = join(work, `dbakit-${sha.slice(0, 12)}`)
  mkdirSync(dir)
  say(`building dbakit ${sha.slice(0, 12)} in ${dir}`)
  const extract = spawnSync('bash', ['-c', 'set -o pipefail; git -C "$1" archive "$2" | tar -x -C "$3"', 'extract', root, sha, dir], {encoding: 'utf8'})
  if (extract.status !== 0) throw new Error(`git archive ${sha} failed: ${extract.stderr.trim()}`)
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], {cwd: dir, encoding: 'utf8'})
  if (build.status !== 0) throw new Error(`building dbakit ${sha} failed:\n${(build.stdout + build.stderr).trim().split('\n').slice(-15).join('\n')}`)
  const subject = spawnSync('git', ['-C', root, 'log', '-1', '--format=%s', sha], {encoding: 'utf8'}).stdout?.trim()
  return {bin: join(dir, 'bin/run.js'), what: `commit ${sha.slice(0, 7)}${subject ? ` ("${subject.length > 70 ? `${subject.slice(0, 67)}...` : subject}")` : ''}`}
}

const fmt = (value, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}))
const int = (value) => (value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US'))
const max = (values) => {
  const known = values.filter((v) => v !== null && v !== undefined)
  return known.length ? Math.max(...known) : null
}

main(async () => {
  const missing = ['mariadb-install-db', 'mariadb', 'mariadb-admin', 'sysbench', ...(tools.includes('mysqldump') ? ['mariadb-dump'] : []), ...(tools.includes('mydumper') ? ['mydumper', 'myloader'] : [])].filter((c) => !which(c))
  if (!existsSync('/usr/sbin/mariadbd')) missing.push('/usr/sbin/mariadbd')
  if (missing.length) throw new Error(`not installed: ${missing.join(', ')} (apt-get install -y sysbench mydumper mariadb-server mariadb-client)`)
  if (tools.includes('dbakit') && !existsSync(join(root, 'dist'))) throw new Error('dbakit is not built: scripts/node npm run build')
  if (!(await portIsFree(opts.port))) throw new Error(`port ${opts.port} on 127.0.0.1 is taken: pass --port with a free one`)

  const started = new Date()
  mkdirSync(resolve(opts.dir), {recursive: true})
  const work = mkdtempSync(join(resolve(opts.dir), 'dbakit-backup-bench-'))
  onCleanup(() => {
    if (opts.keep) say(`kept ${work}`)
    else rmSync(work, {recursive: true, force: true})
  })
  const mariadbd = await startServer(work, password)
  say(`mariadbd (pid ${mariadbd.pid}) on 127.0.0.1:${opts.port}, datadir ${mariadbd.datadir}`)
  const conn = await connect(server)
  onCleanup(() => conn.destroy())
  const {file: cnf} = optionFile(server, 'backup-bench-')

  // dbakit: a home of its own with the passphrase KMS.
  const dbakitEnv = cleanEnv({DBAKIT_HOME: join(work, 'dbakit-home'), DBAKIT_KMS_PASSPHRASE: 'bench passphrase for backup', DBAKIT_PASSWORD: password})
  let dbakitVersion = null
  let dbakit = null
  if (tools.includes('dbakit')) {
    dbakit = await prepareDbakit(work)
    mkdirSync(dbakitEnv.DBAKIT_HOME, {mode: 0o700})
    const init = await runProcess(process.execPath, [dbakit.bin, 'kms', 'init', '--provider', 'passphrase', '--yes'], {env: dbakitEnv, timeoutMs: 120000})
    if (init.code !== 0) throw new Error(`dbakit kms init failed (exit ${init.code}): ${mask(init.stderr.trim())}`)
    dbakitVersion = `${versionOf(process.execPath, [dbakit.bin, '--version'])}, ${dbakit.what}`
  }

  // The data: sysbench prepare over the socket as root (unix_socket: no password anywhere).
  await conn.query(`CREATE DATABASE ${quote(SOURCE)}`)
  const sysbenchArgs = ['oltp_read_write', '--db-driver=mysql', `--mysql-socket=${mariadbd.socket}`, '--mysql-user=root', `--mysql-db=${SOURCE}`, `--tables=${opts.tables}`, `--table-size=${opts['table-size']}`, `--threads=${Math.min(opts.threads, opts.tables)}`, 'prepare']
  say(`sysbench ${sysbenchArgs.join(' ')}`)
  const prepare = await runProcess('sysbench', sysbenchArgs, {env: cleanEnv(), timeoutMs: 4 * 3600 * 1000})
  if (prepare.code !== 0) throw new Error(`sysbench prepare failed (exit ${prepare.code}): ${mask(prepare.stderr || prepare.stdout).trim().split('\n').slice(-10).join('\n')}`)
  const prepareMs = prepare.end - prepare.start
  say(`prepared ${opts.tables} × ${opts['table-size']} rows in ${(prepareMs / 1000).toFixed(1)} s`)
  const tables = await tableNames(conn, SOURCE)
  await conn.query(`ANALYZE TABLE ${tables.map((t) => `${quote(SOURCE)}.${quote(t)}`).join(', ')}`)
  const [[size]] = await conn.query('SELECT SUM(DATA_LENGTH) AS data, SUM(INDEX_LENGTH) AS idx FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [SOURCE])
  let rows = 0
  for (const t of tables) rows += Number((await conn.query(`SELECT COUNT(*) AS n FROM ${quote(SOURCE)}.${quote(t)}`))[0][0].n)
  const source = {tables, rows, dataBytes: Number(size.data), indexBytes: Number(size.idx), checksums: await checksums(conn, SOURCE, tables), definitions: await definitions(conn, SOURCE, tables)}
  if (rows !== opts.tables * opts['table-size']) throw new Error(`sysbench made ${rows} rows, not ${opts.tables * opts['table-size']}`)
  say(`source: ${tables.length} tables, ${rows} rows, DATA_LENGTH ${(source.dataBytes / MB).toFixed(1)} MB, INDEX_LENGTH ${(source.indexBytes / MB).toFixed(1)} MB`)
  const env = await environment(conn)
  await settle(conn)

  const set = toolset({server, cnf, serverPid: mariadbd.pid, dbakitEnv, dbakitEntry: dbakit?.bin})
  const results = Object.fromEntries(tools.map((tool) => [tool, []]))
  const failures = []
  for (let run = 1; run <= opts.runs; run++) {
    for (const tool of tools) {
      const t = set[tool]
      const dir = join(work, `${tool}-${run}`)
      mkdirSync(dir)
      const out = t.output(dir)
      const database = target(tool)
      await conn.query(`DROP DATABASE IF EXISTS ${quote(database)}`)
      // The same starting point for every dump: the source read once (also a check that it has not changed).
      const now = await checksums(conn, SOURCE, tables)
      for (const table of tables) if (now[table] !== source.checksums[table]) throw new Error(`the source table ${table} changed during the benchmark`)
      say(`run ${run}, ${tool}`)
      const dump = await t.dump(out)
      if (dump.code !== 0) {
        failures.push(`${tool} dump (run ${run}) exited ${dump.code ?? dump.signal}: ${why(dump)}`)
        say(failures.at(-1))
        continue
      }
      const outputBytes = pathBytes(out)
      const restore = await t.restore(out, database, conn, dump)
      let check = null
      if (restore.code !== 0) {
        failures.push(`${tool} restore (run ${run}) exited ${restore.code ?? restore.signal} after ${(restore.wallMs / 1000).toFixed(1)} s: ${why(restore)}`)
        say(failures.at(-1))
      } else {
        check = await verify(conn, database, source)
        if (!check.ok) failures.push(`${tool} restore (run ${run}) does not match the source: ${check.problems.join('; ')}`)
        say(`${tool}: dump ${(dump.wallMs / 1000).toFixed(1)} s, ${(outputBytes / MB).toFixed(1)} MB; restore ${(restore.wallMs / 1000).toFixed(1)} s; ${check.ok ? `${check.same}/${check.of} tables match` : 'MISMATCH'}`)
      }
      results[tool].push({run, outputBytes, dump: summary(dump), restore: summary(restore), check, dbakit: tool === 'dbakit' ? {create: dump.json, restore: restore.json} : undefined})
      await conn.query(`DROP DATABASE IF EXISTS ${quote(database)}`)
      if (!opts.keep) rmSync(dir, {recursive: true, force: true})
      await settle(conn)
    }
  }

  const report = render({started, env, source, prepareMs, results, failures, dbakitVersion})
  process.stdout.write(report)
  if (opts.json) writeFileSync(opts.json, JSON.stringify({command: commandLine(SCRIPT), started, env, options: opts, source: {...source, definitions: undefined}, prepareMs, dbakitVersion, results, failures}, null, 1))
  return failures.length ? 1 : 0
}, mask)

/** What a failed step said: dbakit's JSON error, else the last lines of its stderr that are not warnings. */
function why(step) {
  const error = step.json?.error
  if (error?.message) return mask(`${error.code ? `${error.code}: ` : ''}${error.message}`)
  const lines = step.stderr.trim().split('\n').filter((line) => line.trim() && !/^warning:/i.test(line))
  return mask(lines.slice(-5).join(' / ') || `no message (signal ${step.signal ?? 'none'})`)
}

function summary(step) {
  const {lines, stdout, stderr, rss, json, ...rest} = step
  return {...rest, stdoutTail: stdout.slice(-4000), stderrTail: stderr.slice(-4000), rss, json}
}

function render({started, env, source, prepareMs, results, failures, dbakitVersion}) {
  const mbps = (ms) => (ms ? source.dataBytes / MB / (ms / 1000) : null)
  const figures = {}
  for (const [tool, runs] of Object.entries(results)) {
    const ok = runs.filter((r) => r.dump.code === 0)
    const restored = ok.filter((r) => r.restore.code === 0)
    const med = (list, f) => median(list.map(f))
    figures[tool] = {
      runs: runs.length,
      dumpMs: med(ok, (r) => r.dump.wallMs),
      restoreMs: med(restored, (r) => r.restore.wallMs),
      outputBytes: med(ok, (r) => r.outputBytes),
      dumpRss: max(ok.map((r) => r.dump.peakRssBytes)),
      restoreRss: max(restored.map((r) => r.restore.peakRssBytes)),
      dumpClient: med(ok, (r) => r.dump.clientCpuPct),
      dumpServer: med(ok, (r) => r.dump.serverCpuPct),
      dumpMachine: med(ok, (r) => r.dump.machineBusyPct),
      restoreClient: med(restored, (r) => r.restore.clientCpuPct),
      restoreServer: med(restored, (r) => r.restore.serverCpuPct),
      restoreMachine: med(restored, (r) => r.restore.machineBusyPct),
      checks: restored.map((r) => r.check),
      restoreFailures: ok.length - restored.length,
      dumpFailures: runs.length - ok.length,
    }
    figures[tool].dumpMBps = mbps(figures[tool].dumpMs)
    figures[tool].restoreMBps = mbps(figures[tool].restoreMs)
  }
  const names = {mysqldump: 'mysqldump', mydumper: 'mydumper -c / myloader', dbakit: 'dbakit backup create / restore'}
  const lines = []
  const versions = [
    results.mysqldump ? versionOf('mariadb-dump') : null,
    results.mydumper ? versionOf('mydumper') : null,
    results.mydumper ? versionOf('myloader') : null,
    versionOf('sysbench'),
    dbakitVersion ? `dbakit ${dbakitVersion.replace(/^dbakit\/?/, '')}` : null,
  ].filter(Boolean)
  lines.push(`Command: \`${commandLine(SCRIPT)}\``)
  lines.push('')
  lines.push(
    `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; Node ${env.node}, ${env.cpus} × ${env.cpu}, load average ${env.loadavg} before the first dump. ` +
      `Private MariaDB ${env.mariadb} (buffer pool ${env.bufferPoolMiB} MiB, binlog off, innodb_flush_log_at_trx_commit=2), all tools over TCP to 127.0.0.1. ` +
      `${versions.join('; ')}.`,
  )
  lines.push('')
  lines.push(
    `Data: \`sysbench oltp_read_write prepare\`, ${source.tables.length} tables × ${int(opts['table-size'])} rows (${int(source.rows)} rows, prepared in ${fmt(prepareMs / 1000)} s); ` +
      `DATA_LENGTH ${fmt(source.dataBytes / MB)} MB, INDEX_LENGTH ${fmt(source.indexBytes / MB)} MB (information_schema after ANALYZE TABLE). ` +
      `MB/s = DATA_LENGTH / wall time of the tool's process, MB = 10^6 bytes, the same for every tool. ${opts.threads} threads where a tool has them. ` +
      (opts.runs > 1 ? `${opts.runs} runs: median times, highest peak RSS.` : 'One run.'),
  )
  lines.push('')
  lines.push('| tool | dump (s) | dump MB/s | output (MB) | dump peak RSS (MB) | dump CPU client / server / machine | restore (s) | restore MB/s | restore peak RSS (MB) | restore CPU client / server / machine | restored = source |')
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const [tool, f] of Object.entries(figures)) {
    const pct = (a, b, c) => (a === null ? '—' : `${Math.round(a)} % / ${Math.round(b)} % / ${Math.round(c)} %`)
    const same = f.checks.filter((c) => c.ok).length
    const differ = f.checks.filter((c) => !c.ok)
    const parts = [`${same} of ${f.runs} run${f.runs === 1 ? '' : 's'}${same > 0 ? ` (${f.checks[0].of}/${f.checks[0].of} CHECKSUM TABLE)` : ''}`]
    if (f.restoreFailures) parts.push(`**restore failed in ${f.restoreFailures}**`)
    if (f.dumpFailures) parts.push(`**dump failed in ${f.dumpFailures}**`)
    if (differ.length) parts.push(`**differs in ${differ.length}: ${differ.map((c) => c.problems.join('; ')).join(' | ')}**`)
    const checks = parts.join('; ')
    lines.push(
      `| ${names[tool]} | ${fmt(f.dumpMs / 1000)} | ${fmt(f.dumpMBps)} | ${fmt(f.outputBytes / MB)} | ${fmt(f.dumpRss / MB)} | ${pct(f.dumpClient, f.dumpServer, f.dumpMachine)} | ${fmt(f.restoreMs / 1000)} | ${fmt(f.restoreMBps)} | ${fmt(f.restoreRss / MB)} | ${pct(f.restoreClient, f.restoreServer, f.restoreMachine)} | ${checks} |`,
    )
  }
  lines.push('')
  if (Object.values(figures).some((f) => f.restoreFailures || f.dumpFailures)) lines.push('Times, MB/s, RSS and CPU are of the runs that succeeded; the failures are listed below.', '')
  lines.push('CPU: user+system time of the client\'s process tree and of mariadbd over the wall time (100 % = one core); machine: busy share of all cores.')
  lines.push('')
  const d = figures.dbakit
  const m = figures.mydumper
  const goal = (text, pass, detail) => lines.push(`- ${pass === null ? 'n/a' : pass ? 'PASS' : 'FAIL'}: ${text} (${detail})`)
  lines.push('Goals:')
  if (!d) lines.push('- n/a: dbakit was not run')
  else {
    const have = (...v) => v.every((x) => x !== null && x !== undefined && Number.isFinite(x))
    goal('dump at least as fast as mydumper -c, with compression, encryption and checksums on', have(d.dumpMBps, m?.dumpMBps) ? d.dumpMBps >= m.dumpMBps : null, have(d.dumpMBps, m?.dumpMBps) ? `${fmt(d.dumpMBps)} MB/s against ${fmt(m.dumpMBps)} MB/s: ${fmt(d.dumpMBps / m.dumpMBps, 2)} ×` : 'no figure')
    goal('restore at least 1.2 × myloader', have(d.restoreMBps, m?.restoreMBps) ? d.restoreMBps >= 1.2 * m.restoreMBps : null, have(d.restoreMBps, m?.restoreMBps) ? `${fmt(d.restoreMBps)} MB/s against ${fmt(m.restoreMBps)} MB/s: ${fmt(d.restoreMBps / m.restoreMBps, 2)} ×` : 'no figure')
    goal('client peak RSS under 256 MB, dump', have(d.dumpRss) ? d.dumpRss < 256 * MB : null, `${fmt(d.dumpRss / MB)} MB`)
    goal('client peak RSS under 256 MB, restore', have(d.restoreRss) ? d.restoreRss < 256 * MB : null, `${fmt(d.restoreRss / MB)} MB`)
    goal("output no larger than mydumper's compressed output", have(d.outputBytes, m?.outputBytes) ? d.outputBytes <= m.outputBytes : null, have(d.outputBytes, m?.outputBytes) ? `${int(d.outputBytes)} bytes against ${int(m.outputBytes)}: ${fmt(d.outputBytes / m.outputBytes, 2)} ×` : 'no figure')
    const same = d.checks.filter((c) => c.ok).length
    goal('every restore succeeds, with tables identical to the source (CHECKSUM TABLE and definition)', d.runs ? same === d.runs : null, `${same} of ${d.runs} run${d.runs === 1 ? '' : 's'}`)
  }
  if (failures.length) {
    lines.push('')
    lines.push('Failures:')
    for (const f of failures) lines.push(`- ${f}`)
  }
  return `${lines.join('\n')}\n`
}
