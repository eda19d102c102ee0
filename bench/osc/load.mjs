// A fixed-rate (open-loop) foreground load on one table, with a ledger that proves which writes
// committed. Used by bench/osc/run.mjs and bench/osc/ledger.mjs; not a command of its own.
//
//   import {startLoad} from './load.mjs'
//   const load = await startLoad({server, database, table: 'sbtest1', rate: 200, connections: 6, idMax: 200000})
//   load.phase('baseline'); ...; load.phase('tool'); ...
//   const summary = await load.stop()        // waits for every scheduled transaction to finish
//   load.stats('tool')                       // {scheduled, committed, failed, errors, p50, p99, max, tps}
//   load.maxOverlapping(from, to)            // longest transaction in flight during [from, to] (epoch ms)
//   load.perSecond()                         // commits and failures per wall-clock second
//
// Transactions are scheduled at fixed times, R per second in total, whatever the server does; N
// connections take them in order from one queue, so when the server stalls the queue grows and the
// wait counts. Latency is scheduled start to COMMIT acknowledged. Each transaction, in REPEATABLE
// READ, is one of:
//   update (the rest):  UPDATE t SET k=k+1 WHERE id=?  on a random id in [idMin, idMax], which must
//                       match exactly one row, then INSERT INTO osc_ledger (seq, id, op) VALUES (?, ?, 'upd')
//   insert (insertShare): INSERT INTO t (id, k, c, pad) VALUES (?, 0, 'ins-<id>', 'ledger') of a new id
//                       above every id in t and the ledger, plus a ledger row 'ins'
//   delete (deleteShare): DELETE of one id this load inserted and saw commit (must match one row),
//                       plus a ledger row 'del'; an update when there is none yet
// Nothing is retried: any error, and an UPDATE or DELETE that matches no row, rolls the transaction
// back and is counted under its MySQL error code (or the client's code, or 'no-row'). Because the
// ledger row is in the same transaction as the write, the ledger holds exactly the committed writes,
// whatever happened to the failed ones. Half the connections (preparedShare) use server-side
// prepared statements, the others the text protocol.
import {performance} from 'node:perf_hooks'
import mysql from 'mysql2/promise'

export const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

class Queue {
  items = []
  head = 0
  waiters = []
  closed = false
  maxLength = 0
  push(item) {
    const waiter = this.waiters.shift()
    if (waiter) return waiter(item)
    this.items.push(item)
    this.maxLength = Math.max(this.maxLength, this.items.length - this.head)
  }
  take() {
    if (this.head < this.items.length) {
      const item = this.items[this.head]
      this.items[this.head++] = undefined
      if (this.head > 4096 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head)
        this.head = 0
      }
      return Promise.resolve(item)
    }
    if (this.closed) return Promise.resolve(null)
    return new Promise((resolve) => this.waiters.push(resolve))
  }
  get length() {
    return this.items.length - this.head
  }
  close() {
    this.closed = true
    for (const waiter of this.waiters.splice(0)) waiter(null)
  }
}

const quote = (name) => '`' + String(name).replaceAll('`', '``') + '`'

function errorCode(error) {
  if (error.noRow) return 'no-row'
  if (typeof error.errno === 'number' && error.errno > 0 && error.sqlState) return String(error.errno)
  return String(error.code ?? error.errno ?? 'unknown')
}

/**
 * Starts the load and returns its handle. server: {host, port, user, password}, or connect: a
 * function returning a new mysql2/promise connection to the database. The ledger table
 * (default osc_ledger, created by the caller) has columns seq BIGINT PRIMARY KEY, id INT, op CHAR(3).
 */
export async function startLoad(options) {
  const {
    server,
    database,
    table = 'sbtest1',
    ledger = 'osc_ledger',
    rate = 200,
    connections = 6,
    idMin = 1,
    idMax,
    insertShare = 0.05,
    deleteShare = 0.05,
    preparedShare = 0.5,
  } = options
  if (!(idMax >= idMin)) throw new Error('startLoad needs idMax, the highest id the updates may pick')
  const connect =
    options.connect ??
    (() => mysql.createConnection({host: server.host, port: server.port, user: server.user, password: server.password, database, connectTimeout: 10000}))
  const first = await connect()
  const [[{seq0, id0}]] = await first.query(
    `SELECT (SELECT COALESCE(MAX(seq), 0) FROM ${quote(ledger)}) AS seq0,
            GREATEST((SELECT COALESCE(MAX(id), 0) FROM ${quote(table)}), (SELECT COALESCE(MAX(id), 0) FROM ${quote(ledger)})) AS id0`,
  )
  let nextSeq = Number(seq0)
  let nextNewId = Number(id0)
  const deletable = []

  const sql = {
    update: `UPDATE ${quote(table)} SET k = k + 1 WHERE id = ?`,
    insert: `INSERT INTO ${quote(table)} (id, k, c, pad) VALUES (?, 0, ?, 'ledger')`,
    delete: `DELETE FROM ${quote(table)} WHERE id = ?`,
    ledger: `INSERT INTO ${quote(ledger)} (seq, id, op) VALUES (?, ?, ?)`,
  }

  const records = [] // {seq, phase, kind, sched, end, code}; code null when committed
  const phases = []
  let currentPhase = -1
  const startedAt = now()
  const phase = (name) => {
    const at = now()
    if (currentPhase >= 0) phases[currentPhase].end = at
    phases.push({name, start: at, end: null})
    currentPhase = phases.length - 1
  }
  phase('start')

  const queue = new Queue()
  const workers = []
  for (let i = 0; i < connections; i++) {
    // Spreads the prepared-statement connections evenly: every second one when preparedShare is 0.5.
    const prepared = Math.floor((i + 1) * preparedShare) > Math.floor(i * preparedShare)
    workers.push({conn: i === 0 ? first : await connect(), prepared})
  }

  async function runOne(worker, job) {
    const run = (text, params) => (worker.prepared ? worker.conn.execute(text, params) : worker.conn.query(text, params))
    let kind = job.kind
    let id
    if (kind === 'delete') {
      id = deletable.length > 0 ? deletable.splice(Math.floor(Math.random() * deletable.length), 1)[0] : undefined
      if (id === undefined) kind = 'update'
    }
    if (kind === 'update') id = idMin + Math.floor(Math.random() * (idMax - idMin + 1))
    if (kind === 'insert') id = ++nextNewId
    const record = {seq: job.seq, phase: job.phase, kind, id, sched: job.sched, end: null, code: null}
    records.push(record)
    let began = false
    try {
      await worker.conn.query('START TRANSACTION')
      began = true
      let result
      if (kind === 'update') [result] = await run(sql.update, [id])
      else if (kind === 'insert') [result] = await run(sql.insert, [id, `ins-${id}`])
      else [result] = await run(sql.delete, [id])
      if (result.affectedRows !== 1) {
        const error = new Error(`${kind} of id ${id} matched ${result.affectedRows} rows`)
        error.noRow = true
        throw error
      }
      await run(sql.ledger, [job.seq, id, {update: 'upd', insert: 'ins', delete: 'del'}[kind]])
      await worker.conn.query('COMMIT')
      record.end = now()
      if (kind === 'insert') deletable.push(id)
    } catch (error) {
      record.end = now()
      if (destroyed) return
      record.code = errorCode(error)
      record.message = String(error.sqlMessage ?? error.message).slice(0, 200)
      if (kind === 'delete' && !error.noRow) deletable.push(id)
      if (error.fatal || !began) {
        try {
          worker.conn.destroy()
        } catch {}
        worker.conn = await reconnect()
      } else {
        try {
          await worker.conn.query('ROLLBACK')
        } catch {
          try {
            worker.conn.destroy()
          } catch {}
          worker.conn = await reconnect()
        }
      }
    }
  }

  async function reconnect() {
    for (let attempt = 0; ; attempt++) {
      if (destroyed) throw new Error('the load was destroyed')
      try {
        return await connect()
      } catch (error) {
        if (attempt >= 50) throw error
        await sleep(100)
      }
    }
  }

  let destroyed = false
  const workerDone = workers.map(async (worker) => {
    for (;;) {
      const job = await queue.take()
      if (!job || destroyed) return
      await runOne(worker, job)
    }
  })

  let stopping = false
  const interval = 1000 / rate
  const scheduleStart = now()
  let scheduled = 0
  const scheduler = (async () => {
    while (!stopping) {
      const t = now()
      for (let next = scheduleStart + scheduled * interval; next <= t; next = scheduleStart + scheduled * interval) {
        scheduled++
        const draw = Math.random()
        const kind = draw < insertShare ? 'insert' : draw < insertShare + deleteShare ? 'delete' : 'update'
        queue.push({seq: ++nextSeq, phase: currentPhase, kind, sched: next})
      }
      await sleep(Math.max(0, scheduleStart + scheduled * interval - now()))
    }
  })()

  const phaseIndexes = (name) => phases.flatMap((p, i) => (p.name === name ? [i] : []))

  function summarize(selected, from, to) {
    const latencies = selected.map((r) => r.end - r.sched).sort((a, b) => a - b)
    const committed = selected.filter((r) => r.code === null).length
    const errors = {}
    const messages = {}
    for (const r of selected) {
      if (r.code === null) continue
      errors[r.code] = (errors[r.code] ?? 0) + 1
      messages[r.code] ??= r.message
    }
    const seconds = (to - from) / 1000
    return {
      scheduled: selected.length,
      committed,
      failed: selected.length - committed,
      errors,
      messages,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.length ? latencies[latencies.length - 1] : null,
      seconds,
      tps: seconds > 0 ? committed / seconds : null,
    }
  }

  const handle = {
    phase,
    phases,
    records,
    startedAt,
    get backlogMax() {
      return queue.maxLength
    },
    get backlog() {
      return queue.length
    },
    /** Figures over the transactions scheduled in the named phase(s) (all when no name). */
    stats(name) {
      const indexes = name === undefined ? phases.map((_, i) => i) : phaseIndexes(name)
      const set = new Set(indexes)
      const selected = records.filter((r) => set.has(r.phase) && r.end !== null)
      const seconds = indexes.reduce((sum, i) => sum + ((phases[i].end ?? now()) - phases[i].start), 0)
      return summarize(selected, 0, seconds * 1000)
    },
    /** Figures over the transactions scheduled in [from, to] (epoch ms). */
    statsBetween(from, to) {
      return summarize(records.filter((r) => r.end !== null && r.sched >= from && r.sched <= to), from, to)
    },
    /** The longest transaction (committed or failed) whose [scheduled start, end] overlaps [from, to]. */
    maxOverlapping(from, to) {
      let max = null
      let at = null
      for (const r of records) {
        if (r.end === null || r.sched > to || r.end < from) continue
        const latency = r.end - r.sched
        if (max === null || latency > max) {
          max = latency
          at = r
        }
      }
      return {max, count: records.filter((r) => r.end !== null && r.sched <= to && r.end >= from).length, record: at}
    },
    /** Errors by the phase their transaction was scheduled in: {phase: {code: count}}. */
    errorsByPhase() {
      const out = {}
      for (const r of records) {
        if (r.end === null || r.code === null) continue
        const name = phases[r.phase]?.name ?? '?'
        out[name] ??= {}
        out[name][r.code] = (out[name][r.code] ?? 0) + 1
      }
      return out
    },
    /** Commits and failures by wall-clock second since the load started (by end time). */
    perSecond() {
      const seconds = []
      for (const r of records) {
        if (r.end === null) continue
        const s = Math.floor((r.end - startedAt) / 1000)
        seconds[s] ??= {second: s, committed: 0, failed: 0}
        seconds[s][r.code === null ? 'committed' : 'failed']++
      }
      for (let s = 0; s < seconds.length; s++) seconds[s] ??= {second: s, committed: 0, failed: 0}
      return seconds
    },
    /**
     * Lowest number of commits in any one-second window that overlaps [from, to] (epoch ms; the
     * windows start every 100 ms and lie within the load's life), so a stall shorter than a
     * second still shows.
     */
    minPerSecond(from, to) {
      const ends = records.filter((r) => r.end !== null && r.code === null).map((r) => r.end).sort((x, y) => x - y)
      const last = handle.stopped ? phases[currentPhase].end : now()
      let min = null
      for (let s = Math.max(startedAt, from - 900); s <= to && s + 1000 <= last; s += 100) {
        let lo = 0
        let hi = ends.length
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          if (ends[mid] < s) lo = mid + 1
          else hi = mid
        }
        let count = 0
        for (let i = lo; i < ends.length && ends[i] < s + 1000; i++) count++
        min = min === null ? count : Math.min(min, count)
      }
      return min
    },
    /**
     * Stops scheduling, lets the connections finish every transaction already scheduled (up to
     * drainMs), closes them and returns the totals. Jobs still queued after drainMs are counted
     * under 'not-run'.
     */
    async stop({drainMs = 120000} = {}) {
      if (handle.stopped) return handle.stats()
      handle.stopped = true
      stopping = true
      await scheduler
      phases[currentPhase].end = now()
      queue.close()
      const drained = await Promise.race([Promise.all(workerDone).then(() => true), sleep(drainMs).then(() => false)])
      let notRun = 0
      if (!drained) {
        while (queue.length > 0) {
          const job = await queue.take()
          notRun++
          records.push({seq: job.seq, phase: job.phase, kind: job.kind, sched: job.sched, end: now(), code: 'not-run', message: 'still queued when the load stopped'})
        }
      }
      await Promise.all(workers.map((worker) => worker.conn.end().catch(() => worker.conn.destroy())))
      return {...handle.stats(), notRun, backlogMax: queue.maxLength}
    },
    /** Closes every connection at once, without waiting (for exit handlers). */
    destroy() {
      destroyed = true
      stopping = true
      queue.close()
      for (const worker of workers) {
        try {
          worker.conn.destroy()
        } catch {}
      }
    },
  }
  return handle
}
