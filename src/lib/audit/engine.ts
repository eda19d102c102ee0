import {createHash} from 'node:crypto'
import {lineReader, sourceWindow} from '../core/text.ts'
import {isWord, significant, tokenize, type Token} from '../sql/lexer.ts'
import {splitSql, type SqlChunk} from '../sql/split.ts'
import {findWords, matchingParen, statementKind} from '../sql/tokens.ts'
import {byPosition, type AuditStatement, type AuditTarget, type FileState, type Finding, type Level, type Rule, type RuleContext, type RuleHit, type SchemaView, type Thresholds} from './types.ts'

/**
 * Statement keywords MySQL/MariaDB accept first; text starting with anything else is a syntax error.
 * CASE, FOR, LOOP, REPEAT and WHILE start MariaDB's compound statements outside a routine (sent
 * whole under DELIMITER); a label does not, there.
 */
const STATEMENT_STARTS = new Set(
  ('ALTER ANALYZE BEGIN BINLOG CACHE CALL CASE CHANGE CHECK CHECKSUM COMMIT CREATE DEALLOCATE DECLARE DELETE DESC DESCRIBE DO DROP EXECUTE EXPLAIN ' +
    'FLUSH FOR GET GRANT HANDLER HELP IF INSERT INSTALL KILL LOAD LOCK LOOP OPTIMIZE PREPARE PURGE RELEASE RENAME REPAIR REPEAT REPLACE RESET RESIGNAL REVOKE ' +
    'ROLLBACK SAVEPOINT SELECT SET SHOW SHUTDOWN SIGNAL START STOP TABLE TRUNCATE UNINSTALL UNLOCK UPDATE USE VALUES WHILE WITH XA BACKUP')
    .split(' '),
)

/**
 * What a parenthesised query may start with, after any number of `(`: `(SELECT ...) UNION (...)
 * LIMIT 20`. MariaDB takes SELECT and VALUES there; MySQL 8 also WITH and TABLE.
 */
const QUERY_STARTS = new Set(['SELECT', 'VALUES', 'WITH', 'TABLE'])

/** Findings the engine itself reports; listed in the catalog like any rule. */
export const ENGINE_RULES: Rule[] = [
  {
    id: 'syntax-error',
    family: 'syntax',
    level: 'error',
    summary: 'The statement is not valid SQL for the target server.',
    rationale: 'A migration with a syntax error stops halfway when it runs, leaving the earlier statements applied and the rest not. dbakit reports it only when it is sure: an unknown first word, or the live server rejecting it.',
    bad: 'SELEC * FROM orders',
    good: 'SELECT id FROM orders',
    fix: 'Correct the statement at the position shown.',
    check: () => [],
  },
  {
    id: 'syntax-unterminated',
    family: 'syntax',
    level: 'error',
    summary: 'A comment, string or quoted identifier is never closed, so the rest of the file is inside it.',
    rationale: 'An unclosed /* or quote swallows every statement after it: the server receives them as comment or string text, and an audit that read on as the server does would see nothing to report. The file does not do what it reads as.',
    bad: "/* retire the old table\nDROP TABLE t;",
    good: '/* retire the old table */\nDROP TABLE t;',
    fix: 'Close the comment (*/) or the quote where it was meant to end.',
    check: () => [],
  },
  {
    id: 'delimiter-not-reset',
    family: 'syntax',
    level: 'warning',
    summary: 'A DELIMITER set in the file is still in force at its end.',
    rationale: 'Files run one after another (cat migrations/*.sql | mysql, or a tool that concatenates them) carry the delimiter over: the next file\'s `;`-terminated statements are then read as one long statement, or not at all until the delimiter appears.',
    bad: 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$',
    good: 'DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;',
    fix: 'End the file with DELIMITER ; once the routines are defined.',
    check: () => [],
  },
  {
    id: 'suppression-invalid',
    family: 'syntax',
    level: 'warning',
    summary: 'An inline dbakit-ignore comment names an unknown rule or gives no reason.',
    rationale: 'A suppression without a reason cannot be reviewed later, and one with a misspelled rule id silently suppresses nothing.',
    bad: '-- dbakit-ignore destructive-drop-tabel\nDROP TABLE t',
    good: '-- dbakit-ignore destructive-drop-table: archived to cold storage in JIRA-123\nDROP TABLE t',
    fix: 'Write `-- dbakit-ignore RULE-ID: reason`, with an id from `dbakit audit rules`.',
    check: () => [],
  },
  {
    id: 'rule-crashed',
    family: 'syntax',
    level: 'warning',
    summary: 'A rule failed on this statement, so the statement was not fully audited.',
    rationale: 'A silent crash would look like a clean audit. It is reported so the statement gets a human review and the bug gets fixed.',
    bad: '(any statement a rule cannot handle)',
    good: '(the same statement once the rule is fixed)',
    fix: 'Review the statement by hand and report the message to the dbakit maintainers.',
    check: () => [],
  },
]

const engineRule = (id: string): Rule => ENGINE_RULES.find((rule) => rule.id === id)!

export interface EngineOptions {
  target: AuditTarget
  thresholds: Thresholds
  rules: Rule[]
  /** Rule id -> configured level, or 'off'. */
  levels: Record<string, Level | 'off'>
  schema?: SchemaView
  /** The audited server's --profile/--url flags, when there is one. */
  connection?: string
  /** Called after each top-level statement, with how many of the file's chunks are done. */
  onChunk?: (done: number) => void
  /**
   * Receives the findings statement by statement, in reading order, as soon as they are final (a
   * statement's findings wait for the next chunk, which may hold a trailing suppression). Without
   * it, auditText collects them in its result.
   */
  onFindings?: (findings: Finding[]) => void
}

export interface FileAudit {
  findings: Finding[]
  statements: number
}

/** True when the text begins the way a MySQL/MariaDB statement can. */
export function startsLikeStatement(tokens: Token[]): boolean {
  return wrongStart(tokens) === undefined
}

/** The token that shows the text cannot be a statement, with why; undefined when it can be. */
function wrongStart(tokens: Token[]): {at: Token; message: string} | undefined {
  let at = 0
  while (tokens[at]?.text === '(') at++
  const first = tokens[at]
  if (at === 0) return first === undefined || (first.type === 'word' && STATEMENT_STARTS.has(first.value)) ? undefined : {at: first, message: `"${sourceWindow(first.text, 1, 40).text}" does not start a statement`}
  if (first?.type === 'word' && QUERY_STARTS.has(first.value)) return undefined
  const found = first ?? tokens[at - 1]!
  return {at: found, message: `"(${first ? sourceWindow(first.text, 1, 40).text : ''}" does not start a statement: only a query (SELECT, VALUES, WITH, TABLE) can be in parentheses`}
}

const SUPPRESSION = /dbakit-ignore\s+([A-Za-z0-9_-]+(?:\s*,\s*[A-Za-z0-9_-]+)*)\s*(?::\s*(.*?))?\s*(?:\*\/)?\s*$/

export const newFileState = (): FileState => ({createdTables: new Set(), memo: new Map()})

const ROUTINES = new Set(['CREATE PROCEDURE', 'CREATE FUNCTION', 'CREATE TRIGGER', 'CREATE EVENT'])

/**
 * Audits one file's text: split like the mysql client, lex, run every enabled rule, apply inline
 * suppressions. Statements inside routine bodies are audited too. Parsing is not needed here (rules
 * read tokens); run.ts validates statements with the parser in worker threads at the same time.
 */
export function auditText(file: string, text: string, options: EngineOptions, chunks: Iterable<SqlChunk> = splitSql(text)): FileAudit {
  const sourceLine = lineReader(text)
  const known = new Set(options.rules.map((rule) => rule.id))
  const state = newFileState()
  const findings: Finding[] = []
  const deliver = (batch: Finding[]) => {
    if (batch.length === 0) return
    batch.sort(byPosition)
    if (options.onFindings) options.onFindings(batch)
    else findings.push(...batch)
  }
  let statements = 0

  // A trailing `-- dbakit-ignore` on the line where a statement ends belongs to that statement,
  // though the splitter hands it over as the start of the next chunk.
  let previous: {findings: Finding[]; endLine: number} | undefined

  // What every finding on one statement shares, worked out once for the statement. (Not kept in
  // WeakMaps keyed by statement: their entries outlive the statements until a full collection.)
  interface StatementFacts {
    statement: AuditStatement
    secrets: Token[]
    normalised?: string
  }
  const emit = (facts: StatementFacts, rule: Pick<Rule, 'id' | 'level' | 'fix'>, hit: RuleHit, levelOverride?: Level) => {
    const {statement} = facts
    const at = hit.at ?? statement.tokens[0]
    const line = at?.line ?? statement.line
    const column = at?.column ?? statement.column
    facts.normalised ??= normalise(statement.text)
    return {
      rule: rule.id,
      level: levelOverride ?? hit.level ?? rule.level,
      file,
      line,
      column,
      message: hit.message,
      hint: hit.hint ?? rule.fix,
      ...shownSource(sourceLine(line), column, facts.secrets.filter((token) => token.line === line)),
      fingerprint: fingerprint(rule.id, file, facts.normalised),
    } satisfies Finding
  }

  const enabled = options.rules.filter((rule) => options.levels[rule.id] !== 'off' && !(rule.needsSchema && !options.schema))
  const observers = enabled.filter((rule) => rule.observe)
  // Secrets are masked whatever the rule levels: turning a rule off must not unmask a password.
  const secretFinders = options.rules.filter((rule) => rule.secrets)
  // Most rules concern a few kinds of statement: look them up by first word instead of asking all.
  const byFirstWord = new Map<string, Rule[]>()
  const rulesFor = (word: string): Rule[] => {
    let rules = byFirstWord.get(word)
    if (!rules) {
      rules = enabled.filter((rule) => !rule.kinds || rule.kinds.includes(word))
      byFirstWord.set(word, rules)
    }
    return rules
  }

  const auditStatement = (statement: AuditStatement): Finding[] => {
    statements++
    const out: Finding[] = []
    const first = statement.tokens[0]
    const facts: StatementFacts = {statement, secrets: []}
    const wrong = first && !statement.routine ? wrongStart(statement.tokens) : undefined
    if (wrong) {
      const level = options.levels['syntax-error']
      if (level !== 'off') out.push(emit(facts, engineRule('syntax-error'), wrong, level))
      return out
    }
    const context: RuleContext = {statement, target: options.target, thresholds: options.thresholds, file: state, ...(options.schema ? {schema: options.schema} : {}), ...(options.connection ? {connection: options.connection} : {})}
    facts.secrets = secretFinders.flatMap((rule) => rule.secrets!(context))
    for (const rule of observers) rule.observe!(context)
    for (const rule of rulesFor(first?.value ?? '')) {
      const level = options.levels[rule.id] as Level | undefined
      let hits: RuleHit[]
      try {
        hits = rule.check(context)
      } catch (error) {
        out.push(emit(facts, engineRule('rule-crashed'), {message: `rule ${rule.id} failed: ${(error as Error).message}`}))
        continue
      }
      for (const hit of hits) out.push(emit(facts, rule, hit, hit.level ? undefined : level))
    }
    return out
  }

  // Findings about the file's text rather than one statement's meaning.
  const textFinding = (id: string, line: number, column: number, message: string): Finding[] => {
    const rule = engineRule(id)
    const level = options.levels[id]
    if (level === 'off') return []
    const source = sourceLine(line)
    return [{rule: id, level: level ?? rule.level, file, line, column, message, hint: rule.fix, ...shownSource(source, column), fingerprint: fingerprint(id, file, normalise(source))}]
  }
  const unclosedFinding = ({what, line, column}: NonNullable<SqlChunk['unclosed']>) => {
    const opener = what === 'comment' ? 'this /* comment' : `this ${what}`
    return textFinding('syntax-unterminated', line, column, `${opener} is never closed: the rest of the file, from line ${line} on, is inside it, so nothing after it is audited`)
  }
  let delimiter = {text: ';', line: 0, column: 0}

  let chunksDone = 0
  for (const chunk of chunks) {
    options.onChunk?.(++chunksDone)
    if (chunk.kind === 'directive') {
      if (previous) deliver(previous.findings)
      previous = undefined
      if (chunk.directive?.name === 'delimiter') delimiter = {text: chunk.directive.argument, line: chunk.line, column: chunk.column}
      continue
    }
    const unclosed = chunk.unclosed ? unclosedFinding(chunk.unclosed) : []
    const allTokens = tokenize(chunk.text, {line: chunk.line, column: chunk.column, offset: chunk.offset})
    const tokens = significant(allTokens)
    const suppressions = readSuppressions(allTokens, known)
    const ready: Finding[] = []
    if (previous) {
      const trailing = suppressions.filter((s) => s.line === previous!.endLine && (tokens[0]?.line ?? Infinity) > s.line)
      applySuppressions(previous.findings, trailing)
      ready.push(...previous.findings, ...invalidSuppressions(trailing, file, sourceLine))
    }
    if (tokens.length === 0) {
      deliver([...ready, ...unclosed])
      previous = undefined
      continue
    }
    const own = suppressions.filter((s) => !(previous && s.line === previous.endLine && s.line < tokens[0]!.line))
    const statement: AuditStatement = {file, text: chunk.text.slice(tokens[0]!.start - chunk.offset), tokens, allTokens, line: tokens[0]!.line, column: tokens[0]!.column}
    const statementFindings = auditStatement(statement)
    // A rule that reads every token sees a body statement twice: in the routine and on its own.
    const seen = new Set(statementFindings.map(findingKey))
    for (const inner of routineBody(statement)) {
      for (const finding of auditStatement(inner)) {
        if (seen.has(findingKey(finding))) continue
        seen.add(findingKey(finding))
        statementFindings.push(finding)
      }
    }
    statementFindings.push(...unclosed)
    applySuppressions(statementFindings, own)
    ready.push(...invalidSuppressions(own, file, sourceLine))
    deliver(ready)
    previous = {findings: statementFindings, endLine: tokens[tokens.length - 1]!.line}
  }
  if (previous) deliver(previous.findings)
  if (delimiter.text !== ';') {
    deliver(textFinding('delimiter-not-reset', delimiter.line, delimiter.column, `DELIMITER ${delimiter.text} is still in force at the end of the file: a file run after this one would have its statements read up to the next ${delimiter.text}`))
  }
  return {findings, statements}
}

const findingKey = (finding: Finding) => `${finding.rule}:${finding.line}:${finding.column}`

/** Text with each secret literal replaced by '***'. */
export function maskSecrets(text: string, secrets: Token[]): string {
  return secrets.reduce((masked, token) => masked.split(token.text).join("'***'"), text)
}

/**
 * A finding's source line with the statement's secrets masked, cut to a window around its column:
 * a dump's one-line INSERT would otherwise be megabytes in every finding on it.
 */
export function shownSource(line: string, column: number, secrets: Token[] = []): Pick<Finding, 'source' | 'sourceColumn'> {
  const mask = (text: string) => maskSecrets(text, secrets)
  // Masking changes lengths: the finding's character moves by what was masked before it.
  const maskedColumn = secrets.length === 0 ? column : mask(line.slice(0, Math.max(0, column - 1))).length + 1
  const {text, column: sourceColumn} = sourceWindow(mask(line), maskedColumn)
  return {source: text, sourceColumn}
}

interface Suppression {
  rules: string[]
  reason?: string
  line: number
  token: Token
  unknown: string[]
}

function readSuppressions(tokens: Token[], known: Set<string>): Suppression[] {
  const found: Suppression[] = []
  for (const token of tokens) {
    if (token.type !== 'comment') continue
    const match = SUPPRESSION.exec(token.text)
    if (!match) continue
    const rules = match[1]!.split(',').map((id) => id.trim())
    const reason = match[2]?.trim()
    found.push({rules, ...(reason ? {reason} : {}), line: token.line, token, unknown: rules.filter((id) => !known.has(id))})
  }
  return found
}

function applySuppressions(findings: Finding[], suppressions: Suppression[]): void {
  for (const suppression of suppressions) {
    if (!suppression.reason) continue
    for (const finding of findings) {
      if (!finding.suppressed && suppression.rules.includes(finding.rule)) finding.suppressed = {reason: suppression.reason}
    }
  }
}

function invalidSuppressions(suppressions: Suppression[], file: string, sourceLine: (line: number) => string): Finding[] {
  return suppressions
    .filter((s) => !s.reason || s.unknown.length > 0)
    .map((s) => ({
      rule: 'suppression-invalid',
      level: 'warning' as const,
      file,
      line: s.line,
      column: s.token.column,
      message: !s.reason ? `dbakit-ignore ${s.rules.join(', ')} gives no reason, so it suppresses nothing` : `dbakit-ignore names unknown rule ${s.unknown.join(', ')}`,
      hint: 'write `-- dbakit-ignore RULE-ID: reason`; `dbakit audit rules` lists the ids',
      ...shownSource(sourceLine(s.line), s.token.column),
      fingerprint: fingerprint('suppression-invalid', file, normalise(s.token.text)),
    }))
}

/**
 * The statements inside a procedure, function, trigger or event body, each located in the file,
 * with control-flow words (BEGIN, IF ... THEN, WHILE ... DO, labels) stripped from their front.
 */
function routineBody(statement: AuditStatement): AuditStatement[] {
  const kind = statementKind(statement.tokens)
  if (!ROUTINES.has(kind)) return []
  const tokens = statement.tokens
  const begin = bodyStart(tokens, kind)
  if (begin < 0) return []
  const inner: AuditStatement[] = []
  let piece: Token[] = []
  const flush = () => {
    const body = stripControlFlow(piece)
    piece = []
    if (body.length === 0 || isWord(body[0], 'DECLARE', 'END', 'RETURN', 'LEAVE', 'ITERATE', 'OPEN', 'CLOSE', 'FETCH')) return
    const origin = statement.tokens[0]!.start
    const text = statement.text.slice(body[0]!.start - origin, body[body.length - 1]!.end - origin)
    inner.push({file: statement.file, text, tokens: body, allTokens: statement.allTokens.filter((t) => t.start >= body[0]!.start && t.end <= body[body.length - 1]!.end), line: body[0]!.line, column: body[0]!.column, routine: statementKind(tokens)})
  }
  for (let i = begin; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.text === '(') {
      const close = matchingParen(tokens, i)
      piece.push(...tokens.slice(i, close < 0 ? tokens.length : close + 1))
      i = close < 0 ? tokens.length : close
    } else if (token.text === ';') flush()
    else piece.push(token)
  }
  flush()
  return inner
}

/**
 * Where a routine's body begins: after FOR EACH ROW [FOLLOWS|PRECEDES t] for a trigger, after DO for
 * an event, and for a procedure or function at its BEGIN or, for a one-statement body, at the
 * first statement after the parameter list and characteristics.
 */
function bodyStart(tokens: Token[], kind: string): number {
  if (kind === 'CREATE TRIGGER') {
    const each = findWords(tokens, ['FOR', 'EACH', 'ROW'])
    if (each < 0) return -1
    return isWord(tokens[each + 3], 'FOLLOWS', 'PRECEDES') ? each + 5 : each + 3
  }
  if (kind === 'CREATE EVENT') {
    const at = tokens.findIndex((t) => isWord(t, 'DO'))
    return at < 0 ? -1 : at + 1
  }
  const keyword = tokens.findIndex((t) => isWord(t, 'PROCEDURE', 'FUNCTION'))
  const parameters = tokens.findIndex((t, i) => i > keyword && t.text === '(')
  const after = parameters < 0 ? -1 : matchingParen(tokens, parameters) + 1
  if (keyword < 0 || after <= 0) return -1
  // Characteristics (COMMENT, DETERMINISTIC, SQL SECURITY...) start no statement; CHARACTER SET is a type.
  return tokens.findIndex((t, i) => i >= after && t.type === 'word' && STATEMENT_STARTS.has(t.value) && !isWord(tokens[i - 1], 'CHARACTER'))
}

function stripControlFlow(tokens: Token[]): Token[] {
  let i = 0
  for (;;) {
    const t = tokens[i]
    if (!t) return []
    if (tokens[i + 1]?.text === ':' && t.type === 'word') i += 2
    else if (isWord(t, 'BEGIN', 'ELSE', 'LOOP', 'REPEAT', 'DO')) i++
    else if (isWord(t, 'END')) return []
    else if (isWord(t, 'IF', 'ELSEIF', 'WHILE', 'WHEN', 'CASE', 'UNTIL')) {
      const then = tokens.findIndex((x, k) => k > i && isWord(x, 'THEN', 'DO'))
      if (then < 0) return []
      i = then + 1
    } else break
  }
  const rest = tokens.slice(i)
  const until = findWords(rest, ['END'])
  return until >= 0 && rest.length > 0 && until === rest.length - 1 ? rest.slice(0, until) : rest
}

/** Stable across edits elsewhere in the file: rule, file, and the statement with whitespace and case folded. */
export function fingerprint(rule: string, file: string, normalisedStatement: string): string {
  return createHash('sha256').update(`${rule}\0${file}\0${normalisedStatement}`).digest('hex').slice(0, 32)
}

/** Whitespace and case folded, so re-indenting a migration keeps its baseline. */
export const normalise = (statement: string) => statement.replace(/\s+/g, ' ').trim().toLowerCase()

