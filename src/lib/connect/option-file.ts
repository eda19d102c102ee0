import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {usageError} from '../core/errors.ts'

/** The user's MySQL client option file, the first place a DBA keeps a password. */
export const defaultOptionFilePath = () => join(homedir(), '.my.cnf')

export interface ClientOptions {
  user?: string
  password?: string
}

/**
 * Reads [client] (and [mysql], which the mysql client also honours) from a MySQL option file,
 * with the client's quoting and escape rules. Later groups and later lines win, as in mysql.
 */
export async function readClientOptions(path: string): Promise<ClientOptions> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw usageError('OPTION_FILE_UNREADABLE', `cannot read option file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      hint: 'check the path given with --defaults-file, or create the file with a [client] section',
    })
  }
  return parseClientOptions(text)
}

export function parseClientOptions(text: string): ClientOptions {
  const options: ClientOptions = {}
  let inClientGroup = false
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('!')) continue
    const group = /^\[([^\]]+)\]$/.exec(line)
    if (group) {
      inClientGroup = ['client', 'mysql'].includes(group[1]!.trim().toLowerCase())
      continue
    }
    if (!inClientGroup) continue
    const equalsAt = line.indexOf('=')
    const key = (equalsAt >= 0 ? line.slice(0, equalsAt) : line).trim().toLowerCase().replace(/_/g, '-')
    const value = equalsAt >= 0 ? unquote(line.slice(equalsAt + 1).trim()) : ''
    if (key === 'user') options.user = value
    if (key === 'password') options.password = value
  }
  return options
}

function unquote(value: string): string {
  const quote = value[0]
  if ((quote === '"' || quote === "'") && value.length >= 2) {
    const end = value.lastIndexOf(quote)
    if (end > 0) {
      return value
        .slice(1, end)
        .replace(/\\(.)/g, (_m, c: string) => ({n: '\n', t: '\t', r: '\r', b: '\b', s: ' ', '\\': '\\'})[c] ?? c)
    }
  }
  // An unquoted value ends at an inline comment.
  return value.replace(/\s+#.*$/, '')
}
