import {readFile} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'
import {ExitCode, usageError} from '../core/errors.ts'
import {writeFileAtomic} from '../core/files.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {findProjectConfig, loadProjectConfig} from './config.ts'
import {auditText, ENGINE_RULES, startsLikeStatement} from './engine.ts'
import {collectSources} from './inputs.ts'
import {ALL_RULES} from './rules/index.ts'
import {loadSnapshot, schemaView, takeSnapshot, type SchemaSnapshot} from './snapshot.ts'
import {LEVEL_RANK, type AuditReport, type AuditTarget, type Finding, type Level, type Rule} from './types.ts'
import {significant, tokenize} from '../sql/lexer.ts'
import type {ParseVerdict, SqlFlavor} from '../sql/parser.ts'
import {splitSql, type SqlChunk} from '../sql/split.ts'
import {validateStatements} from '../sql/validate.ts'

export const DEFAULT_TARGET: AuditTarget = {flavor: 'mysql', version: '8.0.36'}

export interface AuditRequest {
  inputs: string[]
  cwd: string
  readStdin: () => Promise<string>
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
  onProgress?: (event: {message: string; done?: number; total?: number}) => void
}

/** Every rule dbakit knows, in catalog order. */
export const catalog = (): Rule[] => [...ALL_RULES, ...ENGINE_RULES]

export async function runAudit(request: AuditRequest): Promise<AuditReport> {
  const rules = catalog()
  const firstPath = request.inputs.find((input) => input !== '-')
  const configPath = findProjectConfig(firstPath ? dirname(resolve(request.cwd, firstPath)) : request.cwd)
  const config = await loadProjectConfig(configPath, new Set(rules.map((rule) => rule.id)))

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

  const sources = await collectSources({inputs: request.inputs, cwd: request.cwd, ignore: config.ignore, readStdin: request.readStdin, ...(request.changedSince ? {changedSince: request.changedSince} : {})})
  const baseline = request.baseline ? await readBaseline(request.baseline) : new Set<string>()
  // The parser only decides which statements it can vouch for; it runs on worker threads while this
  // thread lexes and applies the rules, which read tokens.
  const chunksByFile = sources.map((sql) => [...splitSql(sql.text)])
  const statementsByFile = chunksByFile.map((chunks) => chunks.filter((chunk) => chunk.kind === 'statement'))
  const verdicts = validateStatements(statementsByFile.flat().map((chunk) => chunk.text), target.flavor)
  const findings: Finding[] = []
  let statements = 0
  for (const [index, sql] of sources.entries()) {
    const chunks = chunksByFile[index]!
    const message = sources.length > 1 ? `auditing ${sql.name} (file ${index + 1} of ${sources.length})` : `auditing ${sql.name}`
    const onChunk = (done: number) => request.onProgress?.({message, done, total: chunks.length})
    const result = auditText(sql.name, sql.text, {target, thresholds: config.thresholds, rules: ALL_RULES, levels: config.levels, onChunk, ...(snapshot ? {schema: schemaView(snapshot)} : {})}, chunks)
    statements += result.statements
    findings.push(...result.findings)
  }
  request.onProgress?.({message: 'waiting for the parser to finish'})
  const rejected = unparsedStatements(sources.map((sql) => sql.name), statementsByFile, await verdicts)
  if (server && rejected.length > 0 && config.levels['syntax-error'] !== 'off') {
    request.onProgress?.({message: `asking ${server.label} about ${rejected.length} statements the parser could not read`})
    const {confirmSyntaxErrors} = await import('./confirm.ts')
    findings.push(...(await confirmSyntaxErrors(server, rejected, sources)))
    findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)
  }
  const unparsed = rejected.length
  let baselined = 0
  for (let index = findings.length - 1; index >= 0; index--) {
    if (baseline.has(findings[index]!.fingerprint)) {
      findings.splice(index, 1)
      baselined++
    }
  }
  if (request.writeBaseline) {
    const fingerprints = [...new Set([...findings.filter((f) => !f.suppressed).map((f) => f.fingerprint), ...baseline])].sort()
    await writeFileAtomic(request.writeBaseline, `${JSON.stringify({format: 'dbakit-audit-baseline', version: 1, fingerprints}, null, 2)}\n`, 0o644)
  }
  const counted = findings.filter((finding) => !finding.suppressed)
  const count = (level: Level) => counted.filter((finding) => finding.level === level).length
  const failed = failOn !== 'never' && counted.some((finding) => LEVEL_RANK[finding.level] >= LEVEL_RANK[failOn])
  return {
    version: 1,
    target: {...target, source},
    failOn,
    findings,
    summary: {files: sources.length, statements, unparsed, error: count('error'), warning: count('warning'), notice: count('notice'), suppressed: findings.length - counted.length, baselined},
    failed,
  }
}

export interface RejectedStatement {
  file: string
  chunk: SqlChunk
  verdict: Extract<ParseVerdict, {ok: false}>
}

/** Statements the parser rejected that start like real statements (the rest are syntax errors already). */
function unparsedStatements(files: string[], chunks: SqlChunk[][], verdicts: ParseVerdict[]): RejectedStatement[] {
  const rejected: RejectedStatement[] = []
  let index = 0
  for (const [fileIndex, fileChunks] of chunks.entries()) {
    for (const chunk of fileChunks) {
      const verdict = verdicts[index++]
      if (verdict && !verdict.ok && startsLikeStatement(significant(tokenize(chunk.text)))) rejected.push({file: files[fileIndex]!, chunk, verdict})
    }
  }
  return rejected
}

async function readBaseline(path: string): Promise<Set<string>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as {format?: string; fingerprints?: unknown}
    if (parsed.format !== 'dbakit-audit-baseline' || !Array.isArray(parsed.fingerprints)) throw new Error('not a dbakit audit baseline')
    return new Set(parsed.fingerprints.map(String))
  } catch (error) {
    throw usageError('BASELINE_UNREADABLE', `cannot use baseline ${path}: ${(error as Error).message.split('\n')[0]}`, {hint: 'write one with --write-baseline FILE'})
  }
}
