import type {Token} from '../sql/lexer.ts'
import type {SqlFlavor} from '../sql/parser.ts'

export type Level = 'error' | 'warning' | 'notice'
export const LEVELS: readonly Level[] = ['error', 'warning', 'notice']
/** Higher is more severe; --fail-on compares against this. */
export const LEVEL_RANK: Record<Level, number> = {notice: 1, warning: 2, error: 3}

/** Whether a finding fails the audit: suppressed findings are reported for the record but never do. */
export function countsAsFailure(finding: Pick<Finding, 'level' | 'suppressed'>, failOn: Level | 'never'): boolean {
  if (finding.suppressed || failOn === 'never') return false
  return LEVEL_RANK[finding.level] >= LEVEL_RANK[failOn]
}

/** Top to bottom, left to right within a file; sorts are stable, so findings on one spot keep the rules' order. */
export const byPosition = (a: {line: number; column: number}, b: {line: number; column: number}): number => a.line - b.line || a.column - b.column

export type RuleFamily = 'destructive' | 'locking' | 'design' | 'dml' | 'query' | 'security' | 'syntax'

/**
 * One statement as the rules see it, located in its file. Rules read tokens, never an AST: the
 * parser rejects too much valid MySQL/MariaDB for a rule to depend on it.
 */
export interface AuditStatement {
  file: string
  /** Statement text without its delimiter. */
  text: string
  /** Meaningful tokens (no comments), positions in file coordinates. */
  tokens: Token[]
  /** Meaningful tokens and comments (for inline suppressions). */
  allTokens: Token[]
  line: number
  column: number
  /** Set for statements inside a procedure, function, trigger or event body. */
  routine?: string
}

export type {ColumnInfo, IndexInfo, SchemaView, TableInfo, TableStats} from '../sql/schema.ts'
import type {SchemaView} from '../sql/schema.ts'

export interface AuditTarget {
  flavor: SqlFlavor
  /** Dotted server version, e.g. "10.11.19" or "8.0.36". */
  version: string
}

export interface Thresholds {
  /** Rows above which a table counts as big (locking rules escalate, DML warns). */
  bigTableRows: number
  /** Bytes above which a table counts as big. */
  bigTableBytes: number
  /** Copy throughput used to estimate ALTER ... COPY time, bytes per second. */
  copyBytesPerSecond: number
  /** More indexes than this on one table is a finding. */
  maxIndexes: number
  /** Rows an INSERT ... VALUES may carry before it is too large for one statement. */
  maxInsertRows: number
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  bigTableRows: 1_000_000,
  bigTableBytes: 1024 ** 3,
  copyBytesPerSecond: 50 * 1024 ** 2,
  maxIndexes: 8,
  maxInsertRows: 1000,
}

/**
 * State shared across the statements of one file, for rules that look at more than one statement.
 * Rules keep it themselves (see locking.observe), so a rule works the same in the engine and alone.
 */
export interface FileState {
  /** Tables created earlier in this file: they are new and empty, so locking rules do not apply. */
  createdTables: Set<string>
  /** Per-rule memory, keyed by rule id. */
  memo: Map<string, unknown>
}

export interface RuleContext {
  statement: AuditStatement
  target: AuditTarget
  /** How the audited server was reached (`--profile prod`), for hints that print a command to run there. */
  connection?: string
  schema?: SchemaView
  thresholds: Thresholds
  file: FileState
}

/** What a rule reports; the engine adds file, level and suppression. */
export interface RuleHit {
  message: string
  /** Overrides the rule's fix text for this hit. */
  hint?: string
  /** Token the finding points at; defaults to the statement start. */
  at?: Token
  /** Overrides the rule's level for this hit (e.g. escalated by table size). */
  level?: Level
}

export interface Rule {
  /** Stable kebab-case id, e.g. "dml-update-without-where". */
  id: string
  family: RuleFamily
  level: Level
  summary: string
  rationale: string
  bad: string
  good: string
  fix: string
  /** Rules that need table information say so; they are skipped without a schema. */
  needsSchema?: boolean
  /**
   * First words of the statements this rule can report on (e.g. ['UPDATE', 'DELETE', 'WITH']); the
   * engine runs `check` only on those. Omitted: every statement. A rule that fires on a statement
   * whose first word is not listed fails its tests.
   */
  kinds?: readonly string[]
  /**
   * Literals of the statement that are secrets (passwords). The engine masks them in the source
   * lines of every finding on the statement, whichever rule reports it and even when this rule is
   * turned off.
   */
  secrets?(context: RuleContext): Token[]
  /** Records file state from every statement, whatever its first word (runs before any check). */
  observe?(context: RuleContext): void
  check(context: RuleContext): RuleHit[]
}

export interface Finding {
  rule: string
  level: Level
  file: string
  line: number
  column: number
  message: string
  hint: string
  /**
   * The source line the finding points at, secrets masked; a long line is cut to a window around
   * the column (see sourceWindow in core/text.ts), marked with … where it was cut.
   */
  source?: string
  /** 1-based column of the finding within `source` (equal to `column` unless the line was cut). */
  sourceColumn?: number
  /** Set when an inline `-- dbakit-ignore RULE: reason` covers the finding (it does not count). */
  suppressed?: {reason: string}
  /** Stable across unrelated edits: rule + file + normalised statement; used by baselines. */
  fingerprint: string
}

export interface AuditSummary {
  files: number
  statements: number
  /** Statements node-sql-parser could not parse (audited by token rules only). */
  unparsed: number
  error: number
  warning: number
  notice: number
  suppressed: number
  baselined: number
}

export interface AuditReport {
  version: 1
  target: AuditTarget & {source: 'flags' | 'config' | 'server' | 'snapshot' | 'default'}
  failOn: Level | 'never'
  findings: Finding[]
  summary: AuditSummary
  /** True when a finding at or above failOn was reported. */
  failed: boolean
}

/** What is known before the first finding: a report's opening. */
export type AuditHeader = Pick<AuditReport, 'version' | 'target' | 'failOn'>

/** A report without its findings, which went to a FindingSink as the audit found them. */
export type AuditOutcome = Omit<AuditReport, 'findings'>

/**
 * Where an audit sends its findings as it goes, so that a report of any size is written out
 * without being held in memory.
 */
export interface FindingSink {
  /** Called once, before any findings. */
  begin(header: AuditHeader): void
  /** Findings in reading order: files one after another, each file's top to bottom. */
  findings(batch: readonly Finding[]): void
}
