/**
 * A MySQL/MariaDB lexer that knows exactly what the server treats as a comment, a string or an
 * identifier, so that rules never fire on a keyword inside a comment or a string literal. Tokens
 * keep their 1-based line and column in the source file.
 */
export type TokenType =
  | 'word' // keyword or bare identifier
  | 'identifier' // `quoted`
  | 'string' // 'text' or "text" (MySQL default sql_mode), including N'..', _utf8mb4'..', X'..', B'..'
  | 'number'
  | 'variable' // @user_var, @@system_var
  | 'placeholder' // ?
  | 'operator' // = <> != <= >= := || && + - * / % ! ~ ^ | & < > << >> ->> ->
  | 'punctuation' // ( ) , . ;
  | 'comment' // -- x, # x, /* x */ (not /*! */: that is executable and lexed as code)

export interface Token {
  type: TokenType
  text: string
  /** Upper-cased text for words, unquoted content for identifiers; the text otherwise. */
  value: string
  start: number
  end: number
  line: number
  column: number
}

const OPERATORS = ['<=>', '->>', '<<', '>>', '<=', '>=', '<>', '!=', ':=', '||', '&&', '->', '=', '<', '>', '+', '-', '*', '/', '%', '!', '~', '^', '|', '&']
const isWordStart = (c: string) => /[A-Za-z_$\u0080-\uFFFF]/.test(c)
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uFFFF]/.test(c)
const isDigit = (c: string) => c >= '0' && c <= '9'

export interface LexOptions {
  /** Where `text` starts in its file, so positions are file positions. */
  line?: number
  column?: number
  offset?: number
  /** sql_mode ANSI_QUOTES: "x" is an identifier. */
  ansiQuotes?: boolean
}

/** White space is skipped, not returned: nothing reads it, and it is half of all tokens. */
export function tokenize(text: string, options: LexOptions = {}): Token[] {
  const tokens: Token[] = []
  let line = options.line ?? 1
  let column = options.column ?? 1
  const base = options.offset ?? 0
  let i = 0
  const push = (type: TokenType | 'whitespace', end: number, value?: string) => {
    if (type !== 'whitespace') {
      const slice = text.slice(i, end)
      tokens.push({type, text: slice, value: value ?? (type === 'word' ? slice.toUpperCase() : slice), start: base + i, end: base + end, line, column})
    }
    for (let k = i; k < end; k++) {
      if (text.charCodeAt(k) === 10) {
        line++
        column = 1
      } else column++
    }
    i = end
  }
  const quoted = (quote: string): number => {
    let j = i + 1
    while (j < text.length) {
      const c = text[j]
      if (c === '\\' && quote !== '`') j += 2
      else if (c === quote) {
        if (text[j + 1] === quote) j += 2
        else return j + 1
      } else j++
    }
    return text.length
  }
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1] ?? ''
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      let j = i + 1
      while (j < text.length && /\s/.test(text[j]!)) j++
      push('whitespace', j)
    } else if (c === '#' || (c === '-' && next === '-' && (text[i + 2] === undefined || /[\s]/.test(text[i + 2]!)))) {
      const newline = text.indexOf('\n', i)
      push('comment', newline === -1 ? text.length : newline)
    } else if (c === '/' && next === '*' && text[i + 2] !== '!' && !(text[i + 2] === 'M' && text[i + 3] === '!')) {
      const close = text.indexOf('*/', i + 2)
      push('comment', close === -1 ? text.length : close + 2)
    } else if (c === '/' && next === '*') {
      // Executable comment /*!50700 ... */ or MariaDB /*M!100500 ... */: the server runs its content,
      // so its opening and closing marks are whitespace and the content is lexed as code.
      let j = i + (text[i + 2] === 'M' ? 4 : 3)
      while (isDigit(text[j] ?? '')) j++
      push('whitespace', j)
    } else if (c === '*' && next === '/') {
      push('whitespace', i + 2)
    } else if (c === "'" || (c === '"' && !options.ansiQuotes)) {
      const end = quoted(c)
      push('string', end, unquote(text.slice(i, end), c))
    } else if (c === '`' || (c === '"' && options.ansiQuotes)) {
      const end = quoted(c)
      push('identifier', end, unquote(text.slice(i, end), c))
    } else if ((c === 'N' || c === 'n' || c === 'X' || c === 'x' || c === 'B' || c === 'b') && next === "'") {
      const start = i
      i++
      const end = quoted("'")
      i = start
      push('string', end, unquote(text.slice(start + 1, end), "'"))
    } else if (c === '_' && /^_[a-z0-9]+'/i.test(text.slice(i, i + 20))) {
      const quoteAt = text.indexOf("'", i)
      const start = i
      i = quoteAt
      const end = quoted("'")
      i = start
      push('string', end, unquote(text.slice(quoteAt, end), "'"))
    } else if (isDigit(c) || (c === '.' && isDigit(next))) {
      let j = i
      if (c === '0' && (next === 'x' || next === 'b') && /[0-9a-f]/i.test(text[i + 2] ?? '')) {
        j = i + 2
        while (/[0-9a-f]/i.test(text[j] ?? '')) j++
      } else {
        while (isDigit(text[j] ?? '')) j++
        if (text[j] === '.') {
          j++
          while (isDigit(text[j] ?? '')) j++
        }
        if ((text[j] === 'e' || text[j] === 'E') && /[-+0-9]/.test(text[j + 1] ?? '')) {
          j += 2
          while (isDigit(text[j] ?? '')) j++
        }
      }
      // 1abc is an identifier in MySQL, not a number followed by a word.
      if (isWordPart(text[j] ?? '') && !(text[j] === '.' )) {
        while (isWordPart(text[j] ?? '')) j++
        push('word', j)
      } else push('number', j)
    } else if (isWordStart(c)) {
      let j = i + 1
      while (j < text.length && isWordPart(text[j]!)) j++
      push('word', j)
    } else if (c === '@') {
      let j = i + 1
      if (text[j] === '@') j++
      if (text[j] === '`' || text[j] === "'" || text[j] === '"') {
        const start = i
        i = j
        const end = quoted(text[j]!)
        i = start
        push('variable', end)
      } else {
        while (j < text.length && /[A-Za-z0-9_$.]/.test(text[j]!)) j++
        push('variable', j)
      }
    } else if (c === '?') {
      push('placeholder', i + 1)
    } else if ('(),.;'.includes(c)) {
      push('punctuation', i + 1)
    } else {
      const operator = OPERATORS.find((op) => text.startsWith(op, i))
      push('operator', i + (operator?.length ?? 1))
    }
  }
  return tokens
}

function unquote(text: string, quote: string): string {
  const inner = text.endsWith(quote) && text.length >= 2 ? text.slice(1, -1) : text.slice(1)
  const doubled = inner.split(quote + quote).join(quote)
  return quote === '`' ? doubled : doubled.replace(/\\(.)/g, (_m, ch: string) => ({n: '\n', t: '\t', r: '\r', '0': '\0', Z: '\x1a'})[ch] ?? ch)
}

/** Tokens that carry meaning: no comments. */
export const significant = (tokens: Token[]) => tokens.filter((t) => t.type !== 'comment')

/** True when the token is the given keyword (case-insensitive). */
export const isWord = (token: Token | undefined, ...words: string[]) => token?.type === 'word' && words.includes(token.value)
