import {constants} from 'node:fs'
import {access, readFile, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {Worker} from 'node:worker_threads'
import {DbakitError, ExitCode, usageError, type ExitCodeValue} from '../core/errors.ts'
import {writeFileAtomic} from '../core/files.ts'
import {siblingWorker, WORKER_YOUNG_GENERATION_MB} from '../core/threads.ts'
import {shellWord} from '../core/text.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {findAuditConfig, loadProjectConfig, type AuditProjectConfig} from './config.ts'
import {auditText, ENGINE_RULES, startsLikeStatement} from './engine.ts'
import {collectSources, type SqlSource} from './inputs.ts'
import {ALL_RULES} from './rules/index.ts'
import {loadSnapshot, schemaView, takeSnapshot, type SchemaSnapshot} from './snapshot.ts'
import {byPosition, countsAsFailure, type AuditHeader, type AuditOutcome, type AuditReport, type AuditSummary, type AuditTarget, type Finding, type FindingSink, type Level, type Rule} from './types.ts'
import {significant, tokenize} from '../sql/lexer.ts'
import type {SqlFlavor} from '../sql/parser.ts'
import {splitSql, type SqlChunk} from '../sql/split.ts'
import {startValidation} from '../sql/validate.ts'

export const DEFAULT_TARGET: AuditTarget = {flavor: 'mysql', version: '8.0.36'}

export interface AuditRequest {
  inputs: string[]
  cwd: string
  readStdin: () => Promise<Buffer>
  /** How the SQL is encoded when it is not UTF-8; overrides encoding in .dbakit.yaml. */
  encoding?: string
  failOn?: Level | 'never'
  flavor?: SqlFlavor
  version?: string
  changedSince?: string
  baseline?: string
  writeBaseline?: string
  /** Schema snapshot file for schema- and size-aware rules without a server. */
  schemaFile?: string
  /** A live server: its schema is read (bounded, read-only) and its flavor/version used. */
  server?: ConnectionTarget
  /** When the server cannot be reached, audit offline (with a warning) instead of failing with exit 3. */
  offlineFallback?: boolean
  onWarning?: (message: string) => void
  onProgress?: ProgressListener
}

/** Every rule dbakit knows, in catalog order. */
export const catalog = (): Rule[] => [...ALL_RULES, ...ENGINE_RULES]

export type ProgressListener = (event: {message: string; done?: number; total?: number}) => void

/**
 * Everything an audit needs once its inputs are read and its settings resolved. Plain data, so
 * that a worker thread can take the audit over.
 */
export interface AuditPlan {
  header: AuditHeader
  config: AuditProjectConfig
  snapshot?: SchemaSnapshot
  sources: SqlSource[]
  baseline: Set<string>
  writeBaseline?: string
  /** The live server that confirms suspected syntax errors, when there is one. */
  server?: ConnectionTarget
}

/**
 * Inputs larger than this (in characters) are audited on a thread of their own, whose young
 * generation is kept small: on the main thread V8 grows it to 64 MiB and more while the lexer's
 * short-lived tokens stream through, which is most of a large audit's memory.
 */
const OWN_THREAD_ABOVE = 1024 * 1024
/**
 * Audits the request's SQL, sending findings to `sink` as they are found (statement by statement;
 * with a live server, once the server has been asked about the parser's rejections), and returns
 * the totals. Nothing holds every finding, so a report of any size streams out.
 */
export async function runAudit(request: AuditRequest, sink: FindingSink): Promise<AuditOutcome> {
  const plan = await planAudit(request)
  sink.begin(plan.header)
  const size = plan.sources.reduce((total, source) => total + source.text.length, 0)
  if (size > OWN_THREAD_ABOVE) return executeOnOwnThread(plan, sink, request.onProgress)
  return executeAudit(plan, sink, request.onProgress)
}

async function planAudit(request: AuditRequest): Promise<AuditPlan> {
  const rules = catalog()
  const found = findAuditConfig(request.inputs, request.cwd)
  const config = await loadProjectConfig(found.path, new Set(rules.map((rule) => rule.id)))
  for (const {input, config: other} of found.unused) {
    request.onWarning?.(`${other} (nearest to ${input}) is not used: one audit takes one .dbakit.yaml, ${found.path ?? 'none'} (nearest to the first path); audit the trees separately to apply each one`)
  }

  let snapshot: SchemaSnapshot | undefined
  let source: AuditReport['target']['source'] = 'default'
  let server = request.server
  if (server) {
    request.onProgress?.({message: `reading the schema of ${server.label}`})
    try {
      snapshot = await takeSnapshot(server)
      source = 'server'
    } catch (error) {
      if (!request.offlineFallback || (error as {exitCode?: number}).exitCode !== ExitCode.environment) throw error
      request.onWarning?.(`${(error as Error).message}; auditing offline (--offline-fallback)`)
      server = undefined
    }
  }
  if (!server && request.schemaFile) {
    snapshot = await loadSnapshot(request.schemaFile)
    source = 'snapshot'
  }
  if (config.target && source === 'default') source = 'config'
  if ((request.flavor || request.version) && source !== 'server') source = 'flags'
  const target: AuditTarget = {
    flavor: (source === 'server' ? snapshot?.server.flavor : undefined) ?? request.flavor ?? snapshot?.server.flavor ?? config.target?.flavor ?? DEFAULT_TARGET.flavor,
    version: (source === 'server' ? snapshot?.server.version : undefined) ?? request.version ?? snapshot?.server.version ?? config.target?.version ?? (request.flavor === 'mariadb' || config.target?.flavor === 'mariadb' ? '10.11' : DEFAULT_TARGET.version),
  }
  const failOn = request.failOn ?? config.failOn ?? 'error'

  const sources = await collectSources({inputs: request.inputs, cwd: request.cwd, ignore: config.ignore, readStdin: request.readStdin, ...(request.changedSince ? {changedSince: request.changedSince} : {}), ...((request.encoding ?? config.encoding) ? {encoding: request.encoding ?? config.encoding!} : {})})
  const baseline = request.baseline ? await readBaseline(request.baseline, request.inputs) : new Set<string>()
  // Found out before the audit, not after its report has been written.
  if (request.writeBaseline) await checkWritable(resolve(request.cwd, request.writeBaseline))
  return {
    header: {version: 1, target: {...target, source}, failOn},
    config,
    ...(snapshot ? {snapshot} : {}),
    sources,
    baseline,
    ...(request.writeBaseline ? {writeBaseline: request.writeBaseline} : {}),
    ...(server ? {server} : {}),
  }
}

/** Splits, parses and audits the plan's sources; findings go to `sink`, totals are returned. */
export async function executeAudit(plan: AuditPlan, sink: FindingSink, onProgress?: ProgressListener): Promise<AuditOutcome> {
  const {header, config, snapshot, sources, baseline, server} = plan
  const {target, failOn} = header
  const summary: AuditSummary = {files: sources.length, statements: 0, unparsed: 0, error: 0, warning: 0, notice: 0, suppressed: 0, baselined: 0}
  let failed = false
  const recorded = new Set<string>()
  // With a server, the findings wait for its verdict on the statements the parser rejected, which
  // are reported in line order among them.
  const held: Finding[][] | undefined = server ? sources.map(() => []) : undefined
  const account = (batch: readonly Finding[], fileIndex: number) => {
    const kept: Finding[] = []
    for (const finding of batch) {
      if (baseline.has(finding.fingerprint)) {
        summary.baselined++
        continue
      }
      kept.push(finding)
      if (finding.suppressed) {
        summary.suppressed++
        continue
      }
      summary[finding.level]++
      if (countsAsFailure(finding, failOn)) failed = true
      if (plan.writeBaseline) recorded.add(finding.fingerprint)
    }
    if (kept.length === 0) return
    if (held) held[fileIndex]!.push(...kept)
    else sink.findings(kept)
  }

  // The parser only decides which statements it can vouch for; it runs on worker threads while this
  // thread lexes and applies the rules, which read tokens.
  const chunksByFile = sources.map((sql) => [...splitSql(sql.text)])
  const statementsByFile = chunksByFile.map((chunks) => chunks.filter((chunk) => chunk.kind === 'statement'))
  const validation = startValidation(statementsByFile.flat().map((chunk) => chunk.text), target.flavor)
  try {
    for (const [index, sql] of sources.entries()) {
      const chunks = chunksByFile[index]!
      const message = sources.length > 1 ? `auditing ${sql.name} (file ${index + 1} of ${sources.length})` : `auditing ${sql.name}`
      const onChunk = (done: number) => onProgress?.({message, done, total: chunks.length})
      const onFindings = (batch: Finding[]) => account(batch, index)
      const connection = server ? (server.profile ? `--profile ${shellWord(server.profile)}` : `--url ${shellWord(server.url.display)}`) : undefined
      const result = auditText(sql.name, sql.text, {target, thresholds: config.thresholds, rules: ALL_RULES, levels: config.levels, onChunk, onFindings, ...(snapshot ? {schema: schemaView(snapshot)} : {}), ...(connection ? {connection} : {})}, chunks)
      summary.statements += result.statements
    }
    onProgress?.({message: 'waiting for the parser to finish'})
    const rejected = rejectedStatements(sources.map((sql) => sql.name), statementsByFile, await validation.finish())
    summary.unparsed = rejected.length
    if (held) {
      if (server && rejected.length > 0 && config.levels['syntax-error'] !== 'off') {
        onProgress?.({message: `asking ${server.label} about ${rejected.length} statements the parser could not read`})
        const {confirmSyntaxErrors} = await import('./confirm.ts')
        const confirmed = await confirmSyntaxErrors(server, rejected, sources)
        const fileIndex = new Map(sources.map((sql, index) => [sql.name, index]))
        for (const finding of confirmed) account([finding], fileIndex.get(finding.file)!)
      }
      for (const findings of held) if (findings.length > 0) sink.findings(findings.sort(byPosition))
    }
  } finally {
    await validation.stop()
  }

  if (plan.writeBaseline) {
    const fingerprints = [...new Set([...recorded, ...baseline])].sort()
    await writeFileAtomic(plan.writeBaseline, `${JSON.stringify({format: 'dbakit-audit-baseline', version: 1, fingerprints}, null, 2)}\n`, 0o644)
  }
  return {...header, summary, failed}
}

/** What the audit thread tells the thread that started it (see execute-worker.ts). */
export type AuditThreadMessage =
  | {findings: Finding[]}
  | {progress: Parameters<ProgressListener>[0]}
  | {outcome: AuditOutcome}
  | {error: {message: string; exitCode?: ExitCodeValue; code?: string; hint?: string}}

/** executeAudit on a worker thread with a small young generation; the findings come back in batches. */
function executeOnOwnThread(plan: AuditPlan, sink: FindingSink, onProgress?: ProgressListener): Promise<AuditOutcome> {
  const worker = new Worker(siblingWorker(import.meta.url, 'execute-worker'), {workerData: plan, resourceLimits: {maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB}})
  return new Promise<AuditOutcome>((resolve, reject) => {
    worker.on('message', (message: AuditThreadMessage) => {
      if ('findings' in message) sink.findings(message.findings)
      else if ('progress' in message) onProgress?.(message.progress)
      else if ('outcome' in message) resolve(message.outcome)
      else {
        const {message: text, exitCode, code, hint} = message.error
        reject(exitCode === undefined ? new Error(text) : new DbakitError(exitCode, code ?? 'AUDIT_FAILED', text, hint === undefined ? {} : {hint}))
      }
    })
    worker.once('error', reject)
    // Settles nothing after an outcome or an error has arrived; otherwise the thread died unheard.
    worker.once('exit', (code) => reject(new Error(`the audit thread stopped with exit code ${code}`)))
  })
}

export interface RejectedStatement {
  file: string
  chunk: SqlChunk
}

/** Statements the parser rejected that start like real statements (the rest are syntax errors already). */
function rejectedStatements(files: string[], chunks: SqlChunk[][], rejections: number[]): RejectedStatement[] {
  const rejected: RejectedStatement[] = []
  let next = 0
  let first = 0
  for (const [fileIndex, fileChunks] of chunks.entries()) {
    const end = first + fileChunks.length
    for (; next < rejections.length && rejections[next]! < end; next++) {
      const index = rejections[next]!
      const chunk = fileChunks[index - first]!
      if (startsLikeStatement(significant(tokenize(chunk.text)))) rejected.push({file: files[fileIndex]!, chunk})
    }
    first = end
  }
  return rejected
}

async function checkWritable(path: string): Promise<void> {
  if ((await stat(path).catch(() => undefined))?.isDirectory()) {
    throw usageError('BASELINE_UNWRITABLE', `cannot write baseline ${path}: it is a directory`, {hint: 'give a file path, e.g. .dbakit-baseline.json'})
  }
  try {
    await access(dirname(path), constants.W_OK)
  } catch (error) {
    throw usageError('BASELINE_UNWRITABLE', `cannot write baseline ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'give a path in an existing directory you can write to'})
  }
}

async function readBaseline(path: string, inputs: readonly string[]): Promise<Set<string>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      // The first CI run on a project that adopts baselines: nothing is recorded yet.
      const command = ['dbakit audit', ...inputs.map(shellWord), '--write-baseline', shellWord(path)].join(' ')
      throw usageError('BASELINE_MISSING', `baseline ${path} does not exist`, {hint: `record today's findings in it first: \`${command}\`, and commit it`})
    }
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message
    throw usageError('BASELINE_UNREADABLE', `cannot read baseline ${path}: ${why}`, {hint: 'give the file written by --write-baseline FILE'})
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw usageError('BASELINE_INVALID', `baseline ${path} is not JSON: ${(error as Error).message.split('\n')[0]}`, {hint: 'write it again with --write-baseline FILE'})
  }
  const baseline = parsed as {format?: unknown; fingerprints?: unknown}
  if (typeof parsed !== 'object' || parsed === null || baseline.format !== 'dbakit-audit-baseline') {
    throw usageError('BASELINE_INVALID', `${path} is not a dbakit audit baseline (no "format": "dbakit-audit-baseline")`, {hint: 'give the file written by --write-baseline FILE'})
  }
  const fingerprints = baseline.fingerprints
  if (!Array.isArray(fingerprints)) throw usageError('BASELINE_INVALID', `baseline ${path}: fingerprints: must be a list`, {hint: 'write it again with --write-baseline FILE'})
  const bad = fingerprints.findIndex((entry) => typeof entry !== 'string')
  if (bad >= 0) throw usageError('BASELINE_INVALID', `baseline ${path}: fingerprints[${bad}]: must be a string`, {hint: 'write it again with --write-baseline FILE'})
  return new Set(fingerprints as string[])
}

/** Quoted for a POSIX shell when it needs to be, so a hint can be pasted as it is. */
