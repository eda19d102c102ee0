import {usageError} from '../core/errors.ts'

export type Engine = 'mysql' | 'redis' | 'mongodb'

export interface ParsedUrl {
  engine: Engine
  scheme: string
  user?: string
  /** Present only when the URL itself carried one (never from the command line: see assertNoPasswordInUrl). */
  password?: string
  hosts: Array<{host: string; port: number}>
  database?: string
  params: Record<string, string>
  /** The URL as it may be shown and stored: password removed. */
  display: string
}

const SCHEMES: Record<string, {engine: Engine; port: number}> = {
  mysql: {engine: 'mysql', port: 3306},
  mariadb: {engine: 'mysql', port: 3306},
  redis: {engine: 'redis', port: 6379},
  rediss: {engine: 'redis', port: 6379},
  mongodb: {engine: 'mongodb', port: 27017},
  'mongodb+srv': {engine: 'mongodb', port: 27017},
}

const EXAMPLES = 'mysql://user@host:3306/db, redis://user@host:6379/0 or mongodb://user@host:27017/db'

/**
 * Parses the connection URLs dbakit accepts. MongoDB URLs may list several hosts, which WHATWG URL
 * cannot parse, so every scheme goes through the same small hand-written split.
 */
export function parseConnectionUrl(raw: string): ParsedUrl {
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(raw.trim())
  if (!schemeMatch) {
    throw usageError('URL_INVALID', `not a connection URL: ${describe(raw)}`, {hint: `write it as ${EXAMPLES}`})
  }
  const scheme = schemeMatch[1]!.toLowerCase()
  const known = SCHEMES[scheme]
  if (!known) {
    throw usageError('URL_SCHEME', `unsupported scheme "${scheme}://"`, {
      hint: `use one of ${Object.keys(SCHEMES).map((s) => `${s}://`).join(', ')}`,
    })
  }
  let rest = schemeMatch[2]!
  let query = ''
  const queryAt = rest.indexOf('?')
  if (queryAt >= 0) {
    query = rest.slice(queryAt + 1)
    rest = rest.slice(0, queryAt)
  }
  const slashAt = rest.indexOf('/')
  const authority = slashAt >= 0 ? rest.slice(0, slashAt) : rest
  const path = slashAt >= 0 ? rest.slice(slashAt + 1) : ''
  const atAt = authority.lastIndexOf('@')
  const userInfo = atAt >= 0 ? authority.slice(0, atAt) : undefined
  const hostList = atAt >= 0 ? authority.slice(atAt + 1) : authority

  let user: string | undefined
  let password: string | undefined
  if (userInfo !== undefined) {
    const colonAt = userInfo.indexOf(':')
    user = decode(colonAt >= 0 ? userInfo.slice(0, colonAt) : userInfo, 'user name')
    if (colonAt >= 0) password = decode(userInfo.slice(colonAt + 1), 'password')
    if (user === '') user = undefined
  }

  const params: Record<string, string> = {}
  for (const [key, value] of new URLSearchParams(query)) params[key] = value

  const hosts = hostList === '' && params.socket ? [] : hostList.split(',').map((entry) => parseHost(entry, known.port, raw))
  if (hosts.length > 1 && known.engine !== 'mongodb') {
    throw usageError('URL_INVALID', `${scheme}:// takes one host, got ${hosts.length}`, {hint: 'give one profile per server'})
  }
  if (scheme === 'mongodb+srv' && hosts.some((h) => h.port !== known.port && hostList.includes(':'))) {
    throw usageError('URL_INVALID', 'mongodb+srv:// URLs take a host name without a port', {hint: 'drop the :port'})
  }

  const database = path === '' ? undefined : decode(path, 'database name')
  if (known.engine === 'redis' && database !== undefined && !/^\d+$/.test(database)) {
    throw usageError('URL_INVALID', `Redis database must be a number, got "${database}"`, {hint: 'write redis://host:6379/0'})
  }

  const shownUser = userInfo === undefined ? '' : `${userInfo.split(':')[0]}@`
  const display = `${scheme}://${shownUser}${hostList}${path ? `/${path}` : ''}${query ? `?${query}` : ''}`
  return {
    engine: known.engine,
    scheme,
    ...(user === undefined ? {} : {user}),
    ...(password === undefined ? {} : {password}),
    hosts,
    ...(database === undefined ? {} : {database}),
    params,
    display,
  }
}

/**
 * A password typed into --url lands in shell history and in every `ps` listing on the host, so it is
 * refused outright rather than used once and regretted.
 */
export function assertNoPasswordInUrl(parsed: ParsedUrl, flag = '--url'): void {
  if (parsed.password !== undefined) {
    throw usageError('PASSWORD_IN_URL', `${flag} contains a password, which would be visible in the process list and shell history`, {
      hint: `remove it from the URL (${parsed.display}) and pass it with --password-stdin or the DBAKIT_PASSWORD environment variable`,
    })
  }
}

function parseHost(entry: string, defaultPort: number, raw: string): {host: string; port: number} {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/i.exec(entry)
  if (!match) {
    throw usageError('URL_INVALID', `cannot read host "${entry}" in ${describe(raw)}`, {hint: `write it as ${EXAMPLES}`})
  }
  const port = match[2] === undefined ? defaultPort : Number(match[2])
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw usageError('URL_INVALID', `port ${match[2]} is out of range`, {hint: 'use a port between 1 and 65535'})
  }
  return {host: match[1]!.replace(/^\[|\]$/g, ''), port}
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw usageError('URL_INVALID', `the ${what} in the URL has a broken %-escape`, {hint: 'percent-encode reserved characters, e.g. @ as %40'})
  }
}

/** Shows a URL in an error without the password it may hold. */
function describe(raw: string): string {
  return raw.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@')
}
