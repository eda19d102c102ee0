import {isWord, type Token} from './lexer.ts'

/**
 * Small, shared ways of reading a statement's meaningful tokens (see lexer.significant). Rules use
 * these instead of regular expressions over text, so comments and strings can never match.
 */

export const isNameToken = (token: Token | undefined): token is Token => token?.type === 'word' || token?.type === 'identifier'

/** A name as the server reads it: `quoted` and 'quoted' names unquoted, bare words as written. */
export const nameOf = (token: Token) => (token.type === 'identifier' || token.type === 'string' ? token.value : token.text)

/** `schema.table` or `table`, for messages. */
export const qualifiedLabel = (table: {schema?: string; name: string}) => (table.schema ? `${table.schema}.${table.name}` : table.name)

/** Index of the first place where the words follow each other, or -1. */
export function findWords(tokens: Token[], words: string[], from = 0): number {
  outer: for (let i = from; i <= tokens.length - words.length; i++) {
    for (let k = 0; k < words.length; k++) if (!isWord(tokens[i + k], words[k]!)) continue outer
    return i
  }
  return -1
}

/**
 * Every rule asks for the statement's kind and target table; both depend only on the token array,
 * which the engine builds once per statement, so each is computed once.
 */
export function memoizedByTokens<T>(read: (tokens: Token[]) => T): (tokens: Token[]) => T {
  // Kept on the array itself: a WeakMap lookup per call cost more than some of the readers.
  const slot = Symbol(read.name)
  return (tokens) => {
    const holder = tokens as Token[] & {[key: symbol]: {value: T} | undefined}
    let hit = holder[slot]
    if (!hit) {
      hit = {value: read(tokens)}
      holder[slot] = hit
    }
    return hit.value
  }
}

const OBJECT_WORDS = new Set(['TABLE', 'INDEX', 'VIEW', 'PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'USER', 'ROLE', 'DATABASE', 'SCHEMA', 'SEQUENCE', 'SERVER', 'TABLESPACE', 'LOGFILE', 'PACKAGE'])

/** The statement's kind, e.g. "ALTER TABLE", "CREATE INDEX" (for CREATE UNIQUE INDEX too), "INSERT", "SET". */
export const statementKind = memoizedByTokens(function statementKind(tokens: Token[]): string {
  const words: string[] = []
  for (const token of tokens) {
    if (token.type !== 'word') break
    words.push(token.value)
    if (words.length === 2) break
  }
  const [a = '', b = ''] = words
  // TABLE is optional after TRUNCATE; both spellings are the same statement.
  if (a === 'TRUNCATE') return 'TRUNCATE TABLE'
  if (a === 'CREATE' || a === 'DROP' || a === 'ALTER' || a === 'RENAME') {
    if (b === 'UNIQUE' || b === 'FULLTEXT' || b === 'SPATIAL') return `${a} INDEX`
    // The object word may come after OR REPLACE, TEMPORARY, ALGORITHM=..., DEFINER=user@host or
    // SQL SECURITY ...: the first object word among the leading tokens names the statement.
    const object = tokens.slice(1, 24).find((token) => token.type === 'word' && OBJECT_WORDS.has(token.value))
    if (object) return `${a} ${object.value}`
    return a
  }
  return a
})

export interface QualifiedName {
  schema?: string
  name: string
  /** Index of the first token after the name. */
  end: number
  at: Token
}

/** Reads `name`, `schema.name` or their quoted forms starting at `index`. */
export function readQualifiedName(tokens: Token[], index: number): QualifiedName | undefined {
  const first = tokens[index]
  if (!first || (first.type !== 'word' && first.type !== 'identifier')) return undefined
  const part = (t: Token) => (t.type === 'identifier' ? t.value : t.text)
  const dot = tokens[index + 1]
  const second = tokens[index + 2]
  if (dot?.text === '.' && second && (second.type === 'word' || second.type === 'identifier')) {
    return {schema: part(first), name: part(second), end: index + 3, at: first}
  }
  return {name: part(first), end: index + 1, at: first}
}

/** The table an ALTER TABLE / CREATE TABLE / DROP TABLE / TRUNCATE / UPDATE / DELETE / INSERT names first. */
export const targetTable = memoizedByTokens(function targetTable(tokens: Token[]): QualifiedName | undefined {
  const kind = statementKind(tokens)
  let index = -1
  if (kind === 'TRUNCATE TABLE') index = isWord(tokens[1], 'TABLE') ? 2 : 1
  else if (kind === 'ALTER TABLE' || kind === 'CREATE TABLE' || kind === 'DROP TABLE' || kind === 'RENAME TABLE') {
    index = tokens.findIndex((t) => isWord(t, 'TABLE')) + 1
    if (isWord(tokens[index], 'IF')) index += isWord(tokens[index + 1], 'NOT') ? 3 : 2
  } else if (kind === 'UPDATE') {
    index = 1
    while (isWord(tokens[index], 'LOW_PRIORITY', 'IGNORE')) index++
  } else if (kind === 'DELETE') index = tokens.findIndex((t) => isWord(t, 'FROM')) + 1
  else if (kind === 'INSERT' || kind === 'REPLACE') {
    index = 1
    while (isWord(tokens[index], 'LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE', 'INTO')) index++
  } else if (kind === 'CREATE INDEX' || kind === 'DROP INDEX') index = tokens.findIndex((t) => isWord(t, 'ON')) + 1
  if (index <= 0) return undefined
  return readQualifiedName(tokens, index)
})

/** Index of the parenthesis closing the one at `open`, or -1. */
export function matchingParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.text === '(') depth++
    else if (tokens[i]!.text === ')' && --depth === 0) return i
  }
  return -1
}

/** Splits tokens[from, to) at commas outside parentheses: ALTER TABLE clauses, column lists, SET lists. */
export function splitTopLevel(tokens: Token[], from = 0, to = tokens.length, separator = ','): Token[][] {
  const parts: Token[][] = []
  let current: Token[] = []
  let depth = 0
  for (let i = from; i < to; i++) {
    const token = tokens[i]!
    if (token.text === '(') depth++
    if (token.text === ')') depth--
    if (depth === 0 && token.type === 'punctuation' && token.text === separator) {
      parts.push(current)
      current = []
    } else current.push(token)
  }
  if (current.length > 0) parts.push(current)
  return parts
}

/** Index of a top-level keyword (outside parentheses), e.g. WHERE in an UPDATE, or -1. */
export function findTopLevelWord(tokens: Token[], word: string, from = 0): number {
  let depth = 0
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.text === '(') depth++
    else if (token.text === ')') depth--
    else if (depth === 0 && isWord(token, word)) return i
  }
  return -1
}

/** The name token of every call of a function in `names` (upper case): `SLEEP(`, not `t.sleep(` or a column named sleep. */
export function functionCalls(tokens: Token[], names: ReadonlySet<string>): Token[] {
  return tokens.filter((token, i) => token.type === 'word' && names.has(token.value) && tokens[i + 1]?.text === '(' && tokens[i - 1]?.text !== '.')
}
