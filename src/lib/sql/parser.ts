import {createRequire} from 'node:module'

/**
 * Facade over node-sql-parser. Only the grammar of the target flavor is loaded (the package's
 * default entry loads every dialect and costs ~350 ms). The parser rejects a good share of valid
 * MySQL/MariaDB, so a failure here is never by itself the user's syntax error: callers fall back to
 * token rules and ask the server when one is available.
 */
export type SqlFlavor = 'mysql' | 'mariadb'

/** Whether node-sql-parser accepts a statement; the AST itself is not kept (rules work on tokens). */
export type ParseVerdict = {ok: true} | {ok: false; message: string; line?: number; column?: number}

interface ParserInstance {
  astify(sql: string, options: {database: string}): unknown
}

const require = createRequire(import.meta.url)
const parsers = new Map<SqlFlavor, ParserInstance>()

function parserFor(flavor: SqlFlavor): ParserInstance {
  let parser = parsers.get(flavor)
  if (!parser) {
    const {Parser} = require(`node-sql-parser/build/${flavor}`) as {Parser: new () => ParserInstance}
    parser = new Parser()
    parsers.set(flavor, parser)
  }
  return parser
}

/** Parses one statement. MariaDB text the MariaDB grammar rejects is retried with the MySQL one. */
export function parseStatement(sql: string, flavor: SqlFlavor): ParseVerdict {
  const first = attempt(sql, flavor)
  if (first.ok || flavor === 'mysql') return first
  const second = attempt(sql, 'mysql')
  return second.ok ? second : first
}

function attempt(sql: string, flavor: SqlFlavor): ParseVerdict {
  try {
    parserFor(flavor).astify(sql, {database: flavor === 'mariadb' ? 'mariadb' : 'mysql'})
    return {ok: true}
  } catch (error) {
    const location = (error as {location?: {start?: {line: number; column: number}}}).location?.start
    return {ok: false, message: (error as Error).message, ...(location ? {line: location.line, column: location.column} : {})}
  }
}
