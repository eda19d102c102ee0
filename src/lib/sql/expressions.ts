import {isWord, type Token} from './lexer.ts'
import {findTopLevelWord, isNameToken as isName, matchingParen, nameOf, readQualifiedName, splitTopLevel, statementKind, type QualifiedName} from './tokens.ts'
import type {ColumnInfo, IndexInfo, SchemaView, TableInfo} from './schema.ts'

/**
 * Token-level reading of conditions and expressions: WHERE clauses, comparisons, column references,
 * function calls, table references. Like tokens.ts, everything works on meaningful tokens, so a
 * keyword inside a comment or a string can never be mistaken for code, and unparseable input gives
 * "nothing found" rather than an exception.
 */

/** Index of the statement's main keyword: past a leading `WITH name AS (...), ...` clause. */
export function statementStart(tokens: Token[]): number {
  if (!isWord(tokens[0], 'WITH')) return 0
  let i = isWord(tokens[1], 'RECURSIVE') ? 2 : 1
  for (;;) {
    if (!isName(tokens[i])) return i
    i++
    if (tokens[i]?.text === '(') i = matchingParen(tokens, i) + 1
    if (!isWord(tokens[i], 'AS') || tokens[i + 1]?.text !== '(') return i
    const close = matchingParen(tokens, i + 1)
    if (close < 0) return tokens.length
    i = close + 1
    if (tokens[i]?.text !== ',') return i
    i++
  }
}

/** The statement from its main keyword on, and that keyword sequence (see tokens.statementKind). */
export function mainStatement(tokens: Token[]): {tokens: Token[]; kind: string} {
  const main = tokens.slice(statementStart(tokens))
  return {tokens: main, kind: statementKind(main)}
}

/**
 * Index of the first token at or after `from`, outside parentheses opened after `from`, that is one
 * of the `stop` words, a `;`, a comma when `stopAtComma`, or a `)` closing a parenthesis opened
 * before `from`; tokens.length when there is none.
 */
export function clauseEnd(tokens: Token[], from: number, stop: ReadonlySet<string>, stopAtComma = false): number {
  let depth = 0
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.type === 'punctuation') {
      if (token.text === '(') depth++
      else if (token.text === ')') {
        if (--depth < 0) return i
      } else if (depth === 0 && (token.text === ';' || (stopAtComma && token.text === ','))) return i
    } else if (depth === 0 && token.type === 'word' && stop.has(token.value)) return i
  }
  return tokens.length
}

const QUERY_TAIL = ['ORDER', 'GROUP', 'HAVING', 'LIMIT', 'WINDOW', 'UNION', 'EXCEPT', 'INTERSECT', 'INTO', 'FOR', 'LOCK', 'RETURNING', 'PROCEDURE']
const WHERE_END = new Set([...QUERY_TAIL, 'ON'])
const HAVING_END = new Set(QUERY_TAIL.filter((w) => w !== 'GROUP' && w !== 'HAVING'))
const JOIN_WORDS = ['JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS', 'NATURAL', 'STRAIGHT_JOIN', 'FULL']
const ON_END = new Set([...QUERY_TAIL, ...JOIN_WORDS, 'WHERE', 'SET'])
const WHEN_END = new Set(['THEN'])

export interface Clause {
  /** WHERE, HAVING, ON or WHEN. */
  keyword: Token
  /** The condition, without its keyword. */
  tokens: Token[]
}

/** The WHERE clause at the top level of the statement (not one of a subquery), if any. */
export function whereClause(tokens: Token[]): Clause | undefined {
  const where = findTopLevelWord(tokens, 'WHERE')
  return where < 0 ? undefined : {keyword: tokens[where]!, tokens: tokens.slice(where + 1, clauseEnd(tokens, where + 1, WHERE_END))}
}

/** True when one of the words (ORDER, LIMIT, ...) appears at the top level, outside subqueries. */
export const hasTopLevel = (tokens: Token[], ...words: string[]) => words.some((word) => findTopLevelWord(tokens, word) >= 0)

/**
 * An ON that starts a join condition (`JOIN b ON a.id = b.id`), as opposed to GRANT ... ON,
 * CREATE INDEX ... ON, ON DUPLICATE KEY, ON DELETE CASCADE or a trigger's ON table.
 */
function isJoinOn(tokens: Token[], index: number): boolean {
  if (isWord(tokens[index + 1], 'DUPLICATE', 'DELETE', 'UPDATE', 'COMPLETION', 'SCHEDULE')) return false
  let depth = 0
  for (let i = index - 1; i >= 0; i--) {
    const token = tokens[i]!
    if (token.text === ')' && token.type === 'punctuation') depth++
    else if (token.text === '(' && token.type === 'punctuation') {
      if (depth-- === 0) return false
    } else if (depth === 0) {
      if (isWord(token, 'JOIN', 'STRAIGHT_JOIN')) return true
      if (isWord(token, 'ON', 'FROM', 'UPDATE', 'WHERE', 'SET', 'SELECT', 'GRANT', 'REVOKE', 'INDEX', 'TRIGGER', 'TABLE', 'EVENT')) return false
    }
  }
  return false
}

/**
 * Every condition of the statement, at every nesting depth: WHERE, HAVING, join ON and CASE WHEN.
 * A clause's tokens include its subqueries (which are listed again on their own) and CASE
 * expressions (whose WHEN parts are listed again): scanners skip subqueries and de-duplicate.
 */
export function conditionClauses(tokens: Token[], keywords: readonly string[] = ['WHERE', 'HAVING', 'ON', 'WHEN']): Clause[] {
  const clauses: Clause[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.type !== 'word' || !keywords.includes(token.value)) continue
    let end: number
    if (token.value === 'WHERE') end = clauseEnd(tokens, i + 1, WHERE_END)
    else if (token.value === 'HAVING') end = clauseEnd(tokens, i + 1, HAVING_END)
    else if (token.value === 'WHEN') end = clauseEnd(tokens, i + 1, WHEN_END)
    else if (isJoinOn(tokens, i)) end = clauseEnd(tokens, i + 1, ON_END, true)
    else continue
    clauses.push({keyword: token, tokens: tokens.slice(i + 1, end)})
  }
  return clauses
}

/** True when tokens[index] opens a subquery: `(SELECT ...`, `(WITH ...`, `((SELECT ...`. */
export function opensSubquery(tokens: Token[], index: number): boolean {
  let i = index
  while (tokens[i]?.text === '(' && tokens[i]?.type === 'punctuation') i++
  return i > index && isWord(tokens[i], 'SELECT', 'WITH', 'TABLE', 'VALUES')
}

/** Indexes of `tokens` outside subqueries, in order: what a scanner of one query level visits. */
function* ownLevel(tokens: Token[]): Generator<number> {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.text === '(' && opensSubquery(tokens, i)) {
      const close = matchingParen(tokens, i)
      if (close < 0) return
      i = close
      continue
    }
    yield i
  }
}

/**
 * Splits a condition at its top-level AND (also `&&`) or OR (also `||`). The AND of
 * `x BETWEEN a AND b` belongs to BETWEEN and does not split.
 */
export function splitConditions(tokens: Token[], connective: 'AND' | 'OR'): Token[][] {
  const symbol = connective === 'AND' ? '&&' : '||'
  const parts: Token[][] = []
  let current: Token[] = []
  let depth = 0
  let pendingBetween = 0
  for (const token of tokens) {
    if (token.type === 'punctuation' && token.text === '(') depth++
    else if (token.type === 'punctuation' && token.text === ')') depth--
    else if (depth === 0 && connective === 'AND' && isWord(token, 'BETWEEN')) pendingBetween++
    else if (depth === 0 && (isWord(token, connective) || (token.type === 'operator' && token.text === symbol))) {
      if (pendingBetween > 0 && token.type === 'word') pendingBetween--
      else {
        parts.push(current)
        current = []
        continue
      }
    }
    current.push(token)
  }
  parts.push(current)
  return parts
}

export interface ColumnRef {
  schema?: string
  table?: string
  name: string
  /** The column name's token. */
  at: Token
  /** Index of the reference's first token, and of the first token after it. */
  start: number
  end: number
}

/** Words that can stand where a column could, but are not columns. */
const NOT_A_COLUMN = new Set([
  'NULL', 'TRUE', 'FALSE', 'UNKNOWN', 'DEFAULT', 'NOT', 'AND', 'OR', 'XOR', 'IS', 'IN', 'LIKE', 'RLIKE', 'REGEXP', 'BETWEEN', 'EXISTS',
  'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'INTERVAL', 'BINARY', 'DIV', 'MOD', 'SELECT', 'ANY', 'ALL', 'SOME', 'ROW', 'DISTINCT',
  'CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP', 'CURRENT_USER', 'LOCALTIME', 'LOCALTIMESTAMP', 'UTC_DATE', 'UTC_TIME',
  'UTC_TIMESTAMP', 'SOUNDS', 'COLLATE', 'ESCAPE', 'MEMBER', 'AGAINST', 'WHERE', 'FROM', 'ON', 'AS', 'ORDER', 'GROUP', 'LIMIT', 'HAVING',
])

/** Reads `col`, `t.col` or `db.t.col` starting at `index`; a function call or a keyword is not a column. */
export function readColumnRef(tokens: Token[], index: number): ColumnRef | undefined {
  const parts: Token[] = []
  let i = index
  for (;;) {
    const token = tokens[i]
    if (!isName(token) || (token.type === 'word' && NOT_A_COLUMN.has(token.value))) return undefined
    parts.push(token)
    i++
    if (parts.length < 3 && tokens[i]?.text === '.' && tokens[i]?.type === 'punctuation') i++
    else break
  }
  if (tokens[i]?.text === '(') return undefined
  const [a, b, c] = parts
  const at = parts[parts.length - 1]!
  if (c) return {schema: nameOf(a!), table: nameOf(b!), name: nameOf(c), at, start: index, end: i}
  if (b) return {table: nameOf(a!), name: nameOf(b), at, start: index, end: i}
  return {name: nameOf(a!), at, start: index, end: i}
}

/** The column reference that ends just before `end` (exclusive), if tokens[..end) ends with one. */
export function columnRefEndingAt(tokens: Token[], end: number): ColumnRef | undefined {
  let start = end - 1
  if (!isName(tokens[start])) return undefined
  for (let parts = 1; parts < 3 && tokens[start - 1]?.text === '.' && isName(tokens[start - 2]); parts++) start -= 2
  const ref = readColumnRef(tokens, start)
  return ref?.end === end ? ref : undefined
}

/** The column a whole token run is, e.g. a select-list item or a function argument; else undefined. */
export function asColumnRef(tokens: Token[]): ColumnRef | undefined {
  const ref = readColumnRef(tokens, 0)
  return ref?.end === tokens.length ? ref : undefined
}

export type LiteralKind = 'number' | 'string'

/**
 * What kind of constant a token is. Hex and bit literals (0x1F, X'1F', b'01') are binary strings or
 * numbers depending on context, so they are neither.
 */
export function literalKind(token: Token | undefined): LiteralKind | undefined {
  if (!token) return undefined
  if (token.type === 'number') return /^0[xb]/i.test(token.text) ? undefined : 'number'
  if (token.type === 'string') return /^[xb]'/i.test(token.text) ? undefined : 'string'
  return undefined
}

export type Operand = {kind: 'column'; ref: ColumnRef} | {kind: LiteralKind | 'null'; token: Token} | {kind: 'other'}

export interface Comparison {
  /** `=`, `<>`, ..., or the IN / BETWEEN keyword for list and range forms. */
  operator: Token
  left: Operand
  right: Operand
}

const COMPARISON_OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '<=>'])
const isComparisonOperator = (token: Token | undefined) => token?.type === 'operator' && COMPARISON_OPERATORS.has(token.text)

/** Tokens that can sit right before an operand that stands on its own (not part of `a + b`). */
function boundsOperandBefore(token: Token | undefined): boolean {
  if (!token) return true
  if (token.type === 'punctuation') return token.text === '(' || token.text === ','
  if (token.type === 'operator') return token.text === '&&' || token.text === '||'
  return isWord(token, 'AND', 'OR', 'XOR', 'NOT', 'WHERE', 'ON', 'HAVING', 'WHEN', 'THEN', 'ELSE')
}

function boundsOperandAfter(token: Token | undefined): boolean {
  if (!token) return true
  if (token.type === 'punctuation') return token.text === ')' || token.text === ',' || token.text === ';'
  if (token.type === 'operator') return token.text === '&&' || token.text === '||'
  return isWord(token, 'AND', 'OR', 'XOR', 'THEN', 'ELSE', 'END', 'WHEN')
}

/** The operand that starts at `index` and runs to a boundary: a literal, NULL, a column, or other. */
function operandFrom(tokens: Token[], index: number): {operand: Operand; end: number} {
  const sign = tokens[index]?.type === 'operator' && (tokens[index]!.text === '-' || tokens[index]!.text === '+') ? 1 : 0
  const literal = literalKind(tokens[index + sign])
  if (literal && (sign === 0 || literal === 'number') && boundsOperandAfter(tokens[index + sign + 1])) {
    return {operand: {kind: literal, token: tokens[index + sign]!}, end: index + sign + 1}
  }
  if (isWord(tokens[index], 'NULL') && boundsOperandAfter(tokens[index + 1])) return {operand: {kind: 'null', token: tokens[index]!}, end: index + 1}
  const ref = readColumnRef(tokens, index)
  if (ref && boundsOperandAfter(tokens[ref.end])) return {operand: {kind: 'column', ref}, end: ref.end}
  return {operand: {kind: 'other'}, end: index}
}

/** The operand that ends just before `end`, standing on its own (see boundsOperandBefore). */
function operandBefore(tokens: Token[], end: number): Operand {
  const last = tokens[end - 1]
  const literal = literalKind(last)
  if (literal) {
    const signed = tokens[end - 2]?.type === 'operator' && (tokens[end - 2]!.text === '-' || tokens[end - 2]!.text === '+')
    if (boundsOperandBefore(tokens[end - (signed ? 3 : 2)])) return {kind: literal, token: last!}
    return {kind: 'other'}
  }
  if (isWord(last, 'NULL')) return boundsOperandBefore(tokens[end - 2]) ? {kind: 'null', token: last!} : {kind: 'other'}
  const ref = columnRefEndingAt(tokens, end)
  if (ref && boundsOperandBefore(tokens[ref.start - 1])) return {kind: 'column', ref}
  return {kind: 'other'}
}

/**
 * The comparisons in one condition (subqueries skipped): `a = 1`, `1 < a`, `a = b`, and, per list
 * item, `a IN (1, 2)` and `a BETWEEN 1 AND 9`. Operands that are expressions come back as 'other'.
 */
export function comparisonsIn(tokens: Token[]): Comparison[] {
  const found: Comparison[] = []
  for (const i of ownLevel(tokens)) {
    const token = tokens[i]!
    if (isComparisonOperator(token)) {
      found.push({operator: token, left: operandBefore(tokens, i), right: operandFrom(tokens, i + 1).operand})
    } else if (isWord(token, 'IN') && tokens[i + 1]?.text === '(' && !opensSubquery(tokens, i + 1)) {
      const left = operandBefore(tokens, isWord(tokens[i - 1], 'NOT') ? i - 1 : i)
      const close = matchingParen(tokens, i + 1)
      if (close < 0) continue
      for (const item of splitTopLevel(tokens, i + 2, close)) {
        const {operand, end} = operandFrom(item, 0)
        if (end === item.length) found.push({operator: token, left, right: operand})
      }
    } else if (isWord(token, 'BETWEEN')) {
      const left = operandBefore(tokens, isWord(tokens[i - 1], 'NOT') ? i - 1 : i)
      const low = operandFrom(tokens, i + 1)
      if (!isWord(tokens[low.end], 'AND')) continue
      found.push({operator: token, left, right: low.operand}, {operator: token, left, right: operandFrom(tokens, low.end + 1).operand})
    }
  }
  return found
}

/** Comparisons in every condition of the statement (WHERE, HAVING, ON, WHEN), each once. */
export function conditionComparisons(tokens: Token[]): Comparison[] {
  const seen = new Set<string>()
  const all: Comparison[] = []
  for (const clause of conditionClauses(tokens)) {
    for (const comparison of comparisonsIn(clause.tokens)) {
      const right = comparison.right.kind === 'column' ? comparison.right.ref.at : comparison.right.kind === 'other' ? undefined : comparison.right.token
      const key = `${comparison.operator.start}:${right?.start ?? ''}`
      if (seen.has(key)) continue
      seen.add(key)
      all.push(comparison)
    }
  }
  return all
}

/** Words followed by `(` that are syntax, not a function applied to its argument. */
const NOT_A_FUNCTION = new Set([
  'IN', 'EXISTS', 'NOT', 'AND', 'OR', 'XOR', 'ANY', 'ALL', 'SOME', 'VALUES', 'VALUE', 'ROW', 'SELECT', 'AS', 'ON', 'USING', 'WHEN', 'THEN', 'ELSE',
  'MATCH', 'AGAINST', 'WHERE', 'BETWEEN', 'LIKE', 'IS', 'CASE', 'DISTINCT', 'OF', 'MEMBER', 'FROM', 'JOIN', 'WITH',
])

export interface WrappedColumn {
  /** The outermost function name token, e.g. DATE in DATE(created_at). */
  function: Token
  column: ColumnRef
}

/**
 * The argument a call `name(...)` applies to first: `x` in LOWER(x), CAST(x AS CHAR), IFNULL(x, 0),
 * SUBSTRING(x FROM 2), and the part after FROM in EXTRACT(YEAR FROM x) and TRIM(LEADING '0' FROM x).
 */
function firstArgument(tokens: Token[], open: number, close: number): Token[] {
  const first = splitTopLevel(tokens, open + 1, close)[0] ?? []
  const fromIsSubject = isWord(tokens[open - 1], 'EXTRACT', 'TRIM')
  let depth = 0
  for (let k = 0; k < first.length; k++) {
    const token = first[k]!
    if (token.text === '(') depth++
    else if (token.text === ')') depth--
    else if (depth === 0 && fromIsSubject && isWord(token, 'FROM')) return first.slice(k + 1)
    else if (depth === 0 && isWord(token, 'AS', 'USING', 'FROM', 'FOR')) return first.slice(0, k)
  }
  return first
}

/** True when tokens[index] is a function name: a word right before `(` that is not syntax. */
export function isFunctionCall(tokens: Token[], index: number): boolean {
  const token = tokens[index]
  return token?.type === 'word' && tokens[index + 1]?.text === '(' && !NOT_A_FUNCTION.has(token.value)
}

/**
 * Functions applied to a column in WHERE clauses: `DATE(created_at) = ...`, `LOWER(TRIM(email))`.
 * An index on the column cannot serve such a condition. MATCH ... AGAINST is not one.
 */
export function wrappedColumns(tokens: Token[]): WrappedColumn[] {
  const found: WrappedColumn[] = []
  const seen = new Set<number>()
  for (const clause of conditionClauses(tokens, ['WHERE'])) {
    const where = clause.tokens
    let skipUntil = -1
    for (const i of ownLevel(where)) {
      if (i <= skipUntil || !isFunctionCall(where, i)) continue
      const close = matchingParen(where, i + 1)
      if (close < 0) break
      let argument = firstArgument(where, i + 1, close)
      // LOWER(TRIM(email)): the column is what the innermost call applies to.
      while (isFunctionCall(argument, 0) && matchingParen(argument, 1) === argument.length - 1) argument = firstArgument(argument, 1, argument.length - 1)
      const column = asColumnRef(argument)
      if (!column) continue
      skipUntil = close
      if (seen.has(where[i]!.start)) continue
      seen.add(where[i]!.start)
      found.push({function: where[i]!, column})
    }
  }
  return found
}

/**
 * Whether a condition's value is fixed whatever the row: true for `1`, `TRUE`, `1=1`, `'a'='a'`,
 * `x=x`, `x LIKE '%'`, `... OR 1`, `x IS NULL OR x IS NOT NULL`; false for `0`, `1=0`, `FALSE`;
 * undefined when it depends on the data (or cannot be read).
 */
export function constantTruth(tokens: Token[]): boolean | undefined {
  if (tokens.length === 0) return undefined
  const disjuncts = splitConditions(tokens, 'OR')
  if (disjuncts.length > 1) {
    const values = disjuncts.map(constantTruth)
    if (values.includes(true) || coversNullAndNotNull(disjuncts)) return true
    return values.every((v) => v === false) ? false : undefined
  }
  const conjuncts = splitConditions(tokens, 'AND')
  if (conjuncts.length > 1) {
    const values = conjuncts.map(constantTruth)
    if (values.includes(false)) return false
    return values.every((v) => v === true) ? true : undefined
  }
  return atomTruth(tokens)
}

export const isAlwaysTrue = (tokens: Token[]) => constantTruth(tokens) === true

function atomTruth(tokens: Token[]): boolean | undefined {
  const first = tokens[0]!
  if (first.text === '(' && first.type === 'punctuation' && matchingParen(tokens, 0) === tokens.length - 1) return constantTruth(tokens.slice(1, -1))
  if (isWord(first, 'NOT') || (first.type === 'operator' && first.text === '!')) {
    const inner = constantTruth(tokens.slice(1))
    return inner === undefined ? undefined : !inner
  }
  if (tokens.length === 1) {
    if (isWord(first, 'TRUE')) return true
    if (isWord(first, 'FALSE')) return false
    const number = constantNumber(first)
    return number === undefined ? undefined : number !== 0
  }
  const operatorAt = topLevelIndex(tokens, (t) => isComparisonOperator(t) || isWord(t, 'LIKE'))
  if (operatorAt <= 0) return undefined
  const operator = tokens[operatorAt]!
  const left = tokens.slice(0, operatorAt)
  const right = tokens.slice(operatorAt + 1)
  if (isWord(operator, 'LIKE')) {
    // x LIKE '%' matches every non-NULL value: as good as no filter.
    return right.length === 1 && right[0]!.type === 'string' && /^%+$/.test(right[0]!.value) && asColumnRef(left) ? true : undefined
  }
  // RAND() = RAND() and ? = ? compare two different values.
  if (sameTokens(left, right) && !left.some((t) => t.type === 'placeholder' || isWord(t, 'RAND', 'UUID', 'UUID_SHORT', 'SYSDATE'))) {
    return ['=', '<=', '>=', '<=>'].includes(operator.text) ? true : ['<>', '!=', '<', '>'].includes(operator.text) ? false : undefined
  }
  const a = left.length === 1 ? constantNumber(left[0]!) : undefined
  const b = right.length === 1 ? constantNumber(right[0]!) : undefined
  if (a !== undefined && b !== undefined && left[0]!.type === 'number' && right[0]!.type === 'number') return compareNumbers(a, operator.text, b)
  return undefined
}

function compareNumbers(a: number, operator: string, b: number): boolean | undefined {
  switch (operator) {
    case '=':
    case '<=>':
      return a === b
    case '<>':
    case '!=':
      return a !== b
    case '<':
      return a < b
    case '>':
      return a > b
    case '<=':
      return a <= b
    case '>=':
      return a >= b
    default:
      return undefined
  }
}

/** A number literal's value, or a string's value as MySQL converts it ('1' is 1, 'abc' is 0). */
function constantNumber(token: Token): number | undefined {
  if (token.type === 'number' && !/^0[xb]/i.test(token.text)) return Number(token.text)
  if (token.type === 'string' && !/^[xb]'/i.test(token.text)) return Number(/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(token.value)?.[0] ?? 0)
  return undefined
}

function topLevelIndex(tokens: Token[], test: (token: Token) => boolean): number {
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.text === '(' && token.type === 'punctuation') depth++
    else if (token.text === ')' && token.type === 'punctuation') depth--
    else if (depth === 0 && test(token)) return i
  }
  return -1
}

/** Same code, ignoring case of names (column names are case-insensitive). */
function sameTokens(a: Token[], b: Token[]): boolean {
  return a.length > 0 && a.length === b.length && a.every((t, k) => t.type === b[k]!.type && (t.type === 'string' ? t.value === b[k]!.value : t.value.toLowerCase() === b[k]!.value.toLowerCase()))
}

/** `x IS NULL OR x IS NOT NULL` (in any order, among other disjuncts) is true for every row. */
function coversNullAndNotNull(disjuncts: Token[][]): boolean {
  const nullTests = new Map<string, Set<boolean>>()
  for (const part of disjuncts) {
    const n = part.length
    if (n < 3 || !isWord(part[n - 1], 'NULL')) continue
    const negated = isWord(part[n - 2], 'NOT')
    if (!isWord(part[n - (negated ? 3 : 2)], 'IS')) continue
    const subject = part.slice(0, n - (negated ? 3 : 2))
    if (subject.length === 0) continue
    const key = subject.map((t) => (t.type === 'string' ? `'${t.value}` : t.value.toLowerCase())).join(' ')
    const seen = nullTests.get(key) ?? new Set<boolean>()
    seen.add(negated)
    nullTests.set(key, seen)
    if (seen.size === 2) return true
  }
  return false
}

const SELECT_MODIFIERS = new Set(['ALL', 'DISTINCT', 'DISTINCTROW', 'HIGH_PRIORITY', 'STRAIGHT_JOIN', 'SQL_SMALL_RESULT', 'SQL_BIG_RESULT', 'SQL_BUFFER_RESULT', 'SQL_CACHE', 'SQL_NO_CACHE', 'SQL_CALC_FOUND_ROWS'])
const SELECT_LIST_END = new Set(['FROM', 'INTO', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'UNION', 'EXCEPT', 'INTERSECT', 'WINDOW', 'FOR', 'LOCK'])

/** The items of the select list of the SELECT at `selectIndex`, and the index just past the list. */
export function selectList(tokens: Token[], selectIndex: number): {items: Token[][]; end: number} {
  let start = selectIndex + 1
  while (tokens[start]?.type === 'word' && SELECT_MODIFIERS.has(tokens[start]!.value)) start++
  const end = clauseEnd(tokens, start, SELECT_LIST_END)
  return {items: splitTopLevel(tokens, start, end), end}
}

/** `*` or `t.*` / `db.t.*` as a select-list item. */
export function isStarItem(item: Token[]): boolean {
  const last = item[item.length - 1]
  if (last?.text !== '*' || last.type !== 'operator') return false
  if (item.length === 1) return true
  for (let k = item.length - 2; k >= 0; k -= 2) if (item[k]?.text !== '.' || !isName(item[k - 1])) return false
  return item.length <= 5
}

/**
 * The range (start inclusive, end exclusive) of the query block around `index`: the subquery's
 * parentheses it is in, or the whole statement. Grouping and call parentheses are looked through.
 */
export function blockAround(tokens: Token[], index: number): {start: number; end: number} {
  let depth = 0
  for (let i = index - 1; i >= 0; i--) {
    const token = tokens[i]!
    if (token.type !== 'punctuation') continue
    if (token.text === ')') depth++
    else if (token.text === '(' && depth-- === 0) {
      depth = 0
      if (!opensSubquery(tokens, i)) continue
      const close = matchingParen(tokens, i)
      return {start: i + 1, end: close < 0 ? tokens.length : close}
    }
  }
  return {start: 0, end: tokens.length}
}

export interface TableRef {
  schema?: string
  name: string
  alias?: string
  at: Token
}

/** Words that end a table reference rather than name its alias. */
const NOT_AN_ALIAS = new Set([
  'WHERE', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS', 'NATURAL', 'STRAIGHT_JOIN', 'FULL', 'OUTER', 'ON', 'USING', 'SET', 'ORDER', 'GROUP',
  'HAVING', 'LIMIT', 'UNION', 'EXCEPT', 'INTERSECT', 'FOR', 'LOCK', 'INTO', 'WINDOW', 'USE', 'FORCE', 'IGNORE', 'PARTITION', 'VALUES', 'VALUE',
  'SELECT', 'RETURNING', 'PROCEDURE', 'WITH', 'FROM', 'AS', 'LATERAL', 'FETCH', 'OFFSET', 'TABLESAMPLE',
])

/** Reads a comma-separated list of table factors starting at `index`; derived tables are skipped. */
function readTableList(tokens: Token[], index: number, into: TableRef[]): void {
  let i = index
  for (;;) {
    while (isWord(tokens[i], 'LOW_PRIORITY', 'IGNORE', 'QUICK', 'LATERAL', 'ONLY')) i++
    let table: QualifiedName | undefined
    if (tokens[i]?.text === '(') {
      const close = matchingParen(tokens, i)
      if (close < 0) return
      i = close + 1
    } else {
      table = readQualifiedName(tokens, i)
      if (!table) return
      i = table.end
    }
    if (isWord(tokens[i], 'PARTITION') && tokens[i + 1]?.text === '(') i = matchingParen(tokens, i + 1) + 1
    if (i <= 0) return
    let alias: string | undefined
    if (isWord(tokens[i], 'AS') && isName(tokens[i + 1])) {
      alias = nameOf(tokens[i + 1]!)
      i += 2
    } else if (isName(tokens[i]) && !(tokens[i]!.type === 'word' && NOT_AN_ALIAS.has(tokens[i]!.value))) {
      alias = nameOf(tokens[i]!)
      i++
    }
    // Index hints: USE INDEX (a), FORCE KEY FOR JOIN (b), ...
    while (isWord(tokens[i], 'USE', 'FORCE', 'IGNORE') && isWord(tokens[i + 1], 'INDEX', 'KEY')) {
      let open = i + 2
      while (open < tokens.length && tokens[open]!.text !== '(') open++
      const close = matchingParen(tokens, open)
      if (close < 0) return
      i = close + 1
    }
    if (table) into.push({...(table.schema ? {schema: table.schema} : {}), name: table.name, ...(alias ? {alias} : {}), at: table.at})
    if (tokens[i]?.text !== ',') return
    i++
  }
}

/**
 * The tables a statement reads or writes: after FROM, JOIN, USING (multi-table DELETE) and the
 * statement's own UPDATE, with their aliases. `nested: false` keeps to the top level (not
 * subqueries or derived tables). Table names of FROM inside function calls (EXTRACT(x FROM y)) are
 * not tables and are skipped.
 */
export function tableReferences(tokens: Token[], options: {nested?: boolean} = {}): TableRef[] {
  const nested = options.nested ?? true
  const found: TableRef[] = []
  const main = statementStart(tokens)
  const parens: boolean[] = [] // true for a function call's parentheses
  // Per nesting depth: whether the scan is in a join condition, where a comma starts another table
  // (`FROM a JOIN b ON a.id = b.id, c`).
  const inJoinCondition: boolean[] = [false]
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.type === 'punctuation' && token.text === '(') {
      parens.push(isFunctionCall(tokens, i - 1) && !opensSubquery(tokens, i))
      inJoinCondition[parens.length] = false
      continue
    }
    if (token.type === 'punctuation' && token.text === ')') {
      parens.pop()
      continue
    }
    if (parens.includes(true) || (!nested && parens.length > 0)) continue
    if (token.type === 'punctuation' && token.text === ',' && inJoinCondition[parens.length]) {
      inJoinCondition[parens.length] = false
      readTableList(tokens, i + 1, found)
      continue
    }
    if (token.type !== 'word') continue
    if (token.value === 'ON' || (token.value === 'USING' && tokens[i + 1]?.text === '(')) inJoinCondition[parens.length] = isJoinOn(tokens, i) || token.value === 'USING'
    else if (['WHERE', 'SET', 'GROUP', 'ORDER', 'HAVING', 'LIMIT', 'WINDOW', 'UNION', 'SELECT', 'FROM', 'JOIN'].includes(token.value)) inJoinCondition[parens.length] = false
    const starts =
      token.value === 'FROM' ||
      token.value === 'JOIN' ||
      token.value === 'STRAIGHT_JOIN' ||
      (token.value === 'UPDATE' && i === main) ||
      (token.value === 'USING' && tokens[i + 1]?.text !== '(')
    if (starts) readTableList(tokens, i + 1, found)
  }
  return found
}

export interface ResolvedColumn {
  table: TableInfo
  column: ColumnInfo
}

const lower = (s: string) => s.toLowerCase()

/**
 * The schema's table and column a reference means, given the tables the statement names. An
 * unqualified name found in more than one of them is ambiguous and resolves to nothing.
 */
export function resolveColumn(ref: ColumnRef, tables: TableRef[], schema: SchemaView): ResolvedColumn | undefined {
  const qualifier = ref.table === undefined ? undefined : lower(ref.table)
  const candidates = qualifier === undefined ? tables : tables.filter((t) => lower(t.alias ?? '') === qualifier || lower(t.name) === qualifier)
  const matches: ResolvedColumn[] = []
  const seen = new Set<TableInfo>()
  for (const candidate of candidates) {
    const table = schema.table(candidate.name, candidate.schema ?? ref.schema)
    if (!table || seen.has(table)) continue
    seen.add(table)
    const column = table.columns.find((c) => lower(c.name) === lower(ref.name))
    if (column) matches.push({table, column})
  }
  return matches.length === 1 ? matches[0] : undefined
}

/** The table's indexes that contain the column, those where it comes first listed first. */
export function indexesWith(table: TableInfo, column: string): IndexInfo[] {
  const name = lower(column)
  const containing = table.indexes.filter((index) => index.columns.some((c) => lower(c) === name))
  return [...containing.filter((index) => lower(index.columns[0] ?? '') === name), ...containing.filter((index) => lower(index.columns[0] ?? '') !== name)]
}

export const primaryKey = (table: TableInfo): IndexInfo | undefined => table.indexes.find((index) => index.name.toUpperCase() === 'PRIMARY')

export interface InsertShape {
  table: QualifiedName
  /** Index of the `(` of the column list, when there is one. */
  columnList?: number
  /** How rows are given, and the index of that keyword (VALUES, SET, SELECT, ...). */
  body: 'values' | 'set' | 'query' | 'unknown'
  bodyIndex: number
}

/** The parts of an INSERT or REPLACE statement (tokens from its main keyword on). */
export function insertShape(tokens: Token[]): InsertShape | undefined {
  const kind = statementKind(tokens)
  if (kind !== 'INSERT' && kind !== 'REPLACE') return undefined
  let i = 1
  while (isWord(tokens[i], 'LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE', 'INTO')) i++
  const table = readQualifiedName(tokens, i)
  if (!table) return undefined
  i = table.end
  if (isWord(tokens[i], 'PARTITION') && tokens[i + 1]?.text === '(') i = matchingParen(tokens, i + 1) + 1
  if (i <= 0) return undefined
  let columnList: number | undefined
  if (tokens[i]?.text === '(' && !opensSubquery(tokens, i)) {
    columnList = i
    i = matchingParen(tokens, i) + 1
    if (i <= 0) return undefined
  }
  const shape = (body: InsertShape['body']): InsertShape => ({table, ...(columnList !== undefined ? {columnList} : {}), body, bodyIndex: i})
  if (isWord(tokens[i], 'VALUES', 'VALUE')) return shape('values')
  if (isWord(tokens[i], 'SET')) return shape('set')
  if (isWord(tokens[i], 'SELECT', 'WITH', 'TABLE') || opensSubquery(tokens, i)) return shape('query')
  return shape('unknown')
}

/** Index of the query's SELECT keyword at or after `index`, past opening parentheses and a WITH clause. */
export function selectKeywordAt(tokens: Token[], index: number): number {
  let i = index
  while (tokens[i]?.text === '(') i++
  if (isWord(tokens[i], 'WITH')) i += statementStart(tokens.slice(i))
  return isWord(tokens[i], 'SELECT') ? i : -1
}
