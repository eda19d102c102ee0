import {compareVersions} from '../connect/capabilities.ts'
import {isWord, significant, tokenize, type Token} from './lexer.ts'
import type {SqlFlavor} from './parser.ts'
import {isNameToken as isName, matchingParen, memoizedByTokens, nameOf, readQualifiedName, splitTopLevel, type QualifiedName} from './tokens.ts'

/**
 * Reads DDL from tokens (ALTER TABLE clauses, column and index definitions, CREATE TABLE) and tells
 * how MySQL/MariaDB InnoDB will run an ALTER: INSTANT, INPLACE (with or without a table rebuild)
 * or COPY, and whether writes are blocked meanwhile. node-sql-parser rejects much valid DDL, so
 * everything here works from the lexer's tokens and degrades to "unknown" instead of throwing.
 *
 * Shared by `dbakit audit` and online schema change: it must not depend on src/lib/audit.
 */

// ---------------------------------------------------------------------------------------------
// Shapes

export interface ColumnType {
  /** Canonical upper-case name: synonyms folded (INTEGER -> INT, BOOL -> TINYINT, NUMERIC -> DECIMAL). */
  name: string
  /** Length, precision or fractional-seconds precision, as written. */
  length?: number
  scale?: number
  /** ENUM / SET members, in order. */
  values?: string[]
  unsigned: boolean
  zerofill: boolean
  /** Lower-case character set and collation given with the type. */
  charset?: string
  collation?: string
  charsetAt?: Token
  collationAt?: Token
  /** Canonical text, e.g. "VARCHAR(255)", "INT UNSIGNED", "ENUM('a','b')". */
  text: string
}

export interface DefaultValue {
  at: Token
  /** `now` is CURRENT_TIMESTAMP and its synonyms; `expression` is anything parenthesised, even `('x')`. */
  kind: 'null' | 'literal' | 'now' | 'expression'
  /** Literal content (unquoted; also for a lone literal in parentheses) or the expression's text. */
  value: string
  /** Expression defaults that call a function (UUID(), RAND()...), which cannot be filled instantly. */
  callsFunction: boolean
}

export type ColumnPosition = {kind: 'first'; at: Token} | {kind: 'after'; column: string; at: Token}

export interface ColumnDefinition {
  name: string
  at: Token
  type: ColumnType
  typeAt: Token
  /** NOT NULL was written (SERIAL implies it). PRIMARY KEY columns are NOT NULL too: see `nullable`. */
  notNull: boolean
  nullable: boolean
  default?: DefaultValue
  autoIncrement: boolean
  primaryKey: boolean
  unique: boolean
  generated?: 'VIRTUAL' | 'STORED'
  comment?: string
  /** Inline `REFERENCES table (...)`. */
  references?: {table: string; at: Token}
  position?: ColumnPosition
}

export type IndexKind = 'PRIMARY' | 'UNIQUE' | 'INDEX' | 'FULLTEXT' | 'SPATIAL' | 'FOREIGN'

export interface KeyPart {
  /** Column name as written, or the expression text of a functional key part. */
  column: string
  /** Prefix length: `name(10)`. */
  length?: number
  expression: boolean
}

export interface IndexDefinition {
  kind: IndexKind
  /** Index name, else the CONSTRAINT symbol. */
  name?: string
  parts: KeyPart[]
  at: Token
  references?: {table: string; columns: string[]}
  /** Declared inside a column definition (PRIMARY KEY, UNIQUE, REFERENCES after the type). */
  inline: boolean
}

export type AlterClauseKind =
  | 'add-column'
  | 'drop-column'
  | 'modify-column'
  | 'change-column'
  | 'rename-column'
  | 'alter-column-default'
  | 'alter-column-visibility'
  | 'add-index'
  | 'drop-index'
  | 'rename-index'
  | 'alter-index-visibility'
  | 'drop-primary-key'
  | 'drop-foreign-key'
  | 'add-check'
  | 'drop-constraint'
  | 'alter-check'
  | 'rename-table'
  | 'convert-charset'
  | 'table-charset'
  | 'engine'
  | 'table-option'
  | 'algorithm'
  | 'lock'
  | 'force'
  | 'optimize'
  | 'order-by'
  | 'keys'
  | 'tablespace'
  | 'partition-by'
  | 'remove-partitioning'
  | 'partition-op'
  | 'system-versioning'
  | 'unknown'

export interface AlterClause {
  kind: AlterClauseKind
  /** The clause's first token (ADD, DROP, MODIFY, ENGINE...). */
  at: Token
  tokens: Token[]
  /** The column the clause concerns, by its current name (DROP, MODIFY, CHANGE, RENAME COLUMN, ALTER COLUMN). */
  column?: string
  columnAt?: Token
  /** New definition for ADD, MODIFY and CHANGE COLUMN. */
  definition?: ColumnDefinition
  /** New name for CHANGE, RENAME COLUMN, RENAME INDEX and RENAME TO. */
  newName?: string
  index?: IndexDefinition
  /** Index, key or constraint name for DROP / RENAME / ALTER INDEX and DROP FOREIGN KEY / CONSTRAINT. */
  name?: string
  /** Option name (ENGINE, ROW_FORMAT, ALGORITHM, partition verb such as DROP or REORGANIZE), upper case. */
  option?: string
  /** Option value as written (InnoDB, INPLACE...). */
  value?: string
  valueAt?: Token
  /** CONVERT TO / DEFAULT CHARACTER SET / COLLATE. */
  charset?: string
  collation?: string
  /** CHECK constraint or ALTER CHECK declared NOT ENFORCED. */
  notEnforced?: boolean
}

/** An ALTER TABLE, or a statement the server runs as one: CREATE INDEX, DROP INDEX, OPTIMIZE TABLE. */
export interface TableChange {
  statement: 'ALTER TABLE' | 'CREATE INDEX' | 'DROP INDEX' | 'OPTIMIZE TABLE'
  table: QualifiedName
  clauses: AlterClause[]
  /** The change as ALTER TABLE clauses, without ALGORITHM= and LOCK=, e.g. for an online schema change tool. */
  alterText: string
  /** MariaDB `WAIT n` / `NOWAIT` (0): a bounded wait for the metadata lock. */
  lockWait?: number
}

export interface TableOption {
  /** Upper case; CHARSET and DEFAULT CHARACTER SET are both "CHARACTER SET", TYPE is "ENGINE". */
  name: string
  value: string
  at: Token
  valueAt: Token
}

export interface CreateTable {
  table: QualifiedName
  temporary: boolean
  orReplace: boolean
  ifNotExists: boolean
  columns: ColumnDefinition[]
  /** Table-level indexes and constraints, plus the inline PRIMARY KEY / UNIQUE / REFERENCES of columns. */
  indexes: IndexDefinition[]
  options: TableOption[]
  /** `CREATE TABLE ... LIKE other`. */
  like?: QualifiedName
  /** The AS or SELECT token of `CREATE TABLE ... [AS] SELECT`. */
  asSelect?: Token
}

// ---------------------------------------------------------------------------------------------
// Small token readers

/** Character set and collation names may also be written as strings: CHARSET 'utf8mb4'. */
const isNameOrString = (token: Token | undefined): token is Token => token?.type === 'word' || token?.type === 'identifier' || token?.type === 'string'
/** A name as the user wrote it: quoted identifiers unquoted, bare words in their original case. */
const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** Key for one table within a file: the bare name in lower case (schema qualifiers vary between statements). */
export const tableKey = (table: {name: string}) => table.name.toLowerCase()

/** Tokens back to compact SQL, keeping the source's spacing decisions (a space wherever there was any). */
export function tokensText(tokens: Token[]): string {
  let text = ''
  tokens.forEach((token, index) => {
    const previous = tokens[index - 1]
    if (previous && previous.end < token.start) text += ' '
    text += token.text
  })
  return text
}

/** Index of the token closing the parenthesis group starting at `open`, or the last index when unbalanced. */
function skipGroup(tokens: Token[], open: number): number {
  const close = matchingParen(tokens, open)
  return close < 0 ? tokens.length - 1 : close
}

/** Reads `[=] value` after an option keyword at `index - 1`; returns the value token index. */
function optionValueIndex(tokens: Token[], index: number): number {
  return tokens[index]?.text === '=' ? index + 1 : index
}

// ---------------------------------------------------------------------------------------------
// Column types and definitions

const TYPE_SYNONYMS: Record<string, string> = {
  INTEGER: 'INT',
  INT4: 'INT',
  INT1: 'TINYINT',
  INT2: 'SMALLINT',
  INT3: 'MEDIUMINT',
  MIDDLEINT: 'MEDIUMINT',
  INT8: 'BIGINT',
  BOOL: 'TINYINT',
  BOOLEAN: 'TINYINT',
  DEC: 'DECIMAL',
  NUMERIC: 'DECIMAL',
  FIXED: 'DECIMAL',
  NUMBER: 'DECIMAL',
  REAL: 'DOUBLE',
  FLOAT4: 'FLOAT',
  FLOAT8: 'DOUBLE',
  CHARACTER: 'CHAR',
  NCHAR: 'CHAR',
  NVARCHAR: 'VARCHAR',
  VARCHARACTER: 'VARCHAR',
  VARCHAR2: 'VARCHAR',
}

const INTEGER_BYTES: Record<string, number> = {TINYINT: 1, SMALLINT: 2, MEDIUMINT: 3, INT: 4, BIGINT: 8}
const TEXT_BYTES: Record<string, number> = {TINYTEXT: 255, TEXT: 65_535, MEDIUMTEXT: 16_777_215, LONGTEXT: 4_294_967_295}
const BLOB_BYTES: Record<string, number> = {TINYBLOB: 255, BLOB: 65_535, MEDIUMBLOB: 16_777_215, LONGBLOB: 4_294_967_295}
const TEMPORAL_TYPES = new Set(['DATE', 'DATETIME', 'TIMESTAMP', 'TIME', 'YEAR'])
const SPATIAL_TYPES = new Set(['GEOMETRY', 'POINT', 'LINESTRING', 'POLYGON', 'MULTIPOINT', 'MULTILINESTRING', 'MULTIPOLYGON', 'GEOMETRYCOLLECTION', 'GEOMCOLLECTION'])

export const isIntegerType = (type: ColumnType) => type.name in INTEGER_BYTES
export const isFloatingType = (type: ColumnType) => type.name === 'FLOAT' || type.name === 'DOUBLE'
export const isTemporalType = (type: ColumnType) => TEMPORAL_TYPES.has(type.name)
/** TEXT, BLOB, JSON and spatial columns: stored off-page, with restrictions on DEFAULT. */
export const isLobType = (type: ColumnType) => type.name in TEXT_BYTES || type.name in BLOB_BYTES || type.name === 'JSON' || SPATIAL_TYPES.has(type.name)
export const integerBytes = (type: ColumnType) => INTEGER_BYTES[type.name]
/** Compared with a string literal, these convert every row to a number. */
export const isNumericType = (type: ColumnType) => isIntegerType(type) || isFloatingType(type) || type.name === 'DECIMAL'
/** Character columns (not binary): compared with a number, every row is converted and no index helps. */
export const isCharacterType = (type: ColumnType) => ['CHAR', 'VARCHAR', 'ENUM', 'SET'].includes(type.name) || type.name in TEXT_BYTES

/** Reads a data type at `index`: `VARCHAR(255) CHARACTER SET utf8mb4`, `INT UNSIGNED`, `DOUBLE PRECISION`. */
export function readColumnType(tokens: Token[], index: number): {type: ColumnType; end: number} | undefined {
  const first = tokens[index]
  if (first?.type !== 'word') return undefined
  let raw = first.value
  let i = index + 1
  let charset: string | undefined
  let serial = false
  if (raw === 'NATIONAL' && tokens[i]?.type === 'word') {
    raw = tokens[i]!.value
    i++
    charset = 'utf8mb3'
  }
  if (raw === 'NCHAR' || raw === 'NVARCHAR') charset = 'utf8mb3'
  if (raw === 'DOUBLE' && isWord(tokens[i], 'PRECISION')) i++
  if (raw === 'LONG') {
    if (isWord(tokens[i], 'VARBINARY')) {
      raw = 'MEDIUMBLOB'
      i++
    } else {
      if (isWord(tokens[i], 'VARCHAR')) i++
      raw = 'MEDIUMTEXT'
    }
  }
  if ((raw === 'CHAR' || raw === 'CHARACTER' || raw === 'NCHAR') && isWord(tokens[i], 'VARYING')) {
    raw = 'VARCHAR'
    i++
  }
  if (raw === 'CHAR' && isWord(tokens[i], 'BYTE')) {
    raw = 'BINARY'
    i++
  }
  let length: number | undefined
  if (raw === 'BOOL' || raw === 'BOOLEAN') length = 1
  if (raw === 'SERIAL') {
    raw = 'BIGINT'
    serial = true
  }
  const name = TYPE_SYNONYMS[raw] ?? raw
  let scale: number | undefined
  let values: string[] | undefined
  if (tokens[i]?.text === '(') {
    const close = skipGroup(tokens, i)
    const inner = tokens.slice(i + 1, close)
    if (name === 'ENUM' || name === 'SET') values = inner.filter((t) => t.type === 'string').map((t) => t.value)
    else {
      const numbers = inner.filter((t) => t.type === 'number').map((t) => Number(t.text))
      length = numbers[0]
      scale = numbers[1]
    }
    i = close + 1
  }
  let unsigned = serial
  let zerofill = false
  let collation: string | undefined
  let charsetAt: Token | undefined
  let collationAt: Token | undefined
  for (;;) {
    const token = tokens[i]
    if (isWord(token, 'UNSIGNED')) unsigned = true
    else if (isWord(token, 'SIGNED')) unsigned = false
    else if (isWord(token, 'ZEROFILL')) {
      zerofill = true
      unsigned = true
    } else if (isWord(token, 'BINARY')) collation ??= 'binary'
    else if (isWord(token, 'ASCII')) charset = 'latin1'
    else if (isWord(token, 'UNICODE')) charset = 'ucs2'
    else if (isWord(token, 'BYTE')) charset = 'binary'
    else if ((isWord(token, 'CHARACTER') && isWord(tokens[i + 1], 'SET')) || isWord(token, 'CHARSET')) {
      const valueIndex = optionValueIndex(tokens, i + (isWord(token, 'CHARSET') ? 1 : 2))
      const value = tokens[valueIndex]
      if (!isNameOrString(value)) break
      charset = nameOf(value).toLowerCase()
      charsetAt = value
      i = valueIndex
    } else if (isWord(token, 'COLLATE')) {
      const valueIndex = optionValueIndex(tokens, i + 1)
      const value = tokens[valueIndex]
      if (!isNameOrString(value)) break
      collation = nameOf(value).toLowerCase()
      collationAt = value
      i = valueIndex
    } else break
    i++
  }
  const type: ColumnType = {name, unsigned, zerofill, text: ''}
  if (length !== undefined && Number.isFinite(length)) type.length = length
  if (scale !== undefined && Number.isFinite(scale)) type.scale = scale
  if (values) type.values = values
  if (charset) type.charset = charset
  if (collation) type.collation = collation
  if (charsetAt) type.charsetAt = charsetAt
  if (collationAt) type.collationAt = collationAt
  type.text = typeText(type)
  return {type, end: i}
}

/** Parses a type as the server reports it, e.g. information_schema COLUMN_TYPE "int(10) unsigned". */
export function parseColumnType(text: string): ColumnType | undefined {
  return readColumnType(significant(tokenize(text)), 0)?.type
}

function typeText(type: ColumnType): string {
  let text = type.name
  if (type.values) text += `(${type.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`
  else if (type.length !== undefined) text += type.scale !== undefined ? `(${type.length},${type.scale})` : `(${type.length})`
  if (type.unsigned && !type.zerofill) text += ' UNSIGNED'
  if (type.zerofill) text += ' UNSIGNED ZEROFILL'
  return text
}

const NOW_WORDS = new Set(['CURRENT_TIMESTAMP', 'NOW', 'LOCALTIME', 'LOCALTIMESTAMP', 'CURRENT_DATE', 'CURDATE', 'CURRENT_TIME', 'CURTIME', 'UTC_TIMESTAMP', 'SYSDATE'])

function readDefault(tokens: Token[], index: number, end: number): {value: DefaultValue; end: number} | undefined {
  const at = tokens[index]
  if (!at || index >= end) return undefined
  if (at.text === '(') {
    const close = Math.min(skipGroup(tokens, index), end - 1)
    const inner = tokens.slice(index + 1, close)
    const callsFunction = inner.some((t, k) => t.type === 'word' && inner[k + 1]?.text === '(') || inner.some((t) => NOW_WORDS.has(t.value) && t.type === 'word')
    const onlyLiteral = inner.length === 1 && (inner[0]!.type === 'string' || inner[0]!.type === 'number')
    return {value: {at, kind: 'expression', value: onlyLiteral ? inner[0]!.value : tokensText(inner), callsFunction}, end: close + 1}
  }
  if (isWord(at, 'NULL')) return {value: {at, kind: 'null', value: 'NULL', callsFunction: false}, end: index + 1}
  if (at.type === 'word' && NOW_WORDS.has(at.value)) {
    const next = tokens[index + 1]?.text === '(' ? skipGroup(tokens, index + 1) + 1 : index + 1
    return {value: {at, kind: 'now', value: at.value, callsFunction: false}, end: next}
  }
  if ((at.text === '-' || at.text === '+') && tokens[index + 1]?.type === 'number') {
    return {value: {at, kind: 'literal', value: at.text + tokens[index + 1]!.text, callsFunction: false}, end: index + 2}
  }
  // DATE '2020-01-01', TIMESTAMP '...': typed literals.
  if (isWord(at, 'DATE', 'TIME', 'TIMESTAMP') && tokens[index + 1]?.type === 'string') {
    return {value: {at, kind: 'literal', value: tokens[index + 1]!.value, callsFunction: false}, end: index + 2}
  }
  return {value: {at, kind: 'literal', value: at.type === 'string' ? at.value : at.text, callsFunction: false}, end: index + 1}
}

/** Reads `name type [attributes] [FIRST | AFTER col]` within tokens[from, to). */
export function readColumnDefinition(tokens: Token[], from: number, to = tokens.length): ColumnDefinition | undefined {
  const nameToken = tokens[from]
  if (!isNameOrString(nameToken)) return undefined
  const typed = readColumnType(tokens, from + 1)
  if (!typed || typed.end > to) return undefined
  const type = typed.type
  const serial = tokens[from + 1]?.value === 'SERIAL'
  const definition: ColumnDefinition = {
    name: nameOf(nameToken),
    at: nameToken,
    type,
    typeAt: tokens[from + 1]!,
    notNull: serial,
    nullable: !serial,
    autoIncrement: serial,
    primaryKey: false,
    unique: serial,
  }
  let i = typed.end
  while (i < to) {
    const token = tokens[i]!
    const next = tokens[i + 1]
    if (isWord(token, 'NOT') && isWord(next, 'NULL')) {
      definition.notNull = true
      i += 2
    } else if (isWord(token, 'NULL')) {
      definition.notNull = false
      i++
    } else if (isWord(token, 'DEFAULT')) {
      const read = readDefault(tokens, i + 1, to)
      if (!read) break
      definition.default = read.value
      i = read.end
    } else if (isWord(token, 'AUTO_INCREMENT')) {
      definition.autoIncrement = true
      i++
    } else if (isWord(token, 'PRIMARY') && isWord(next, 'KEY')) {
      definition.primaryKey = true
      i += 2
    } else if (isWord(token, 'KEY')) {
      definition.primaryKey = true
      i++
    } else if (isWord(token, 'UNIQUE')) {
      definition.unique = true
      i += isWord(next, 'KEY') ? 2 : 1
    } else if (isWord(token, 'COMMENT')) {
      const value = tokens[optionValueIndex(tokens, i + 1)]
      if (value?.type === 'string') definition.comment = value.value
      i = optionValueIndex(tokens, i + 1) + 1
    } else if (isWord(token, 'COLLATE') || (isWord(token, 'CHARACTER') && isWord(next, 'SET')) || isWord(token, 'CHARSET')) {
      // Attributes after the type (MariaDB accepts COLLATE anywhere): fold them into the type.
      const valueIndex = optionValueIndex(tokens, i + (isWord(token, 'CHARACTER') ? 2 : 1))
      const value = tokens[valueIndex]
      if (isNameOrString(value)) {
        if (isWord(token, 'COLLATE')) {
          type.collation = nameOf(value).toLowerCase()
          type.collationAt = value
        } else {
          type.charset = nameOf(value).toLowerCase()
          type.charsetAt = value
        }
      }
      i = valueIndex + 1
    } else if (isWord(token, 'GENERATED') && isWord(next, 'ALWAYS')) {
      i += 2
    } else if (isWord(token, 'AS') && next?.text === '(') {
      i = skipGroup(tokens, i + 1) + 1
      definition.generated = isWord(tokens[i], 'STORED', 'PERSISTENT') ? 'STORED' : 'VIRTUAL'
      if (isWord(tokens[i], 'STORED', 'PERSISTENT', 'VIRTUAL')) i++
    } else if (isWord(token, 'REFERENCES')) {
      const table = readQualifiedName(tokens, i + 1)
      if (table) definition.references = {table: table.name, at: token}
      i = table ? table.end : i + 1
    } else if (isWord(token, 'ON') && isWord(next, 'UPDATE', 'DELETE')) {
      // ON UPDATE CURRENT_TIMESTAMP(6), ON DELETE CASCADE: skip the action words.
      i += 2
      while (i < to && tokens[i]!.type === 'word' && !isWord(tokens[i], 'FIRST', 'AFTER', 'ON', 'COMMENT', 'NOT', 'NULL', 'DEFAULT')) {
        i++
        if (tokens[i]?.text === '(') i = skipGroup(tokens, i) + 1
      }
    } else if (isWord(token, 'FIRST')) {
      definition.position = {kind: 'first', at: token}
      i++
    } else if (isWord(token, 'AFTER') && isName(next)) {
      definition.position = {kind: 'after', column: nameOf(next), at: token}
      i += 2
    } else if (token.text === '(') {
      i = skipGroup(tokens, i) + 1
    } else i++
  }
  definition.nullable = !definition.notNull && !definition.primaryKey
  return definition
}

// ---------------------------------------------------------------------------------------------
// Indexes and constraints

function readKeyParts(tokens: Token[], open: number): {parts: KeyPart[]; end: number} {
  const close = skipGroup(tokens, open)
  const parts: KeyPart[] = []
  for (const part of splitTopLevel(tokens, open + 1, close)) {
    const first = part[0]
    if (!first) continue
    if (first.text === '(') {
      parts.push({column: tokensText(part.slice(1, Math.max(1, part.length - 1))), expression: true})
      continue
    }
    const keyPart: KeyPart = {column: nameOf(first), expression: false}
    if (part[1]?.text === '(' && part[2]?.type === 'number') keyPart.length = Number(part[2].text)
    parts.push(keyPart)
  }
  return {parts, end: close + 1}
}

const INDEX_STARTS = ['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'INDEX', 'KEY', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK']

/** True when tokens[index] starts an index or constraint definition rather than a column. */
function startsIndexDefinition(tokens: Token[], index: number): boolean {
  return isWord(tokens[index], ...INDEX_STARTS)
}

type ConstraintRead = {kind: 'index'; index: IndexDefinition; end: number} | {kind: 'check'; name?: string; notEnforced: boolean; end: number}

/** Reads `[CONSTRAINT [name]] PRIMARY KEY | UNIQUE | INDEX | FULLTEXT | SPATIAL | FOREIGN KEY | CHECK ...`. */
export function readIndexDefinition(tokens: Token[], from: number, to = tokens.length): ConstraintRead | undefined {
  let i = from
  let symbol: string | undefined
  const at = tokens[from]
  if (!at) return undefined
  if (isWord(tokens[i], 'CONSTRAINT')) {
    i++
    if (isName(tokens[i]) && !isWord(tokens[i], 'PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK')) symbol = nameOf(tokens[i++]!)
  }
  let kind: IndexKind
  if (isWord(tokens[i], 'PRIMARY') && isWord(tokens[i + 1], 'KEY')) {
    kind = 'PRIMARY'
    i += 2
  } else if (isWord(tokens[i], 'UNIQUE')) {
    kind = 'UNIQUE'
    i += isWord(tokens[i + 1], 'INDEX', 'KEY') ? 2 : 1
  } else if (isWord(tokens[i], 'FULLTEXT', 'SPATIAL')) {
    kind = tokens[i]!.value as IndexKind
    i += isWord(tokens[i + 1], 'INDEX', 'KEY') ? 2 : 1
  } else if (isWord(tokens[i], 'INDEX', 'KEY')) {
    kind = 'INDEX'
    i++
  } else if (isWord(tokens[i], 'FOREIGN') && isWord(tokens[i + 1], 'KEY')) {
    kind = 'FOREIGN'
    i += 2
  } else if (isWord(tokens[i], 'CHECK')) {
    const close = tokens[i + 1]?.text === '(' ? skipGroup(tokens, i + 1) : i
    const notEnforced = isWord(tokens[close + 1], 'NOT') && isWord(tokens[close + 2], 'ENFORCED')
    return {kind: 'check', ...(symbol ? {name: symbol} : {}), notEnforced, end: to}
  } else return undefined
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'NOT') && isWord(tokens[i + 2], 'EXISTS')) i += 3
  let name = symbol
  if (isName(tokens[i]) && tokens[i]!.text !== '(' && !isWord(tokens[i], 'USING', 'TYPE')) name = nameOf(tokens[i++]!)
  if (isWord(tokens[i], 'USING', 'TYPE')) i += 2
  let parts: KeyPart[] = []
  if (tokens[i]?.text === '(') {
    const read = readKeyParts(tokens, i)
    parts = read.parts
    i = read.end
  }
  const index: IndexDefinition = {kind, parts, at, inline: false}
  if (name !== undefined) index.name = name
  if (kind === 'FOREIGN' && isWord(tokens[i], 'REFERENCES')) {
    const table = readQualifiedName(tokens, i + 1)
    if (table) {
      const columns = tokens[table.end]?.text === '(' ? readKeyParts(tokens, table.end).parts.map((p) => p.column) : []
      index.references = {table: table.name, columns}
    }
  }
  return {kind: 'index', index, end: to}
}

/** The indexes a column definition declares inline. */
function inlineIndexes(column: ColumnDefinition, tokens: Token[], from: number, to: number): IndexDefinition[] {
  const indexes: IndexDefinition[] = []
  const part: KeyPart = {column: column.name, expression: false}
  const find = (...words: string[]) => tokens.slice(from, to).find((t) => isWord(t, ...words)) ?? column.at
  if (column.primaryKey) indexes.push({kind: 'PRIMARY', parts: [part], at: find('PRIMARY', 'KEY'), inline: true})
  if (column.unique) indexes.push({kind: 'UNIQUE', name: column.name, parts: [part], at: find('UNIQUE', 'SERIAL'), inline: true})
  if (column.references) indexes.push({kind: 'FOREIGN', parts: [part], at: column.references.at, references: {table: column.references.table, columns: []}, inline: true})
  return indexes
}

// ---------------------------------------------------------------------------------------------
// Table options

const TABLE_OPTIONS = new Set([
  'AUTO_INCREMENT', 'AUTOEXTEND_SIZE', 'AVG_ROW_LENGTH', 'CHECKSUM', 'TABLE_CHECKSUM', 'COMMENT', 'COMPRESSION', 'CONNECTION', 'DELAY_KEY_WRITE',
  'ENCRYPTION', 'ENCRYPTED', 'ENCRYPTION_KEY_ID', 'ENGINE', 'TYPE', 'ENGINE_ATTRIBUTE', 'SECONDARY_ENGINE', 'SECONDARY_ENGINE_ATTRIBUTE', 'INSERT_METHOD',
  'KEY_BLOCK_SIZE', 'MAX_ROWS', 'MIN_ROWS', 'PACK_KEYS', 'PASSWORD', 'ROW_FORMAT', 'STATS_AUTO_RECALC', 'STATS_PERSISTENT', 'STATS_SAMPLE_PAGES',
  'TABLESPACE', 'UNION', 'PAGE_CHECKSUM', 'PAGE_COMPRESSED', 'PAGE_COMPRESSION_LEVEL', 'TRANSACTIONAL', 'IETF_QUOTES', 'SEQUENCE', 'ALGORITHM', 'LOCK',
  'CHARSET', 'COLLATE', 'STORAGE',
])

/** True when tokens[index] starts a table option (`ENGINE=InnoDB`, `DEFAULT CHARSET utf8mb4`, `ALGORITHM=INPLACE`). */
function startsTableOption(tokens: Token[], index: number): boolean {
  const token = tokens[index]
  if (token?.type !== 'word') return false
  if (isWord(token, 'DEFAULT')) return isWord(tokens[index + 1], 'CHARSET', 'CHARACTER', 'COLLATE')
  if (isWord(token, 'CHARACTER')) return isWord(tokens[index + 1], 'SET')
  if (isWord(token, 'DATA', 'INDEX')) return isWord(tokens[index + 1], 'DIRECTORY')
  return TABLE_OPTIONS.has(token.value)
}

/** Reads table options from `from` while they continue (commas between them are allowed). */
export function readTableOptions(tokens: Token[], from: number, to = tokens.length): {options: TableOption[]; end: number} {
  const options: TableOption[] = []
  let i = from
  while (i < to) {
    if (tokens[i]!.text === ',' && startsTableOption(tokens, i + 1)) i++
    if (!startsTableOption(tokens, i)) break
    const at = tokens[i]!
    let k = i
    if (isWord(tokens[k], 'DEFAULT')) k++
    let name = tokens[k]!.value
    if (name === 'CHARACTER') {
      k++
      name = 'CHARACTER SET'
    } else if (name === 'CHARSET') name = 'CHARACTER SET'
    else if (name === 'TYPE') name = 'ENGINE'
    else if (name === 'DATA' || name === 'INDEX') {
      k++
      name = `${name} DIRECTORY`
    }
    const valueIndex = optionValueIndex(tokens, k + 1)
    const valueToken = tokens[valueIndex]
    if (!valueToken || valueIndex >= to) {
      options.push({name, value: '', at, valueAt: at})
      i = to
      break
    }
    if (valueToken.text === '(') {
      const close = skipGroup(tokens, valueIndex)
      options.push({name, value: tokensText(tokens.slice(valueIndex, close + 1)), at, valueAt: valueToken})
      i = close + 1
    } else {
      options.push({name, value: nameOf(valueToken), at, valueAt: valueToken})
      i = valueIndex + 1
    }
  }
  return {options, end: i}
}

// ---------------------------------------------------------------------------------------------
// ALTER TABLE

const PARTITION_VERBS = new Set(['ADD', 'DROP', 'TRUNCATE', 'COALESCE', 'REORGANIZE', 'EXCHANGE', 'ANALYZE', 'CHECK', 'OPTIMIZE', 'REBUILD', 'REPAIR', 'DISCARD', 'IMPORT', 'CONVERT'])

/** Partition operations and ORDER BY take the rest of the statement (their own lists contain commas). */
function takesRest(part: Token[]): boolean {
  const [a, b] = part
  if (isWord(a, 'PARTITION') && isWord(b, 'BY')) return true
  if (isWord(a, 'REMOVE', 'UPGRADE') && isWord(b, 'PARTITIONING')) return true
  if (isWord(a, 'ORDER') && isWord(b, 'BY')) return true
  return a?.type === 'word' && PARTITION_VERBS.has(a.value) && isWord(b, 'PARTITION')
}

const isOptionPart = (part: Token[]) => isWord(part[0], 'ALGORITHM', 'LOCK')

/** Reads the clauses of `ALTER [ONLINE] [IGNORE] TABLE name clause, clause ...`. */
function readAlterTable(tokens: Token[]): TableChange | undefined {
  let i = 1
  while (isWord(tokens[i], 'ONLINE', 'OFFLINE', 'IGNORE')) i++
  if (!isWord(tokens[0], 'ALTER') || !isWord(tokens[i], 'TABLE')) return undefined
  i++
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'EXISTS')) i += 2
  const table = readQualifiedName(tokens, i)
  if (!table) return undefined
  i = table.end
  let lockWait: number | undefined
  if (isWord(tokens[i], 'WAIT') && tokens[i + 1]?.type === 'number') {
    lockWait = Number(tokens[i + 1]!.text)
    i += 2
  } else if (isWord(tokens[i], 'NOWAIT')) {
    lockWait = 0
    i++
  }
  const parts = splitTopLevel(tokens, i)
  const clauses: AlterClause[] = []
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!
    if (part.length === 0) continue
    if (takesRest(part)) {
      let last = p
      while (last + 1 < parts.length && !isOptionPart(parts[last + 1]!)) last++
      const start = tokens.indexOf(part[0]!)
      const lastPart = parts[last]!
      const end = tokens.indexOf(lastPart[lastPart.length - 1] ?? part[0]!)
      clauses.push(readRestClause(tokens.slice(start, end + 1)))
      p = last
      continue
    }
    clauses.push(...readAlterClauses(part))
  }
  const change: TableChange = {statement: 'ALTER TABLE', table, clauses, alterText: alterTextOf(clauses)}
  if (lockWait !== undefined) change.lockWait = lockWait
  return change
}

function alterTextOf(clauses: AlterClause[]): string {
  return clauses
    .filter((c) => c.kind !== 'algorithm' && c.kind !== 'lock')
    .map((c) => tokensText(c.tokens))
    .join(', ')
}

function readRestClause(part: Token[]): AlterClause {
  const at = part[0]!
  if (isWord(at, 'ORDER')) return {kind: 'order-by', at, tokens: part}
  if (isWord(at, 'PARTITION')) return {kind: 'partition-by', at, tokens: part}
  if (isWord(at, 'REMOVE')) return {kind: 'remove-partitioning', at, tokens: part}
  return {kind: 'partition-op', at, tokens: part, option: at.value}
}

const clause = (kind: AlterClauseKind, tokens: Token[], extra: Partial<AlterClause> = {}): AlterClause => ({kind, at: tokens[0]!, tokens, ...extra})

/** One top-level comma-separated part of an ALTER TABLE; several clauses when it is a run of table options. */
function readAlterClauses(part: Token[]): AlterClause[] {
  if (startsTableOption(part, 0)) return optionClauses(part)
  return [readAlterClause(part)]
}

function optionClauses(part: Token[]): AlterClause[] {
  const {options, end} = readTableOptions(part, 0)
  const clauses: AlterClause[] = []
  options.forEach((option, index) => {
    const from = part.indexOf(option.at)
    const next = options[index + 1]
    const to = next ? part.indexOf(next.at) : end
    const tokens = part.slice(from, to)
    const extra: Partial<AlterClause> = {option: option.name, value: option.value, valueAt: option.valueAt}
    if (option.name === 'ALGORITHM') clauses.push(clause('algorithm', tokens, extra))
    else if (option.name === 'LOCK') clauses.push(clause('lock', tokens, extra))
    else if (option.name === 'ENGINE') clauses.push(clause('engine', tokens, extra))
    else if (option.name === 'CHARACTER SET') clauses.push(clause('table-charset', tokens, {...extra, charset: option.value.toLowerCase()}))
    else if (option.name === 'COLLATE') clauses.push(clause('table-charset', tokens, {...extra, collation: option.value.toLowerCase()}))
    else clauses.push(clause('table-option', tokens, extra))
  })
  if (end < part.length) clauses.push(clause('unknown', part.slice(end)))
  return clauses
}

function readAlterClause(part: Token[]): AlterClause {
  const [a, b, c] = part
  const skipIf = (index: number, ...words: string[]) => (words.every((w, k) => isWord(part[index + k], w)) ? index + words.length : index)

  if (isWord(a, 'ADD')) {
    if (isWord(b, 'PARTITION')) return clause('partition-op', part, {option: 'ADD'})
    if (isWord(b, 'SYSTEM') && isWord(c, 'VERSIONING')) return clause('system-versioning', part, {option: 'ADD'})
    if (isWord(b, 'PERIOD') && isWord(c, 'FOR')) return clause('unknown', part)
    let i = 1
    const columnKeyword = isWord(part[i], 'COLUMN')
    if (columnKeyword) i++
    i = skipIf(i, 'IF', 'NOT', 'EXISTS')
    if (!columnKeyword && startsIndexDefinition(part, i)) {
      const read = readIndexDefinition(part, i)
      if (read?.kind === 'index') return clause('add-index', part, {index: read.index, ...(read.index.name ? {name: read.index.name} : {})})
      if (read?.kind === 'check') return clause('add-check', part, {...(read.name ? {name: read.name} : {}), notEnforced: read.notEnforced})
      return clause('unknown', part)
    }
    // ADD COLUMN (a INT, b INT): the parenthesised list becomes one clause per column.
    if (part[i]?.text === '(') return clause('add-column', part, {})
    const definition = readColumnDefinition(part, i)
    return definition ? clause('add-column', part, {definition, column: definition.name, columnAt: definition.at}) : clause('unknown', part)
  }

  if (isWord(a, 'DROP')) {
    if (isWord(b, 'PRIMARY') && isWord(c, 'KEY')) return clause('drop-primary-key', part)
    if (isWord(b, 'PARTITION')) return clause('partition-op', part, {option: 'DROP'})
    if (isWord(b, 'SYSTEM') && isWord(c, 'VERSIONING')) return clause('system-versioning', part, {option: 'DROP'})
    if (isWord(b, 'INDEX', 'KEY')) {
      const nameToken = part[skipIf(2, 'IF', 'EXISTS')]
      if (!nameToken) return clause('unknown', part)
      const name = nameOf(nameToken)
      return sameName(name, 'PRIMARY') && nameToken.type === 'identifier' ? clause('drop-primary-key', part) : clause('drop-index', part, {name})
    }
    if (isWord(b, 'FOREIGN') && isWord(c, 'KEY')) {
      const nameToken = part[skipIf(3, 'IF', 'EXISTS')]
      return nameToken ? clause('drop-foreign-key', part, {name: nameOf(nameToken)}) : clause('unknown', part)
    }
    if (isWord(b, 'CHECK', 'CONSTRAINT')) {
      const nameToken = part[skipIf(2, 'IF', 'EXISTS')]
      return nameToken ? clause('drop-constraint', part, {name: nameOf(nameToken), option: b!.value}) : clause('unknown', part)
    }
    if (isWord(b, 'PERIOD')) return clause('unknown', part)
    const nameIndex = skipIf(isWord(b, 'COLUMN') ? 2 : 1, 'IF', 'EXISTS')
    const nameToken = part[nameIndex]
    if (!isName(nameToken)) return clause('unknown', part)
    return clause('drop-column', part, {column: nameOf(nameToken), columnAt: nameToken})
  }

  if (isWord(a, 'MODIFY')) {
    const i = skipIf(isWord(b, 'COLUMN') ? 2 : 1, 'IF', 'EXISTS')
    const definition = readColumnDefinition(part, i)
    return definition ? clause('modify-column', part, {definition, column: definition.name, columnAt: definition.at}) : clause('unknown', part)
  }

  if (isWord(a, 'CHANGE')) {
    const i = skipIf(isWord(b, 'COLUMN') ? 2 : 1, 'IF', 'EXISTS')
    const oldToken = part[i]
    const definition = readColumnDefinition(part, i + 1)
    if (!isName(oldToken) || !definition) return clause('unknown', part)
    return clause('change-column', part, {column: nameOf(oldToken), columnAt: oldToken, definition, newName: definition.name})
  }

  if (isWord(a, 'RENAME')) {
    if (isWord(b, 'COLUMN') && isName(c) && isWord(part[3], 'TO') && isName(part[4])) {
      return clause('rename-column', part, {column: nameOf(c), columnAt: c, newName: nameOf(part[4]!)})
    }
    if (isWord(b, 'INDEX', 'KEY') && isName(c) && isWord(part[3], 'TO') && isName(part[4])) {
      return clause('rename-index', part, {name: nameOf(c), newName: nameOf(part[4]!)})
    }
    const target = readQualifiedName(part, isWord(b, 'TO', 'AS') ? 2 : 1)
    return target ? clause('rename-table', part, {newName: target.name}) : clause('unknown', part)
  }

  if (isWord(a, 'ALTER')) {
    if (isWord(b, 'INDEX', 'KEY') && isName(c)) return clause('alter-index-visibility', part, {name: nameOf(c), value: part.slice(3).map((t) => t.value).join(' ')})
    if (isWord(b, 'CHECK', 'CONSTRAINT') && isName(c)) {
      return clause('alter-check', part, {name: nameOf(c), notEnforced: isWord(part[3], 'NOT')})
    }
    const i = isWord(b, 'COLUMN') ? 2 : 1
    const columnToken = part[i]
    if (!isName(columnToken)) return clause('unknown', part)
    const column = nameOf(columnToken)
    if (isWord(part[i + 1], 'SET') && isWord(part[i + 2], 'VISIBLE', 'INVISIBLE')) {
      return clause('alter-column-visibility', part, {column, columnAt: columnToken, value: part[i + 2]!.value})
    }
    if (isWord(part[i + 1], 'SET', 'DROP') && isWord(part[i + 2], 'DEFAULT')) return clause('alter-column-default', part, {column, columnAt: columnToken})
    return clause('unknown', part)
  }

  if (isWord(a, 'CONVERT') && isWord(b, 'TO')) {
    const k = isWord(c, 'CHARACTER') ? 4 : 3
    const value = part[optionValueIndex(part, k)]
    if (!value) return clause('unknown', part)
    const collate = part.findIndex((t) => isWord(t, 'COLLATE'))
    const collation = collate >= 0 ? part[optionValueIndex(part, collate + 1)] : undefined
    return clause('convert-charset', part, {charset: nameOf(value).toLowerCase(), valueAt: value, ...(collation ? {collation: nameOf(collation).toLowerCase()} : {})})
  }

  if (isWord(a, 'FORCE')) return clause('force', part)
  if (isWord(a, 'ENABLE', 'DISABLE') && isWord(b, 'KEYS')) return clause('keys', part)
  if (isWord(a, 'DISCARD', 'IMPORT') && isWord(b, 'TABLESPACE')) return clause('tablespace', part, {option: a!.value})
  if (isWord(a, 'WITH', 'WITHOUT') && isWord(b, 'VALIDATION')) return clause('algorithm', part, {option: 'VALIDATION', value: a!.value})
  return clause('unknown', part)
}

/** `CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON table (parts) [ALGORITHM=..] [LOCK=..]`. */
function readCreateIndex(tokens: Token[]): TableChange | undefined {
  let i = 1
  if (isWord(tokens[i], 'OR') && isWord(tokens[i + 1], 'REPLACE')) i += 2
  while (isWord(tokens[i], 'ONLINE', 'OFFLINE')) i++
  let kind: IndexKind = 'INDEX'
  if (isWord(tokens[i], 'UNIQUE', 'FULLTEXT', 'SPATIAL')) kind = tokens[i++]!.value as IndexKind
  if (!isWord(tokens[i], 'INDEX')) return undefined
  i++
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'NOT') && isWord(tokens[i + 2], 'EXISTS')) i += 3
  const nameToken = tokens[i]
  if (!isName(nameToken)) return undefined
  i++
  if (isWord(tokens[i], 'USING', 'TYPE')) i += 2
  if (!isWord(tokens[i], 'ON')) return undefined
  const table = readQualifiedName(tokens, i + 1)
  if (!table || tokens[table.end]?.text !== '(') return undefined
  const read = readKeyParts(tokens, table.end)
  const index: IndexDefinition = {kind, name: nameOf(nameToken), parts: read.parts, at: tokens[0]!, inline: false}
  const clauses: AlterClause[] = [{kind: 'add-index', at: tokens[0]!, tokens: tokens.slice(0, read.end), index, name: index.name!}]
  const trailing = readTrailingOptions(tokens, read.end)
  clauses.push(...trailing.clauses)
  const keyword = kind === 'INDEX' ? 'INDEX' : `${kind} INDEX`
  const change: TableChange = {statement: 'CREATE INDEX', table, clauses, alterText: `ADD ${keyword} ${nameToken.text} ${tokensText(tokens.slice(table.end, read.end))}`}
  if (trailing.lockWait !== undefined) change.lockWait = trailing.lockWait
  return change
}

/** ALGORITHM / LOCK options (and MariaDB WAIT n / NOWAIT) trailing a CREATE INDEX or DROP INDEX. */
function readTrailingOptions(tokens: Token[], from: number): {clauses: AlterClause[]; lockWait?: number} {
  const clauses: AlterClause[] = []
  let lockWait: number | undefined
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i]!
    if (isWord(token, 'ALGORITHM', 'LOCK')) {
      const valueIndex = optionValueIndex(tokens, i + 1)
      const value = tokens[valueIndex]
      if (!value) break
      clauses.push({kind: token.value === 'ALGORITHM' ? 'algorithm' : 'lock', at: token, tokens: tokens.slice(i, valueIndex + 1), option: token.value, value: nameOf(value), valueAt: value})
      i = valueIndex
    } else if (isWord(token, 'WAIT') && tokens[i + 1]?.type === 'number') lockWait = Number(tokens[i + 1]!.text)
    else if (isWord(token, 'NOWAIT')) lockWait = 0
  }
  return lockWait === undefined ? {clauses} : {clauses, lockWait}
}

/** `DROP INDEX [IF EXISTS] name ON table [ALGORITHM=..] [LOCK=..]`. */
function readDropIndex(tokens: Token[]): TableChange | undefined {
  let i = 2
  while (isWord(tokens[i], 'ONLINE', 'OFFLINE')) i++
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'EXISTS')) i += 2
  const nameToken = tokens[i]
  if (!isName(nameToken) || !isWord(tokens[i + 1], 'ON')) return undefined
  const table = readQualifiedName(tokens, i + 2)
  if (!table) return undefined
  const name = nameOf(nameToken)
  const primary = sameName(name, 'PRIMARY') && nameToken.type === 'identifier'
  const dropped: AlterClause = primary
    ? {kind: 'drop-primary-key', at: tokens[0]!, tokens: tokens.slice(0, table.end)}
    : {kind: 'drop-index', at: tokens[0]!, tokens: tokens.slice(0, table.end), name}
  const trailing = readTrailingOptions(tokens, table.end)
  const change: TableChange = {statement: 'DROP INDEX', table, clauses: [dropped, ...trailing.clauses], alterText: primary ? 'DROP PRIMARY KEY' : `DROP INDEX ${nameToken.text}`}
  if (trailing.lockWait !== undefined) change.lockWait = trailing.lockWait
  return change
}

/** `OPTIMIZE [NO_WRITE_TO_BINLOG | LOCAL] TABLE a, b`: one change per table. */
function readOptimize(tokens: Token[]): TableChange[] {
  let i = 1
  if (isWord(tokens[i], 'NO_WRITE_TO_BINLOG', 'LOCAL')) i++
  if (!isWord(tokens[i], 'TABLE', 'TABLES')) return []
  const changes: TableChange[] = []
  for (const part of splitTopLevel(tokens, i + 1)) {
    const table = readQualifiedName(part, 0)
    if (!table) continue
    changes.push({statement: 'OPTIMIZE TABLE', table, clauses: [{kind: 'optimize', at: tokens[0]!, tokens}], alterText: 'FORCE'})
  }
  return changes
}

/** The table changes a statement makes: ALTER TABLE, CREATE INDEX, DROP INDEX or OPTIMIZE TABLE; [] otherwise. */
export const readTableChanges = memoizedByTokens(function readTableChanges(tokens: Token[]): TableChange[] {
  const first = tokens[0]
  if (isWord(first, 'ALTER')) {
    const change = readAlterTable(tokens)
    return change ? [change] : []
  }
  if (isWord(first, 'CREATE')) {
    const change = readCreateIndex(tokens)
    return change ? [change] : []
  }
  if (isWord(first, 'DROP') && isWord(tokens[1], 'INDEX')) {
    const change = readDropIndex(tokens)
    return change ? [change] : []
  }
  if (isWord(first, 'OPTIMIZE')) return readOptimize(tokens)
  return []
})

/** The column definitions an ALTER clause adds or restates, including `ADD COLUMN (a INT, b INT)`. */
export function clauseDefinitions(clause: AlterClause): ColumnDefinition[] {
  if (clause.definition) return [clause.definition]
  if (clause.kind !== 'add-column') return []
  const open = clause.tokens.findIndex((t) => t.text === '(')
  if (open < 0) return []
  const close = skipGroup(clause.tokens, open)
  return splitTopLevel(clause.tokens, open + 1, close)
    .map((part) => readColumnDefinition(part, 0))
    .filter((d): d is ColumnDefinition => d !== undefined)
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE, DROP TABLE, RENAME TABLE, TRUNCATE, SET

/** Reads `CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] name (...) options [AS SELECT ...]`. */
export const readCreateTable = memoizedByTokens(function readCreateTable(tokens: Token[]): CreateTable | undefined {
  if (!isWord(tokens[0], 'CREATE')) return undefined
  let i = 1
  let orReplace = false
  let temporary = false
  let ifNotExists = false
  if (isWord(tokens[i], 'OR') && isWord(tokens[i + 1], 'REPLACE')) {
    orReplace = true
    i += 2
  }
  if (isWord(tokens[i], 'TEMPORARY')) {
    temporary = true
    i++
  }
  if (!isWord(tokens[i], 'TABLE')) return undefined
  i++
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'NOT') && isWord(tokens[i + 2], 'EXISTS')) {
    ifNotExists = true
    i += 3
  }
  const table = readQualifiedName(tokens, i)
  if (!table) return undefined
  const create: CreateTable = {table, temporary, orReplace, ifNotExists, columns: [], indexes: [], options: []}
  i = table.end
  if (isWord(tokens[i], 'LIKE')) {
    const like = readQualifiedName(tokens, i + 1)
    if (like) create.like = like
    return create
  }
  if (tokens[i]?.text === '(') {
    const close = skipGroup(tokens, i)
    if (isWord(tokens[i + 1], 'LIKE')) {
      const like = readQualifiedName(tokens, i + 2)
      if (like) create.like = like
      return create
    }
    if (isWord(tokens[i + 1], 'SELECT', 'WITH')) {
      create.asSelect = tokens[i + 1]!
      return create
    }
    for (const part of splitTopLevel(tokens, i + 1, close)) {
      if (part.length === 0) continue
      if (startsIndexDefinition(part, 0)) {
        const read = readIndexDefinition(part, 0)
        if (read?.kind === 'index') create.indexes.push(read.index)
        continue
      }
      if (isWord(part[0], 'PERIOD') && isWord(part[1], 'FOR')) continue
      const column = readColumnDefinition(part, 0)
      if (!column) continue
      create.columns.push(column)
      create.indexes.push(...inlineIndexes(column, part, 0, part.length))
    }
    i = close + 1
  }
  const {options, end} = readTableOptions(tokens, i)
  create.options = options
  for (let k = end; k < tokens.length; k++) {
    const token = tokens[k]!
    if (token.text === '(') {
      if (isWord(tokens[k + 1], 'SELECT', 'WITH')) {
        create.asSelect = tokens[k + 1]!
        break
      }
      k = skipGroup(tokens, k)
    } else if (isWord(token, 'SELECT') || (isWord(token, 'WITH') && !isWord(tokens[k + 1], 'SYSTEM'))) {
      create.asSelect = isWord(tokens[k - 1], 'AS') ? tokens[k - 1]! : token
      break
    }
  }
  return create
})

/** The value of a CREATE TABLE option (ENGINE, CHARACTER SET, COLLATE...), with the token to point at. */
export const tableOption = (create: CreateTable, name: string): TableOption | undefined => create.options.find((o) => o.name === name)

/** `DROP [TEMPORARY] TABLE [IF EXISTS] a, b` */
export function readDropTable(tokens: Token[]): {temporary: boolean; tables: QualifiedName[]} | undefined {
  if (!isWord(tokens[0], 'DROP')) return undefined
  let i = 1
  const temporary = isWord(tokens[i], 'TEMPORARY')
  if (temporary) i++
  if (!isWord(tokens[i], 'TABLE', 'TABLES')) return undefined
  i++
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'EXISTS')) i += 2
  const tables = splitTopLevel(tokens, i)
    .map((part) => readQualifiedName(part, 0))
    .filter((t): t is QualifiedName => t !== undefined)
  return {temporary, tables}
}

/** `RENAME TABLE a TO b, c TO d` */
export function readRenameTable(tokens: Token[]): Array<{from: QualifiedName; to: QualifiedName}> {
  if (!isWord(tokens[0], 'RENAME') || !isWord(tokens[1], 'TABLE', 'TABLES')) return []
  let i = 2
  if (isWord(tokens[i], 'IF') && isWord(tokens[i + 1], 'EXISTS')) i += 2
  const pairs: Array<{from: QualifiedName; to: QualifiedName}> = []
  for (const part of splitTopLevel(tokens, i)) {
    const from = readQualifiedName(part, 0)
    if (!from || !isWord(part[from.end], 'TO')) continue
    const to = readQualifiedName(part, from.end + 1)
    if (to) pairs.push({from, to})
  }
  return pairs
}

/** `TRUNCATE [TABLE] name` */
export function readTruncate(tokens: Token[]): QualifiedName | undefined {
  if (!isWord(tokens[0], 'TRUNCATE')) return undefined
  return readQualifiedName(tokens, isWord(tokens[1], 'TABLE') ? 2 : 1)
}

export interface Assignment {
  /** Lower-case variable name without @@ or scope, e.g. "foreign_key_checks". */
  name: string
  /** Upper-case GLOBAL, SESSION, PERSIST...; undefined for the default (session) scope. */
  scope?: string
  value: Token[]
}

/** The system-variable assignments of a SET statement (user @variables are left out). */
export const readSetAssignments = memoizedByTokens(function readSetAssignments(tokens: Token[]): Assignment[] {
  if (!isWord(tokens[0], 'SET') || isWord(tokens[1], 'STATEMENT')) return []
  return readAssignments(tokens, 1, tokens.length)
})

/**
 * MariaDB `SET STATEMENT var = value, ... FOR statement`: the inner statement and the settings it
 * runs with. Any other statement comes back unchanged, with no settings.
 */
export const unwrapSetStatement = memoizedByTokens(function unwrapSetStatement(tokens: Token[]): {tokens: Token[]; settings: Assignment[]} {
  if (!isWord(tokens[0], 'SET') || !isWord(tokens[1], 'STATEMENT')) return {tokens, settings: []}
  let depth = 0
  for (let i = 2; i < tokens.length; i++) {
    const token = tokens[i]!
    if (token.text === '(') depth++
    else if (token.text === ')') depth--
    else if (depth === 0 && isWord(token, 'FOR')) return {tokens: tokens.slice(i + 1), settings: readAssignments(tokens, 2, i)}
  }
  return {tokens, settings: []}
})

function readAssignments(tokens: Token[], from: number, to: number): Assignment[] {
  const assignments: Assignment[] = []
  for (const part of splitTopLevel(tokens, from, to)) {
    let i = 0
    let scope: string | undefined
    if (isWord(part[i], 'GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY')) scope = part[i++]!.value
    const target = part[i]
    if (!target) continue
    let name: string
    if (target.type === 'variable') {
      if (!target.text.startsWith('@@')) continue
      const bare = target.text.slice(2).toLowerCase()
      const dot = bare.indexOf('.')
      if (dot >= 0) scope = bare.slice(0, dot).toUpperCase()
      name = dot >= 0 ? bare.slice(dot + 1) : bare
    } else if (target.type === 'word') name = target.text.toLowerCase()
    else continue
    if (part[i + 1]?.text !== '=' && part[i + 1]?.text !== ':=') continue
    assignments.push({name, ...(scope ? {scope} : {}), value: part.slice(i + 2)})
  }
  return assignments
}

// ---------------------------------------------------------------------------------------------
// Character sets and type comparison

const BYTES_PER_CHAR: Record<string, number> = {
  utf8mb4: 4, utf8: 3, utf8mb3: 3, ucs2: 2, utf16: 4, utf16le: 4, utf32: 4, gb18030: 4, ujis: 3, eucjpms: 3,
  big5: 2, gbk: 2, gb2312: 2, sjis: 2, cp932: 2, euckr: 2,
}
/** Bytes per character; unknown or unstated character sets count as utf8mb4, the widest usual one. */
export const bytesPerChar = (charset: string | undefined) => (charset === undefined ? 4 : (BYTES_PER_CHAR[charset] ?? 1))

/** The character set a collation belongs to (utf8_general_ci -> utf8mb3); undefined for MariaDB's charset-free uca1400_* names. */
export function collationCharset(collation: string): string | undefined {
  const lower = collation.toLowerCase()
  if (lower === 'binary') return 'binary'
  if (lower.startsWith('uca1400')) return undefined
  const prefix = lower.split('_')[0]!
  return prefix === 'utf8' ? 'utf8mb3' : prefix
}

/** utf8 is an alias of utf8mb3 on every supported server. */
export const canonicalCharset = (charset: string) => (charset.toLowerCase() === 'utf8' ? 'utf8mb3' : charset.toLowerCase())

const isVarLength = (type: ColumnType) => type.name === 'VARCHAR' || type.name === 'VARBINARY'
const isCharString = (type: ColumnType) => type.name === 'CHAR' || type.name === 'VARCHAR'
const isByteString = (type: ColumnType) => type.name === 'BINARY' || type.name === 'VARBINARY'

/** Length the server assumes when none is written. */
function effectiveLength(type: ColumnType): number | undefined {
  if (type.length !== undefined) return type.length
  if (type.name === 'CHAR' || type.name === 'BINARY' || type.name === 'BIT') return 1
  if (type.name === 'DECIMAL') return 10
  if (type.name === 'DATETIME' || type.name === 'TIMESTAMP' || type.name === 'TIME') return 0
  return undefined
}

const effectiveScale = (type: ColumnType) => type.scale ?? (type.name === 'DECIMAL' ? 0 : undefined)

/** Same storage type, ignoring integer display widths (INT(11) = INT) and character sets. */
export function sameType(a: ColumnType, b: ColumnType): boolean {
  if (a.name !== b.name || a.unsigned !== b.unsigned) return false
  if (a.values || b.values) return JSON.stringify(a.values ?? []) === JSON.stringify(b.values ?? [])
  if (isIntegerType(a) || a.name === 'YEAR') return true
  return effectiveLength(a) === effectiveLength(b) && effectiveScale(a) === effectiveScale(b)
}

/** Maximum bytes a value of a string type holds (characters x bytes per character for character types). */
function capacityBytes(type: ColumnType): number | undefined {
  if (isCharString(type)) return (effectiveLength(type) ?? 1) * bytesPerChar(type.charset)
  if (isByteString(type)) return effectiveLength(type)
  return TEXT_BYTES[type.name] ?? BLOB_BYTES[type.name] ?? (type.name === 'JSON' ? BLOB_BYTES.LONGBLOB : undefined)
}

/** Length bytes a VARCHAR/VARBINARY stores per value: 1 up to 255 bytes, 2 beyond. */
export function varLengthBytes(type: ColumnType): number | undefined {
  if (!isVarLength(type)) return undefined
  const bytes = capacityBytes(type)
  return bytes === undefined ? undefined : bytes <= 255 ? 1 : 2
}

/** Storage bytes of an ENUM (1 or 2) or SET (1, 2, 3, 4 or 8). */
function membersStorage(type: ColumnType): number {
  const count = type.values?.length ?? 0
  if (type.name === 'ENUM') return count <= 255 ? 1 : 2
  const bytes = Math.ceil(count / 8)
  return bytes > 4 ? 8 : Math.max(1, bytes)
}

/** Decimal digits needed to print every value of an integer type (sign included). */
function integerDigits(type: ColumnType): number {
  const bytes = INTEGER_BYTES[type.name] ?? 8
  const max = type.unsigned ? 2 ** (bytes * 8) - 1 : 2 ** (bytes * 8 - 1)
  return String(max).length + (type.unsigned ? 0 : 1)
}

const DATE_RANK: Record<string, number> = {YEAR: 0, DATE: 1, TIMESTAMP: 2, DATETIME: 3}

/**
 * Why converting values from `from` to `to` can lose or mangle data, or undefined when it cannot
 * (widening, same type). ENUM/SET member changes are left to enumChangeLoss.
 */
export function typeChangeLoss(from: ColumnType, to: ColumnType): string | undefined {
  if (sameType(from, to)) return undefined
  const show = (t: ColumnType) => t.text
  if (isIntegerType(from) && isIntegerType(to)) {
    const fromBytes = INTEGER_BYTES[from.name]!
    const toBytes = INTEGER_BYTES[to.name]!
    if (from.unsigned && !to.unsigned && toBytes <= fromBytes) return `${show(to)} cannot hold the upper half of ${show(from)}'s range`
    if (!from.unsigned && to.unsigned) return `${show(to)} cannot hold negative values`
    if (toBytes < fromBytes) return `${show(to)} holds a smaller range than ${show(from)}`
    return undefined
  }
  if (from.name === 'DECIMAL' && to.name === 'DECIMAL') {
    const fromScale = effectiveScale(from)!
    const toScale = effectiveScale(to)!
    if (toScale < fromScale) return `${show(to)} keeps ${toScale} decimal places instead of ${fromScale}: values are rounded`
    if (effectiveLength(to)! - toScale < effectiveLength(from)! - fromScale) return `${show(to)} has fewer integer digits than ${show(from)}`
    if (from.unsigned === false && to.unsigned) return `${show(to)} cannot hold negative values`
    return undefined
  }
  if (isIntegerType(from) && to.name === 'DECIMAL') {
    return effectiveLength(to)! - effectiveScale(to)! < integerDigits(from) - (from.unsigned ? 0 : 1) ? `${show(to)} has too few integer digits for every ${show(from)} value` : undefined
  }
  if (isFloatingType(to) && (isIntegerType(from) || from.name === 'DECIMAL' || (from.name === 'DOUBLE' && to.name === 'FLOAT'))) {
    const exact = to.name === 'FLOAT' ? 7 : 15
    const digits = isIntegerType(from) ? integerDigits(from) : from.name === 'DECIMAL' ? effectiveLength(from)! : 16
    return digits > exact ? `${show(to)} is approximate: values of ${show(from)} beyond ${exact} significant digits are rounded` : undefined
  }
  if (isFloatingType(from) && isFloatingType(to)) return undefined
  if (from.name === 'BIT' && to.name === 'BIT') return effectiveLength(to)! < effectiveLength(from)! ? `${show(to)} has fewer bits than ${show(from)}` : undefined
  if ((from.name === 'ENUM' || from.name === 'SET') && (to.name === 'ENUM' || to.name === 'SET')) {
    return from.name !== to.name ? `converting ${from.name} to ${to.name} reinterprets the stored values` : undefined
  }
  const toCapacity = capacityBytes(to)
  if (toCapacity !== undefined) {
    const fromCapacity = capacityBytes(from)
    if (fromCapacity !== undefined) {
      // Compare like with like: characters for character types, bytes otherwise.
      if (isCharString(from) && isCharString(to)) {
        const fromLength = effectiveLength(from)!
        const toLength = effectiveLength(to)!
        return toLength < fromLength ? `${show(to)} truncates values longer than ${toLength} characters` : undefined
      }
      if (from.name === 'JSON' && to.name !== 'LONGTEXT' && to.name !== 'LONGBLOB') return `JSON documents longer than ${show(to)} allows are truncated`
      return toCapacity < fromCapacity ? `${show(to)} holds less than ${show(from)}: longer values are truncated` : undefined
    }
    if (isIntegerType(from) || from.name === 'DECIMAL' || isFloatingType(from)) {
      const needed = isIntegerType(from) ? integerDigits(from) : from.name === 'DECIMAL' ? effectiveLength(from)! + 2 : 24
      const chars = isCharString(to) ? effectiveLength(to)! : toCapacity
      return chars < needed ? `${show(to)} is too short for every ${show(from)} value` : undefined
    }
    if (isTemporalType(from)) {
      const needed = {DATE: 10, TIME: 10, YEAR: 4}[from.name] ?? 19 + ((effectiveLength(from) ?? 0) > 0 ? (effectiveLength(from) ?? 0) + 1 : 0)
      const chars = isCharString(to) ? effectiveLength(to)! : toCapacity
      return chars < needed ? `${show(to)} is too short for ${show(from)} values` : undefined
    }
    if (from.name === 'ENUM' || from.name === 'SET') {
      const longest = from.name === 'SET' ? (from.values ?? []).join(',').length : Math.max(0, ...(from.values ?? []).map((v) => v.length))
      const chars = isCharString(to) ? effectiveLength(to)! : toCapacity
      return chars < longest ? `${show(to)} is too short for the ${from.name} values` : undefined
    }
    return `converting ${show(from)} to ${show(to)} may change or lose values`
  }
  if (isTemporalType(from) && isTemporalType(to)) {
    if (from.name === 'TIME' || to.name === 'TIME') return `converting ${show(from)} to ${show(to)} loses the ${to.name === 'TIME' ? 'date' : 'time of day'}`
    if (from.name === 'DATETIME' && to.name === 'TIMESTAMP') return `TIMESTAMP only holds 1970-2038: older or later DATETIME values become zero dates`
    if ((DATE_RANK[to.name] ?? 0) < (DATE_RANK[from.name] ?? 0) && to.name !== 'TIMESTAMP') return `${show(to)} drops the ${to.name === 'YEAR' ? 'month, day and time' : 'time of day'}`
    if ((effectiveLength(to) ?? 0) < (effectiveLength(from) ?? 0)) return `${show(to)} keeps fewer fractional-second digits than ${show(from)}`
    if (from.name === 'DATE' && to.name === 'TIMESTAMP') return `TIMESTAMP only holds 1970-2038: other DATE values become zero dates`
    return undefined
  }
  return `converting ${show(from)} to ${show(to)} may change or lose values`
}

/** What an ENUM/SET redefinition does: members removed, kept members reordered, or members only appended at the end. */
export function enumChange(from: ColumnType, to: ColumnType): {removed: string[]; reordered: boolean; appended: boolean} | undefined {
  if (!from.values || !to.values || from.name !== to.name) return undefined
  const removed = from.values.filter((v) => !to.values!.includes(v))
  const kept = to.values.filter((v) => from.values!.includes(v))
  const reordered = kept.some((v, k) => from.values!.filter((old) => !removed.includes(old))[k] !== v)
  // Only members added after the last existing one keep every stored member number.
  const appended = to.values.length > from.values.length && from.values.every((v, k) => to.values![k] === v)
  return {removed, reordered, appended}
}

// ---------------------------------------------------------------------------------------------
// Online DDL classification

export type Algorithm = 'INSTANT' | 'INPLACE' | 'COPY'
export type LockLevel = 'NONE' | 'SHARED' | 'EXCLUSIVE'

export interface DdlTarget {
  flavor: SqlFlavor
  version: string
}

/** What is known of the table before the change (structurally a subset of the audit's TableInfo). */
export interface ExistingTable {
  engine?: string
  /** Default collation of the table: a column restated without a character set takes it. */
  collation?: string
  rowFormat?: string
  /** charset and collation of character columns, as the server reports them. */
  columns: Array<{name: string; type: string; nullable: boolean; charset?: string; collation?: string}>
  /** type: BTREE, FULLTEXT, SPATIAL... */
  indexes: Array<{name: string; columns: string[]; unique?: boolean; type?: string}>
}

export interface ClassifyOptions {
  table?: ExistingTable
  /** Session foreign_key_checks; adding a foreign key is INPLACE only when it is off. Default on. */
  foreignKeyChecks?: boolean
}

export interface Classification {
  algorithm: Algorithm
  /** The table's rows are rewritten (always so for COPY). */
  rebuild: boolean
  /** The weakest lock the server can run it with: NONE lets reads and writes continue. */
  lock: LockLevel
  blocksWrites: boolean
  /** Work grows with the table's size: a copy, a rebuild, an index build, a validation scan. */
  scansTable: boolean
  reason: string
  /** False when dbakit had to assume the worst (e.g. the current column definition is unknown). */
  certain: boolean
}

export interface ClauseClassification extends Classification {
  clause: AlterClause
}

export interface AlterClassification extends Classification {
  clauses: ClauseClassification[]
  /** Set when the requested ALGORITHM= or LOCK= cannot be honoured: the server refuses the statement. */
  refused?: string
  /** ALGORITHM= and LOCK= as written (upper case), when given. */
  requestedAlgorithm?: string
  requestedLock?: string
}

const ALGORITHM_RANK: Record<Algorithm, number> = {INSTANT: 0, INPLACE: 1, COPY: 2}
const LOCK_RANK: Record<LockLevel, number> = {NONE: 0, SHARED: 1, EXCLUSIVE: 2}
const NEUTRAL_KINDS = new Set<AlterClauseKind>(['algorithm', 'lock'])

type Verdict = Omit<Classification, 'blocksWrites'>
type VerdictOptions = Partial<Pick<Classification, 'rebuild' | 'lock' | 'scansTable' | 'certain'>>

function verdict(algorithm: Algorithm, reason: string, options: VerdictOptions = {}): Verdict {
  const rebuild = options.rebuild ?? algorithm === 'COPY'
  return {
    algorithm,
    rebuild,
    lock: options.lock ?? (algorithm === 'COPY' ? 'SHARED' : 'NONE'),
    scansTable: options.scansTable ?? rebuild,
    reason,
    certain: options.certain ?? true,
  }
}
const instant = (reason: string, options?: VerdictOptions) => verdict('INSTANT', reason, options)
const inplace = (reason: string, options?: VerdictOptions) => verdict('INPLACE', reason, options)
const rebuilds = (reason: string, options?: VerdictOptions) => verdict('INPLACE', reason, {rebuild: true, ...options})
const copies = (reason: string, options?: VerdictOptions) => verdict('COPY', reason, options)

interface Environment {
  target: DdlTarget
  mysql: boolean
  table?: ExistingTable
  foreignKeyChecks: boolean
  clauses: AlterClause[]
}

/** True when the target is at least the version given for its flavor (no version given: never). */
function since(env: Environment, versions: {mysql?: string; mariadb?: string}): boolean {
  const version = env.mysql ? versions.mysql : versions.mariadb
  return version !== undefined && compareVersions(env.target.version, version) >= 0
}

const quote = (name: string) => `\`${name}\``
const serverName = (env: Environment) => (env.mysql ? 'MySQL' : 'MariaDB')

function existingColumn(env: Environment, name: string | undefined) {
  return name === undefined ? undefined : env.table?.columns.find((c) => sameName(c.name, name))
}

const hasFulltextIndex = (table: ExistingTable) => table.indexes.some((index) => index.type?.toUpperCase() === 'FULLTEXT')
const rowFormatIs = (env: Environment, format: string) => env.table?.rowFormat !== undefined && sameName(env.table.rowFormat, format)

/**
 * What rules out an instant column change on this table: the hidden FTS_DOC_ID column of a
 * FULLTEXT index (the rebuild then needs LOCK=SHARED), or ROW_FORMAT=COMPRESSED.
 */
function instantColumnBlocker(env: Environment, what: string): Verdict | undefined {
  if (!env.table) return undefined
  if (hasFulltextIndex(env.table)) return rebuilds(`${what} cannot be INSTANT on a table with a FULLTEXT index: the table is rebuilt, blocking writes`, {lock: 'SHARED'})
  if (rowFormatIs(env, 'Compressed')) return rebuilds(`${what} cannot be INSTANT on a ROW_FORMAT=COMPRESSED table: the table is rebuilt`)
  return undefined
}

function classifyAddColumn(definition: ColumnDefinition | undefined, env: Environment): Verdict {
  if (!definition) return rebuilds('adding several columns in one clause', {certain: false})
  const name = quote(definition.name)
  if (definition.generated === 'STORED') return copies(`adding the STORED generated column ${name} computes it for every row`)
  if (definition.autoIncrement) return rebuilds(`adding the AUTO_INCREMENT column ${name} numbers every existing row`, {lock: 'SHARED'})
  if (definition.primaryKey) return rebuilds(`adding ${name} as the PRIMARY KEY rebuilds the clustered index`)
  if (definition.unique) return rebuilds(`adding ${name} with a UNIQUE index rules out INSTANT: the table is rebuilt`)
  const where = definition.position?.kind === 'first' ? 'FIRST' : definition.position ? `AFTER ${quote(definition.position.column)}` : undefined
  if (env.mysql) {
    if (!since(env, {mysql: '8.0.12'})) return rebuilds(`MySQL before 8.0.12 adds column ${name} by rebuilding the table`)
    if (where && !since(env, {mysql: '8.0.29'})) return rebuilds(`MySQL before 8.0.29 adds a column INSTANTly only as the last column: ${name} ${where} rebuilds the table`)
    // Observed on MySQL 8.0 even for constant expressions such as DEFAULT (2 + 5).
    if (definition.default?.kind === 'expression') return rebuilds(`MySQL cannot add ${name} INSTANTly with an expression DEFAULT`)
    if (definition.default?.kind === 'now') return rebuilds(`MySQL may not add ${name} INSTANTly with DEFAULT ${definition.default.value}`, {certain: false})
    if ((definition.type.name === 'DATETIME' || definition.type.name === 'DATE') && definition.notNull && !definition.default) {
      return rebuilds(`MySQL cannot add the NOT NULL ${definition.type.name} column ${name} without a DEFAULT INSTANTly`, {certain: false})
    }
    return instantColumnBlocker(env, `adding column ${name}`) ?? instant(`adding column ${name}${where ? ` ${where}` : ''} is INSTANT on MySQL ${where ? '8.0.29' : '8.0.12'}+${unlessBlocked(env)}`, {certain: env.table !== undefined})
  }
  if (!since(env, {mariadb: '10.3.2'})) return rebuilds(`MariaDB before 10.3.2 adds column ${name} by rebuilding the table`)
  if (where && !since(env, {mariadb: '10.4'})) return rebuilds(`MariaDB before 10.4 adds a column INSTANTly only as the last column: ${name} ${where} rebuilds the table`)
  if (definition.default?.kind === 'expression' && definition.default.callsFunction) {
    return copies(`MariaDB evaluates the DEFAULT expression of ${name} for every existing row with a table copy`)
  }
  return instantColumnBlocker(env, `adding column ${name}`) ?? instant(`adding column ${name}${where ? ` ${where}` : ''} is INSTANT on MariaDB ${where ? '10.4' : '10.3.2'}+${unlessBlocked(env)}`, {certain: env.table !== undefined})
}

/** The caveat of an instant column change when the table is unknown. */
const unlessBlocked = (env: Environment) => (env.table ? '' : ' (a rebuild if the table has a FULLTEXT index or ROW_FORMAT=COMPRESSED)')

function classifyDropColumn(clause: AlterClause, env: Environment): Verdict {
  const name = quote(clause.column ?? '?')
  const indexes = env.table?.indexes.filter((index) => index.columns.some((c) => sameName(c, clause.column ?? ''))) ?? []
  if (indexes.some((index) => sameName(index.name, 'PRIMARY'))) return copies(`${name} is part of the PRIMARY KEY, so dropping it rebuilds the table with a new key`)
  const indexed = indexes.length > 0 ? `${name} is part of index ${indexes.map((i) => quote(i.name)).join(', ')}` : undefined
  if (env.mysql) {
    if (!since(env, {mysql: '8.0.29'})) return rebuilds(`MySQL before 8.0.29 drops column ${name} by rebuilding the table`)
    if (indexed) return rebuilds(`${indexed}, so MySQL cannot drop it INSTANTly and rebuilds the table`)
  } else {
    if (!since(env, {mariadb: '10.4'})) return rebuilds(`MariaDB before 10.4 drops column ${name} by rebuilding the table`)
    // Observed on 10.11: an index of that column alone is dropped with it; an index that keeps other columns must change shape.
    if (indexes.some((index) => index.columns.length > 1)) return rebuilds(`${indexed}, which keeps other columns, so MariaDB rebuilds the table`)
    if (indexed) return inplace(`${indexed}, which goes with it: the column is dropped without a rebuild`)
  }
  const known = env.table !== undefined && existingColumn(env, clause.column) !== undefined
  return instant(`dropping column ${name} is INSTANT on ${serverName(env)} ${env.mysql ? '8.0.29' : '10.4'}+${known ? '' : ' unless the column is indexed'}`, {certain: known})
}

/** utf8_general_ci and utf8mb3_general_ci are the same collation under two names. */
const canonicalCollation = (collation: string) => collation.toLowerCase().replace(/^utf8_/, 'utf8mb3_')

/** The collation a character set gets when none is named, where it does not depend on server settings. */
function defaultCollation(charset: string, env: Environment): string | undefined {
  const name = canonicalCharset(charset)
  if (name === 'binary') return 'binary'
  if (name === 'latin1') return 'latin1_swedish_ci'
  if (name === 'utf8mb4') {
    if (env.mysql) return since(env, {mysql: '8.0.0'}) ? 'utf8mb4_0900_ai_ci' : 'utf8mb4_general_ci'
    // MariaDB 11 lets character_set_collations pick another one (the uca1400 collations).
    return since(env, {mariadb: '11.0'}) ? undefined : 'utf8mb4_general_ci'
  }
  return ['utf8mb3', 'ascii', 'ucs2', 'utf16', 'utf32'].includes(name) ? `${name}_general_ci` : undefined
}

interface ColumnCharset {
  charset?: string
  collation?: string
}

/**
 * The character set and collation a character column ends up with after MODIFY/CHANGE: what the
 * definition names, else the table's defaults (a column restated without them takes the table's,
 * not its own).
 */
function resultingCharset(type: ColumnType, env: Environment): ColumnCharset {
  // `VARCHAR(10) BINARY` is the _bin collation of the character set, not the binary one.
  const binaryAttribute = type.collation === 'binary' && !type.collationAt
  const collation = binaryAttribute ? undefined : type.collation
  const charset = type.charset ?? (collation ? collationCharset(collation) : undefined) ?? (env.table?.collation ? collationCharset(env.table.collation) : undefined)
  if (!charset) return {}
  if (binaryAttribute) return {charset, collation: `${canonicalCharset(charset)}_bin`}
  if (collation) return {charset, collation}
  if (type.charset) {
    const fallback = defaultCollation(charset, env)
    return fallback ? {charset, collation: fallback} : {charset}
  }
  return env.table?.collation ? {charset, collation: env.table.collation} : {charset}
}

/** Whether a VARCHAR going from `fromBytes` to `toBytes` keeps the stored format, so that the change is metadata only. */
function keepsVarcharFormat(fromBytes: number, toBytes: number, env: Environment): boolean {
  if (env.mysql) return (fromBytes <= 255) === (toBytes <= 255)
  if (!since(env, {mariadb: '10.4'})) return (fromBytes <= 255) === (toBytes <= 255)
  // ROW_FORMAT=REDUNDANT stores every length the same way. The others use one length byte up to
  // 255 bytes of maximum length, else one byte for values under 128 bytes and two for longer ones:
  // a column of at most 127 bytes never held a value needing two, so it can grow past 255.
  return rowFormatIs(env, 'Redundant') || toBytes <= 255 || fromBytes > 255 || fromBytes <= 127
}

const isIndexed = (env: Environment, column: string) => env.table?.indexes.some((index) => index.columns.some((c) => sameName(c, column))) ?? false

/** MODIFY and CHANGE: compares the new definition with the current one when it is known. */
function classifyColumnChange(clause: AlterClause, env: Environment): Verdict {
  const definition = clause.definition
  if (!definition) return copies('unreadable column definition', {certain: false})
  const name = quote(clause.column ?? definition.name)
  const renamed = clause.kind === 'change-column' && !sameName(clause.column ?? '', definition.name)
  const current = existingColumn(env, clause.column)
  const currentType = current ? parseColumnType(current.type) : undefined
  if (!current || !currentType) {
    const what = renamed ? `CHANGE ${name} restates the whole column: a rename alone is cheap, but any other difference (type, length, NULL, character set) copies the table` : `MODIFY ${name} copies the table unless only the DEFAULT or COMMENT, the end of an ENUM/SET, or a VARCHAR length within the same length-byte class changes`
    return copies(`${what}; the current definition of ${name} is unknown`, {certain: false})
  }
  const from = {...currentType, ...(current.charset ? {charset: current.charset} : {})}
  const target = isCharacterType(definition.type) ? resultingCharset(definition.type, env) : {}
  const to = {...definition.type, ...(target.charset ? {charset: target.charset} : {})}
  const verdicts: Verdict[] = []
  if (!sameType(from, to)) verdicts.push(classifyTypeChange(name, from, to, env))
  if (isCharacterType(from) && isCharacterType(to)) {
    const change = classifyCharsetChange(name, {charset: current.charset, collation: current.collation}, target, definition.type, isIndexed(env, clause.column ?? definition.name), env)
    if (change) verdicts.push(change)
  }
  if (current.nullable !== definition.nullable) {
    verdicts.push(
      definition.nullable && !env.mysql && since(env, {mariadb: '10.4'}) && rowFormatIs(env, 'Redundant')
        ? instant(`making ${name} NULL is INSTANT on a ROW_FORMAT=REDUNDANT table`)
        : rebuilds(`making ${name} ${definition.nullable ? 'NULL' : 'NOT NULL'} rebuilds the table`),
    )
  }
  if (definition.position) {
    verdicts.push(
      !env.mysql && since(env, {mariadb: '10.4'})
        ? instant(`moving ${name} is INSTANT on MariaDB 10.4+`)
        : rebuilds(`moving ${name} with ${definition.position.kind === 'first' ? 'FIRST' : 'AFTER'} rebuilds the table`),
    )
  }
  if (renamed) verdicts.push(classifyRename(name, definition.name, env))
  if (verdicts.length === 0) {
    verdicts.push(
      since(env, {mysql: '8.0.0', mariadb: '10.3.2'})
        ? instant(`${name} keeps its type: only metadata (DEFAULT, COMMENT) changes`)
        : inplace(`${name} keeps its type: only metadata (DEFAULT, COMMENT) changes`),
    )
  }
  return worst(verdicts)
}

/**
 * A character column's character set or collation changing (or only restated: no verdict).
 * `stated` is the new type as written, to tell an unknown outcome from an unchanged one.
 */
function classifyCharsetChange(name: string, from: ColumnCharset, to: ColumnCharset, stated: ColumnType, indexed: boolean, env: Environment): Verdict | undefined {
  const named = stated.charset !== undefined || stated.collation !== undefined
  if (!from.charset || !to.charset) {
    return named ? copies(`changing the character set or collation of ${name} rewrites it with a table copy (no-op if unchanged)`, {certain: false}) : undefined
  }
  const sameCharset = canonicalCharset(from.charset) === canonicalCharset(to.charset)
  const collationKnown = from.collation !== undefined && to.collation !== undefined
  if (sameCharset && collationKnown && canonicalCollation(from.collation!) === canonicalCollation(to.collation!)) return undefined
  const describe = sameCharset ? `the collation of ${name}` : `${name} from ${from.charset} to ${to.charset}`
  if (env.mysql || !since(env, {mariadb: '10.4'})) {
    return copies(`changing ${describe} rewrites it with a table copy`, {certain: !env.mysql && collationKnown})
  }
  // MariaDB 10.4+ re-labels the column when the bytes stay valid: a collation change, or utf8mb3
  // becoming utf8mb4 (a superset). Indexes sorted by the old collation are rebuilt, from 10.6 in place.
  const widens = canonicalCharset(from.charset) === 'utf8mb3' && canonicalCharset(to.charset) === 'utf8mb4'
  if (!sameCharset && !widens) return copies(`converting ${describe} rewrites every value with a table copy`)
  if (widens && isVarLength(stated)) {
    const length = effectiveLength(stated) ?? 0
    if (!keepsVarcharFormat(length * 3, length * 4, env)) return copies(`converting ${describe} takes it past 255 bytes, so values need a second length byte: the table is copied`)
  }
  const sameOrder = !collationKnown || canonicalCollation(from.collation!).split('_').slice(1).join('_') === canonicalCollation(to.collation!).split('_').slice(1).join('_')
  const certain = collationKnown
  if (!indexed || (widens && sameOrder)) return instant(`changing ${describe} only changes metadata`, {certain})
  return since(env, {mariadb: '10.6'})
    ? inplace(`changing ${describe} rebuilds the indexes that contain it, without a table rebuild`, {scansTable: true, certain})
    : copies(`changing ${describe}, which is indexed, copies the table before MariaDB 10.6`, {certain})
}

function classifyTypeChange(name: string, from: ColumnType, to: ColumnType, env: Environment): Verdict {
  if (from.name === to.name && (from.name === 'VARCHAR' || from.name === 'VARBINARY') && from.unsigned === to.unsigned) {
    const fromLength = effectiveLength(from) ?? 0
    const toLength = effectiveLength(to) ?? 0
    const sameCharset = !to.charset || !from.charset || canonicalCharset(to.charset) === canonicalCharset(from.charset)
    if (toLength >= fromLength && sameCharset) {
      const charset = to.charset ?? from.charset
      const assumed = charset === undefined && from.name === 'VARCHAR' ? ' (assuming utf8mb4)' : ''
      const bytes = (type: ColumnType) => capacityBytes({...type, charset}) ?? 0
      if (keepsVarcharFormat(bytes(from), bytes(to), env)) {
        const reason = `extending ${name} from ${from.text} to ${to.text} keeps the stored format: metadata only${assumed}`
        return env.mysql ? inplace(reason, {certain: assumed === ''}) : instant(reason, {certain: assumed === ''})
      }
      return copies(`extending ${name} from ${from.text} to ${to.text} takes it from ${bytes(from)} to ${bytes(to)} bytes, past 255, so values need a second length byte${assumed}`, {certain: assumed === ''})
    }
  }
  const members = enumChange(from, to)
  if (members?.appended && membersStorage(from) === membersStorage(to) && from.unsigned === to.unsigned) {
    return instant(`adding members at the end of ${from.name} ${name} only changes metadata`)
  }
  return copies(`changing ${name} from ${from.text} to ${to.text} converts every row with a table copy`)
}

function classifyRename(name: string, newName: string, env: Environment): Verdict {
  const reason = `renaming ${name} to ${quote(newName)}`
  if (since(env, {mysql: '8.0.28', mariadb: '10.5.2'})) return instant(`${reason} is INSTANT on ${serverName(env)} ${env.mysql ? '8.0.28' : '10.5.2'}+`)
  return inplace(`${reason} only changes metadata`)
}

function classifyAddIndex(index: IndexDefinition | undefined, env: Environment): Verdict {
  const name = index?.name ? ` ${quote(index.name)}` : ''
  switch (index?.kind) {
    case 'PRIMARY':
      return rebuilds('adding a PRIMARY KEY rebuilds the clustered index, that is the whole table')
    case 'FULLTEXT':
      // Only the first FULLTEXT index of a table rebuilds it; the write lock is certain either way.
      if (env.table && hasFulltextIndex(env.table)) return inplace(`a FULLTEXT index build${name} blocks writes (the table already has FTS_DOC_ID, so it is not rebuilt)`, {lock: 'SHARED', scansTable: true})
      return rebuilds(`a FULLTEXT index build${name} blocks writes, and the table's first FULLTEXT index also rebuilds it to add FTS_DOC_ID`, {lock: 'SHARED'})
    case 'SPATIAL':
      return inplace(`building the SPATIAL index${name} blocks writes`, {lock: 'SHARED', scansTable: true})
    case 'FOREIGN':
      if (env.foreignKeyChecks) return copies(`adding the FOREIGN KEY${name} with foreign_key_checks=1 copies the table to check every row`)
      return metadataOnly(env, `with foreign_key_checks=0 the FOREIGN KEY${name} is added without checking existing rows: metadata only`)
    case undefined:
      return copies('unreadable index definition', {certain: false})
    default:
      return inplace(`building the index${name} reads the whole table; writes continue`, {scansTable: true})
  }
}

/** A change that touches no data file: MariaDB runs it as INSTANT (from 10.3.7, which has the name), MySQL as INPLACE. */
const metadataOnly = (env: Environment, reason: string) => (!env.mysql && since(env, {mariadb: '10.3.7'}) ? instant(reason) : inplace(reason))

/** CONVERT TO CHARACTER SET: each character column changes as a MODIFY to that character set would. */
function classifyConvert(clause: AlterClause, env: Environment): Verdict {
  const charset = clause.charset ?? ''
  const fallback = copies(`CONVERT TO CHARACTER SET ${charset} rewrites every text column with a table copy (unless the table already uses it)`, {certain: false})
  if (!env.table || !clause.charset) return fallback
  const collation = clause.collation ?? defaultCollation(clause.charset, env)
  const target: ColumnCharset = {charset: clause.charset, ...(collation ? {collation} : {})}
  const verdicts: Verdict[] = []
  for (const column of env.table.columns) {
    const type = parseColumnType(column.type)
    if (!type) return fallback
    // Binary strings and columns with the binary character set are left alone.
    if (!isCharacterType(type) || column.charset === 'binary') continue
    // A TEXT column may become a larger TEXT type to hold as many characters in wider ones: dbakit assumes a copy.
    if (type.name in TEXT_BYTES && column.charset && bytesPerChar(canonicalCharset(clause.charset)) > bytesPerChar(canonicalCharset(column.charset))) {
      verdicts.push(copies(`CONVERT TO CHARACTER SET ${charset} may change the type of ${quote(column.name)} to a larger TEXT, with a table copy`, {certain: false}))
      continue
    }
    const stated = {...type, charset: clause.charset, ...(collation ? {collation} : {})}
    const change = classifyCharsetChange(quote(column.name), {charset: column.charset, collation: column.collation}, target, stated, isIndexed(env, column.name), env)
    if (change) verdicts.push(change)
  }
  if (verdicts.length === 0) return metadataOnly(env, `every text column already uses ${charset}: CONVERT TO only changes the table's default character set`)
  return worst(verdicts)
}

function classifyTableOption(clause: AlterClause, env: Environment): Verdict {
  const option = clause.option ?? ''
  const metadata = (what: string) => (env.mysql ? inplace(`${what} only changes metadata`) : instant(`${what} only changes metadata`))
  switch (option) {
    case 'ROW_FORMAT':
    case 'KEY_BLOCK_SIZE':
      return rebuilds(`${option}=${clause.value ?? ''} rewrites every row in the new format`)
    case 'AUTO_INCREMENT':
      return metadata('setting AUTO_INCREMENT')
    case 'COMMENT':
    case 'STATS_PERSISTENT':
    case 'STATS_AUTO_RECALC':
    case 'STATS_SAMPLE_PAGES':
    case 'PAGE_COMPRESSION_LEVEL':
    case 'PAGE_COMPRESSED':
      return metadata(`setting ${option}`)
    case 'COMPRESSION':
      return inplace('COMPRESSION applies to pages written from now on (OPTIMIZE TABLE compresses the rest)')
    case 'ENCRYPTION':
      return env.mysql ? copies('changing ENCRYPTION copies the table into a new tablespace') : rebuilds('changing encryption rewrites every page')
    case 'ENCRYPTED':
    case 'ENCRYPTION_KEY_ID':
      return rebuilds(`changing ${option} rewrites every page`)
    default:
      return rebuilds(`dbakit does not know how ${option} is applied; assuming a table rebuild`, {certain: false})
  }
}

function classifyPartitionOp(clause: AlterClause): Verdict {
  const verb = clause.option ?? ''
  const hashAdd = verb === 'ADD' && isWord(clause.tokens[2], 'PARTITIONS')
  switch (verb) {
    case 'ADD':
      return hashAdd
        ? rebuilds('adding HASH/KEY partitions moves rows between partitions and blocks writes', {lock: 'SHARED'})
        : inplace('adding a RANGE/LIST partition creates an empty partition', {lock: 'SHARED'})
    case 'DROP':
    case 'TRUNCATE':
      return inplace(`${verb} PARTITION removes the partition's rows without touching the others`, {lock: 'SHARED'})
    case 'COALESCE':
    case 'REORGANIZE':
    case 'REBUILD':
    case 'OPTIMIZE':
    case 'REPAIR':
      return rebuilds(`${verb} PARTITION rewrites the rows of the partitions concerned and blocks writes meanwhile`, {lock: 'SHARED'})
    case 'EXCHANGE':
      return inplace('EXCHANGE PARTITION swaps tablespaces, after checking every row of the exchanged table unless WITHOUT VALIDATION', {lock: 'EXCLUSIVE', scansTable: true})
    case 'ANALYZE':
      return inplace('ANALYZE PARTITION samples index statistics')
    case 'CHECK':
      return inplace('CHECK PARTITION reads the partitions and blocks writes meanwhile', {lock: 'SHARED', scansTable: true})
    default:
      return copies(`dbakit does not know how ${verb} PARTITION runs; assuming a table copy`, {certain: false})
  }
}

function classifyClause(clause: AlterClause, env: Environment): Verdict {
  const mariadbInstant = (reason: string) => (env.mysql ? inplace(reason) : instant(reason))
  switch (clause.kind) {
    case 'add-column': {
      const definitions = clauseDefinitions(clause)
      if (definitions.length === 0) return classifyAddColumn(undefined, env)
      return worst(definitions.map((d) => classifyAddColumn(d, env)))
    }
    case 'drop-column':
      return classifyDropColumn(clause, env)
    case 'modify-column':
    case 'change-column':
      return classifyColumnChange(clause, env)
    case 'rename-column':
      return classifyRename(quote(clause.column ?? '?'), clause.newName ?? '?', env)
    case 'alter-column-default':
      return since(env, {mysql: '8.0.0', mariadb: '10.3.2'}) ? instant('changing a column DEFAULT only changes metadata') : inplace('changing a column DEFAULT only changes metadata')
    case 'alter-column-visibility':
      return instant('changing column visibility only changes metadata')
    case 'add-index':
      return classifyAddIndex(clause.index, env)
    case 'drop-index':
      return inplace(`dropping index ${quote(clause.name ?? '?')} only changes metadata`)
    case 'rename-index':
      return mariadbInstant(`renaming index ${quote(clause.name ?? '?')} only changes metadata`)
    case 'alter-index-visibility':
      return mariadbInstant(`changing the visibility of index ${quote(clause.name ?? '?')} only changes metadata`)
    case 'drop-primary-key':
      return env.clauses.some((c) => c.kind === 'add-index' && c.index?.kind === 'PRIMARY')
        ? rebuilds('replacing the PRIMARY KEY rebuilds the clustered index, that is the whole table')
        : copies('dropping the PRIMARY KEY without adding another one copies the table')
    case 'drop-foreign-key':
      return metadataOnly(env, `dropping foreign key ${quote(clause.name ?? '?')} only changes metadata`)
    case 'add-check':
      // Verified on MariaDB; on MySQL the validation scan is certain, the COPY algorithm assumed.
      return clause.notEnforced
        ? inplace('a NOT ENFORCED CHECK constraint only changes metadata')
        : copies('adding a CHECK constraint copies the table to check every existing row', {certain: !env.mysql})
    case 'drop-constraint':
      // MySQL's DROP CONSTRAINT may name a UNIQUE or FOREIGN KEY: only DROP CHECK is known to be INSTANT.
      return clause.option === 'CHECK' || !env.mysql
        ? instant(`dropping constraint ${quote(clause.name ?? '?')} only changes metadata`)
        : inplace(`dropping constraint ${quote(clause.name ?? '?')} only changes metadata`)
    case 'alter-check':
      return clause.notEnforced ? inplace('NOT ENFORCED only changes metadata') : copies('enforcing a CHECK constraint copies the table to check every existing row')
    case 'rename-table':
      return instant('renaming the table only changes metadata', {lock: env.mysql ? 'NONE' : 'EXCLUSIVE'})
    case 'convert-charset':
      return classifyConvert(clause, env)
    case 'table-charset':
      return env.mysql
        ? rebuilds('MySQL rebuilds the table when its default character set changes', {certain: false})
        : instant('changing the default character set only affects columns added later')
    case 'engine': {
      const engine = clause.value ?? ''
      const current = env.table?.engine
      if (current ? sameName(current, engine) : sameName(engine, 'InnoDB')) {
        return rebuilds(`ENGINE=${engine} on a table already using it is a null rebuild`, {certain: current !== undefined})
      }
      return copies(`changing the storage engine to ${engine} copies every row`)
    }
    case 'table-option':
      return classifyTableOption(clause, env)
    case 'force':
      return rebuilds('FORCE rebuilds the table')
    case 'optimize':
      return rebuilds('OPTIMIZE TABLE on InnoDB rebuilds the table (a table with a FULLTEXT index is copied instead)')
    case 'order-by':
      return copies('ORDER BY rewrites the table in the new order with a table copy')
    case 'keys':
      return inplace('ENABLE/DISABLE KEYS does nothing on InnoDB')
    case 'tablespace':
      return inplace(`${clause.option ?? ''} TABLESPACE swaps the tablespace file under an exclusive lock`, {lock: 'EXCLUSIVE'})
    case 'partition-by':
      return copies('PARTITION BY copies every row into the new partitions')
    case 'remove-partitioning':
      return copies('REMOVE PARTITIONING copies every row into one table')
    case 'partition-op':
      return classifyPartitionOp(clause)
    case 'system-versioning':
      return clause.option === 'ADD' ? copies('adding system versioning copies the table') : rebuilds('dropping system versioning rebuilds the table', {certain: false})
    default:
      return copies(`dbakit does not recognise "${tokensText(clause.tokens)}"; assuming a table copy`, {certain: false})
  }
}

/** The most expensive of several verdicts, with the reasons of those that cost that much. */
function worst(verdicts: Verdict[]): Verdict {
  const top = verdicts.reduce((a, b) => (ALGORITHM_RANK[b.algorithm] > ALGORITHM_RANK[a.algorithm] || (b.algorithm === a.algorithm && b.rebuild && !a.rebuild) ? b : a))
  const reasons = [...new Set(verdicts.filter((v) => v.algorithm === top.algorithm && v.rebuild === top.rebuild).map((v) => v.reason))]
  return {
    algorithm: top.algorithm,
    rebuild: verdicts.some((v) => v.rebuild),
    lock: verdicts.reduce<LockLevel>((lock, v) => (LOCK_RANK[v.lock] > LOCK_RANK[lock] ? v.lock : lock), 'NONE'),
    scansTable: verdicts.some((v) => v.scansTable),
    reason: reasons.join('; '),
    certain: verdicts.every((v) => v.certain),
  }
}

const finish = (verdict: Verdict): Classification => ({...verdict, blocksWrites: verdict.lock !== 'NONE'})
const isInnoDb = (engine: string | undefined) => engine === undefined || sameName(engine, 'InnoDB')

/**
 * How the server will run these ALTER TABLE clauses on `target`: per clause and overall, the
 * algorithm (INSTANT < INPLACE < COPY), whether the table is rebuilt, the weakest lock allowed,
 * and why. ALGORITHM= and LOCK= among the clauses are honoured; when they cannot be, `refused`
 * says so (the server then rejects the statement rather than run it differently).
 * Conservative: when unsure, it says rebuild or COPY, with `certain: false`.
 */
export function classifyAlter(clauses: AlterClause[], target: DdlTarget, options: ClassifyOptions = {}): AlterClassification {
  const env: Environment = {target, mysql: target.flavor === 'mysql', foreignKeyChecks: options.foreignKeyChecks ?? true, clauses, ...(options.table ? {table: options.table} : {})}
  const engine = options.table?.engine
  const active = clauses.filter((c) => !NEUTRAL_KINDS.has(c.kind))
  let results: Array<{clause: AlterClause; verdict: Verdict}> = active.map((clause) => {
    let verdict = classifyClause(clause, env)
    if (!isInnoDb(engine) && clause.kind !== 'rename-table' && clause.kind !== 'engine' && clause.kind !== 'table-option') {
      verdict = copies(`${engine} tables have no online DDL: ${verdict.reason}`)
    }
    return {clause, verdict}
  })

  // An INSTANT column change combined with anything that is not INSTANT loses INSTANT: the
  // server runs the whole statement as one rebuild (documented for MySQL, observed on MariaDB).
  const slower = results.find((r) => r.verdict.algorithm !== 'INSTANT')
  if (slower) {
    results = results.map((r) =>
      r.verdict.algorithm === 'INSTANT' && (r.clause.kind === 'add-column' || r.clause.kind === 'drop-column')
        ? {clause: r.clause, verdict: rebuilds(`${r.verdict.reason.split(' is INSTANT')[0]} would be INSTANT alone, but with ${tokensText(slower.clause.tokens.slice(0, 3))}... in the same statement the table is rebuilt`, {certain: r.verdict.certain})}
        : r,
    )
  }

  const requested = (kind: 'algorithm' | 'lock') => {
    const value = clauses.filter((c) => c.kind === kind).pop()?.value?.toUpperCase()
    return value === 'DEFAULT' ? undefined : value
  }
  const requestedAlgorithm = requested('algorithm')
  const requestedLock = requested('lock')
  let refused: string | undefined
  const firstCertain = (test: (v: Verdict) => boolean) => results.find((r) => test(r.verdict) && r.verdict.certain)

  if (requestedAlgorithm === 'COPY') {
    results = results.map((r) => ({clause: r.clause, verdict: copies('ALGORITHM=COPY was requested', {certain: r.verdict.certain})}))
  } else if (requestedAlgorithm === 'INPLACE' || requestedAlgorithm === 'NOCOPY') {
    if (requestedAlgorithm === 'NOCOPY' && env.mysql) refused = 'ALGORITHM=NOCOPY is MariaDB syntax; MySQL rejects it'
    const tooSlow = firstCertain((v) => v.algorithm === 'COPY' || (requestedAlgorithm === 'NOCOPY' && v.rebuild))
    if (!refused && tooSlow) refused = `ALGORITHM=${requestedAlgorithm} is not possible: ${tooSlow.verdict.reason}`
    results = results.map((r) => {
      // The server refuses rather than copies, so an uncertain COPY becomes "rebuild or refuse".
      if (r.verdict.algorithm === 'COPY') return {clause: r.clause, verdict: rebuilds(`${r.verdict.reason} (with ALGORITHM=${requestedAlgorithm} the server refuses the statement if so)`, {certain: false})}
      // MySQL takes ALGORITHM=INPLACE literally: an INSTANT column change is done by a rebuild.
      if (env.mysql && r.verdict.algorithm === 'INSTANT') {
        const rebuild = r.clause.kind === 'add-column' || r.clause.kind === 'drop-column'
        return {clause: r.clause, verdict: verdict('INPLACE', `${r.verdict.reason.split(' is INSTANT')[0]} with ALGORITHM=INPLACE ${rebuild ? 'rebuilds the table' : 'runs in place'}`, {rebuild, certain: r.verdict.certain})}
      }
      return r
    })
  } else if (requestedAlgorithm === 'INSTANT') {
    const notInstant = firstCertain((v) => v.algorithm !== 'INSTANT')
    if (!since(env, {mysql: '8.0.12', mariadb: '10.3.7'})) refused = `ALGORITHM=INSTANT does not exist before ${env.mysql ? 'MySQL 8.0.12' : 'MariaDB 10.3.7'}`
    else if (notInstant) refused = `ALGORITHM=INSTANT is not possible: ${notInstant.verdict.reason}`
    else if (env.mysql && requestedLock) refused = `MySQL accepts only LOCK=DEFAULT with ALGORITHM=INSTANT (error 1221)`
  }
  if (!refused && requestedLock) {
    const rank = LOCK_RANK[requestedLock as LockLevel]
    if (rank !== undefined) {
      const stronger = firstCertain((v) => LOCK_RANK[v.lock] > rank)
      if (stronger) refused = `LOCK=${requestedLock} is not possible: ${stronger.verdict.reason} needs LOCK=${stronger.verdict.lock}`
      else {
        results = results.map((r) => (LOCK_RANK[r.verdict.lock] < rank ? {clause: r.clause, verdict: {...r.verdict, lock: requestedLock as LockLevel}} : r))
      }
    }
  }

  const overall = results.length > 0 ? worst(results.map((r) => r.verdict)) : instant('nothing to change')
  const classification: AlterClassification = {
    ...finish(overall),
    clauses: results.map((r) => ({clause: r.clause, ...finish(r.verdict)})),
  }
  if (refused) classification.refused = refused
  if (requestedAlgorithm) classification.requestedAlgorithm = requestedAlgorithm
  if (requestedLock) classification.requestedLock = requestedLock
  return classification
}
