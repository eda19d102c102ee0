// The correctness proof for `dbakit schema change` and `dbakit schema rollback`: K cycles of
//   start the load; dbakit schema change (MODIFY k BIGINT NOT NULL, --revert-window); load through
//   the revert window; ledger check on the new table (and the original kept for the revert);
//   dbakit schema rollback; ledger check on the restored table; dbakit schema cleanup; stop the
//   load; ledger check again with the load stopped
// on one table, so the invariant is cumulative over the cycles. Exits 1 with the details when a
// committed write is missing (or doubled, or a deleted row is back), when any foreground
// transaction failed, when a dbakit command failed or left tables or triggers behind; exits 2 when
// this dbakit has no `schema change`. Prints a summary table and one line per cycle.
//
// Usage (from the repository root):
//   scripts/services start mariadb
//   (set -a; . "$(scripts/services env)"; scripts/node node bench/osc/ledger.mjs [options])
//
//   --cycles K         default 20
//   --rows N           rows in sbtest1 (default 200000)
//   --rate R           foreground transactions per second, in total (default 200)
//   --connections N    foreground connections (default 6)
//   --revert-window W  passed to schema change (default 10m)
//   --baseline S       seconds of load before each change (default 2)
//   --window S         seconds of load between the change and the check/rollback (default 3)
//   --settle S         seconds of load between the rollback and its check (default 1.5)
//   --json FILE        also write every figure to FILE
//   --url URL          mysql://USER@HOST:PORT (default DBAKIT_TEST_MARIADB_PRIMARY_URL)
//
// The password comes from DBAKIT_PASSWORD or DBAKIT_TEST_MARIADB_PASSWORD and reaches dbakit in
// DBAKIT_PASSWORD only. dbakit is `node $DBAKIT_BIN` (default this worktree's bin/run.js). The work
// happens in a database of its own, osc_bench_<pid>, dropped on exit and on SIGINT/SIGTERM.
//
// What dbakit must print: `schema change ... --yes --json`, once the cut-over is done, a JSON object
// with `id` (passed to rollback and cleanup) and `state`, exit 0; `schema rollback ID --yes --json` exit 0; `schema
// cleanup ID --yes` exit 0. `oldTable` in the change's JSON names the original kept for the revert
// window (otherwise `_<table>_old` is checked when it exists).
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
  describeCheck,
  environment,
  errorsText,
  generateSbtest,
  int,
  main,
  masker,
  median,
  ms,
  onCleanup,
  options,
  probeDbakit,
  say,
  serverFromEnv,
  sleep,
  tablesAndTriggers,
  watchTable,
} from './common.mjs'

const usage = `Usage: scripts/node node bench/osc/ledger.mjs [--cycles K] [--rows N] [--rate R] [--connections N] [--revert-window W]
         [--baseline S] [--window S] [--settle S] [--json FILE] [--url URL]
Needs the password in DBAKIT_PASSWORD or DBAKIT_TEST_MARIADB_PASSWORD; see the top of bench/osc/ledger.mjs.
`
const opts = options(
  {
    cycles: {type: 'number', default: 20},
    rows: {type: 'number', default: 200000},
    rate: {type: 'number', default: 200},
    connections: {type: 'number', default: 6},
    'revert-window': {type: 'string', default: '10m'},
    baseline: {type: 'number', default: 2},
    window: {type: 'number', default: 3},
    settle: {type: 'number', default: 1.5},
    json: {type: 'string'},
    url: {type: 'string'},
  },
  usage,
)
if (!(opts.rows >= 1000)) (process.stderr.write('--rows must be at least 1000\n'), process.exit(2))
if (!(opts.cycles >= 1)) (process.stderr.write('--cycles must be at least 1\n'), process.exit(2))

const server = serverFromEnv(opts.url)
const mask = masker(server)
const TABLE = 'sbtest1'
const ALTER = 'MODIFY k BIGINT NOT NULL'
// The error lines of a failed command (the last three lines when none says error).
const firstLine = (text) => {
  const lines = mask(text).trim().split('\n').map((l) => l.trim()).filter(Boolean)
  const errors = lines.filter((l) => /error/i.test(l))
  return (errors.length ? errors.slice(0, 3) : lines.slice(-3)).join(' / ')
}

main(async () => {
  const probe = await probeDbakit(server)
  if (!probe.available) {
    process.stderr.write(`${probe.reason}\nNothing to prove yet: the ledger test needs \`dbakit schema change\` and \`dbakit schema rollback\`.\n`)
    return 2
  }
  const {name: db, conn} = await benchDatabase(server)
  const env = await environment(conn)
  say(`database ${db}; generating ${opts.rows.toLocaleString('en-US')} rows`)
  await generateSbtest(conn, 'osc_k0', opts.rows)
  await copyTable(conn, 'osc_k0', TABLE)
  await createLedger(conn)
  const originalType = await columnType(conn, db, TABLE, 'k')
  const cycles = []
  let committedTotal = 0
  let stop = false

  for (let n = 1; n <= opts.cycles && !stop; n++) {
    const cycle = {n, problems: [], checks: []}
    cycles.push(cycle)
    const load = await startLoad({server, connect: () => connect(server, db), database: db, table: TABLE, rate: opts.rate, connections: opts.connections, idMax: opts.rows})
    const unregisterLoad = onCleanup(() => load.destroy())
    const watcher = await watchTable(server, db, TABLE)
    const fail = (text) => {
      cycle.problems.push(text)
      say(`cycle ${n}: ${text}`)
    }
    const check = async (label, tables) => {
      const results = await checkLedger(conn, tables)
      for (const r of results) {
        cycle.checks.push({label, ...r})
        if (!r.ok) fail(`${label}: ${describeCheck(r)}`)
      }
    }
    const body = async () => {
        load.phase('baseline')
        await sleep(opts.baseline * 1000)

        load.phase('change')
        const changeStart = now()
        const change = await dbakit(server, ['schema', 'change', '--url', server.url, '--table', `${db}.${TABLE}`, '--alter', ALTER, '--yes', '--json', '--revert-window', opts['revert-window']], {timeoutMs: 600000})
        const changeEnd = now()
        cycle.changeSeconds = (changeEnd - changeStart) / 1000
        cycle.id = change.json?.id
        cycle.state = change.json?.state
        if (change.code !== 0 || cycle.id === undefined || cycle.id === null) {
          fail(`schema change exit ${change.code}${change.json ? '' : ', no JSON on stdout'}${change.json && cycle.id === undefined ? ', no id' : ''}: ${firstLine(change.stderr || change.stdout)}`)
          stop = true
          return
        }

        load.phase('window')
        await sleep(opts.window * 1000)
        const newType = await columnType(conn, db, TABLE, 'k')
        if (!/^bigint/i.test(newType ?? '')) fail(`after the change, k is ${newType}, not bigint`)
        const {tables} = await tablesAndTriggers(conn, db)
        const oldTable = typeof change.json.oldTable === 'string' ? change.json.oldTable : `_${TABLE}_old`
        const checked = [TABLE, ...(tables.includes(oldTable) ? [oldTable] : [])]
        cycle.oldTableChecked = checked.length > 1 ? oldTable : null
        await check('after change', checked)

        load.phase('rollback')
        const rollbackStart = now()
        const rollback = await dbakit(server, ['schema', 'rollback', String(cycle.id), '--url', server.url, '--yes', '--json'], {timeoutMs: 600000})
        const rollbackEnd = now()
        cycle.rollbackSeconds = (rollbackEnd - rollbackStart) / 1000
        if (rollback.code !== 0) {
          fail(`schema rollback ${cycle.id} exit ${rollback.code}: ${firstLine(rollback.stderr || rollback.stdout)}`)
          stop = true
        }

        load.phase('settle')
        await sleep(opts.settle * 1000)
        const restoredType = await columnType(conn, db, TABLE, 'k')
        if (!stop && restoredType !== originalType) fail(`after the rollback, k is ${restoredType}, not ${originalType}`)
        await check('after rollback', [TABLE])

        load.phase('cleanup')
        const cleanupStart = now()
        const cleanup = await dbakit(server, ['schema', 'cleanup', String(cycle.id), '--url', server.url, '--yes'], {timeoutMs: 600000})
        cycle.cleanupSeconds = (now() - cleanupStart) / 1000
        if (cleanup.code !== 0) fail(`schema cleanup ${cycle.id} exit ${cleanup.code}: ${firstLine(cleanup.stderr || cleanup.stdout)}`)
        load.phase('after')
        await sleep(500)

        const swaps = watcher.swaps()
        const stallIn = (from, to) => {
          const inside = swaps.filter((s) => s.at >= from && s.before <= to)
          if (inside.length === 0) return null
          return Math.max(...inside.map((s) => load.maxOverlapping(s.before - 500, s.at + 500).max ?? 0))
        }
        cycle.swaps = swaps.length
        cycle.cutoverStall = stallIn(changeStart, changeEnd)
        cycle.rollbackStall = stallIn(rollbackStart, rollbackEnd)
        if (cycle.cutoverStall === null) fail('no table swap seen during schema change')
        if (cycle.rollbackStall === null && !stop) fail('no table swap seen during schema rollback')
    }
    try {
      await body()
    } finally {
      const totals = await load.stop()
      unregisterLoad()
      await watcher.stop()
      if (watcher.error) fail(`the table watcher stopped: ${mask(watcher.error.message)}`)
      committedTotal += totals.committed
      cycle.totals = totals
      cycle.baseline = load.stats('baseline')
      cycle.errorsByPhase = load.errorsByPhase()
      if (totals.failed > 0) {
        const where = Object.entries(cycle.errorsByPhase).map(([phase, errors]) => `${errorsText(errors)} during ${phase}`).join(', ')
        fail(`${totals.failed} foreground transactions failed: ${where} (${Object.entries(totals.messages).map(([code, m]) => `${code}: ${m}`).join('; ')})`)
      }
    }
    const left = await tablesAndTriggers(conn, db)
    const extra = left.tables.filter((name) => !['osc_k0', 'osc_ledger', TABLE].includes(name))
    if (extra.length || left.triggers.length) fail(`left behind after cleanup: ${[...extra, ...left.triggers].join(', ')}`)
    await check('load stopped', [TABLE])
    const ledgerRows = cycle.checks.at(-1)?.ledgerRows
    if (ledgerRows !== committedTotal) fail(`${committedTotal} commits acknowledged in all, ${ledgerRows} ledger rows`)
    if (cycle.checks.some((c) => !c.ok)) stop = true
    say(
      `cycle ${n}: change ${cycle.changeSeconds?.toFixed(2)} s, cut-over stall ${ms(cycle.cutoverStall)} ms, rollback ${cycle.rollbackSeconds?.toFixed(2)} s, stall ${ms(cycle.rollbackStall)} ms; ` +
        `${int(cycle.totals.committed)} tx, errors ${errorsText(cycle.totals.errors)}; ${cycle.problems.length ? 'PROBLEMS' : 'clean'}`,
    )
  }

  const report = render(cycles, env, probe)
  process.stdout.write(report)
  if (opts.json) writeFileSync(opts.json, JSON.stringify({command: commandLine('bench/osc/ledger.mjs'), env, options: opts, cycles}, null, 1))
  const problems = cycles.flatMap((c) => c.problems.map((p) => `cycle ${c.n}: ${p}`))
  if (problems.length) {
    process.stderr.write(`\nFAILED (${problems.length} problems):\n${problems.map((p) => `  ${p}`).join('\n')}\n`)
    return 1
  }
  return 0
}, (text) => masker(server)(text))

function render(cycles, env, probe) {
  const sum = (key) => cycles.reduce((total, c) => total + c.checks.reduce((s, r) => Math.max(s, r[key] ?? 0), 0), 0)
  const errors = {}
  for (const c of cycles) for (const [code, count] of Object.entries(c.totals?.errors ?? {})) errors[code] = (errors[code] ?? 0) + count
  const transactions = cycles.reduce((t, c) => t + (c.totals?.committed ?? 0) + (c.totals?.failed ?? 0), 0)
  const stalls = cycles.map((c) => c.cutoverStall).filter((v) => v !== null && v !== undefined)
  const rollbacks = cycles.map((c) => c.rollbackStall).filter((v) => v !== null && v !== undefined)
  const baselines = cycles.map((c) => c.baseline?.p99).filter((v) => v !== null && v !== undefined)
  const lines = [
    `Command: \`scripts/services start mariadb && (set -a; . "$(scripts/services env)"; ${commandLine('bench/osc/ledger.mjs')})\``,
    '',
    `Node ${env.node}, ${env.cpus} × ${env.cpu}, load average ${env.loadavg} at the start; MariaDB ${env.mariadb} (binlog ${env.binlog}, ${env.isolation}); dbakit ${probe.bin.replace(`${process.cwd()}/`, '')}. ` +
      `sbtest1 with ${opts.rows.toLocaleString('en-US')} rows; \`${ALTER}\` with --revert-window ${opts['revert-window']}, then rollback; foreground ${opts.rate} tx/s on ${opts.connections} connections, open loop.`,
    '',
    '| cycles | transactions | foreground errors | missing rows | lost updates | doubled updates | deleted rows back / unexplained rows | cut-over stall max (median), ms | rollback stall max (median), ms | baseline p99 (ms) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| ${cycles.length} of ${opts.cycles} | ${int(transactions)} | ${errorsText(errors)} | ${sum('missing')} | ${sum('lostUpdates')} | ${sum('extraUpdates')} | ${sum('resurrected')} / ${sum('phantom')} | ` +
      `${stalls.length ? `${ms(Math.max(...stalls))} (${ms(median(stalls))})` : '—'} | ${rollbacks.length ? `${ms(Math.max(...rollbacks))} (${ms(median(rollbacks))})` : '—'} | ${baselines.length ? `${ms(median(baselines))} (median)` : '—'} |`,
    '',
    '| cycle | change (s) | cut-over stall (ms) | rollback (s) | rollback stall (ms) | cleanup (s) | transactions | errors | checks |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const c of cycles) {
    const checks = c.checks.length ? (c.checks.every((r) => r.ok) ? `${c.checks.length} ok${c.oldTableChecked ? ` (with ${c.oldTableChecked})` : ''}` : c.checks.filter((r) => !r.ok).map((r) => `${r.label}: ${describeCheck(r)}`).join('; ')) : '—'
    const secs = (v) => (v === undefined ? '—' : v.toFixed(2))
    lines.push(`| ${c.n} | ${secs(c.changeSeconds)} | ${ms(c.cutoverStall)} | ${secs(c.rollbackSeconds)} | ${ms(c.rollbackStall)} | ${secs(c.cleanupSeconds)} | ${int((c.totals?.committed ?? 0) + (c.totals?.failed ?? 0))} | ${errorsText(c.totals?.errors)} | ${checks} |`)
  }
  lines.push('')
  lines.push('A stall is the longest foreground transaction (scheduled start to COMMIT) in flight within 0.5 s either side of the table swap, which a poller of the InnoDB table id sees within about 10 ms.')
  return `${lines.join('\n')}\n`
}
