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
  /**
   * A comment or quote opened in this chunk and never closed: everything after it, to the end of
   * the file, is inside it (what the server would receive, and what an audit must not pass quietly).
   */
  unclosed?: {what: 'comment' | 'string' | 'quoted identifier'; line: number; column: number}
}

/**
 * Under a DELIMITER other than `;`, the mysql client sends a chunk whole and (with its default
 * CLIENT_MULTI_STATEMENTS) the server runs every `;`-separated statement in it. Only a compound
 * statement keeps its `;`s inside: a stored program, or MariaDB's BEGIN NOT ATOMIC, IF, CASE,
 * LOOP, REPEAT, WHILE, FOR and labelled blocks outside one.
 */
const COMPOUND = /^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+?\s+)?(?:SQL\s+SECURITY\s+\w+\s+)?(?:AGGREGATE\s+)?(?:PROCEDURE|FUNCTION|TRIGGER|EVENT|PACKAGE)\b|BEGIN\s+NOT\s+ATOMIC\b|(?:IF|CASE|LOOP|REPEAT|WHILE|FOR)\b|[A-Za-z_$][\w$]*\s*:(?!=))/i

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
    let quoteAt = {line, column}
    let unclosed: SqlChunk['unclosed']
    // Where each `;` ends a statement the server will run, when the delimiter is not `;`.
    const semicolons: Array<{offset: number; line: number; column: number}> = []
    // An executable comment (/*! ... */) is code to the server, but still needs its */.
    let executableAt: {line: number; column: number} | undefined
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
        quoteAt = {line, column}
        advance(i + 1)
      } else if (c === '#' || (c === '-' && text[i + 1] === '-' && /\s/.test(text[i + 2] ?? ' '))) {
        const newline = text.indexOf('\n', i)
        advance(newline === -1 ? text.length : newline)
      } else if (c === '/' && text[i + 1] === '*' && text[i + 2] !== '!') {
        const close = text.indexOf('*/', i + 2)
        if (close === -1) unclosed = {what: 'comment', line, column}
        advance(close === -1 ? text.length : close + 2)
      } else if (c === '/' && text[i + 1] === '*') {
        executableAt = {line, column}
        advance(i + 3)
      } else if (c === '*' && text[i + 1] === '/' && executableAt) {
        executableAt = undefined
        advance(i + 2)
      } else if (text.startsWith(delimiter, i)) {
        end = i
        terminatorLength = delimiter.length
        break
      } else if (c === '\\' && (text[i + 1] === 'g' || text[i + 1] === 'G')) {
        end = i
        terminatorLength = 2
        break
      } else {
        if (c === ';' && delimiter !== ';') {
          advance(i + 1)
          semicolons.push({offset: i, line, column})
          continue
        }
        advance(i + 1)
      }
    }
    if (quote) unclosed = {what: quote === '`' ? 'quoted identifier' : 'string', ...quoteAt}
    else if (executableAt) unclosed = {what: 'comment', ...executableAt}
    const statementEnd = end === -1 ? text.length : end
    if (end !== -1) advance(end + terminatorLength)
    // `DROP PROCEDURE p; CREATE PROCEDURE p() BEGIN ...; END$$` is two statements: split until a
    // compound one begins, which runs to the delimiter.
    const pieces = [{offset: start, line: startLine, column: startColumn}]
    for (const semicolon of semicolons) {
      if (startsCompound(text, pieces[pieces.length - 1]!.offset, statementEnd)) break
      pieces.push(semicolon)
    }
    for (const [index, piece] of pieces.entries()) {
      const pieceEnd = index + 1 < pieces.length ? pieces[index + 1]!.offset - 1 : statementEnd
      // A piece after a `;` starts where its text does, as every other chunk.
      let {offset, line: pieceLine, column: pieceColumn} = piece
      for (; offset < pieceEnd && /\s/.test(text[offset]!); offset++) {
        if (text.charCodeAt(offset) === 10) {
          pieceLine++
          pieceColumn = 1
        } else pieceColumn++
      }
      const body = text.slice(offset, pieceEnd)
      if (body === '') continue
      const last = index === pieces.length - 1
      yield {
        kind: hasCode(body) ? 'statement' : 'comment',
        text: body,
        offset,
        line: pieceLine,
        column: pieceColumn,
        ...(last && unclosed ? {unclosed} : {}),
      }
    }
  }
}

/**
 * Whether the statement at `from` is a compound one. mysqldump writes its triggers inside
 * executable comments (`/*!50003 CREATE*/ /*!50017 DEFINER=...*/ /*!50003 TRIGGER`), so their
 * markers are read as spaces; the head of the statement is enough to tell.
 */
function startsCompound(text: string, from: number, to: number): boolean {
  const start = skipCommentsAndSpace(text, from)
  const head = text.slice(start, Math.min(to, start + 1000)).replace(/\/\*!\d*|\*\//g, ' ').trimStart()
  return COMPOUND.test(head)
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
