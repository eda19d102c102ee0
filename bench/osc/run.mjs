// An online schema change under a fixed-rate foreground load: native ALTER (blocking),
// pt-online-schema-change and `dbakit schema change`, side by side in the same run, each on a fresh
// copy of the same sysbench-style table, each followed by the ledger check that proves no committed
// write was lost. Prints a Markdown table for docs/benchmarks.md and the command that produced it.
//
// Usage (from the repository root):
//   scripts/services start mariadb
//   (set -a; . "$(scripts/services env)"; scripts/node node bench/osc/run.mjs [options])
//
//   --rows N          rows in sbtest1 (default 1000000, about 240 MB; 200000 for a quick run)
//   --rate R          foreground transactions per second, in total (default 200)
//   --connections N   foreground connections (default 6)
//   --baseline S      seconds of load before each tool starts (default 10)
//   --after S         seconds of load after it ends (default 5)
//   --repeat N        run everything N times, every second time with the tools in reverse order
//                     (default 1)
//   --tools LIST      default native,pt-osc,dbakit
//   --alters LIST     modify (MODIFY k BIGINT NOT NULL) and/or add-column (ADD COLUMN z INT NOT NULL
//                     DEFAULT 0); default modify,add-column
//   --json FILE       also write every figure, per-second throughput and tool output to FILE
//   --url URL         mysql://USER@HOST:PORT (default DBAKIT_TEST_MARIADB_PRIMARY_URL)
//   --replica URL     a replica to wait for before each tool and to read the lag of (default
//                     DBAKIT_TEST_MARIADB_REPLICA_URL; 'none' to skip)
//
// The password comes from DBAKIT_PASSWORD or DBAKIT_TEST_MARIADB_PASSWORD, never from argv: dbakit
// gets it in DBAKIT_PASSWORD, pt-online-schema-change from a temporary 0600 option file (F= in its
// DSN). dbakit is `node $DBAKIT_BIN` (bin/run.js of a dbakit checkout; default this worktree's); when
// it has no `schema change` yet, its rows say so and the peers are still measured.
//
// Everything happens in a database of its own, osc_bench_<pid>, dropped on exit, on an error and on
// SIGINT/SIGTERM. Per tool: a fresh copy of the generated table (osc_k0, which is also the k0
// snapshot for the check), an empty ledger, `--baseline` seconds of load, the tool under the load,
// `--after` seconds more, then the ledger check (see load.mjs and checkLedger in common.mjs).
//
// What dbakit must do: return once the cut-over is done (not leave it to a background job), print
// on stdout (with --json) a JSON object with `id` and `state`, and exit 0 on success. Used when present: `rowsCopied` and `copyMs` (rows/s of the copy; otherwise rows / total
// time), `oldTable` (the original kept for the revert window, which is checked too). The cut-over
// moment is not taken from any tool: a poller sees the table id behind the name change.
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {now, startLoad} from './load.mjs'
import {
  benchDatabase,
  checkLedger,
  columnType,
  commandLine,
  connect,
  copyTable,
  createLedger,
  dbakit,
  dbakitBin,
  describeCheck,
  dropTablesExcept,
  environment,
  errorsText,
  generateSbtest,
  int,
  main,
  masker,
  median,
  ms,
  onCleanup,
  optionFile,
  options,
  probeDbakit,
  root,
  ptOscVersion,
  quote,
  runProcess,
  say,
  serverFromEnv,
  sleep,
  tablesAndTriggers,
  watchTable,
} from './common.mjs'

const usage = `Usage: scripts/node node bench/osc/run.mjs [--rows N] [--rate R] [--connections N] [--baseline S] [--after S] [--repeat N]
         [--tools native,pt-osc,dbakit] [--alters modify,add-column] [--json FILE] [--url URL] [--replica URL|none]
Needs the password in DBAKIT_PASSWORD or DBAKIT_TEST_MARIADB_PASSWORD; see the top of bench/osc/run.mjs.
`
const opts = options(
  {
    rows: {type: 'number', default: 1000000},
    rate: {type: 'number', default: 200},
    connections: {type: 'number', default: 6},
    baseline: {type: 'number', default: 10},
    after: {type: 'number', default: 5},
    repeat: {type: 'number', default: 1},
    tools: {type: 'string', default: 'native,pt-osc,dbakit'},
    alters: {type: 'string', default: 'modify,add-column'},
    json: {type: 'string'},
    url: {type: 'string'},
    replica: {type: 'string'},
  },
  usage,
)
const ALTERS = {
  modify: {sql: 'MODIFY k BIGINT NOT NULL', column: 'k', expect: (type) => /^bigint/i.test(type ?? '')},
  'add-column': {sql: 'ADD COLUMN z INT NOT NULL DEFAULT 0', column: 'z', expect: (type) => /^int/i.test(type ?? '')},
}
const TOOLS = ['native', 'pt-osc', 'dbakit']
const tools = opts.tools.split(',').map((s) => s.trim()).filter(Boolean)
const alters = opts.alters.split(',').map((s) => s.trim()).filter(Boolean)
for (const tool of tools) if (!TOOLS.includes(tool)) (process.stderr.write(`unknown tool ${tool}; known: ${TOOLS.join(', ')}\n`), process.exit(2))
for (const alter of alters) if (!ALTERS[alter]) (process.stderr.write(`unknown alter ${alter}; known: ${Object.keys(ALTERS).join(', ')}\n`), process.exit(2))
if (!(opts.rows >= 1000)) (process.stderr.write('--rows must be at least 1000\n'), process.exit(2))

const server = serverFromEnv(opts.url)
const mask = masker(server)
const TABLE = 'sbtest1'

const replicaUrl = opts.replica ?? process.env.DBAKIT_TEST_MARIADB_REPLICA_URL
const replica = replicaUrl && replicaUrl !== 'none' ? {...serverFromEnv(replicaUrl)} : null

/** Seconds_Behind_Master on the replica (null when unknown), or undefined without a replica. */
async function replicaLag(conn) {
  if (!conn) return undefined
  try {
    const [rows] = await conn.query('SHOW SLAVE STATUS')
    const lag = rows[0]?.Seconds_Behind_Master
    return lag === null || lag === undefined ? null : Number(lag)
  } catch {
    return null
  }
}

async function waitForReplica(conn, maxMs = 600000) {
  if (!conn) return
  const start = now()
  for (;;) {
    const lag = await replicaLag(conn)
    if (lag === 0 || lag === null || now() - start > maxMs) return lag
    await sleep(1000)
  }
}

main(async () => {
  const {name: db, conn} = await benchDatabase(server)
  const env = await environment(conn)
  const ptosc = tools.includes('pt-osc') ? ptOscVersion() : null
  if (tools.includes('pt-osc') && !ptosc) throw new Error('pt-online-schema-change is not installed: apt-get install -y percona-toolkit')
  const dbakitProbe = tools.includes('dbakit') ? await probeDbakit(server) : null
  if (dbakitProbe && !dbakitProbe.available) say(`dbakit: ${dbakitProbe.reason}; its rows are reported as pending`)
  let replicaConn = null
  if (replica) {
    try {
      replicaConn = await connect(replica)
    } catch (error) {
      say(`replica ${replica.url} not reachable (${error.code ?? error.message}): not waiting for it`)
    }
  }
  say(`database ${db}; generating ${opts.rows.toLocaleString('en-US')} rows`)
  let t = now()
  await generateSbtest(conn, 'osc_k0', opts.rows)
  await conn.query('ANALYZE TABLE osc_k0')
  const [[{bytes}]] = await conn.query('SELECT DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, 'osc_k0'])
  say(`generated in ${((now() - t) / 1000).toFixed(1)} s (${Math.round(bytes / 1048576)} MiB)`)
  await createLedger(conn)
  let dbakitStartup = null
  if (dbakitProbe?.available) {
    const runs = []
    for (let i = 0; i < 3; i++) {
      const r = await runProcess(process.execPath, [dbakitBin(), '--version'])
      runs.push(r.end - r.start)
    }
    dbakitStartup = Math.min(...runs)
  }

  const results = []
  for (let run = 1; run <= opts.repeat; run++) {
    for (const alterName of alters) {
      // Every second repetition takes the tools in the reverse order, so none always runs first.
      for (const tool of run % 2 === 1 ? tools : [...tools].reverse()) {
        const entry = {run, alter: alterName, sql: ALTERS[alterName].sql, tool}
        results.push(entry)
        if (tool === 'dbakit' && !dbakitProbe.available) entry.pending = dbakitProbe.reason
        else await measure(entry)
      }
    }
  }

  const report = render(results, env, ptosc, dbakitProbe, dbakitStartup)
  process.stdout.write(report)
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({command: commandLine('bench/osc/run.mjs'), env, ptosc, dbakit: dbakitProbe, options: opts, results}, null, 1))
    say(`wrote ${opts.json}`)
  }
  const failed = results.some((e) => !e.pending && (!e.ok || !e.checkOk || !e.changed))
  return failed ? 1 : 0

  /** One tool and one ALTER on a fresh table under the load; fills entry with the figures. */
  async function measure(entry) {
    const {tool, run} = entry
    const alter = ALTERS[entry.alter]
    say(`${tool}: ${alter.sql}${opts.repeat > 1 ? ` (run ${run} of ${opts.repeat})` : ''}: fresh table`)
    await dropTablesExcept(conn, db, ['osc_k0', 'osc_ledger'])
    await conn.query('TRUNCATE TABLE osc_ledger')
    const t = now()
    await copyTable(conn, 'osc_k0', TABLE)
    entry.prepareSeconds = (now() - t) / 1000
    const lagBefore = await waitForReplica(replicaConn)
    if (lagBefore) say(`replica still ${lagBefore} s behind; going on`)
    await sleep(1000)

    const load = await startLoad({server, connect: () => connect(server, db), database: db, table: TABLE, rate: opts.rate, connections: opts.connections, idMax: opts.rows})
    const unregisterLoad = onCleanup(() => load.destroy())
    load.phase('baseline')
    say(`${tool}: ${opts.baseline} s baseline at ${opts.rate} tx/s`)
    await sleep(opts.baseline * 1000)
    const watcher = await watchTable(server, db, TABLE)
    let lagMax = null
    let watchingLag = true
    const lagLoop = (async () => {
      while (watchingLag && replicaConn) {
        const lag = await replicaLag(replicaConn)
        if (lag !== null && lag !== undefined) lagMax = Math.max(lagMax ?? 0, lag)
        await sleep(1000)
      }
    })()
    load.phase('tool')
    say(`${tool}: running`)
    const start = now()
    const outcome = await runTool(tool, alter, db).catch((error) => ({ok: false, note: mask(error.message)}))
    const end = now()
    load.phase('after')
    say(`${tool}: ${outcome.ok ? 'done' : 'FAILED'} in ${((end - start) / 1000).toFixed(2)} s; ${opts.after} s more load`)
    await sleep(opts.after * 1000)
    const totals = await load.stop()
    unregisterLoad()
    await watcher.stop()
    if (watcher.error) entry.watcherNote = `the table watcher stopped early: ${mask(watcher.error.message)}`
    watchingLag = false
    await lagLoop

    Object.assign(entry, outcome)
    entry.totalSeconds = (end - start) / 1000
    entry.baseline = load.stats('baseline')
    entry.during = load.stats('tool')
    entry.afterPhase = load.stats('after')
    entry.totals = totals
    entry.minTps = load.minPerSecond(start, end)
    entry.perSecond = load.perSecond()
    entry.errorsByPhase = load.errorsByPhase()
    // Each failed transaction, in seconds from the tool's start (for the JSON file).
    entry.failures = load.records
      .filter((r) => r.code)
      .slice(0, 1000)
      .map((r) => ({kind: r.kind, scheduled: (r.sched - start) / 1000, failed: (r.end - start) / 1000, code: r.code, message: r.message}))
    entry.replicaLagMax = lagMax
    entry.flips = watcher.swaps().filter((f) => f.at >= start && f.before <= end + 2000)
    entry.cutovers = entry.flips.map((f) => ({
      atSeconds: (f.at - start) / 1000,
      precisionMs: f.at - f.before,
      stall: load.maxOverlapping(f.before - 500, f.at + 500).max,
      atSwap: load.maxOverlapping(f.before, f.at).max,
    }))
    if (outcome.copyWindow) {
      // Which of the errors came while pt-online-schema-change copied, by the time each failed.
      const [from, to] = outcome.copyWindow
      entry.copyErrors = {}
      for (const r of load.records) if (r.code && r.end >= from && r.end <= to) entry.copyErrors[r.code] = (entry.copyErrors[r.code] ?? 0) + 1
    }
    entry.stall = entry.cutovers.length ? Math.max(...entry.cutovers.map((c) => c.stall ?? 0)) : null
    entry.columnType = await columnType(conn, db, TABLE, alter.column)
    entry.changed = alter.expect(entry.columnType)
    const checked = [TABLE]
    if (outcome.oldTable && (await tablesAndTriggers(conn, db)).tables.includes(outcome.oldTable)) checked.push(outcome.oldTable)
    const checkStart = now()
    entry.check = await checkLedger(conn, checked)
    entry.checkSeconds = (now() - checkStart) / 1000
    entry.checkOk = entry.check.every((r) => r.ok) && entry.check[0].ledgerRows === totals.committed
    if (entry.check[0].ledgerRows !== totals.committed) entry.ledgerNote = `${totals.committed} commits acknowledged, ${entry.check[0].ledgerRows} ledger rows`
    if (tool === 'dbakit' && outcome.id !== undefined && outcome.id !== null) {
      const cleanup = await dbakit(server, ['schema', 'cleanup', String(outcome.id), '--url', server.url, '--yes'], {timeoutMs: 600000})
      if (cleanup.code !== 0) entry.cleanupNote = `cleanup exit ${cleanup.code}: ${mask(cleanup.stderr.trim().split('\n')[0] ?? '')}`
    }
    entry.leftovers = await tablesAndTriggers(conn, db)
    say(`${tool}: baseline p99 ${ms(entry.baseline.p99)} ms; during p99 ${ms(entry.during.p99)} max ${ms(entry.during.max)} ms; errors ${errorsText(entry.during.errors)}; stall ${ms(entry.stall)} ms; ledger ${entry.check.map(describeCheck).join('; ')} (checked in ${entry.checkSeconds.toFixed(1)} s)`)
  }

  async function runTool(tool, alter, database) {
    if (tool === 'native') return native(alter, database)
    if (tool === 'pt-osc') return ptOnlineSchemaChange(alter, database)
    return dbakitChange(alter, database)
  }
}, (text) => masker(server)(text))

async function native(alter, database) {
  const c = await connect(server, database)
  try {
    const [result] = await c.query(`ALTER TABLE ${quote(TABLE)} ${alter.sql}`)
    // The server reports the rows it copied; 0 means it changed only metadata (INSTANT/NOCOPY).
    return {ok: true, rowsCopied: result.affectedRows, copied: result.affectedRows > 0}
  } finally {
    await c.end()
  }
}

async function ptOnlineSchemaChange(alter, database) {
  const defaults = optionFile(server)
  const dsn = `F=${defaults.file},h=${server.host},P=${server.port},u=${server.user},D=${database},t=${TABLE}`
  const args = [
    '--alter', alter.sql,
    '--chunk-time', '0.5',
    '--max-load', 'Threads_running=25',
    '--critical-load', 'Threads_running=50',
    '--recursion-method=none',
    '--no-version-check',
    '--execute',
    dsn,
  ]
  const r = await runProcess('pt-online-schema-change', args, {timeoutMs: 4 * 3600000}).finally(defaults.remove)
  const at = (pattern) => r.lines.find((l) => pattern.test(l.line))?.at ?? null
  const copyStart = at(/Copying approximately \d+ rows/)
  const copyEnd = at(/Copied rows OK/)
  const swapStart = at(/Swapping tables/)
  const swapEnd = at(/Swapped original and new tables OK/)
  const triggersStart = at(/Creating triggers/)
  const triggersEnd = at(/Created triggers OK/)
  const out = {
    ok: r.code === 0 && /Successfully altered/.test(r.stdout),
    exit: r.code,
    rowsCopied: Number(r.stdout.match(/Copying approximately (\d+) rows/)?.[1] ?? NaN) || null,
    copyMs: copyStart && copyEnd ? copyEnd - copyStart : null,
    copyWindow: copyStart && copyEnd ? [copyStart, copyEnd] : null,
    phases: {
      triggersMs: triggersStart && triggersEnd ? triggersEnd - triggersStart : null,
      copyMs: copyStart && copyEnd ? copyEnd - copyStart : null,
      swapMs: swapStart && swapEnd ? swapEnd - swapStart : null,
    },
    lines: r.lines.filter((l) => !/^Copying `.*%/.test(l.line)).map((l) => ({seconds: (l.at - r.start) / 1000, line: mask(l.line)})),
    output: mask(r.stdout + r.stderr).split('\n').filter((l) => !/^Copying `.*%/.test(l)).join('\n'),
  }
  out.copied = true
  if (!out.ok) out.note = `pt-online-schema-change exit ${r.code}: ${mask(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`
  return out
}

async function dbakitChange(alter, database) {
  const r = await dbakit(server, ['schema', 'change', '--url', server.url, '--table', `${database}.${TABLE}`, '--alter', alter.sql, '--yes', '--json'], {timeoutMs: 4 * 3600000})
  const json = r.json ?? {}
  const out = {
    ok: r.code === 0 && r.json !== null && json.id !== undefined && json.state !== undefined,
    exit: r.code,
    id: json.id,
    state: json.state,
    rowsCopied: typeof json.rowsCopied === 'number' ? json.rowsCopied : null,
    copyMs: typeof json.copyMs === 'number' ? json.copyMs : null,
    oldTable: typeof json.oldTable === 'string' ? json.oldTable : null,
    json: r.json,
    output: mask(r.stderr),
  }
  out.copied = out.rowsCopied === null ? null : out.rowsCopied > 0
  if (r.missingCommand) out.note = `\`dbakit schema change\` does not exist in ${dbakitBin()} (exit 2)`
  else if (!out.ok) out.note = `dbakit exit ${r.code}${r.json ? '' : ', no JSON on stdout'}${json.id === undefined && r.json ? ', no id' : ''}: ${mask(r.stderr).trim().split('\n').slice(-3).join(' / ')}`
  return out
}

const TOOL_NAMES = {native: 'native ALTER', 'pt-osc': 'pt-online-schema-change', dbakit: 'dbakit schema change'}

/** The figures of one run, as numbers (null when there is none). */
function figures(e) {
  let rate = null
  let approx = false
  if (e.copied === false) rate = 'no copy'
  else if (e.copyMs) rate = (e.tool === 'dbakit' && e.rowsCopied ? e.rowsCopied : opts.rows) / (e.copyMs / 1000)
  else if (e.ok) {
    rate = opts.rows / e.totalSeconds
    approx = e.tool === 'dbakit'
  }
  return {
    total: e.ok ? e.totalSeconds : null,
    rate,
    approx,
    minTps: e.minTps,
    baseline: e.baseline.p99,
    p99: e.during.p99,
    max: e.during.max,
    stall: e.stall,
    errors: e.during.errors,
    checkOk: e.checkOk,
    failures: e.checkOk ? [] : e.check.filter((r) => !r.ok).map(describeCheck).concat(e.ledgerNote ? [e.ledgerNote] : []),
  }
}

const seconds = (v) => v.toFixed(v < 10 ? 2 : 1)
/** One value, or the median (lowest–highest) of several. */
function spread(values, format) {
  const numbers = values.filter((v) => typeof v === 'number')
  if (numbers.length === 0) return values.find((v) => typeof v === 'string') ?? '—'
  if (numbers.length === 1) return format(numbers[0])
  const sorted = [...numbers].sort((x, y) => x - y)
  return `${format(median(sorted))} (${format(sorted[0])}–${format(sorted.at(-1))})`
}
function sumErrors(list) {
  const out = {}
  for (const errors of list) for (const [code, n] of Object.entries(errors)) out[code] = (out[code] ?? 0) + n
  return out
}
function checkText(runs) {
  const ok = runs.filter((f) => f.checkOk).length
  if (ok === runs.length) return runs.length > 1 ? `ok (${ok} of ${runs.length})` : 'ok'
  return `**${runs.flatMap((f) => f.failures).join('; ')}** (${ok} of ${runs.length} ok)`
}

function render(results, env, ptosc, dbakitProbe, dbakitStartup) {
  const lines = []
  const rows = opts.rows.toLocaleString('en-US')
  const several = opts.repeat > 1
  lines.push(`Command: \`scripts/services start mariadb && (set -a; . "$(scripts/services env)"; ${commandLine('bench/osc/run.mjs')})\``)
  lines.push('')
  lines.push(
    `Node ${env.node}, ${env.cpus} × ${env.cpu}, load average ${env.loadavg} at the start; MariaDB ${env.mariadb} (binlog ${env.binlog}, ${env.isolation}, buffer pool ${env.bufferPoolMiB} MiB, with a replica), ` +
      `${ptosc ?? 'no pt-online-schema-change'}; dbakit ${dbakitProbe ? (dbakitProbe.available ? dbakitProbe.bin.replace(`${root}/`, '') : 'without `schema change`') : 'not run'}. ` +
      `sbtest1 with ${rows} rows; foreground ${opts.rate} tx/s on ${opts.connections} connections, open loop, ${opts.baseline} s baseline, ${opts.after} s after` +
      (several ? `; ${opts.repeat} runs of each, every second run in reverse tool order. Figures are the median (lowest–highest) of the runs; errors are summed over them.` : '.'),
  )
  lines.push('')
  const header = '| ALTER | tool | total (s) | rows/s copied | lowest tx/s in 1 s | baseline p99 (ms) | p99 during (ms) | max during (ms) | cut-over stall (ms) | foreground errors | ledger check |'
  lines.push(header, '|---|---|---|---|---|---|---|---|---|---|---|')
  for (const alter of alters) {
    for (const tool of tools) {
      const group = results.filter((e) => e.alter === alter && e.tool === tool)
      const label = `| \`${ALTERS[alter].sql}\` | ${TOOL_NAMES[tool]} |`
      if (group.some((e) => e.pending)) {
        lines.push(`${label} pending: \`schema change\` has not landed | | | | | | | | |`)
        continue
      }
      const f = group.map(figures)
      const failed = f.filter((x) => x.total === null).length
      const rate = spread(f.map((x) => x.rate), int) + (f.some((x) => x.approx) ? ' (rows / total)' : '')
      const total = spread(f.map((x) => x.total), seconds) + (failed ? ` (${failed} failed)` : '')
      lines.push(
        `${label} ${total} | ${rate} | ${spread(f.map((x) => x.minTps), int)} | ${spread(f.map((x) => x.baseline), ms)} | ${spread(f.map((x) => x.p99), ms)} | ` +
          `${spread(f.map((x) => x.max), ms)} | ${spread(f.map((x) => x.stall), ms)} | ${errorsText(sumErrors(f.map((x) => x.errors)))} | ${checkText(f)} |`,
      )
    }
  }
  if (several) {
    lines.push('', 'Each run:', '', header.replace('| ALTER |', '| run | ALTER |'), '|---|---|---|---|---|---|---|---|---|---|---|---|')
    for (const e of results) {
      if (e.pending) continue
      const f = figures(e)
      lines.push(
        `| ${e.run} | \`${e.sql}\` | ${TOOL_NAMES[e.tool]} | ${f.total === null ? `failed after ${seconds(e.totalSeconds)}` : seconds(f.total)} | ${typeof f.rate === 'number' ? int(f.rate) : (f.rate ?? '—')} | ` +
          `${int(f.minTps)} | ${ms(f.baseline)} | ${ms(f.p99)} | ${ms(f.max)} | ${ms(f.stall)} | ${errorsText(f.errors)} | ${checkText([f])} |`,
      )
    }
  }
  lines.push('')
  lines.push('Notes, per run:')
  if (results.some((e) => e.pending)) lines.push(`- dbakit: ${results.find((e) => e.pending).pending}; its rows are pending.`)
  for (const e of results) {
    const name = `${e.tool} / ${e.alter}${opts.repeat > 1 ? ` / run ${e.run}` : ''}`
    if (e.pending) continue
    const parts = []
    if (e.note) parts.push(e.note)
    if (!e.changed) parts.push(`column ${ALTERS[e.alter].column} is \`${e.columnType}\` afterwards: the change did not happen`)
    if (e.tool === 'pt-osc' && e.phases) parts.push(`triggers ${ms(e.phases.triggersMs)} ms, copy ${ms(e.phases.copyMs)} ms (${int(e.rowsCopied)} rows estimated), swap ${ms(e.phases.swapMs)} ms`)
    if (e.tool === 'native') parts.push(e.copied ? `copied ${int(e.rowsCopied)} rows` : 'metadata only (0 rows copied)')
    if (e.tool === 'dbakit') {
      parts.push(`id ${e.id}, state ${e.state}`)
      if (dbakitStartup !== null) parts.push(`total includes Node start-up (\`dbakit --version\` takes ${ms(dbakitStartup)} ms)`)
    }
    parts.push(
      e.cutovers.length
        ? `table swapped ${e.cutovers.map((c) => `at ${c.atSeconds.toFixed(2)} s (seen within ${ms(c.precisionMs)} ms; longest transaction in flight at that moment ${ms(c.atSwap)} ms)`).join(', ')}`
        : 'no table swap seen (the same InnoDB table throughout)',
    )
    parts.push(`${int(e.totals.committed)} transactions committed, backlog at most ${int(e.totals.backlogMax)}`)
    if (Object.keys(e.totals.errors).length) {
      const where = Object.entries(e.errorsByPhase).map(([phase, errors]) => `${errorsText(errors)} in ${phase === 'tool' ? 'the tool\'s run' : phase}`).join(', ')
      const copy = e.copyErrors ? `; of them ${errorsText(e.copyErrors)} failed while the rows were being copied` : ''
      parts.push(`errors: ${where}${copy} (${Object.entries(e.totals.messages).map(([code, m]) => `${code}: ${m}`).join('; ')})`)
    }
    if (e.replicaLagMax !== null && e.replicaLagMax !== undefined) parts.push(`replica lag at most ${e.replicaLagMax} s`)
    if (e.cleanupNote) parts.push(e.cleanupNote)
    if (e.watcherNote) parts.push(e.watcherNote)
    const leftovers = e.leftovers.tables.filter((name) => !['osc_k0', 'osc_ledger', TABLE].includes(name))
    if (leftovers.length || e.leftovers.triggers.length) parts.push(`left behind: ${[...leftovers, ...e.leftovers.triggers].join(', ')}`)
    lines.push(`- ${name}: ${parts.join('; ')}.`)
  }
  lines.push('')
  lines.push(
    'Latency is from the scheduled start to COMMIT acknowledged, so time queued behind a stall counts. "During" covers the transactions scheduled while the tool ran; ' +
      '"lowest tx/s in 1 s" is the fewest commits in any one-second window overlapping the run (windows every 100 ms); ' +
      '"cut-over stall" is the longest transaction in flight within 0.5 s either side of the moment the table under the name changed (InnoDB table id, polled every 10 ms). ' +
      'The ledger check compares every row with the k0 snapshot plus the committed transactions recorded in the ledger.',
  )
  return `${lines.join('\n')}\n`
}
