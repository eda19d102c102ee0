import {usageError} from '../core/errors.ts'
import {tokenize, significant} from '../sql/lexer.ts'
import type {ColumnInfo} from './table.ts'

/** How a column of the original table is carried to the new one, and back during the revert window. */
export interface ColumnPair {
  old: string
  new: string
  /** Same type on both sides: compared by the checksum before cut-over. */
  sameType: boolean
}

export interface ColumnMapping {
  pairs: ColumnPair[]
  /** Columns of the new table that the original lacks: they take their default. */
  added: string[]
  /** Columns of the original that the new table lacks. */
  dropped: ColumnInfo[]
}

const unquote = (text: string) => (text.startsWith('`') ? text.slice(1, -1).replace(/``/g, '`') : text)
const INTEGER = /^(tiny|small|medium|big)?int\b/i

/**
 * Renames the ALTER asks for (`CHANGE [COLUMN] a b ...`, `RENAME COLUMN a TO b`), old name ->
 * new; every other column keeps its name. Read from tokens, so a name in a comment or string does
 * not count.
 */
export function renamedColumns(alter: string): Map<string, string> {
  const tokens = significant(tokenize(alter))
  const renames = new Map<string, string>()
  const word = (i: number) => (tokens[i]?.type === 'word' ? tokens[i]!.value : undefined)
  for (let i = 0; i < tokens.length; i++) {
    const at = i === 0 || tokens[i - 1]?.text === ','
    if (!at) continue
    if (word(i) === 'CHANGE') {
      const from = word(i + 1) === 'COLUMN' ? i + 2 : i + 1
      const a = tokens[from]
      const b = tokens[from + 1]
      if (a && b) renames.set(unquote(a.text).toLowerCase(), unquote(b.text))
    } else if (word(i) === 'RENAME' && word(i + 1) === 'COLUMN' && tokens[i + 2] && word(i + 3) === 'TO' && tokens[i + 4]) {
      renames.set(unquote(tokens[i + 2]!.text).toLowerCase(), unquote(tokens[i + 4]!.text))
    }
  }
  return renames
}

/** Pairs the original's columns with the new table's, generated columns left to the server. */
export function mapColumns(before: ColumnInfo[], after: ColumnInfo[], alter: string): ColumnMapping {
  const renames = renamedColumns(alter)
  const byName = new Map(after.filter((c) => !c.generated).map((c) => [c.name.toLowerCase(), c]))
  const pairs: ColumnPair[] = []
  const dropped: ColumnInfo[] = []
  for (const column of before) {
    if (column.generated) continue
    const target = byName.get((renames.get(column.name.toLowerCase()) ?? column.name).toLowerCase())
    if (!target) {
      dropped.push(column)
      continue
    }
    byName.delete(target.name.toLowerCase())
    const sameType = target.type.toLowerCase() === column.type.toLowerCase() || (INTEGER.test(target.type) && INTEGER.test(column.type) && /unsigned/i.test(target.type) === /unsigned/i.test(column.type))
    pairs.push({old: column.name, new: target.name, sameType})
  }
  if (pairs.length === 0) throw usageError('ALTER_KEEPS_NOTHING', 'the new table shares no column with the original, so there is nothing to copy', {hint: 'check the ALTER'})
  return {pairs, added: [...byName.keys()].map((name) => byName.get(name)!.name), dropped}
}

const INTEGER_BYTES: Record<string, number> = {tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8}

/**
 * Columns whose values could be cut on the way to the new table (`forward`) or back to the
 * original during a revert window (`reverse`): an integer narrowed one way or the other, or any
 * other change of type, which `plan` cannot prove harmless.
 */
export function lossyPairs(before: ColumnInfo[], after: ColumnInfo[], mapping: ColumnMapping): Array<{pair: ColumnPair; from: string; to: string; forward: boolean; reverse: boolean}> {
  const find = (columns: ColumnInfo[], name: string) => columns.find((c) => c.name === name)!
  const width = (type: string) => INTEGER_BYTES[/^(\w+)/.exec(type.toLowerCase())?.[1] ?? '']
  const changed = []
  for (const pair of mapping.pairs) {
    const from = find(before, pair.old).type
    const to = find(after, pair.new).type
    if (from.toLowerCase() === to.toLowerCase()) continue
    const a = width(from)
    const b = width(to)
    const sameSign = /unsigned/i.test(from) === /unsigned/i.test(to)
    if (a !== undefined && b !== undefined && sameSign) {
      if (a !== b) changed.push({pair, from, to, forward: b < a, reverse: a < b})
      continue
    }
    changed.push({pair, from, to, forward: true, reverse: true})
  }
  return changed
}
