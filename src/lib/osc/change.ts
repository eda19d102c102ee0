import {randomBytes} from 'node:crypto'
import {DbakitError, ExitCode, usageError} from '../core/errors.ts'
import {openMysql, permissionFailure, type MysqlSession} from '../connect/drivers/mysql.ts'
import {isFloatType, rowsDigest} from '../sql/checksum.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {tokenize, significant} from '../sql/lexer.ts'
import {STATE_DATABASE} from '../core/paths.ts'
import {ensureJournal, Journal, type ChangeRecord} from './journal.ts'
import {lossyPairs, mapColumns, type ColumnMapping} from './mapping.ts'
import {errnoOf, ident, qualified, withoutQueueing} from './sql.ts'
import {readTable, type ColumnInfo, type TableFacts} from './table.ts'
import {forwardPairs, reversePairs, syncTriggers} from './triggers.ts'

/** `online-copy`: MariaDB 11.2+'s own ALGORITHM=COPY, LOCK=NONE, which logs concurrent writes and applies them. */
export type Method = 'instant' | 'inplace' | 'online-copy' | 'copy'

export interface ChangeProgress {
  phase: string
  copied?: number
  estimate?: number
  rowsPerSecond?: number
  etaSeconds?: number
  throttled?: string | null
  message: string
}

export interface ChangeOptions {
  target: ConnectionTarget
  database: string
  table: string
  alter: string
  /** Keep the original in sync after cut-over for this long, so `rollback` loses nothing. */
  revertWindowMs?: number
  /** Copy, then wait in sync for `schema cutover ID`. */
  postponeCutover?: boolean
  maxThreadsRunning?: number
  /** Replicas whose lag pauses the copy, and the lag allowed. */
  replicas?: ConnectionTarget[]
  maxLagSeconds?: number
  chunkTimeMs?: number
  /** Pause the copy while a probe read's p99 is above this many milliseconds. */
  maxP99Ms?: number
  /** Chunks copied at once, each on a connection of its own (default 1). */
  threads?: number
  /** How long the cut-over tries its NOWAIT rename before it gives up, leaving the change copied. */
  cutoverTimeoutMs?: number
  onProgress?: (progress: ChangeProgress) => void
  signal?: AbortSignal
}

export interface ChangeResult {
  id: number
  method: Method
  state: ChangeRecord['state']
  database: string
  table: string
  alter: string
  rowsCopied?: number
  /** How long the row copy took, checksum and cut-over aside. */
  copyMs?: number
  /** The original, kept in sync during the revert window. */
  oldTable?: string
  seconds: number
  cutover?: {attempts: number; milliseconds: number}
  revertUntil?: string | null
  checksum?: {rows: number; columns: string[]}
}

const NOT_SUPPORTED = new Set([1845, 1846])
const DEFAULT_CUTOVER_TIMEOUT_MS = 15_000
const DDL_TIMEOUT_MS = 30_000

/** The options an ALTER must not carry: dbakit chooses the algorithm, and a rename would move the table away. */
function checkAlter(alter: string): void {
  const tokens = significant(tokenize(alter))
  if (tokens.length === 0) throw usageError('ALTER_EMPTY', '--alter is empty', {hint: 'give the ALTER TABLE clauses, e.g. --alter "MODIFY k BIGINT NOT NULL"'})
  if (tokens.some((t) => t.text === ';')) throw usageError('ALTER_SEVERAL', '--alter holds more than one statement', {hint: 'give the clauses of one ALTER TABLE, without ALTER TABLE or ;'})
  const words = tokens.filter((t) => t.type === 'word').map((t) => t.value)
  if (words[0] === 'ALTER' && words[1] === 'TABLE') throw usageError('ALTER_WHOLE_STATEMENT', '--alter takes the clauses only', {hint: `drop "ALTER TABLE <name>": --alter "${alter.replace(/^\s*alter\s+table\s+\S+\s*/i, '')}"`})
  for (const [i, word] of words.entries()) {
    if ((word === 'ALGORITHM' || word === 'LOCK') && tokens.some((t) => t.text === '=')) {
      throw usageError('ALTER_ALGORITHM', `--alter sets ${word}=: dbakit chooses how the change runs`, {hint: 'drop ALGORITHM= and LOCK=; `dbakit schema plan` shows what it will use'})
    }
    if (word === 'RENAME' && (words[i + 1] === 'TO' || words[i + 1] === 'AS' || (words[i + 1] !== 'COLUMN' && words[i + 1] !== 'INDEX' && words[i + 1] !== 'KEY'))) {
      throw usageError('ALTER_RENAMES_TABLE', '--alter renames the table', {hint: 'rename with RENAME TABLE, which is instant; dbakit schema change is for changes to the table\'s definition'})
    }
  }
}

/** The artifact names of change `id`: short enough for 64-character identifiers, recognisably ours. */
export function artifactNames(table: string, id: number): Record<string, string> {
  const base = `_${table.slice(0, 40)}_${id}`
  return {
    new: `${base}_new`,
    old: `${base}_old`,
    placeholder: `${base}_ph`,
    gone: `${base}_gone`,
    forwardInsert: `${base}_fi`,
    forwardUpdate: `${base}_fu`,
    forwardDelete: `${base}_fd`,
    reverseInsert: `${base}_ri`,
    reverseUpdate: `${base}_ru`,
    reverseDelete: `${base}_rd`,
  }
}

export interface Probe {
  method: Method
  /** The server's answer for each algorithm tried on a scratch copy, cheapest first. */
  tried: Array<{algorithm: string; accepted: boolean; message?: string}>
  newColumns: ColumnInfo[]
  newKeys: Array<{name: string; columns: string[]}>
}

/**
 * Asks the server how it would run the ALTER by running it on a scratch copy of the table (its
 * definition and a few rows) under ALGORITHM=INSTANT, NOCOPY, INPLACE with LOCK=NONE, then COPY:
 * the server's verdict, not a guess. A statement the server refuses outright is a usage error.
 */
export async function probeAlter(session: MysqlSession, facts: TableFacts, alter: string): Promise<Probe> {
  checkAlter(alter)
  await session.query(`CREATE DATABASE IF NOT EXISTS ${ident(STATE_DATABASE)}`)
  const scratch = `_probe_${randomBytes(4).toString('hex')}`
  const at = qualified(STATE_DATABASE, scratch)
  const tried: Probe['tried'] = []
  const mariadb = session.identity.flavor === 'mariadb'
  // COPY with LOCK=NONE is MariaDB 11.2's online copy; older servers refuse it as unsupported.
  const algorithms = mariadb ? ['INSTANT', 'NOCOPY', 'INPLACE', 'COPY LOCK=NONE', 'COPY'] : ['INSTANT', 'INPLACE', 'COPY']
  try {
    let method: Method | undefined
    for (const algorithm of algorithms) {
      // A fresh copy per attempt: an accepted ALTER changes it.
      await session.query(`DROP TABLE IF EXISTS ${at}`)
      await session.query(`CREATE TABLE ${at} LIKE ${qualified(facts.database, facts.table)}`)
      const copied = facts.columns.filter((c) => !c.generated).map((c) => ident(c.name)).join(', ')
      await session.query(`INSERT INTO ${at} (${copied}) SELECT ${copied} FROM ${qualified(facts.database, facts.table)} LIMIT 100`)
      try {
        await session.query(`ALTER TABLE ${at} ${algorithmClause(algorithm)}, ${alter}`)
        tried.push({algorithm, accepted: true})
        method = algorithm === 'INSTANT' ? 'instant' : algorithm === 'COPY' ? 'copy' : algorithm === 'COPY LOCK=NONE' ? 'online-copy' : 'inplace'
        break
      } catch (error) {
        const message = (error as Error).message
        tried.push({algorithm, accepted: false, message})
        if (!NOT_SUPPORTED.has(errnoOf(error) ?? 0) || algorithm === 'COPY') {
          throw usageError('ALTER_REFUSED', `the server refuses the ALTER on ${facts.database}.${facts.table}: ${message}`, {hint: 'fix the ALTER; it was tried on a scratch copy, and nothing was changed'})
        }
      }
    }
    const after = await readTable(session, STATE_DATABASE, scratch)
    return {method: method!, tried, newColumns: after.columns, newKeys: after.uniqueKeys}
  } finally {
    await session.query(`DROP TABLE IF EXISTS ${at}`).catch(() => {})
  }
}

const algorithmClause = (algorithm: string) => (algorithm === 'COPY' ? 'ALGORITHM=COPY' : algorithm === 'COPY LOCK=NONE' ? 'ALGORITHM=COPY, LOCK=NONE' : `ALGORITHM=${algorithm}, LOCK=NONE`)

export interface PlanRisk {
  code: string
  message: string
  /** The change cannot run this way; the message says what to do. */
  blocking?: boolean
}

export interface ChangePlan {
  database: string
  table: string
  alter: string
  server: {flavor: string; version: string}
  method: Method
  tried: Probe['tried']
  rows: number
  tableBytes: number
  /** Free space the change needs in the data directory (the new copy), for the copy path. */
  diskBytes: number
  estimatedSeconds: number
  risks: PlanRisk[]
  lossyRollback: string[]
  command: string
}

/** Copy rate assumed for the estimate; measured by bench/osc on the project's 2-core machine (docs/benchmarks.md). */
const ASSUMED_ROWS_PER_SECOND = 50_000

/** How this server would run the change, what it costs, what could go wrong, and the command to run. Read-only. */
export async function planChange(target: ConnectionTarget, options: {database: string; table: string; alter: string; revertWindow?: boolean; command: string}): Promise<ChangePlan> {
  const session = await openMysql(target)
  try {
    const facts = await readTable(session, options.database, options.table)
    const probe = await probeAlter(session, facts, options.alter)
    const method: Method = options.revertWindow ? 'copy' : probe.method
    const risks: PlanRisk[] = []
    const lossyRollback: string[] = []
    if (facts.engine.toLowerCase() !== 'innodb') risks.push({code: 'ENGINE', message: `the table's engine is ${facts.engine}: online changes need InnoDB`, blocking: method === 'copy'})
    if (method === 'inplace' || method === 'online-copy') risks.push({code: 'REPLICA_LAG', message: `${method === 'inplace' ? 'INPLACE' : 'the online copy'} runs without blocking here, but each replica applies it in one piece after it finishes: replicas fall behind by the time it takes`})
    if (method === 'copy') {
      if (!facts.key) risks.push({code: 'NO_KEY', message: 'the table has no primary key or unique key on NOT NULL columns: rows cannot be copied and matched', blocking: true})
      if (facts.triggers.length > 0) risks.push({code: 'TRIGGERS', message: `the table has triggers (${facts.triggers.join(', ')}): the copy path adds its own, and their order is not yet handled`, blocking: true})
      if (facts.foreignKeys.length > 0) risks.push({code: 'FOREIGN_KEYS', message: `foreign keys involve the table (${facts.foreignKeys.map((f) => f.name).join(', ')}): a swapped table would leave them pointing at the old one`, blocking: true})
      const mapping = mapColumns(facts.columns, probe.newColumns, options.alter)
      const addedUnique = probe.newKeys.filter((k) => !facts.uniqueKeys.some((old) => old.columns.join() === k.columns.join()))
      if (addedUnique.length > 0) risks.push({code: 'UNIQUE_ADDED', message: `the change adds a unique key (${addedUnique.map((k) => k.columns.join(', ')).join('; ')}): a copy would silently merge duplicate rows; run it natively (it fails on duplicates) or remove them first`, blocking: true})
      if (facts.key && !probe.newKeys.some((k) => k.columns.join() === facts.key!.columns.map((c) => mapping.pairs.find((p) => p.old === c)?.new ?? c).join())) {
        risks.push({code: 'KEY_CHANGED', message: `the change alters the key rows are matched by (${facts.key.columns.join(', ')})`, blocking: true})
      }
      for (const {pair, from, to, forward, reverse} of lossyPairs(facts.columns, probe.newColumns, mapping)) {
        if (forward) risks.push({code: 'TYPE_NARROWED', message: `${pair.old} changes from ${from} to ${to}: a row whose value does not fit stops the copy (strict mode) rather than being cut, and an application write of such a value fails once the change is live`})
        if (reverse) lossyRollback.push(`${pair.new} goes back from ${to} to ${from}: a value written after the cut-over that does not fit ${from} is cut in the restored table`)
      }
      for (const column of mapping.dropped) {
        if (!column.nullable && !column.hasDefault) risks.push({code: 'ROLLBACK_IMPOSSIBLE', message: `${column.name} is dropped and is NOT NULL without a default: the revert window cannot insert rows into the original`, blocking: Boolean(options.revertWindow)})
        lossyRollback.push(`${column.name} is dropped: rows written after the cut-over get its default in the restored table`)
      }
    }
    const tableBytes = facts.dataBytes + facts.indexBytes
    return {
      database: facts.database,
      table: facts.table,
      alter: options.alter,
      server: {flavor: session.identity.flavor, version: session.identity.version},
      method,
      tried: probe.tried,
      rows: facts.rows,
      tableBytes,
      diskBytes: method === 'instant' ? 0 : tableBytes,
      estimatedSeconds: method === 'instant' ? 0 : Math.ceil(facts.rows / ASSUMED_ROWS_PER_SECOND),
      risks,
      lossyRollback,
      command: options.command,
    }
  } finally {
    await session.close()
  }
}

/** The session settings every dbakit DDL and copy session uses. */
async function prepareSession(session: MysqlSession, role: 'ddl' | 'copy'): Promise<void> {
  const mariadb = session.identity.flavor === 'mariadb'
  // DDL never queues for a metadata lock (see withoutQueueing); MySQL's minimum is 1 s.
  if (role === 'ddl') await session.query(`SET SESSION lock_wait_timeout = ${mariadb ? 0 : 1}`)
  else await session.query('SET SESSION lock_wait_timeout = 5')
  await session.query('SET SESSION innodb_lock_wait_timeout = 2')
  // Values that do not fit stop the copy instead of being cut silently.
  if (role === 'copy') await setSqlMode(session, (modes) => [...modes.filter((m) => m !== 'STRICT_ALL_TABLES'), 'STRICT_ALL_TABLES'])
}

async function setSqlMode(session: MysqlSession, change: (modes: string[]) => string[]): Promise<string> {
  const [row] = await session.query<{mode: string}>('SELECT @@SESSION.sql_mode AS mode')
  const before = row?.mode ?? ''
  await session.query('SET SESSION sql_mode = ?', [change(before.split(',').filter(Boolean)).join(',')])
  return before
}

/**
 * The reverse triggers are created without strict mode: a value the original's narrower type
 * cannot hold is cut in the original (`plan` says which columns), rather than failing the
 * application's write to the new table. A trigger keeps the sql_mode it was created under.
 */
async function withoutStrictMode<T>(session: MysqlSession, work: () => Promise<T>): Promise<T> {
  const before = await setSqlMode(session, (modes) => modes.filter((m) => m !== 'STRICT_TRANS_TABLES' && m !== 'STRICT_ALL_TABLES'))
  try {
    return await work()
  } finally {
    await session.query('SET SESSION sql_mode = ?', [before])
  }
}

interface Running {
  options: ChangeOptions
  ddl: MysqlSession
  copy: MysqlSession
  journal: Journal
  facts: TableFacts
  record: ChangeRecord
  names: Record<string, string>
  mapping: ColumnMapping
  started: number
}

/**
 * Runs the change: natively when the server can do it without blocking (and no revert window is
 * asked for), else through a shadow table kept in sync by triggers, copied in chunks, checksummed,
 * and swapped in with one atomic RENAME ... NOWAIT. With a revert window the original stays in
 * sync after the swap, so `rollback` is another instant swap that loses nothing.
 */
export async function runChange(options: ChangeOptions): Promise<ChangeResult> {
  const started = Date.now()
  const ddl = await openMysql(options.target)
  let copy: MysqlSession | undefined
  try {
    await prepareSession(ddl, 'ddl')
    const facts = await readTable(ddl, options.database, options.table)
    const probe = await probeAlter(ddl, facts, options.alter)
    await ensureJournal(ddl)
    const journal = new Journal(ddl)
    const method: Method = options.revertWindowMs ? 'copy' : probe.method
    if (method !== 'copy') return await runNative(ddl, journal, facts, options, method, started)
    const mapping = mapColumns(facts.columns, probe.newColumns, options.alter)
    refuseUnsafeCopy(facts, probe, mapping, options)
    const record = await journal.begin({database: facts.database, table: facts.table, alter: options.alter, method})
    const names = artifactNames(facts.table, record.id)
    await holdChangeLock(ddl, record.id)
    await journal.transition(record.id, 'started', 'artifacts named', {artifacts: names})
    copy = await openMysql(options.target)
    await prepareSession(copy, 'copy')
    const running: Running = {options, ddl, copy, journal, facts, record, names, mapping, started}
    try {
      return await copyAndSwap(running, undefined)
    } catch (error) {
      await failChange(running, error)
      throw error
    }
  } finally {
    await copy?.close()
    await ddl.close()
  }
}

/** Continues a copy-path change whose process died (kill -9, lost connection) from where its journal says. */
export async function resumeChange(options: Omit<ChangeOptions, 'database' | 'table' | 'alter'> & {id: number}): Promise<ChangeResult> {
  const started = Date.now()
  const ddl = await openMysql(options.target)
  let copy: MysqlSession | undefined
  try {
    await prepareSession(ddl, 'ddl')
    const journal = new Journal(ddl)
    const record = await journal.require(options.id)
    if (!['started', 'capturing', 'copying', 'copied', 'cutting-over'].includes(record.state)) {
      throw usageError('CHANGE_NOT_RESUMABLE', `change ${record.id} is ${record.state}: there is nothing to resume`, {hint: `see dbakit schema status ${record.id}`})
    }
    await holdChangeLock(ddl, record.id)
    const full = {...options, database: record.database, table: record.table, alter: record.alter}
    const facts = await readTable(ddl, record.database, record.state === 'cutting-over' && !(await tableExists(ddl, record.database, record.table)) ? record.artifacts.old! : record.table)
    const after = await readTable(ddl, record.database, record.artifacts.new!).catch(() => undefined)
    if (!after) {
      await journal.transition(record.id, 'aborted', 'resumed without its shadow table: nothing to continue')
      throw new DbakitError(ExitCode.stopped, 'CHANGE_SHADOW_MISSING', `change ${record.id}: its shadow table ${record.artifacts.new} is gone, so it was aborted; the original table is untouched`, {hint: 'start the change again'})
    }
    const mapping = mapColumns(facts.columns, after.columns, record.alter)
    copy = await openMysql(options.target)
    await prepareSession(copy, 'copy')
    const running: Running = {options: full, ddl, copy, journal, facts, record, names: record.artifacts, mapping, started}
    try {
      if (record.state === 'cutting-over') await reconcileCutover(running)
      const fresh = await journal.require(record.id)
      if (fresh.state === 'revert-window' || fresh.state === 'done') return result(running, fresh)
      const from = typeof fresh.progress.lastKey === 'string' ? (JSON.parse(fresh.progress.lastKey) as unknown[]) : undefined
      return await copyAndSwap(running, from)
    } catch (error) {
      await failChange(running, error)
      throw error
    }
  } finally {
    await copy?.close()
    await ddl.close()
  }
}

async function runNative(ddl: MysqlSession, journal: Journal, facts: TableFacts, options: ChangeOptions, method: Method, started: number): Promise<ChangeResult> {
  const record = await journal.begin({database: facts.database, table: facts.table, alter: options.alter, method})
  const algorithm = algorithmClause(method === 'instant' ? 'INSTANT' : method === 'online-copy' ? 'COPY LOCK=NONE' : ddl.identity.flavor === 'mariadb' ? 'NOCOPY' : 'INPLACE')
  const nowait = ddl.identity.flavor === 'mariadb' ? ' NOWAIT' : ''
  options.onProgress?.({phase: 'native', message: `running the ALTER natively (${method}): it needs a metadata lock only at its start and end`})
  let attempts = 0
  const run = async (clauses: string) => {
    const done = await withoutQueueing(ddl, `ALTER TABLE ${qualified(facts.database, facts.table)}${nowait} ${clauses}, ${options.alter}`, {deadline: Date.now() + (options.cutoverTimeoutMs ?? DEFAULT_CUTOVER_TIMEOUT_MS), ...(options.signal ? {signal: options.signal} : {})})
    attempts = done.attempts
  }
  try {
    try {
      await run(algorithm)
    } catch (error) {
      // NOCOPY is MariaDB's cheapest in-place form; some in-place changes rebuild, which NOCOPY refuses.
      if (method !== 'inplace' || !NOT_SUPPORTED.has(errnoOf(error) ?? 0) || ddl.identity.flavor !== 'mariadb') throw error
      await run('ALGORITHM=INPLACE, LOCK=NONE')
    }
  } catch (error) {
    await journal.transition(record.id, 'failed', `the native ALTER failed: ${(error as Error).message}`, {error: (error as Error).message})
    throw await lockFailure(ddl, error, `the ALTER on ${facts.database}.${facts.table}`)
  }
  await journal.transition(record.id, 'done', `done natively (${method}) after ${attempts} attempt(s)`)
  return {id: record.id, method, state: 'done', database: facts.database, table: facts.table, alter: options.alter, seconds: (Date.now() - started) / 1000}
}

function refuseUnsafeCopy(facts: TableFacts, probe: Probe, mapping: ColumnMapping, options: ChangeOptions): void {
  if (!facts.key) throw usageError('TABLE_NO_KEY', `${facts.database}.${facts.table} has no primary key or unique key on NOT NULL columns`, {hint: 'add a primary key first (that change itself can usually run natively)'})
  if (facts.triggers.length > 0) throw usageError('TABLE_HAS_TRIGGERS', `${facts.database}.${facts.table} has triggers (${facts.triggers.join(', ')}); the copy path does not combine with them yet`, {hint: 'run the change natively during a quiet period, or drop the triggers for its duration'})
  if (facts.foreignKeys.length > 0) throw usageError('TABLE_HAS_FOREIGN_KEYS', `foreign keys involve ${facts.database}.${facts.table} (${facts.foreignKeys.map((f) => f.name).join(', ')}); swapping the table would break them`, {hint: 'run the change natively, or drop the foreign keys for its duration'})
  const newKey = facts.key.columns.map((c) => mapping.pairs.find((p) => p.old === c)?.new)
  if (newKey.some((c) => c === undefined) || !probe.newKeys.some((k) => k.columns.join() === newKey.join())) {
    throw usageError('ALTER_CHANGES_KEY', `the ALTER changes the key rows are copied by (${facts.key.columns.join(', ')})`, {hint: 'change the primary key natively, or in a change of its own'})
  }
  const addedUnique = probe.newKeys.filter((k) => !facts.uniqueKeys.some((old) => old.columns.join() === k.columns.join()))
  if (addedUnique.length > 0) {
    throw usageError('ALTER_ADDS_UNIQUE', `the ALTER adds a unique key (${addedUnique.map((k) => k.columns.join(', ')).join('; ')}): copying would silently merge rows that duplicate it`, {hint: 'add the key natively (the server refuses duplicates instead of losing them), after removing the duplicates'})
  }
  if (options.revertWindowMs) {
    const impossible = mapping.dropped.filter((c) => !c.nullable && !c.hasDefault)
    if (impossible.length > 0) {
      throw usageError('ROLLBACK_IMPOSSIBLE', `${impossible.map((c) => c.name).join(', ')} ${impossible.length === 1 ? 'is' : 'are'} dropped and NOT NULL without a default: during a revert window no row could be written back to the original`, {hint: 'give the column a default first, or run the change without --revert-window'})
    }
  }
}

/**
 * One process per change: a named lock on the DDL session, released when that connection ends
 * (even by kill -9), so `abort` and `resume` can tell a running change from a dead one.
 */
async function holdChangeLock(session: MysqlSession, id: number): Promise<void> {
  const [row] = await session.query<{got: number | string | null}>('SELECT GET_LOCK(?, 0) AS got', [changeLockName(id)])
  if (Number(row?.got) !== 1) throw usageError('CHANGE_RUNNING', `change ${id} is being run by another dbakit process`, {hint: `control it with dbakit schema pause|resume|cutover|abort ${id}`})
}
export const changeLockName = (id: number) => `dbakit_osc_${id}`

async function copyAndSwap(running: Running, from: unknown[] | undefined): Promise<ChangeResult> {
  const {ddl, journal, record, names, facts, options} = running
  const db = facts.database
  const deadline = () => Date.now() + DDL_TIMEOUT_MS
  if (!from) {
    if (!(await tableExists(ddl, db, names.new!))) {
      await ddl.query(`CREATE TABLE ${qualified(db, names.new!)} LIKE ${qualified(db, facts.table)}`)
      await ddl.query(`ALTER TABLE ${qualified(db, names.new!)} ${options.alter}`)
    }
    await journal.transition(record.id, 'capturing', `shadow table ${names.new} created; adding the triggers that keep it in sync`)
    const forward = forwardTriggers(running)
    for (const trigger of forward.create) {
      if (await triggerExists(ddl, db, trigger.name)) continue
      await withoutQueueing(ddl, trigger.sql, {deadline: deadline()}).catch(async (error) => {
        throw await lockFailure(ddl, error, `creating trigger ${trigger.name} on ${db}.${facts.table}`)
      })
    }
  }
  await journal.transition(record.id, 'copying', from ? `resuming the copy after key ${JSON.stringify(from)}` : 'copying rows in key order')
  const copyStarted = Date.now()
  const copied = await copyRows(running, from)
  const copyMs = Date.now() - copyStarted
  if (copied === 'aborted') return abortRunning(running)
  const checksum = await checksumTables(running)
  await journal.transition(record.id, 'copied', `copied ${copied} rows; checksum of ${checksum.columns.length} columns over ${checksum.rows} rows matches`)
  if (options.postponeCutover) {
    options.onProgress?.({phase: 'postponed', message: `copied and in sync; waiting for \`dbakit schema cutover ${record.id}\``})
    for (;;) {
      const request = await journal.pendingRequest(record.id)
      if (request === 'abort') return abortRunning(running)
      if (request === 'cutover') break
      await sleep(1000)
    }
    await journal.request(record.id, null)
  }
  const cutover = await cutOver(running)
  const revertUntil = options.revertWindowMs ? new Date(Date.now() + options.revertWindowMs) : null
  if (revertUntil) {
    await journal.transition(record.id, 'revert-window', `cut over; the original is kept in sync as ${names.old} until ${revertUntil.toISOString()}`, {revertUntil})
  } else {
    await finish(running)
  }
  return {...result(running, (await journal.require(record.id))), rowsCopied: copied, copyMs, cutover, checksum, ...(revertUntil ? {oldTable: names.old!} : {})}
}

const result = (running: Running, record: ChangeRecord): ChangeResult => ({
  id: record.id,
  method: record.method,
  state: record.state,
  database: record.database,
  table: record.table,
  alter: record.alter,
  seconds: (Date.now() - running.started) / 1000,
  revertUntil: record.revertUntil,
})

function forwardTriggers(running: Running) {
  const {facts, names, mapping} = running
  const key = facts.key!.columns.map((c) => ({from: c, to: mapping.pairs.find((p) => p.old === c)!.new}))
  return syncTriggers({database: facts.database, source: facts.table, target: names.new!, pairs: forwardPairs(mapping.pairs), key, names: {insert: names.forwardInsert!, update: names.forwardUpdate!, delete: names.forwardDelete!}})
}

/** The reverse triggers live on the new table and write into whatever is named `old`. */
function reverseTriggers(running: Running, on: string) {
  const {facts, names, mapping} = running
  const key = facts.key!.columns.map((c) => ({from: mapping.pairs.find((p) => p.old === c)!.new, to: c}))
  return syncTriggers({database: facts.database, source: on, target: names.old!, pairs: reversePairs(mapping.pairs), key, names: {insert: names.reverseInsert!, update: names.reverseUpdate!, delete: names.reverseDelete!}})
}

/**
 * Copies rows in key order, chunk by chunk, sized to take about `chunkTimeMs` each. A chunk inserts
 * with ON DUPLICATE KEY UPDATE of nothing, so a row the triggers already wrote, being newer, is
 * kept. It reads the original without locking it (READ COMMITTED with a ROW binlog), so the copy
 * never holds a lock the application's writes wait for, and cannot deadlock with them: shared
 * locks on each chunk (pt-online-schema-change's way) made the busiest writers fail with 1213. A
 * row deleted between the chunk's read and its insert would be brought back, so each chunk then
 * deletes from the copy the rows of its range the original no longer has; that delete locks the
 * copy's rows, so it waits for a writer still adding one and then sees it committed. On a server
 * whose binlog is not ROW, the chunk reads with LOCK IN SHARE MODE instead.
 */
async function copyRows(running: Running, from: unknown[] | undefined): Promise<number | 'aborted'> {
  const {copy, journal, record, facts, names, mapping, options} = running
  const db = facts.database
  const keyColumns = facts.key!.columns
  const keyList = keyColumns.map(ident).join(', ')
  const oldColumns = mapping.pairs.map((p) => ident(p.old)).join(', ')
  // The server prints a FLOAT with 6 significant digits, which does not give back the same value;
  // as a DOUBLE it is exact, and stored back into a FLOAT it is the same float again.
  const exactColumns = mapping.pairs.map((p) => (isFloat(facts.columns, p.old) ? `CAST(${ident(p.old)} AS DOUBLE) AS ${ident(p.old)}` : ident(p.old))).join(', ')
  const newColumns = mapping.pairs.map((p) => ident(p.new)).join(', ')
  const firstNew = ident(mapping.pairs.find((p) => p.old === keyColumns[0])!.new)
  const shadow = qualified(db, names.new!)
  const keepExisting = `ON DUPLICATE KEY UPDATE ${shadow}.${firstNew} = ${shadow}.${firstNew}`
  const range = (values: unknown[], last: '>' | '<=') => {
    // (a, b) > (x, y) written out, which every optimizer turns into an index range.
    const parts = keyColumns.map((_, i) => keyColumns.slice(0, i).map((c) => `${ident(c)} = ?`).concat(`${ident(keyColumns[i]!)} ${i === keyColumns.length - 1 ? last : last === '>' ? '>' : '<'} ?`).join(' AND '))
    return {sql: `(${parts.map((p) => `(${p})`).join(' OR ')})`, args: keyColumns.flatMap((_, i) => values.slice(0, i + 1))}
  }
  const estimate = Math.max(facts.rows, 1)
  const target = options.chunkTimeMs ?? 500
  /*
   * INSERT ... SELECT is a bulk insert: with innodb_autoinc_lock_mode 0 or 1 (MariaDB's default)
   * it holds the shadow's table-level AUTO-INC lock to its end, and a writer whose trigger then
   * waits for that lock while the chunk waits for the writer's row is a deadlock InnoDB resolves
   * by failing the writer. Rows sent as INSERT ... VALUES take the lock only for a moment, and
   * let several chunks insert at once.
   */
  const [autoinc] = await copy.query<{mode: string | number}>('SELECT @@innodb_autoinc_lock_mode AS mode')
  const throughClient = Number(autoinc?.mode) !== 2 && facts.columns.some((c) => c.autoIncrement)
  const maxChunk = throughClient ? Math.max(100, Math.min(50_000, Math.floor((8 << 20) / Math.max(64, facts.dataBytes / Math.max(facts.rows, 1))))) : 50_000
  let lockingRead = false
  const workers: MysqlSession[] = []
  const idle: MysqlSession[] = []
  const latency = options.maxP99Ms === undefined ? undefined : await LatencyProbe.start(options.target, `SELECT 1 FROM ${qualified(db, facts.table)} ORDER BY ${keyList} LIMIT 1`, options.maxP99Ms)
  try {
    for (let i = 0; i < Math.max(1, options.threads ?? 1); i++) {
      const session = await openMysql(options.target)
      await prepareSession(session, 'copy')
      await session.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')
      // A multi-table DELETE names its target by alias, which MariaDB resolves in the default database.
      await session.query(`USE ${ident(db)}`)
      workers.push(session)
      idle.push(session)
    }
    const copyChunk = async (session: MysqlSession, lower: unknown[] | undefined, upper: unknown[] | undefined): Promise<number> => {
      const low = lower ? range(lower, '>') : undefined
      const high = upper ? range(upper, '<=') : undefined
      const where = [low?.sql, high?.sql].filter(Boolean).join(' AND ')
      const args = [...(low?.args ?? []), ...(high?.args ?? [])]
      const source = `${qualified(db, facts.table)}${where ? ` WHERE ${where}` : ''}`
      for (let attempt = 1; ; attempt++) {
        try {
          let inserted = 0
          if (throughClient) {
            // Read in binary too: a DOUBLE as text is not always the same double again.
            const rows = await session.execute<Record<string, unknown>>(`SELECT ${exactColumns} FROM ${source}${lockingRead ? ' LOCK IN SHARE MODE' : ''}`, args)
            // Prepared and sent in binary, in batches within the protocol's 65,535 placeholders:
            // the server then parses no value text, which is most of a multi-row INSERT's cost.
            const perBatch = Math.max(1, Math.floor(65_535 / mapping.pairs.length))
            const placeholders = `(${mapping.pairs.map(() => '?').join(', ')})`
            for (let at = 0; at < rows.length; at += perBatch) {
              const batch = rows.slice(at, at + perBatch)
              // A JSON value comes back parsed; it goes back as the text it was.
              const values = batch.flatMap((row) => mapping.pairs.map((p) => asSqlValue(row[p.old])))
              const sql = `INSERT INTO ${shadow} (${newColumns}) VALUES ${Array.from({length: batch.length}, () => placeholders).join(', ')} ${keepExisting}`
              inserted += Number(((await session.execute(sql, values)) as unknown as {affectedRows: number}).affectedRows)
            }
          } else {
            inserted = Number(((await session.query(`INSERT INTO ${shadow} (${newColumns}) SELECT ${oldColumns} FROM ${source}${lockingRead ? ' LOCK IN SHARE MODE' : ''} ${keepExisting}`, args)) as unknown as {affectedRows: number}).affectedRows)
          }
          if (!lockingRead) {
            // Found with a plain read, which locks nothing: a DELETE joined to the original would
            // share-lock its rows while holding the copy's, which writers' triggers wait for.
            const newKey = keyColumns.map((k) => mapping.pairs.find((p) => p.old === k)!.new)
            const mapped = where.replaceAll(/`([^`]|``)+`/g, (name) => `c.${ident(mapping.pairs.find((p) => ident(p.old) === name)?.new ?? name.slice(1, -1))}`)
            const orphans = await session.query<Record<string, unknown>>(
              `SELECT ${newKey.map((k) => `c.${ident(k)}`).join(', ')} FROM ${shadow} c LEFT JOIN ${qualified(db, facts.table)} o ON ${keyColumns.map((k, i) => `o.${ident(k)} = c.${ident(newKey[i]!)}`).join(' AND ')} WHERE ${mapped ? `${mapped} AND ` : ''}o.${ident(keyColumns[0]!)} IS NULL`,
              args,
            )
            // Each is deleted only if the original still lacks it, checked under lock: a writer may have put it back since.
            for (const orphan of orphans) {
              const values = newKey.map((k) => orphan[k])
              await session.query(
                `DELETE FROM ${shadow} WHERE ${newKey.map((k) => `${ident(k)} = ?`).join(' AND ')} AND NOT EXISTS (SELECT 1 FROM ${qualified(db, facts.table)} WHERE ${keyColumns.map((k) => `${ident(k)} = ?`).join(' AND ')} LOCK IN SHARE MODE)`,
                [...values, ...values],
              )
            }
          }
          return inserted
        } catch (error) {
          // A server whose binlog is STATEMENT refuses an unlocked INSERT ... SELECT under READ COMMITTED.
          if (!lockingRead && (errnoOf(error) === 1665 || /binlog/i.test((error as Error).message))) {
            lockingRead = true
            for (const worker of workers) await worker.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
            continue
          }
          if ((errnoOf(error) !== 1213 && errnoOf(error) !== 1205) || attempt >= 10) throw error
          await sleep(20 * attempt)
        }
      }
    }

    // Chunks run on the workers at once; the point a resume can start from is the end of the
    // longest run of finished chunks from the start, since later ones may have finished first.
    let size = 1000
    let next = from
    let copied = 0
    let sequence = 0
    let resumeFrom = from
    const finished = new Map<number, unknown[] | undefined>()
    let firstUnfinished = 0
    const inFlight = new Set<Promise<void>>()
    let failure: unknown
    let lastReport = 0
    let lastThrottleCheck = 0
    const began = Date.now()
    const report = async (force = false) => {
      if (!force && Date.now() - lastReport < 1000) return
      lastReport = Date.now()
      const rate = copied / Math.max((Date.now() - began) / 1000, 0.001)
      const progress = {phase: 'copying', copied, estimate, rowsPerSecond: Math.round(rate), etaSeconds: Math.max(0, Math.round((estimate - copied) / Math.max(rate, 1))), throttled: null, message: `copying ${facts.database}.${facts.table}`}
      options.onProgress?.(progress)
      await journal.progress(record.id, {...progress, lastKey: resumeFrom ? JSON.stringify(resumeFrom) : null})
    }
    let done = false
    while (!done || inFlight.size > 0) {
      if (failure) break
      if (done || idle.length === 0) {
        await Promise.race(inFlight)
        continue
      }
      if (options.signal?.aborted) throw options.signal.reason
      const request = await journal.pendingRequest(record.id)
      if (request === 'abort') {
        await Promise.allSettled(inFlight)
        return 'aborted'
      }
      if (request === 'pause') {
        options.onProgress?.({phase: 'paused', copied, estimate, throttled: 'paused by request', message: `paused by request: \`dbakit schema resume ${record.id}\` continues`})
        await sleep(500)
        continue
      }
      if (Date.now() - lastThrottleCheck > 1000) {
        lastThrottleCheck = Date.now()
        const reason = (await throttleReason(running)) ?? latency?.reason()
        if (reason) {
          options.onProgress?.({phase: 'throttled', copied, estimate, throttled: reason, message: `throttled: ${reason}`})
          await journal.progress(record.id, {copied, estimate, throttled: reason, lastKey: resumeFrom ? JSON.stringify(resumeFrom) : null})
          await sleep(500)
          lastThrottleCheck = 0
          continue
        }
      }
      const low = next ? range(next, '>') : undefined
      const [end] = await copy.query<Record<string, unknown>>(`SELECT ${keyList} FROM ${qualified(db, facts.table)}${low ? ` WHERE ${low.sql}` : ''} ORDER BY ${keyList} LIMIT 1 OFFSET ${size - 1}`, low?.args ?? [])
      const lower = next
      const upper = end ? keyColumns.map((c) => end[c]) : undefined
      const chunkSize = size
      const seq = sequence++
      const session = idle.pop()!
      const started = Date.now()
      const work = copyChunk(session, lower, upper).then(
        async (inserted) => {
          copied += upper ? chunkSize : inserted
          // Each chunk is sized from the last one's time, the work being shared by the workers.
          size = Math.round(Math.min(maxChunk, Math.max(100, chunkSize * Math.min(2, Math.max(0.5, target / Math.max(Date.now() - started, 1))))))
          finished.set(seq, upper)
          while (finished.has(firstUnfinished)) {
            resumeFrom = finished.get(firstUnfinished) ?? resumeFrom
            finished.delete(firstUnfinished++)
          }
          idle.push(session)
          await report()
        },
        (error: unknown) => {
          failure ??= error
          idle.push(session)
        },
      )
      const tracked: Promise<void> = work.finally(() => inFlight.delete(tracked))
      inFlight.add(tracked)
      if (!end) done = true
      else next = upper
    }
    await Promise.allSettled(inFlight)
    if (failure) throw failure
    await journal.progress(record.id, {phase: 'copied', copied, estimate, lastKey: resumeFrom ? JSON.stringify(resumeFrom) : null})
    return copied
  } finally {
    for (const worker of workers) await worker.close()
    await latency?.stop()
  }
}

/**
 * The application's latency, as far as dbakit can see it on a server whose performance_schema is
 * off: a one-row read by key on the table, four times a second, timed from here. Its p99 over the
 * last 10 s stands in for the foreground's; while it is above --max-p99, the copy waits.
 */
class LatencyProbe {
  private readonly samples: number[] = []
  private timer: NodeJS.Timeout | undefined
  private busy = false

  private readonly session: MysqlSession
  private readonly sql: string
  private readonly maxMs: number

  private constructor(session: MysqlSession, sql: string, maxMs: number) {
    this.session = session
    this.sql = sql
    this.maxMs = maxMs
  }

  static async start(target: ConnectionTarget, sql: string, maxMs: number): Promise<LatencyProbe> {
    const probe = new LatencyProbe(await openMysql(target), sql, maxMs)
    // A first few samples before the copy starts, so that its first check already has a p99.
    for (let i = 0; i < 4; i++) await probe.sample()
    probe.timer = setInterval(() => void probe.sample(), 250)
    return probe
  }

  private async sample(): Promise<void> {
    if (this.busy) return
    this.busy = true
    const started = process.hrtime.bigint()
    try {
      await this.session.query(this.sql)
      this.samples.push(Number(process.hrtime.bigint() - started) / 1e6)
      if (this.samples.length > 40) this.samples.shift()
    } catch {
      // A failed probe says nothing about latency; the copy's own errors are reported where they happen.
    } finally {
      this.busy = false
    }
  }

  p99(): number | undefined {
    if (this.samples.length < 4) return undefined
    const sorted = [...this.samples].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]
  }

  reason(): string | undefined {
    const p99 = this.p99()
    return p99 !== undefined && p99 > this.maxMs ? `probe p99 ${p99.toFixed(1)} ms > --max-p99 ${this.maxMs} ms` : undefined
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.session.close()
  }
}

/** Why the copy should wait now: too many running threads, or a replica too far behind. */
async function throttleReason(running: Running): Promise<string | undefined> {
  const {copy, options} = running
  const max = options.maxThreadsRunning ?? 25
  const [row] = await copy.query<{Value: string}>("SHOW GLOBAL STATUS LIKE 'Threads_running'")
  if (Number(row?.Value) > max) return `Threads_running ${row!.Value} > ${max}`
  if (options.replicas?.length && options.maxLagSeconds !== undefined) {
    const {probeServer} = await import('../connect/probe.ts')
    for (const replica of options.replicas) {
      const report = await probeServer(replica)
      const lag = report.replicaLagSeconds
      if (lag === null || lag === undefined) return `replica ${replica.label} reports no lag (replication stopped?)`
      if (lag > options.maxLagSeconds) return `replica ${replica.label} is ${lag} s behind (> ${options.maxLagSeconds} s)`
    }
  }
  return undefined
}

/**
 * Compares both tables in one consistent snapshot: the triggers write the shadow in the same
 * transaction as the original, so at any snapshot the two agree on every column the change keeps
 * as it was. A difference stops the change before the swap.
 */
async function checksumTables(running: Running): Promise<{rows: number; columns: string[]}> {
  const {copy, facts, names, mapping, options} = running
  options.onProgress?.({phase: 'checksum', message: 'checksumming the copy against the original'})
  const compared = mapping.pairs.filter((p) => p.sameType)
  const digest = (columns: string[]) => rowsDigest(columns.map((c) => ({name: c, float: isFloat(facts.columns, mapping.pairs.find((p) => p.old === c || p.new === c)!.old)})))
  await copy.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
  await copy.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
  try {
    const [a] = await copy.query<{n: string; x: string}>(`SELECT ${digest(compared.map((p) => p.old))} FROM ${qualified(facts.database, facts.table)}`)
    const [b] = await copy.query<{n: string; x: string}>(`SELECT ${digest(compared.map((p) => p.new))} FROM ${qualified(facts.database, names.new!)}`)
    if (String(a!.n) !== String(b!.n) || String(a!.x) !== String(b!.x)) {
      throw new DbakitError(ExitCode.stopped, 'CHECKSUM_MISMATCH', `the copy differs from ${facts.database}.${facts.table} (${a!.n} rows against ${b!.n}): the change stops before the swap`, {hint: `the original is untouched; report this, then dbakit schema abort ${running.record.id}`})
    }
    return {rows: Number(a!.n), columns: compared.map((p) => p.old)}
  } finally {
    await copy.query('COMMIT')
  }
}

/**
 * The swap, following docs/schema-change.md: empty placeholders named `old` and `ph`, reverse
 * triggers from the shadow to the placeholder `old`, then one RENAME of four pairs, tried with
 * NOWAIT every few milliseconds so that no application query ever queues behind it. Until it
 * succeeds nothing has moved; if it never does, the extra triggers and placeholders go again and
 * the change stays copied and in sync, to be cut over later.
 */
async function cutOver(running: Running): Promise<{attempts: number; milliseconds: number}> {
  const {ddl, journal, record, names, facts, options} = running
  const db = facts.database
  await journal.transition(record.id, 'cutting-over', 'placing the reverse triggers and swapping the tables')
  options.onProgress?.({phase: 'cut-over', message: 'cutting over'})
  const reverse = reverseTriggers(running, names.new!)
  const deadline = Date.now() + (options.cutoverTimeoutMs ?? DEFAULT_CUTOVER_TIMEOUT_MS)
  const undo = async () => {
    for (const name of reverse.drop) await withoutQueueing(ddl, `DROP TRIGGER IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
    await ddl.query(`DROP TABLE IF EXISTS ${qualified(db, names.old!)}, ${qualified(db, names.placeholder!)}`)
    await journal.transition(record.id, 'copied', 'cut-over given up; the copy stays in sync')
  }
  try {
    await ddl.query(`CREATE TABLE IF NOT EXISTS ${qualified(db, names.old!)} LIKE ${qualified(db, facts.table)}`)
    await ddl.query(`CREATE TABLE IF NOT EXISTS ${qualified(db, names.placeholder!)} LIKE ${qualified(db, names.new!)}`)
    await withoutStrictMode(ddl, async () => {
      for (const trigger of reverse.create) {
        if (!(await triggerExists(ddl, db, trigger.name))) await withoutQueueing(ddl, trigger.sql, {deadline})
      }
    })
    const began = Date.now()
    const nowait = ddl.identity.flavor === 'mariadb' ? ' NOWAIT' : ''
    const {attempts} = await withoutQueueing(ddl, `RENAME TABLE ${qualified(db, names.old!)}${nowait} TO ${qualified(db, names.gone!)}, ${qualified(db, facts.table)} TO ${qualified(db, names.old!)}, ${qualified(db, names.new!)} TO ${qualified(db, facts.table)}, ${qualified(db, names.placeholder!)} TO ${qualified(db, names.new!)}`, {deadline, ...(options.signal ? {signal: options.signal} : {})})
    const milliseconds = Date.now() - began
    await journal.event(record.id, 'cutting-over', `tables swapped after ${attempts} attempt(s) in ${milliseconds} ms`)
    await afterSwap(running)
    return {attempts, milliseconds}
  } catch (error) {
    if (await tableExists(ddl, db, names.gone!)) throw error
    await undo().catch(() => {})
    throw await lockFailure(ddl, error, `the cut-over of ${db}.${facts.table}`, `the change stays copied and in sync: retry with dbakit schema cutover ${record.id}, or abort it`)
  }
}

/** After the swap: the forward triggers now sit on the original (renamed `old`) and write into the placeholder; they go, with both placeholders. */
async function afterSwap(running: Running): Promise<void> {
  const {ddl, names, facts} = running
  const db = facts.database
  for (const name of forwardTriggers(running).drop) await withoutQueueing(ddl, `DROP TRIGGER IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
  await withoutQueueing(ddl, `DROP TABLE IF EXISTS ${qualified(db, names.new!)}, ${qualified(db, names.gone!)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
}

/** A process that died during the cut-over: the rename happened or did not; finish whichever it was. */
async function reconcileCutover(running: Running): Promise<void> {
  const {ddl, journal, record, names, facts} = running
  if (await tableExists(ddl, facts.database, names.gone!)) {
    await afterSwap(running)
    const window = running.options.revertWindowMs ? new Date(Date.now() + running.options.revertWindowMs) : null
    if (window) await journal.transition(record.id, 'revert-window', `resumed after the swap; the original is kept in sync as ${names.old} until ${window.toISOString()}`, {revertUntil: window})
    else await finish(running)
    return
  }
  if (await triggerExists(ddl, facts.database, names.reverseDelete!)) {
    for (const name of reverseTriggers(running, names.new!).drop) await withoutQueueing(ddl, `DROP TRIGGER IF EXISTS ${qualified(facts.database, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
  }
  await ddl.query(`DROP TABLE IF EXISTS ${qualified(facts.database, names.old!)}, ${qualified(facts.database, names.placeholder!)}`)
  await journal.transition(record.id, 'copied', 'resumed before the swap: cutting over again')
}

/** Ends the revert window: the reverse triggers first (they sit on the live table), then the original. */
async function finish(running: Pick<Running, 'ddl' | 'journal' | 'record' | 'names' | 'facts'>): Promise<void> {
  const {ddl, journal, record, names, facts} = running
  const db = facts.database
  for (const name of [names.reverseInsert!, names.reverseUpdate!, names.reverseDelete!]) await withoutQueueing(ddl, `DROP TRIGGER IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
  await withoutQueueing(ddl, `DROP TABLE IF EXISTS ${qualified(db, names.old!)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
  await journal.transition(record.id, 'done', 'done; the original table and the reverse triggers are dropped', {revertUntil: null})
}

async function abortRunning(running: Running): Promise<ChangeResult> {
  await dropCopyArtifacts(running.ddl, running.facts.database, running.names)
  await running.journal.transition(running.record.id, 'aborted', 'aborted by request; the original table is untouched')
  await running.journal.request(running.record.id, null)
  return result(running, await running.journal.require(running.record.id))
}

/** Drops a copy-path change's triggers and shadow; a native change has none, so nothing happens. */
async function dropCopyArtifacts(ddl: MysqlSession, db: string, names: Record<string, string>): Promise<void> {
  for (const name of [names.forwardInsert, names.forwardUpdate, names.forwardDelete, names.reverseInsert, names.reverseUpdate, names.reverseDelete]) {
    if (name) await withoutQueueing(ddl, `DROP TRIGGER IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
  }
  const tables = [names.new, names.placeholder].filter((name): name is string => name !== undefined)
  if (tables.length > 0) await withoutQueueing(ddl, `DROP TABLE IF EXISTS ${tables.map((name) => qualified(db, name)).join(', ')}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
}

/** A change that failed before the swap leaves the original as it was: its triggers and shadow go. */
async function failChange(running: Running, error: unknown): Promise<void> {
  const {ddl, journal, record, names, facts} = running
  const state = (await journal.get(record.id).catch(() => undefined))?.state
  if (state === 'revert-window' || state === 'done' || state === 'aborted') return
  if (state === 'copied' && error instanceof DbakitError && error.code === 'LOCKED') return
  if (await tableExists(ddl, facts.database, names.gone!).catch(() => true)) return
  await dropCopyArtifacts(ddl, facts.database, names).catch(() => {})
  await journal.transition(record.id, 'failed', `failed: ${(error as Error).message}; the original table is untouched and the shadow is dropped`, {error: (error as Error).message}).catch(() => {})
}

/** Control from another terminal: pause, resume, cutover and abort requests, and the state of every change. */
export async function controlChange(target: ConnectionTarget, id: number, request: 'pause' | 'resume' | 'cutover' | 'abort', options: {dryRun?: boolean} = {}): Promise<{record: ChangeRecord; applied: string}> {
  const session = await openMysql(target)
  try {
    await prepareSession(session, 'ddl')
    const journal = new Journal(session)
    const record = await journal.require(id)
    const running = await isRunning(session, id)
    const allowed: Record<typeof request, string[]> = {pause: ['capturing', 'copying'], resume: ['capturing', 'copying'], cutover: ['copied'], abort: ['started', 'capturing', 'copying', 'copied']}
    if (!allowed[request].includes(record.state)) {
      throw usageError('CHANGE_STATE', `change ${id} is ${record.state}: ${request} applies only while it is ${allowed[request].join(' or ')}`, {hint: record.state === 'revert-window' ? `dbakit schema rollback ${id} or schema cleanup ${id}` : `see dbakit schema status ${id}`})
    }
    if (options.dryRun) return {record, applied: `would ${request} change ${id}${running ? '' : ' (no process is running it)'}`}
    if (running) {
      await journal.request(id, request === 'resume' ? null : request)
      return {record: await journal.require(id), applied: `asked the running change to ${request}`}
    }
    if (request === 'abort') {
      await dropCopyArtifacts(session, record.database, record.artifacts)
      await journal.transition(id, 'aborted', 'aborted (no process was running it); the original table is untouched')
      return {record: await journal.require(id), applied: 'aborted'}
    }
    throw usageError('CHANGE_NOT_RUNNING', `no dbakit process is running change ${id}`, {hint: `continue it with dbakit schema resume ${id}${request === 'cutover' ? ' (it cuts over when the copy is done)' : ''}, or abort it`})
  } finally {
    await session.close()
  }
}

async function isRunning(session: MysqlSession, id: number): Promise<boolean> {
  const [row] = await session.query<{free: number | string | null}>('SELECT IS_FREE_LOCK(?) AS free', [changeLockName(id)])
  return Number(row?.free) !== 1
}

/** Rollback within the revert window: one more atomic swap, the original (with every write since) back in place. */
export async function rollbackChange(target: ConnectionTarget, id: number, options: {dryRun?: boolean; timeoutMs?: number} = {}): Promise<{record: ChangeRecord; attempts?: number; milliseconds?: number}> {
  const session = await openMysql(target)
  try {
    await prepareSession(session, 'ddl')
    const journal = new Journal(session)
    const record = await journal.require(id)
    if (record.state !== 'revert-window') {
      throw usageError('ROLLBACK_UNAVAILABLE', `change ${id} is ${record.state}: rollback needs a change in its revert window`, {hint: record.method !== 'copy' ? 'a native change is undone with the opposite ALTER' : `see dbakit schema status ${id}`})
    }
    if (options.dryRun) return {record}
    const db = record.database
    const names = record.artifacts
    await session.query(`CREATE TABLE IF NOT EXISTS ${qualified(db, names.placeholder!)} LIKE ${qualified(db, names.old!)}`)
    const nowait = session.identity.flavor === 'mariadb' ? ' NOWAIT' : ''
    const began = Date.now()
    let attempts: number
    try {
      ;({attempts} = await withoutQueueing(session, `RENAME TABLE ${qualified(db, record.table)}${nowait} TO ${qualified(db, names.new!)}, ${qualified(db, names.old!)} TO ${qualified(db, record.table)}, ${qualified(db, names.placeholder!)} TO ${qualified(db, names.old!)}`, {deadline: Date.now() + (options.timeoutMs ?? DEFAULT_CUTOVER_TIMEOUT_MS)}))
    } catch (error) {
      await session.query(`DROP TABLE IF EXISTS ${qualified(db, names.placeholder!)}`).catch(() => {})
      throw await lockFailure(session, error, `the rollback swap of ${db}.${record.table}`, 'nothing moved: the new table is still in place and the revert window open; try again')
    }
    const milliseconds = Date.now() - began
    for (const name of [names.reverseInsert!, names.reverseUpdate!, names.reverseDelete!]) await withoutQueueing(session, `DROP TRIGGER IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
    await withoutQueueing(session, `DROP TABLE IF EXISTS ${qualified(db, names.new!)}, ${qualified(db, names.old!)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
    await journal.transition(id, 'rolled-back', `rolled back after ${attempts} attempt(s) in ${milliseconds} ms; the original definition is back with every write made since the cut-over`, {revertUntil: null})
    return {record: await journal.require(id), attempts, milliseconds}
  } finally {
    await session.close()
  }
}

/** Ends a revert window now (the original is dropped), or removes what a failed or aborted change left. */
export async function cleanupChange(target: ConnectionTarget, id: number, options: {dryRun?: boolean} = {}): Promise<{record: ChangeRecord; dropped: string[]}> {
  const session = await openMysql(target)
  try {
    await prepareSession(session, 'ddl')
    const journal = new Journal(session)
    const record = await journal.require(id)
    const db = record.database
    const names = record.artifacts
    const present = [] as string[]
    for (const key of ['new', 'old', 'placeholder', 'gone']) if (names[key] && (await tableExists(session, db, names[key]!))) present.push(names[key]!)
    if (record.state === 'revert-window') {
      if (options.dryRun) return {record, dropped: [names.old!, names.reverseInsert!, names.reverseUpdate!, names.reverseDelete!]}
      await finish({ddl: session, journal, record, names, facts: {database: db} as TableFacts})
      return {record: await journal.require(id), dropped: [names.old!]}
    }
    if (!['failed', 'aborted', 'done', 'rolled-back'].includes(record.state)) {
      throw usageError('CHANGE_STATE', `change ${id} is ${record.state}: clean up applies once it has ended or is in its revert window`, {hint: `abort it first: dbakit schema abort ${id}`})
    }
    if (await isRunning(session, id)) throw usageError('CHANGE_RUNNING', `change ${id} is still held by a dbakit process`, {hint: 'wait for it to end'})
    // Only leftovers that are not the live table: after a rollback `new` and `old` are ours, never the table itself.
    const droppable = present.filter((name) => name !== record.table)
    if (options.dryRun) return {record, dropped: droppable}
    await dropCopyArtifacts(session, db, names)
    for (const name of droppable) await withoutQueueing(session, `DROP TABLE IF EXISTS ${qualified(db, name)}`, {deadline: Date.now() + DDL_TIMEOUT_MS})
    await journal.event(id, record.state, `cleaned up: ${droppable.join(', ') || 'nothing was left'}`)
    return {record, dropped: droppable}
  } finally {
    await session.close()
  }
}

export async function changeStatus(target: ConnectionTarget, id?: number): Promise<{changes: ChangeRecord[]; events?: Awaited<ReturnType<Journal['events']>>; running?: boolean}> {
  const session = await openMysql(target)
  try {
    if (!(await tableExists(session, STATE_DATABASE, 'schema_changes'))) return {changes: []}
    const journal = new Journal(session)
    if (id === undefined) return {changes: await journal.list()}
    const record = await journal.require(id)
    return {changes: [record], events: await journal.events(id), running: await isRunning(session, id)}
  } finally {
    await session.close()
  }
}

async function tableExists(session: MysqlSession, database: string, table: string): Promise<boolean> {
  const rows = await session.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table])
  return rows.length > 0
}

async function triggerExists(session: MysqlSession, database: string, name: string): Promise<boolean> {
  const rows = await session.query('SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?', [database, name])
  return rows.length > 0
}

/**
 * A DDL that could not take its locks in time: the sessions with long-open transactions are the
 * usual holders, so they are named (id, user, host, seconds, statement) for the DBA to look at.
 */
async function lockFailure(session: MysqlSession, error: unknown, what: string, after = 'nothing was changed'): Promise<Error> {
  const errno = errnoOf(error)
  const refused = permissionError(error, what)
  if (refused !== error) return refused
  if (errno !== 1205 && errno !== 1213) return error as Error
  const holders = await session
    .query<{id: string; user: string; host: string; time: string; info: string | null}>(
      "SELECT p.ID AS id, p.USER AS user, p.HOST AS host, p.TIME AS time, p.INFO AS info FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE t.trx_started < NOW() - INTERVAL 1 SECOND ORDER BY t.trx_started LIMIT 5",
    )
    .catch(() => [])
  const named = holders.map((h) => `session ${h.id} (${h.user}@${h.host}, open ${h.time} s${h.info ? `: ${h.info.slice(0, 80)}` : ''})`).join('; ')
  return new DbakitError(ExitCode.stopped, 'LOCKED', `${what} could not take its metadata locks without making the application wait${named ? `; long-open transactions: ${named}` : ''}`, {hint: after})
}

/** A grant the account lacks, named by the server's message, with every grant a change needs. */
export const permissionError = (error: unknown, what?: string): Error =>
  permissionFailure(error, 'grant the account ALTER, CREATE, DROP, INSERT, UPDATE, DELETE, SELECT and TRIGGER on the database, PROCESS (to name blocking sessions), and ALL on dbakit_state', what) as Error

/** Ends every revert window whose time has passed (for a cron job, or before a new change). */
export async function cleanupExpired(target: ConnectionTarget, options: {dryRun?: boolean} = {}): Promise<Array<{record: ChangeRecord; dropped: string[]}>> {
  const session = await openMysql(target)
  let expired: ChangeRecord[]
  try {
    if (!(await tableExists(session, STATE_DATABASE, 'schema_changes'))) return []
    expired = await new Journal(session).expired()
  } finally {
    await session.close()
  }
  const done = []
  for (const record of expired) done.push(await cleanupChange(target, record.id, options))
  return done
}

const isFloat = (columns: ColumnInfo[], name: string) => isFloatType(columns.find((c) => c.name === name)?.type ?? '')

const asSqlValue = (value: unknown) => (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) ? JSON.stringify(value) : value)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
