import {formatBytes, formatCount, shellQuote, shellWord} from '../../core/text.ts'
import {hasCapability} from '../../connect/capabilities.ts'
import {
  classifyAlter,
  readCreateTable,
  readSetAssignments,
  readTableChanges,
  tableKey,
  tokensText,
  unwrapSetStatement,
  type AlterClassification,
  type Assignment,
  type ClauseClassification,
  type TableChange,
} from '../../sql/ddl.ts'
import {isWord, type Token} from '../../sql/lexer.ts'
import {qualifiedLabel, readQualifiedName, splitTopLevel, type QualifiedName} from '../../sql/tokens.ts'
import type {AuditStatement, Level, Rule, RuleContext, RuleHit, TableInfo, Thresholds} from '../types.ts'

/*
 * Locking rules: how long an ALTER (or CREATE/DROP INDEX, OPTIMIZE TABLE) keeps a table busy and
 * whether it blocks writes meanwhile, from the online-DDL classification in sql/ddl.ts and, when a
 * schema is known, the table's size.
 */

const FOREIGN_KEY_CHECKS = 'locking:foreign_key_checks'
const LOCK_WAIT_TIMEOUT = 'locking:lock_wait_timeout'
const ALTERS_SEEN = 'locking:alters'
const METADATA_WAIT_REPORTED = 'locking:metadata-wait-reported'

/** A lock_wait_timeout at or below this (seconds) bounds the metadata-lock queue well enough. */
const BOUNDED_LOCK_WAIT = 60


function sessionValueIsOff(value: Token[]): boolean | undefined {
  const [token] = value
  if (value.length !== 1 || !token) return undefined
  if (token.type === 'number') return Number(token.text) === 0
  if (isWord(token, 'OFF', 'FALSE')) return true
  if (isWord(token, 'ON', 'TRUE', 'DEFAULT')) return false
  if (token.type === 'string') return token.value.toUpperCase() === 'OFF' || token.value === '0'
  return undefined
}

function applySettings(context: RuleContext, settings: Assignment[]): void {
  for (const setting of settings) {
    if (setting.scope === 'GLOBAL' || setting.scope === 'PERSIST' || setting.scope === 'PERSIST_ONLY') continue
    if (setting.name === 'foreign_key_checks') {
      // A value dbakit cannot read (e.g. @OLD_FOREIGN_KEY_CHECKS) counts as checks on: the costlier case.
      context.file.memo.set(FOREIGN_KEY_CHECKS, sessionValueIsOff(setting.value) !== true)
    }
    if (setting.name === 'lock_wait_timeout') {
      const value = setting.value[0]
      context.file.memo.set(LOCK_WAIT_TIMEOUT, setting.value.length === 1 && value?.type === 'number' ? Number(value.text) : undefined)
    }
  }
}

/**
 * Records what later statements of the file depend on: tables this file creates (new and empty,
 * so locking does not matter for them) and session settings. Every rule that consults the file
 * state calls it first; it is idempotent.
 */
export function observe(context: RuleContext): void {
  const tokens = context.statement.tokens
  const create = readCreateTable(tokens)
  // CREATE TABLE IF NOT EXISTS of a table the server already has creates nothing.
  if (create && !(create.ifNotExists && context.schema?.table(create.table.name, create.table.schema))) {
    context.file.createdTables.add(tableKey(create.table))
  }
  applySettings(context, readSetAssignments(tokens))
}

/** True when the table was created earlier in this file: new and empty, nobody else uses it yet. */
export function tableIsNew(context: RuleContext, table: QualifiedName): boolean {
  return context.file.createdTables.has(tableKey(table))
}

/** The rules, each recording the file state (observe) from every statement, whatever it reports on. */
export function observing(rules: Rule[]): Rule[] {
  return rules.map((rule) => ({...rule, observe}))
}

interface TableSize {
  rows?: number
  bytes?: number
  /** Undefined when the size is unknown. */
  big?: boolean
}

export function tableSize(info: TableInfo | undefined, thresholds: Thresholds): TableSize {
  const rows = info?.stats?.rows
  const bytes = info?.stats?.dataBytes
  if (rows === undefined && bytes === undefined) return {}
  const size: TableSize = {big: (rows ?? 0) >= thresholds.bigTableRows || (bytes ?? 0) >= thresholds.bigTableBytes}
  if (rows !== undefined) size.rows = rows
  if (bytes !== undefined) size.bytes = bytes
  return size
}

function formatDuration(seconds: number): string {
  if (seconds < 1) return 'under a second'
  if (seconds < 90) return `about ${Math.round(seconds)} s`
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`
  const hours = Math.floor(seconds / 3600)
  const minutes = Math.round((seconds - hours * 3600) / 60)
  return minutes > 0 ? `about ${hours} h ${minutes} min` : `about ${hours} h`
}

/** " (12 GiB, 35,000,000 rows; about 4 min to copy at 50 MiB/s)", or "" when the size is unknown. */
function sizeText(size: TableSize, thresholds: Thresholds, verb = 'copy'): string {
  const parts: string[] = []
  if (size.bytes !== undefined) parts.push(formatBytes(size.bytes))
  if (size.rows !== undefined) parts.push(`${formatCount(size.rows)} rows`)
  if (parts.length === 0) return ''
  const estimate =
    size.bytes !== undefined && thresholds.copyBytesPerSecond > 0
      ? `; ${formatDuration(size.bytes / thresholds.copyBytesPerSecond)} to ${verb} at ${formatBytes(thresholds.copyBytesPerSecond)}/s`
      : ''
  return ` (${parts.join(', ')}${estimate})`
}


/**
 * What to run instead: `dbakit schema change` with the ALTER as written, on the audited server
 * when the audit had one (--profile PROFILE otherwise), which copies the table in the background
 * and swaps it in without blocking, or runs it natively when the server can. `database` fills in
 * a table the statement does not qualify (the live or snapshot schema's); DB otherwise.
 */
export function onlineChangeHint(change: TableChange, database = change.table.schema, connection = '--profile PROFILE'): string {
  // OPTIMIZE's rebuild is spelled as an ALTER.
  const alter = shellQuote(change.statement === 'OPTIMIZE TABLE' ? 'ENGINE=InnoDB' : change.alterText)
  const table = shellWord(`${database ?? 'DB'}.${change.table.name}`)
  return `run it as an online schema change instead: dbakit schema change ${connection} --table ${table} --alter ${alter} (dbakit schema plan with the same flags says how it would run, and what it risks)`
}

interface Analysis {
  change: TableChange
  classification: AlterClassification
  info?: TableInfo
  isNew: boolean
  size: TableSize
}

/**
 * Several rules analyse the same statement; the result is kept on the statement itself, so it goes
 * when the statement does (a WeakMap's entries wait for a full collection).
 */
const ANALYSES = Symbol('locking analyses')

/** The statement's table changes, classified for the target, with what is known of each table. */
function analyse(context: RuleContext): Analysis[] {
  const holder = context.statement as AuditStatement & {[ANALYSES]?: Analysis[]}
  const cached = holder[ANALYSES]
  if (cached) return cached
  const {tokens, settings} = unwrapSetStatement(context.statement.tokens)
  const statementChecks = settings.find((s) => s.name === 'foreign_key_checks')
  const fileChecks = context.file.memo.get(FOREIGN_KEY_CHECKS)
  const foreignKeyChecks = statementChecks ? sessionValueIsOff(statementChecks.value) !== true : fileChecks !== false
  const result = readTableChanges(tokens).map((change) => {
    const info = context.schema?.table(change.table.name, change.table.schema)
    const classification = classifyAlter(change.clauses, context.target, {foreignKeyChecks, ...(info ? {table: info} : {})})
    return {change, classification, isNew: tableIsNew(context, change.table), size: tableSize(info, context.thresholds), ...(info ? {info} : {})}
  })
  holder[ANALYSES] = result
  return result
}

const what = (change: TableChange) => (change.statement === 'ALTER TABLE' || change.statement === 'OPTIMIZE TABLE' ? `${change.statement} ${qualifiedLabel(change.table)}` : `${change.statement} on ${qualifiedLabel(change.table)}`)

/** The clause to point at: the first one with the statement's worst algorithm. */
function worstClause(classification: AlterClassification): ClauseClassification | undefined {
  return classification.clauses.find((c) => c.algorithm === classification.algorithm && c.rebuild === classification.rebuild) ?? classification.clauses[0]
}

const copyAlter: Rule = {
  id: 'locking-copy-alter',
  family: 'locking',
  level: 'warning',
  kinds: ['ALTER', 'CREATE', 'DROP', 'OPTIMIZE', 'SET'],
  summary: 'ALTER that the server runs with ALGORITHM=COPY, blocking writes for the whole copy',
  rationale:
    'With the COPY algorithm the server builds a new table row by row while the original is locked against writes, so every INSERT, UPDATE and DELETE on it waits until the copy ends, which takes minutes to hours on a large table. Replicas then replay the same copy and fall behind by as long.',
  bad: 'ALTER TABLE orders MODIFY amount DECIMAL(12,2) NOT NULL',
  good: 'ALTER TABLE orders ADD COLUMN note VARCHAR(200) NULL',
  fix: 'Run it with `dbakit schema change`, which copies the table in the background and swaps it in without blocking, or split it so each part is INSTANT or INPLACE.',
  check(context) {
    const hits: RuleHit[] = []
    for (const {change, classification, isNew, size, info} of analyse(context)) {
      if (isNew || classification.algorithm !== 'COPY' || classification.refused) continue
      const table = qualifiedLabel(change.table)
      const verb = classification.certain ? 'copies' : 'may copy'
      hits.push({
        at: worstClause(classification)?.clause.at ?? change.clauses[0]?.at,
        message: `${what(change)} ${verb} the whole table (ALGORITHM=COPY): ${classification.reason}; writes to ${table} are blocked until it finishes${sizeText(size, context.thresholds)}`,
        hint: onlineChangeHint(change, change.table.schema ?? info?.schema, context.connection),
        ...(size.big ? {level: 'error' as Level} : {}),
      })
    }
    return hits
  },
}

const tableRebuild: Rule = {
  id: 'locking-table-rebuild',
  family: 'locking',
  level: 'warning',
  kinds: ['ALTER', 'CREATE', 'DROP', 'OPTIMIZE', 'SET'],
  summary: 'ALTER that rebuilds a large table in place (INPLACE with a table rebuild)',
  rationale:
    'An in-place rebuild lets writes continue, but it still reads and rewrites every row and index: hours of I/O on a large table, a temporary copy on disk, and an online-DDL log that fails the ALTER if too many writes arrive meanwhile. Replicas apply it as one long statement, so they lag by its whole duration.',
  bad: 'ALTER TABLE orders ADD PRIMARY KEY (id)',
  good: 'ALTER TABLE orders ADD INDEX idx_orders_created (created_at)',
  fix: 'Schedule it for a quiet period, or run it with `dbakit schema change`, which throttles on replica lag.',
  check(context) {
    const hits: RuleHit[] = []
    for (const {change, classification, isNew, size, info} of analyse(context)) {
      // A rebuild that also blocks writes is reported by locking-blocks-writes.
      if (isNew || classification.algorithm !== 'INPLACE' || !classification.rebuild || classification.blocksWrites || classification.refused || size.big === false) continue
      hits.push({
        at: worstClause(classification)?.clause.at ?? change.clauses[0]?.at,
        message: `${what(change)} rebuilds the table in place: ${classification.reason}. Writes continue, but every row is rewritten and replicas lag for as long${sizeText(size, context.thresholds, 'rebuild')}`,
        hint: onlineChangeHint(change, change.table.schema ?? info?.schema, context.connection),
        // The cost grows with the table: without its size this is only worth a notice.
        ...(size.big === undefined ? {level: 'notice' as Level} : {}),
      })
    }
    return hits
  },
}

const blocksWrites: Rule = {
  id: 'locking-blocks-writes',
  family: 'locking',
  level: 'warning',
  kinds: ['ALTER', 'CREATE', 'DROP', 'OPTIMIZE', 'SET'],
  summary: 'In-place change that still blocks writes while it scans the table (FULLTEXT/SPATIAL index, AUTO_INCREMENT column, partition reorganisation)',
  rationale:
    'Some in-place operations need LOCK=SHARED: reads go on, but every write waits until the whole table has been scanned or rewritten. Adding a FULLTEXT or SPATIAL index, adding an AUTO_INCREMENT column and reorganising partitions are the usual cases, and they are easy to mistake for harmless online DDL.',
  bad: 'ALTER TABLE articles ADD FULLTEXT INDEX ft_body (body)',
  good: 'ALTER TABLE articles ADD INDEX idx_title (title)',
  fix: 'Run it in a maintenance window, or with `dbakit schema change`.',
  check(context) {
    const hits: RuleHit[] = []
    for (const {change, classification, isNew, size, info} of analyse(context)) {
      if (isNew || classification.refused) continue
      for (const clause of classification.clauses) {
        if (clause.algorithm === 'COPY' || !clause.blocksWrites || !clause.scansTable) continue
        hits.push({
          at: clause.clause.at,
          message: `${tokensText(clause.clause.tokens.slice(0, 4))}... blocks writes to ${qualifiedLabel(change.table)} while it runs (LOCK=${clause.lock}): ${clause.reason}${sizeText(size, context.thresholds, 'scan')}`,
          hint: onlineChangeHint(change, change.table.schema ?? info?.schema, context.connection),
          ...(size.big ? {level: 'error' as Level} : {}),
        })
      }
    }
    return hits
  },
}

const algorithmRefused: Rule = {
  id: 'locking-algorithm-refused',
  family: 'locking',
  level: 'error',
  kinds: ['ALTER', 'CREATE', 'DROP', 'SET'],
  summary: 'ALGORITHM= or LOCK= that the server cannot honour for this change, so the statement fails',
  rationale:
    'ALGORITHM=INSTANT/INPLACE and LOCK=NONE are assertions: when the change cannot be done that way the server rejects the statement instead of running it differently. That is the safe outcome, but a migration that stops halfway is still an incident, so it is better caught before it runs.',
  bad: 'ALTER TABLE orders ADD INDEX idx_orders_status (status), ALGORITHM=INSTANT',
  good: 'ALTER TABLE orders ADD COLUMN note VARCHAR(200) NULL, ALGORITHM=INSTANT',
  fix: 'Drop the assertion and run the change with `dbakit schema change`, or change it into something the server can do online.',
  check(context) {
    const hits: RuleHit[] = []
    for (const {change, classification} of analyse(context)) {
      if (!classification.refused) continue
      const option = change.clauses.filter((c) => c.kind === 'algorithm' || c.kind === 'lock').find((c) => classification.refused!.includes(`${c.option}=`)) ?? change.clauses.find((c) => c.kind === 'algorithm')
      hits.push({at: option?.at ?? change.clauses[0]?.at, message: `${what(change)} will be rejected by the server: ${classification.refused}`})
    }
    return hits
  },
}

/** Table-rewriting ALTERs seen so far on one table of the file. */
interface HeavyAlters {
  count: number
  firstLine: number
  /** Their clauses as written, for the merged statement in the hint; dropped once it grows too long. */
  clauses?: string[]
  clausesLength: number
}

/**
 * Past this many characters of clauses the hint names the lines instead of spelling out the merged
 * statement: a file with hundreds of ALTERs on one table would otherwise repeat ever longer
 * statements in every finding (quadratic report size).
 */
const MERGED_HINT_MAX_CHARS = 400

const mergeAlters: Rule = {
  id: 'locking-merge-alters',
  family: 'locking',
  level: 'notice',
  kinds: ['ALTER', 'CREATE', 'DROP', 'SET'],
  summary: 'Several table-rewriting ALTERs on the same table in one file',
  rationale:
    'Each ALTER that rebuilds a table or builds an index reads the whole table again, and each waits for its own metadata lock. Two rebuilds in a row double the I/O, the replica lag and the number of chances to queue behind a long transaction; one ALTER with all the clauses does the work once.',
  bad: 'ALTER TABLE orders ADD INDEX idx_a (a);\nALTER TABLE orders ADD INDEX idx_b (b);',
  good: 'ALTER TABLE orders ADD INDEX idx_a (a), ADD INDEX idx_b (b);',
  fix: 'Merge the changes into one ALTER TABLE; keep INSTANT-only changes (ADD COLUMN at the end) in their own statement, since combining them with a rebuild makes them rebuild too.',
  check(context) {
    const hits: RuleHit[] = []
    let seen = context.file.memo.get(ALTERS_SEEN) as Map<string, HeavyAlters> | undefined
    if (!seen) {
      seen = new Map()
      context.file.memo.set(ALTERS_SEEN, seen)
    }
    for (const {change, classification, isNew, size} of analyse(context)) {
      if (isNew || change.statement === 'OPTIMIZE TABLE' || classification.refused || !classification.scansTable) continue
      const key = tableKey(change.table)
      const line = context.statement.line
      const clauses = change.clauses.map((clause) => tokensText(clause.tokens))
      const clausesLength = clauses.reduce((sum, clause) => sum + clause.length + 2, 0)
      const earlier = seen.get(key)
      if (!earlier) {
        seen.set(key, {count: 1, firstLine: line, clauses, clausesLength})
        continue
      }
      earlier.count++
      earlier.clausesLength += clausesLength
      if (earlier.clauses && earlier.clausesLength <= MERGED_HINT_MAX_CHARS) earlier.clauses.push(...clauses)
      else delete earlier.clauses
      const table = qualifiedLabel(change.table)
      hits.push({
        at: change.clauses[0]?.at,
        message: `this is table-rewriting ALTER number ${earlier.count} on ${table} in this file (the first is at line ${earlier.firstLine}): each one scans the table again`,
        hint: earlier.clauses
          ? `merge them into one statement: ALTER TABLE ${table} ${earlier.clauses.join(', ')};`
          : `merge the ${earlier.count} table-rewriting ALTERs on ${table} (lines ${earlier.firstLine}${earlier.count > 2 ? ', …, ' : ', '}${line}) into one ALTER TABLE ${table} with all their clauses`,
        ...(size.big ? {level: 'warning' as Level} : {}),
      })
    }
    return hits
  },
}

/** The ALGORITHM/LOCK assertion to suggest for a statement classified this way. */
function suggestedAssertion(change: TableChange, classification: AlterClassification, context: RuleContext): string {
  const separator = change.statement === 'ALTER TABLE' ? ', ' : ' '
  // MySQL rejects any LOCK= together with ALGORITHM=INSTANT (error 1221).
  if (classification.algorithm === 'INSTANT') return context.target.flavor === 'mysql' ? 'ALGORITHM=INSTANT' : `ALGORITHM=INSTANT${separator}LOCK=NONE`
  return `ALGORITHM=INPLACE${separator}LOCK=NONE`
}

const missingAlgorithmLock: Rule = {
  id: 'locking-missing-algorithm-lock',
  family: 'locking',
  level: 'notice',
  needsSchema: true,
  kinds: ['ALTER', 'CREATE', 'SET'],
  summary: 'ALTER on a large table without ALGORITHM= / LOCK= assertions',
  rationale:
    'Without ALGORITHM= and LOCK= the server silently picks whatever works, including a blocking table copy when the change cannot be done online on this version or table. Stating ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE turns that surprise into an immediate error, before any lock is taken.',
  bad: 'ALTER TABLE orders ADD INDEX idx_orders_status (status)',
  good: 'ALTER TABLE orders ADD INDEX idx_orders_status (status), ALGORITHM=INPLACE, LOCK=NONE',
  fix: 'Append ALGORITHM=INSTANT (or ALGORITHM=INPLACE, LOCK=NONE) so the server refuses instead of silently copying.',
  check(context) {
    const hits: RuleHit[] = []
    for (const {change, classification, isNew, size, info} of analyse(context)) {
      if (isNew || !size.big || (change.statement !== 'ALTER TABLE' && change.statement !== 'CREATE INDEX')) continue
      if (change.clauses.some((c) => c.kind === 'algorithm' || c.kind === 'lock')) continue
      const assertion = suggestedAssertion(change, classification, context)
      const copyNote = classification.algorithm === 'COPY' ? ` (this change needs a copy today, so the server would refuse it: ${onlineChangeHint(change, change.table.schema ?? info?.schema, context.connection)})` : ''
      hits.push({
        at: change.clauses[0]?.at,
        message: `${what(change)}${sizeText(size, context.thresholds)} states no ALGORITHM= or LOCK=: if it cannot run online, the server silently falls back to a blocking copy`,
        hint: `append ${assertion} so the server refuses instead of silently locking the table${copyNote}`,
      })
    }
    return hits
  },
}

const columnPosition: Rule = {
  id: 'locking-column-position',
  family: 'locking',
  level: 'notice',
  kinds: ['ALTER', 'SET'],
  summary: 'Column placed with FIRST/AFTER where that turns an instant change into a table rebuild',
  rationale:
    'Adding a column at the end is INSTANT from MySQL 8.0.12 and MariaDB 10.3.2, but placing it with FIRST or AFTER needs MySQL 8.0.29 or MariaDB 10.4; on older servers the same ALTER rebuilds the whole table. On MySQL, moving an existing column with MODIFY/CHANGE ... FIRST/AFTER always rebuilds it.',
  bad: 'ALTER TABLE orders MODIFY note VARCHAR(200) NULL AFTER id',
  good: 'ALTER TABLE orders MODIFY note VARCHAR(200) NULL',
  fix: 'Leave the column where the server puts it (column order rarely matters: name the columns in SELECT and INSERT).',
  check(context) {
    const hits: RuleHit[] = []
    const server = {flavor: context.target.flavor, version: context.target.version}
    const instantAdd = hasCapability(server, 'instantAddColumn')
    const anyPosition = hasCapability(server, 'instantAddDropAnyPosition')
    for (const {change, isNew, size} of analyse(context)) {
      if (isNew || change.statement !== 'ALTER TABLE') continue
      for (const clause of change.clauses) {
        const position = clause.definition?.position
        if (!position) continue
        const where = position.kind === 'first' ? 'FIRST' : `AFTER ${position.column}`
        const column = `${qualifiedLabel(change.table)}.${clause.definition!.name}`
        let message: string | undefined
        if (clause.kind === 'add-column' && instantAdd && !anyPosition) {
          message = `adding ${column} ${where} rebuilds the table on ${context.target.flavor === 'mysql' ? 'MySQL' : 'MariaDB'} ${context.target.version}: only a column added last is INSTANT before ${context.target.flavor === 'mysql' ? 'MySQL 8.0.29' : 'MariaDB 10.4'}`
        } else if ((clause.kind === 'modify-column' || clause.kind === 'change-column') && context.target.flavor === 'mysql') {
          message = `moving ${column} ${where} makes MySQL rebuild the table: reordering columns is never INSTANT on MySQL`
        }
        if (message) hits.push({at: position.at, message, ...(size.big ? {level: 'warning' as Level} : {})})
      }
    }
    return hits
  },
}

const lockTables: Rule = {
  id: 'locking-lock-tables',
  family: 'locking',
  level: 'warning',
  kinds: ['LOCK', 'FLUSH'],
  summary: 'LOCK TABLES or FLUSH TABLES WITH READ LOCK in a script',
  rationale:
    'LOCK TABLES ... WRITE stops every other session from reading or writing the table, and READ stops every writer, until UNLOCK TABLES; FLUSH TABLES WITH READ LOCK blocks writes to the whole server. If the script fails or stalls between the lock and the unlock, the application stays blocked.',
  bad: 'LOCK TABLES orders WRITE',
  good: 'START TRANSACTION',
  fix: 'Use transactions and row locks (SELECT ... FOR UPDATE) instead of table locks; keep any unavoidable lock as short as possible.',
  check(context) {
    const tokens = context.statement.tokens
    if (isWord(tokens[0], 'FLUSH') && isWord(tokens[1], 'TABLES', 'TABLE')) {
      const withRead = tokens.findIndex((t, i) => isWord(t, 'WITH') && isWord(tokens[i + 1], 'READ') && isWord(tokens[i + 2], 'LOCK'))
      if (withRead < 0) return []
      const named = tokens.slice(2, withRead).length > 0
      return [{at: tokens[0], message: named ? 'FLUSH TABLES ... WITH READ LOCK blocks writes to the named tables until UNLOCK TABLES' : 'FLUSH TABLES WITH READ LOCK blocks writes to every table on the server until UNLOCK TABLES'}]
    }
    if (!isWord(tokens[0], 'LOCK') || !isWord(tokens[1], 'TABLES', 'TABLE')) return []
    const hits: RuleHit[] = []
    for (const part of splitTopLevel(tokens, 2)) {
      const table = readQualifiedName(part, 0)
      if (!table || tableIsNew(context, table)) continue
      const write = part.some((t) => isWord(t, 'WRITE'))
      hits.push({
        at: table.at,
        message: write
          ? `LOCK TABLES ${qualifiedLabel(table)} WRITE blocks every other session's reads and writes on ${qualifiedLabel(table)} until UNLOCK TABLES`
          : `LOCK TABLES ${qualifiedLabel(table)} READ blocks every write to ${qualifiedLabel(table)} until UNLOCK TABLES`,
      })
    }
    return hits
  },
}

const metadataLockWait: Rule = {
  id: 'locking-metadata-lock-wait',
  family: 'locking',
  level: 'notice',
  kinds: ['ALTER', 'CREATE', 'DROP', 'OPTIMIZE', 'SET'],
  summary: 'DDL on an existing table without a bounded metadata-lock wait (lock_wait_timeout, WAIT n)',
  rationale:
    'Every ALTER, even an INSTANT one, needs an exclusive metadata lock for a moment. If a long transaction or query holds the table, the ALTER waits (by default up to a year), and every new query on the table queues behind it: a harmless change becomes an outage. A short lock_wait_timeout makes the ALTER give up and retry instead.',
  bad: 'ALTER TABLE orders ADD COLUMN note VARCHAR(200) NULL',
  good: 'SET SESSION lock_wait_timeout = 5;\nALTER TABLE orders ADD COLUMN note VARCHAR(200) NULL',
  fix: 'Put SET SESSION lock_wait_timeout = 5 (seconds) before the DDL (MariaDB also accepts ALTER TABLE t WAIT 5 ...), and retry on timeout.',
  check(context) {
    const {settings} = unwrapSetStatement(context.statement.tokens)
    const bounded = (value: unknown) => typeof value === 'number' && value <= BOUNDED_LOCK_WAIT
    const changes = analyse(context)
    if (context.file.memo.get(METADATA_WAIT_REPORTED) || changes.length === 0) return []
    const statementTimeout = settings.find((s) => s.name === 'lock_wait_timeout')
    if (statementTimeout?.value[0]?.type === 'number' && Number(statementTimeout.value[0].text) <= BOUNDED_LOCK_WAIT) return []
    if (bounded(context.file.memo.get(LOCK_WAIT_TIMEOUT))) return []
    const change = changes.find((c) => !c.isNew && (c.change.lockWait === undefined || c.change.lockWait > BOUNDED_LOCK_WAIT))
    if (!change) return []
    context.file.memo.set(METADATA_WAIT_REPORTED, true)
    return [
      {
        at: context.statement.tokens[0],
        message: `${what(change.change)} waits for a metadata lock behind any open transaction on ${qualifiedLabel(change.change.table)}, and every later query on the table queues behind it; nothing in this file bounds that wait`,
        ...(context.target.flavor === 'mariadb' ? {hint: `put SET SESSION lock_wait_timeout = 5 before the DDL, or write ALTER TABLE ${qualifiedLabel(change.change.table)} WAIT 5 ..., and retry on timeout`} : {}),
      },
    ]
  },
}

export const rules: Rule[] = observing([copyAlter, tableRebuild, blocksWrites, algorithmRefused, mergeAlters, missingAlgorithmLock, columnPosition, lockTables, metadataLockWait])
