import {usageError} from './errors.ts'

/** Levenshtein distance, for "did you mean" suggestions on commands and flags. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** The candidate closest to `input`, or undefined when nothing is near enough to be a likely typo. */
export function closestMatch(input: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const tolerance = Math.max(2, Math.floor(input.length / 3))
  return bestDistance <= tolerance ? best : undefined
}

/** Replaces every occurrence of each secret with `***`, so a driver message that echoes one cannot leak it. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let result = text
  for (const secret of secrets) {
    if (secret && secret.length > 0) result = result.split(secret).join('***')
  }
  return result
}

/**
 * Row counts and sizes in messages: 1,234,567 whatever the locale, so output is stable in CI logs.
 * Not toLocaleString: its first call loads ICU locale data, a tenth of a short audit's run time.
 */
export function formatCount(n: number): string {
  const [whole = '', fraction] = String(Math.round(n * 1000) / 1000).split('.')
  if (/e/i.test(whole)) return whole
  return `${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${fraction ? `.${fraction}` : ''}`
}

/** Sizes for people: 1.5 MiB, 230 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

/** One CSV record (RFC 4180): a cell with a comma, a quote or a line break is quoted. */
export function csvLine(cells: Array<string | number | boolean | null | undefined>): string {
  return cells
    .map((value) => {
      const text = value === null || value === undefined ? '' : String(value)
      return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
    })
    .join(',')
}

/** `500G`, `1.5T`, `2048M`, `1048576` (bytes): sizes as people write them, in powers of 1024. */
export function parseBytes(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGTP]i?B?|B)?$/i.exec(text.trim())
  if (!match) throw usageError('SIZE_INVALID', `${flag} ${text} is not a size`, {hint: 'write it like 500G, 1.5T or 2048M (powers of 1024), or a number of bytes'})
  const power = ' KMGTP'.indexOf((match[2] ?? ' ')[0]!.toUpperCase().replace('B', ' '))
  return Math.round(Number(match[1]) * 1024 ** Math.max(0, power))
}

/**
 * Line N of the text (1-based) without its line break, '' past the end. Only where lines start is
 * kept: a file's lines as strings would be a second copy of a large file.
 */
export function lineReader(text: string): (line: number) => string {
  const starts = [0]
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1)
  return (line) => {
    const start = starts[line - 1]
    if (start === undefined) return ''
    const end = line < starts.length ? starts[line]! - 1 : text.length
    return text.slice(start, text[end - 1] === '\r' && end > start ? end - 1 : end)
  }
}

/** How much of a source line is shown around a position: a dump's one-line INSERT can be megabytes. */
export const SOURCE_WINDOW = 200

/** Marks where a shown line was cut: one UTF-16 code unit, so columns in the window stay simple. */
export const CUT_MARK = '…'

/**
 * At most `width` code units of `line` around the 1-based `column`, with CUT_MARK on each side where
 * the line goes on, and the column of the same character in the result. A surrogate pair is never
 * split, so the window is valid text.
 */
export function sourceWindow(line: string, column: number, width = SOURCE_WINDOW): {text: string; column: number} {
  if (line.length <= width) return {text: line, column}
  const at = Math.min(Math.max(column - 1, 0), line.length)
  let start = Math.max(0, Math.min(at - Math.floor(width / 2), line.length - width))
  let end = Math.min(line.length, start + width)
  if (start > 0 && isLowSurrogate(line.charCodeAt(start))) start++
  if (end < line.length && isLowSurrogate(line.charCodeAt(end))) end--
  const before = start > 0 ? CUT_MARK : ''
  return {text: `${before}${line.slice(start, end)}${end < line.length ? CUT_MARK : ''}`, column: at - start + before.length + 1}
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff

/** A word the shell passes on as it is: bare when nothing in it is special, else single-quoted. */
export const shellWord = (word: string) => (/^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`)

/** A phrase as one shell word, easy to read: double quotes when nothing in it is special inside them, else single quotes. */
export function shellQuote(text: string): string {
  if (!/["`$\\!]/.test(text)) return `"${text}"`
  return `'${text.replaceAll("'", "'\\''")}'`
}

/**
 * JSON text that dbakit wrote itself (an envelope, a manifest): `refuse` makes the error for one
 * that is empty or cut short, which is what a disk or a copy does to such a file.
 */
export function parseWrittenJson(text: string, refuse: (why: string) => Error): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw refuse(text.trim() === '' ? 'it is empty' : 'it is not complete JSON (truncated or edited)')
  }
}

/** `, 85 MiB/s, ETA 2 min` for a progress line; nothing until a rate is known. */
export function formatRate(bytesPerSecond?: number, etaSeconds?: number): string {
  if (bytesPerSecond === undefined) return ''
  const eta = etaSeconds === undefined ? '' : etaSeconds < 90 ? `, ETA ${etaSeconds} s` : `, ETA ${Math.round(etaSeconds / 60)} min`
  return `, ${formatBytes(bytesPerSecond)}/s${eta}`
}
