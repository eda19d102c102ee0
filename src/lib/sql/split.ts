/**
 * Splits a file into statements the way the mysql command-line client does: DELIMITER changes the
 * terminator, \g and \G also end a statement, and nothing inside a string, a quoted identifier or
 * a comment ends one. Each chunk keeps its offset, line and column in the file.
 */
export interface SqlChunk {
  /** 'comment': only comments, e.g. after the last statement (they may hold a trailing suppression). */
  kind: 'statement' | 'directive' | 'comment'
  /** Statement text without its terminator; leading comments included (they may hold suppressions). */
  text: string
  offset: number
  line: number
  column: number
  /** For directives: DELIMITER, SOURCE, ... and its argument. */
  directive?: {name: string; argument: string}
}

const DIRECTIVE = /^(delimiter|\\d)[ \t]+(\S+)|^(source|\\\.)[ \t]+(\S.*)$/i

export function* splitSql(text: string): Generator<SqlChunk> {
  let delimiter = ';'
  let i = 0
  let line = 1
  let column = 1
  const advance = (to: number) => {
    for (; i < to; i++) {
      if (text.charCodeAt(i) === 10) {
        line++
        column = 1
      } else column++
    }
  }
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) advance(i + 1)
    if (i >= text.length) break
    const start = i
    const startLine = line
    const startColumn = column
    // Comments before a client directive end the previous statement's line; they are yielded on
    // their own so that a trailing suppression still reaches that statement.
    const lookahead = skipCommentsAndSpace(text, i)
    const lineEnd = text.indexOf('\n', lookahead)
    const firstLine = text.slice(lookahead, lineEnd === -1 ? text.length : lineEnd)
    const directive = DIRECTIVE.exec(firstLine.trimEnd())
    if (directive) {
      if (lookahead > start) {
        yield {kind: 'comment', text: text.slice(start, lookahead), offset: start, line: startLine, column: startColumn}
        advance(lookahead)
      }
      const name = (directive[1] ?? directive[3] ?? '').toLowerCase()
      const argument = (directive[2] ?? directive[4] ?? '').trim()
      const at = {offset: i, line, column}
      advance(lineEnd === -1 ? text.length : lineEnd + 1)
      if (name === 'delimiter' || name === '\\d') delimiter = argument
      yield {kind: 'directive', text: firstLine.trimEnd(), ...at, directive: {name: name === '\\d' ? 'delimiter' : name === '\\.' ? 'source' : name, argument}}
      continue
    }
    let end = -1
    let terminatorLength = 0
    let quote = ''
    while (i < text.length) {
      const c = text[i]!
      if (quote) {
        if (c === '\\' && quote !== '`') {
          advance(i + 2)
          continue
        }
        if (c === quote) {
          // A doubled quote is an escaped quote, not the end of the string.
          if (text[i + 1] === quote) {
            advance(i + 2)
            continue
          }
          quote = ''
        }
        advance(i + 1)
        continue
      }
      if (c === "'" || c === '"' || c === '`') {
        quote = c
        advance(i + 1)
      } else if (c === '#' || (c === '-' && text[i + 1] === '-' && /\s/.test(text[i + 2] ?? ' '))) {
        const newline = text.indexOf('\n', i)
        advance(newline === -1 ? text.length : newline)
      } else if (c === '/' && text[i + 1] === '*' && text[i + 2] !== '!') {
        const close = text.indexOf('*/', i + 2)
        advance(close === -1 ? text.length : close + 2)
      } else if (text.startsWith(delimiter, i)) {
        end = i
        terminatorLength = delimiter.length
        break
      } else if (c === '\\' && (text[i + 1] === 'g' || text[i + 1] === 'G')) {
        end = i
        terminatorLength = 2
        break
      } else advance(i + 1)
    }
    const statementEnd = end === -1 ? text.length : end
    const body = text.slice(start, statementEnd)
    if (end !== -1) advance(end + terminatorLength)
    if (body.trim() !== '') yield {kind: hasCode(body) ? 'statement' : 'comment', text: body, offset: start, line: startLine, column: startColumn}
  }
}

/** Index of the first character that is neither white space nor inside a (non-executable) comment. */
function skipCommentsAndSpace(text: string, from: number): number {
  let i = from
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++
    if (text[i] === '#' || (text.startsWith('--', i) && /\s/.test(text[i + 2] ?? ' '))) {
      const newline = text.indexOf('\n', i)
      i = newline === -1 ? text.length : newline
    } else if (text.startsWith('/*', i) && text[i + 2] !== '!') {
      const close = text.indexOf('*/', i + 2)
      i = close === -1 ? text.length : close + 2
    } else return i
  }
}

/** False for chunks that hold only whitespace and comments (e.g. the tail of a file). */
function hasCode(text: string): boolean {
  return text.replace(/\/\*(?!!)[\s\S]*?\*\/|(?:--\s|#)[^\n]*/g, '').trim() !== ''
}
