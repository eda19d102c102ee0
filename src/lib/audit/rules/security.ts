import {isWord, type Token} from '../../sql/lexer.ts'
import {findTopLevelWord, findWords, functionCalls, splitTopLevel, statementKind} from '../../sql/tokens.ts'
import type {Level, Rule, RuleContext, RuleHit} from '../types.ts'

interface Account {
  user: string
  /** undefined when no host was written (the server then means '%'). */
  host?: string
  /** The host token, or the user token when there is no host. */
  at: Token
  current: boolean
}

const unquoteHost = (text: string) => (/^['"`]/.test(text) ? text.slice(1, -1) : text)

/** Reads `user`, `'user'@'host'`, `user@host`, `'user' @ '%'`, CURRENT_USER[()] or USER() at `index`. */
function readAccount(tokens: Token[], index: number): Account | undefined {
  const first = tokens[index]
  if (!first) return undefined
  if (isWord(first, 'CURRENT_USER') || (isWord(first, 'USER') && tokens[index + 1]?.text === '(')) return {user: 'CURRENT_USER', at: first, current: true}
  if (first.type !== 'string' && first.type !== 'word' && first.type !== 'identifier') return undefined
  const user = first.type === 'word' ? first.text : first.value
  const next = tokens[index + 1]
  if (next?.type !== 'variable' || next.text.startsWith('@@')) return {user, at: first, current: false}
  if (next.text !== '@') return {user, host: unquoteHost(next.text.slice(1)), at: next, current: false}
  // `'user' @ '%'`: the lexer sees a bare @ followed by the host on its own.
  const host = tokens[index + 2]
  if (!host) return undefined
  return {user, host: host.type === 'string' || host.type === 'identifier' ? host.value : host.text, at: host, current: false}
}

const accountText = (account: Account) => (account.current ? 'CURRENT_USER' : `'${account.user}'@'${account.host ?? '%'}'`)

/** Where an account list ends: options after it (REQUIRE, WITH ..., DEFAULT ROLE a, b) are not accounts. */
function accountListEnd(tokens: Token[], from: number): number {
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i]!
    if (isWord(token, 'REQUIRE') || (isWord(token, 'WITH') && !isWord(tokens[i - 1], 'IDENTIFIED')) || (isWord(token, 'DEFAULT') && isWord(tokens[i + 1], 'ROLE'))) return i
  }
  return tokens.length
}

/** The accounts of a list starting at `from`, each with the tokens of its own clause (IDENTIFIED ...). */
function readAccounts(tokens: Token[], from: number): Array<{account: Account; clause: Token[]}> {
  const found: Array<{account: Account; clause: Token[]}> = []
  for (const clause of splitTopLevel(tokens, from, accountListEnd(tokens, from))) {
    const account = readAccount(clause, 0)
    if (account) found.push({account, clause})
  }
  return found
}

/** Accounts a statement creates or grants to: CREATE USER a, b; GRANT ... TO a; RENAME USER x TO a. */
function targetAccounts(tokens: Token[]): Array<{account: Account; clause: Token[]}> {
  const kind = statementKind(tokens)
  if (kind === 'CREATE USER') {
    let i = findWords(tokens, ['USER']) + 1
    if (isWord(tokens[i], 'IF')) i += 3
    return readAccounts(tokens, i)
  }
  if (kind === 'GRANT') {
    const to = findTopLevelWord(tokens, 'TO')
    return to < 0 ? [] : readAccounts(tokens, to + 1)
  }
  if (kind === 'RENAME USER') {
    const renamed: Array<{account: Account; clause: Token[]}> = []
    for (const clause of splitTopLevel(tokens, 2)) {
      const to = clause.findIndex((t) => isWord(t, 'TO'))
      const account = to < 0 ? undefined : readAccount(clause, to + 1)
      if (account) renamed.push({account, clause: clause.slice(to + 1)})
    }
    return renamed
  }
  return []
}

/** The privileges of a GRANT and what they are granted on, when it grants privileges (not roles). */
function grantParts(tokens: Token[]): {privileges: Token[][]; on: number} | undefined {
  if (statementKind(tokens) !== 'GRANT') return undefined
  const on = findTopLevelWord(tokens, 'ON')
  if (on < 0) return undefined
  return {privileges: splitTopLevel(tokens, 1, on), on}
}

const privilegeName = (privilege: Token[]) => privilege.filter((t) => t.type === 'word').map((t) => t.value).join(' ')

/** Index of the `*` of `ON *.*` (with an optional TABLE/FUNCTION/PROCEDURE), or -1. */
function globalLevel(tokens: Token[], on: number): number {
  let i = on + 1
  if (isWord(tokens[i], 'TABLE', 'FUNCTION', 'PROCEDURE')) i++
  return tokens[i]?.text === '*' && tokens[i + 1]?.text === '.' && tokens[i + 2]?.text === '*' ? i : -1
}

const grantAll: Rule = {
  id: 'security-grant-all',
  family: 'security',
  level: 'warning',
  kinds: ['GRANT'],
  summary: 'GRANT ALL [PRIVILEGES] gives far more than an application needs',
  rationale:
    'ALL includes DROP, ALTER, CREATE ROUTINE, TRIGGER, EVENT and LOCK TABLES, so a leaked password or an SQL injection in the application can destroy or backdoor the schema. Least privilege keeps an application account to the statements it actually runs.',
  bad: "GRANT ALL PRIVILEGES ON shop.* TO 'app'@'10.0.%'",
  good: "GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO 'app'@'10.0.%'",
  fix: 'Grant the specific privileges the account needs (e.g. SELECT, INSERT, UPDATE, DELETE).',
  check(context) {
    const tokens = context.statement.tokens
    const grant = grantParts(tokens)
    const all = grant?.privileges.find((p) => isWord(p[0], 'ALL'))
    if (!grant || !all) return []
    const to = findTopLevelWord(tokens, 'TO')
    const object = tokens.slice(grant.on + 1, to < 0 ? tokens.length : to).map((t) => t.text).join('')
    const accounts = targetAccounts(tokens).map((a) => accountText(a.account))
    return [{at: all[0]!, message: `GRANT ALL on ${object || 'an object'}${accounts.length > 0 ? ` to ${accounts.join(', ')}` : ''}`}]
  },
}

/** Privileges that only exist at the global level and only let an account observe or replicate. */
const GLOBAL_ONLY_OBSERVE = new Set(['USAGE', 'PROCESS', 'RELOAD', 'REPLICATION CLIENT', 'REPLICATION SLAVE', 'REPLICATION REPLICA', 'SHOW DATABASES', 'BINLOG MONITOR', 'SLAVE MONITOR', 'REPLICA MONITOR'])
const READ_ONLY = new Set(['SELECT', 'SHOW VIEW'])

const grantGlobal: Rule = {
  id: 'security-grant-global',
  family: 'security',
  level: 'error',
  kinds: ['GRANT'],
  summary: 'Privileges granted ON *.* apply to every database, including mysql',
  rationale:
    'A privilege on *.* covers every current and future schema, including the mysql system schema with accounts and password hashes, so SELECT there reads every secret and write privileges can create accounts. Observe-only privileges that exist only globally (PROCESS, REPLICATION CLIENT, ...) are not reported.',
  bad: "GRANT SELECT, INSERT, UPDATE ON *.* TO 'report'@'10.0.%'",
  good: "GRANT SELECT ON shop.* TO 'report'@'10.0.%'",
  fix: 'Grant on the schema or tables the account works with (ON shop.*), not ON *.*.',
  check(context) {
    const tokens = context.statement.tokens
    const grant = grantParts(tokens)
    const star = grant ? globalLevel(tokens, grant.on) : -1
    if (!grant || star < 0) return []
    const names = grant.privileges.map(privilegeName)
    const notable = names.filter((name) => !GLOBAL_ONLY_OBSERVE.has(name))
    if (notable.length === 0) return []
    const level: Level = notable.every((name) => READ_ONLY.has(name)) ? 'warning' : 'error'
    const accounts = targetAccounts(tokens).map((a) => accountText(a.account))
    return [{at: tokens[star]!, level, message: `${notable.join(', ')} ON *.*${accounts.length > 0 ? ` for ${accounts.join(', ')}` : ''} reaches every database, including the mysql system schema`}]
  },
}

const anyHost: Rule = {
  id: 'security-any-host',
  family: 'security',
  level: 'warning',
  kinds: ['CREATE', 'GRANT', 'RENAME'],
  summary: "Account for the '%' host: it can log in from anywhere",
  rationale:
    "An account at host '%' accepts connections from any address that can reach the port, so a leaked password is usable from anywhere. An account created without a host is the same as '%'. Restricting the host to the application's subnet keeps credentials useless elsewhere.",
  bad: "CREATE USER 'app'@'%' IDENTIFIED BY RANDOM PASSWORD",
  good: "CREATE USER 'app'@'10.0.1.%' IDENTIFIED BY RANDOM PASSWORD",
  fix: "Name the hosts or subnet the account connects from, e.g. 'app'@'10.0.1.%'.",
  check(context) {
    const hits: RuleHit[] = []
    for (const {account} of targetAccounts(context.statement.tokens)) {
      if (account.current || (account.host !== undefined && account.host !== '%')) continue
      const implied = account.host === undefined ? " (no host given, so '%')" : ''
      hits.push({at: account.at, message: `${accountText(account)}${implied} can connect from any host`})
    }
    return hits
  },
}

const grantOption: Rule = {
  id: 'security-grant-option',
  family: 'security',
  level: 'warning',
  kinds: ['GRANT'],
  summary: 'WITH GRANT OPTION lets the account hand its privileges to others',
  rationale:
    'An account with GRANT OPTION can pass any privilege it holds to any other account, so whoever gets its password can create durable access that outlives a password change. It belongs to a handful of administrators, never to application accounts.',
  bad: "GRANT SELECT, INSERT ON shop.* TO 'app'@'10.0.%' WITH GRANT OPTION",
  good: "GRANT SELECT, INSERT ON shop.* TO 'app'@'10.0.%'",
  fix: 'Drop WITH GRANT OPTION; let an administrator account do the granting.',
  check(context) {
    const tokens = context.statement.tokens
    if (statementKind(tokens) !== 'GRANT') return []
    const withGrant = findWords(tokens, ['WITH', 'GRANT', 'OPTION'])
    const asPrivilege = grantParts(tokens)?.privileges.find((p) => privilegeName(p) === 'GRANT OPTION')
    const at = withGrant >= 0 ? tokens[withGrant] : asPrivilege?.[0]
    if (!at) return []
    const accounts = targetAccounts(tokens).map((a) => accountText(a.account))
    return [{at, message: `${accounts.length > 0 ? accounts.join(', ') : 'the grantee'} may grant its privileges to other accounts`}]
  },
}

/** A MySQL 4.1+ password hash ('*' and 40 hex digits) is not the password itself. */
const isPasswordHash = (token: Token) => /^\*[0-9a-f]{40}$/i.test(token.value)

/** How far after a password keyword a string is taken for the password when masking. */
const MASK_REACH = 4

/**
 * The literals every report masks: the clear-text passwords, and any string just after a password
 * keyword. A statement with a mistake in it defeats the exact reading, and it is the one shown in
 * full (with the server's quote of it), so masking errs on the side of hiding.
 */
export function secretLiterals(tokens: Token[]): Token[] {
  const secrets = new Set(plaintextPasswords(tokens).map((found) => found.literal))
  tokens.forEach((token, index) => {
    if (!isWord(token, 'IDENTIFIED', 'PASSWORD', 'MASTER_PASSWORD', 'SOURCE_PASSWORD')) return
    for (const next of tokens.slice(index + 1, index + 1 + MASK_REACH)) if (next.type === 'string') secrets.add(next)
  })
  return [...secrets]
}

/** Passwords written in clear text: the literal, the keyword that introduces it, and the account. */
function plaintextPasswords(tokens: Token[]): Array<{keyword: Token; literal: Token; account?: Account}> {
  const kind = statementKind(tokens)
  const found: Array<{keyword: Token; literal: Token; account?: Account}> = []
  if (kind === 'CREATE USER' || kind === 'ALTER USER' || kind === 'GRANT') {
    const accounts = targetAccounts(tokens)
    const alterAccounts = kind === 'ALTER USER' ? readAccounts(tokens, isWord(tokens[2], 'IF') ? 4 : 2) : []
    for (const {account, clause} of [...accounts, ...alterAccounts]) {
      for (let i = 0; i < clause.length; i++) {
        const token = clause[i]!
        if (!isWord(token, 'IDENTIFIED')) continue
        // IDENTIFIED BY 'pw' | IDENTIFIED WITH plugin BY 'pw' | IDENTIFIED VIA plugin USING PASSWORD('pw')
        const by = clause.findIndex((t, k) => k > i && isWord(t, 'BY', 'USING', 'AS'))
        if (by < 0) continue
        const value = clause[by + 1]
        const viaFunction = isWord(clause[by], 'USING') && isWord(value, 'PASSWORD') && clause[by + 3]?.type === 'string'
        if (isWord(clause[by], 'BY') && value?.type === 'string') found.push({keyword: token, literal: value, account})
        else if (viaFunction) found.push({keyword: token, literal: clause[by + 3]!, account})
      }
    }
  } else if (kind === 'SET' && isWord(tokens[1], 'PASSWORD')) {
    const equals = tokens.findIndex((t) => t.text === '=')
    const value = tokens[equals + 1]
    const account = isWord(tokens[2], 'FOR') ? readAccount(tokens, 3) : undefined
    const inFunction = isWord(value, 'PASSWORD', 'OLD_PASSWORD') && tokens[equals + 3]?.type === 'string'
    const literal = inFunction ? tokens[equals + 3] : value?.type === 'string' && !isPasswordHash(value) ? value : undefined
    if (equals > 0 && literal) found.push({keyword: tokens[1]!, literal, ...(account ? {account} : {})})
  } else if (kind === 'CHANGE') {
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!
      if (isWord(token, 'MASTER_PASSWORD', 'SOURCE_PASSWORD') && tokens[i + 1]?.text === '=' && tokens[i + 2]?.type === 'string') found.push({keyword: token, literal: tokens[i + 2]!})
    }
  }
  return found
}

const plaintextPassword: Rule = {
  id: 'security-plaintext-password',
  family: 'security',
  level: 'error',
  kinds: ['CREATE', 'ALTER', 'GRANT', 'SET', 'CHANGE'],
  secrets: (context) => secretLiterals(context.statement.tokens),
  summary: 'Password written in clear text in the SQL file',
  rationale:
    'A password literal in a migration ends up in version control, code review, CI logs and every copy of the file, where it cannot be rotated away. Accounts should be created with a hash, a random password or an authentication plugin, and secrets supplied at deploy time.',
  bad: "CREATE USER 'app'@'10.0.%' IDENTIFIED BY 'S3cret!'",
  good: "CREATE USER 'app'@'10.0.%' IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'",
  fix: 'Use IDENTIFIED BY PASSWORD / AS \'<hash>\', IDENTIFIED BY RANDOM PASSWORD, or set the password outside the file (e.g. from a secret store at deploy time).',
  check(context) {
    const tokens = context.statement.tokens
    const kind = statementKind(tokens)
    const statement = kind === 'SET' || kind === 'CHANGE' ? `${kind} ${tokens[1]?.value ?? ''}`.trim() : kind
    // The message names the account only: the password itself must never reach a report. The
    // finding points at the keyword before the literal, not at the literal.
    return plaintextPasswords(tokens).map(({keyword, account}) => ({
      at: keyword,
      message: `clear-text password${account ? ` for ${accountText(account)}` : ''} in ${statement}: it stays in the file, version control and logs`,
    }))
  },
}

type Scope = 'session' | 'global' | 'persist' | 'statement'

interface SystemAssignment {
  name: string
  scope: Scope
  value: Token[]
  at: Token
}

const SCOPES: Record<string, Scope> = {GLOBAL: 'global', SESSION: 'session', LOCAL: 'session', PERSIST: 'persist', PERSIST_ONLY: 'persist'}

/**
 * System variables a SET statement assigns, in every spelling: `SET x = 1`, `SET SESSION x = 1`,
 * `SET @@session.x = 1`, `SET @@x = 1`, `SET GLOBAL x = 1` and MariaDB's `SET STATEMENT x = 1 FOR ...`.
 * User variables (@x) are not system variables and are skipped.
 */
function systemAssignments(tokens: Token[]): SystemAssignment[] {
  if (!isWord(tokens[0], 'SET')) return []
  const forStatement = isWord(tokens[1], 'STATEMENT')
  const from = forStatement ? 2 : 1
  const end = forStatement ? findTopLevelWord(tokens, 'FOR', 2) : tokens.length
  if (end < 0) return []
  const found: SystemAssignment[] = []
  for (const part of splitTopLevel(tokens, from, end)) {
    let k = 0
    let scope: Scope = forStatement ? 'statement' : 'session'
    const scopeWord = part[0]?.type === 'word' ? SCOPES[part[0].value] : undefined
    if (scopeWord && part.length > 1) {
      scope = scopeWord
      k = 1
    }
    const target = part[k]
    let name: string
    if (target?.type === 'variable') {
      if (!target.text.startsWith('@@')) continue
      const [prefix, ...rest] = target.text.slice(2).split('.')
      const prefixScope = rest.length > 0 ? SCOPES[prefix!.toUpperCase()] : undefined
      if (prefixScope) scope = prefixScope
      name = prefixScope ? rest.join('.') : target.text.slice(2)
    } else if (target?.type === 'word' || target?.type === 'identifier') name = target.type === 'word' ? target.text : target.value
    else continue
    if (part[k + 1]?.text !== '=' && part[k + 1]?.text !== ':=') continue
    found.push({name: name.toLowerCase(), scope: forStatement ? 'statement' : scope, value: part.slice(k + 2), at: target})
  }
  return found
}

/** 0, OFF, FALSE, '0', 'OFF' */
function isOff(value: Token[]): boolean {
  if (value.length !== 1) return false
  const token = value[0]!
  if (token.type === 'number') return Number(token.text) === 0
  if (token.type === 'word') return token.value === 'OFF' || token.value === 'FALSE'
  if (token.type === 'string') return ['0', 'off', 'false'].includes(token.value.trim().toLowerCase())
  return false
}

const scopeText = (scope: Scope) =>
  scope === 'global' ? 'for the whole server (every new connection)' : scope === 'persist' ? 'for the whole server, across restarts' : scope === 'statement' ? 'for that statement' : 'for the rest of the session'

/** A rule that fires when a SET turns the variable off. */
function offSwitchRule(spec: Omit<Rule, 'family' | 'check'> & {variable: string; effect: string}): Rule {
  const {variable, effect, ...meta} = spec
  return {
    ...meta,
    family: 'security',
    kinds: ['SET'],
    check(context: RuleContext) {
      return systemAssignments(context.statement.tokens)
        .filter((a) => a.name === variable && isOff(a.value))
        .map((a) => ({at: a.at, message: `${variable} = ${a.value[0]!.text} ${scopeText(a.scope)}: ${effect}`}))
    },
  }
}

const sqlLogBinOff = offSwitchRule({
  id: 'security-sql-log-bin-off',
  variable: 'sql_log_bin',
  effect: 'the changes are not written to the binary log, so replicas and point-in-time recovery never see them',
  level: 'error',
  summary: 'SET sql_log_bin = 0 hides changes from the binary log and replicas',
  rationale:
    'With sql_log_bin off, the session\u2019s changes are applied on this server only: replicas silently diverge, point-in-time recovery from binlogs loses them, and audit tooling that reads the binlog never sees them. It is occasionally right for a DBA at a console, almost never in a reviewed script.',
  bad: 'SET SESSION sql_log_bin = 0',
  good: 'SET SESSION sql_log_bin = 1',
  fix: 'Remove the switch and let the change replicate; if it must not, run it by hand on each server and record why.',
})

const foreignKeyChecksOff = offSwitchRule({
  id: 'security-foreign-key-checks-off',
  variable: 'foreign_key_checks',
  effect: 'rows can be written that point at nothing, and nothing re-checks them when the switch is turned back on',
  level: 'warning',
  summary: 'SET foreign_key_checks = 0 lets orphaned rows in',
  rationale:
    'With foreign_key_checks off, inserts and updates are not checked against their parent tables and ON DELETE/UPDATE actions do not run. Turning the checks back on does not validate what was written in between, so the orphans stay until a query trips over them.',
  bad: 'SET foreign_key_checks = 0',
  good: 'SET foreign_key_checks = 1',
  fix: 'Load parents before children instead; if the checks must be off, keep it to the statements that need it and verify the references afterwards.',
})

const uniqueChecksOff = offSwitchRule({
  id: 'security-unique-checks-off',
  variable: 'unique_checks',
  effect: 'duplicate values in secondary unique indexes may go undetected',
  level: 'warning',
  summary: 'SET unique_checks = 0 can let duplicates into unique indexes',
  rationale:
    'unique_checks = 0 lets InnoDB skip uniqueness checks for secondary indexes when it can buffer the change, which speeds bulk loads only if the data is known to be unique. If it is not, the table ends up with duplicate keys that a unique index claims cannot exist.',
  bad: 'SET @@session.unique_checks = 0',
  good: 'SET @@session.unique_checks = 1',
  fix: 'Leave unique_checks on unless loading data already known to be unique, and turn it back on right after.',
})

/** Why a sql_mode value is unsafe: empty, without strict mode, or stripping strict mode from the current one. */
function weakSqlMode(value: Token[]): string | undefined {
  if (value.length === 1 && value[0]!.type === 'string') {
    const modes = value[0]!.value.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean)
    if (modes.length === 0) return 'an empty sql_mode turns off strict mode and every other safety check'
    if (!modes.some((m) => m === 'STRICT_TRANS_TABLES' || m === 'STRICT_ALL_TABLES' || m === 'TRADITIONAL')) return 'without STRICT_TRANS_TABLES invalid or oversized values are truncated with a warning instead of rejected'
    return undefined
  }
  const replaces = value.some((t) => isWord(t, 'REPLACE'))
  if (replaces && value.some((t) => t.type === 'string' && /STRICT_(TRANS|ALL)_TABLES/i.test(t.value))) return 'it removes strict mode, so invalid or oversized values are truncated with a warning instead of rejected'
  return undefined
}

const sqlModeNotStrict: Rule = {
  id: 'security-sql-mode-not-strict',
  family: 'security',
  level: 'warning',
  kinds: ['SET'],
  summary: "SET sql_mode = '' or a mode without STRICT_TRANS_TABLES",
  rationale:
    'Without strict mode the server accepts bad data with only a warning: strings are truncated, invalid dates become 0000-00-00 and out-of-range numbers are clipped. Scripts that clear sql_mode usually do it to silence an error that was pointing at a real problem.',
  bad: "SET SESSION sql_mode = ''",
  good: "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
  fix: 'Keep STRICT_TRANS_TABLES in sql_mode and fix the data or statement the server rejected.',
  check(context) {
    const hits: RuleHit[] = []
    for (const assignment of systemAssignments(context.statement.tokens)) {
      if (assignment.name !== 'sql_mode') continue
      const weakness = weakSqlMode(assignment.value)
      if (weakness) hits.push({at: assignment.at, message: `sql_mode set ${scopeText(assignment.scope)}: ${weakness}`})
    }
    return hits
  },
}

const intoOutfile: Rule = {
  id: 'security-into-outfile',
  family: 'security',
  level: 'warning',
  summary: 'SELECT ... INTO OUTFILE / DUMPFILE writes a file on the database server',
  rationale:
    'INTO OUTFILE and INTO DUMPFILE write query results to the server host\u2019s filesystem with the server\u2019s own permissions, which needs the FILE privilege and is a classic data-exfiltration and web-shell vector. The file also outlives the script, readable by whoever can read that directory.',
  bad: "SELECT id, email FROM users INTO OUTFILE '/tmp/users.csv'",
  good: 'SELECT id, email FROM users WHERE id BETWEEN 1 AND 1000',
  fix: 'Export from the client side (mysql --batch, mysqldump, dbakit) instead of writing files on the server.',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i + 1 < tokens.length; i++) {
      if (!isWord(tokens[i], 'INTO') || !isWord(tokens[i + 1], 'OUTFILE', 'DUMPFILE')) continue
      const path = tokens[i + 2]?.type === 'string' ? ` ${tokens[i + 2]!.text}` : ''
      hits.push({at: tokens[i + 1]!, message: `INTO ${tokens[i + 1]!.value}${path} writes query results to a file on the database server`})
    }
    return hits
  },
}

const dropUser: Rule = {
  id: 'security-drop-user',
  family: 'security',
  level: 'notice',
  kinds: ['DROP'],
  summary: 'DROP USER removes an account',
  rationale:
    'Dropping an account cuts off every application and job using it at once, and objects it defines (views, routines, events with DEFINER) stop working. It deserves a check that nothing still connects with it.',
  bad: "DROP USER 'legacy'@'10.0.%'",
  good: "ALTER USER 'legacy'@'10.0.%' ACCOUNT LOCK",
  fix: 'Lock the account first (ALTER USER ... ACCOUNT LOCK), watch for failed logins, then drop it.',
  check(context) {
    const tokens = context.statement.tokens
    if (statementKind(tokens) !== 'DROP USER') return []
    const accounts = readAccounts(tokens, isWord(tokens[2], 'IF') ? 4 : 2).map((a) => accountText(a.account))
    if (accounts.length === 0) return []
    return [{at: tokens[0]!, message: `DROP USER ${accounts.join(', ')}: anything still connecting with ${accounts.length > 1 ? 'these accounts' : 'it'} fails`}]
  },
}

const userWithoutSsl: Rule = {
  id: 'security-user-without-ssl',
  family: 'security',
  level: 'notice',
  kinds: ['CREATE'],
  summary: "CREATE USER for the '%' host without REQUIRE SSL",
  rationale:
    "An account that can connect from any host may do so in clear text, exposing its password exchange and all query traffic on the network. REQUIRE SSL (or X509) makes the server refuse unencrypted connections for it, unless require_secure_transport already does so server-wide.",
  bad: "CREATE USER 'app'@'%' IDENTIFIED BY RANDOM PASSWORD",
  good: "CREATE USER 'app'@'%' IDENTIFIED BY RANDOM PASSWORD REQUIRE SSL",
  fix: "Add REQUIRE SSL (or REQUIRE X509) to the CREATE USER, or restrict the host.",
  check(context) {
    const tokens = context.statement.tokens
    if (statementKind(tokens) !== 'CREATE USER') return []
    const require = findTopLevelWord(tokens, 'REQUIRE')
    if (require >= 0 && isWord(tokens[require + 1], 'SSL', 'X509', 'ISSUER', 'SUBJECT', 'CIPHER')) return []
    return targetAccounts(tokens)
      .filter(({account}) => !account.current && (account.host === undefined || account.host === '%'))
      .map(({account}) => ({at: account.at, message: `${accountText(account)} can connect from any host without TLS`}))
  },
}

/** What each stalling function does to a server, for the message. */
const STALLING: Record<string, string> = {
  SLEEP: 'holds the connection, and any lock the statement took, for the time given',
  BENCHMARK: 'runs an expression up to millions of times, burning a core',
  GET_LOCK: 'waits on a named lock that another session may hold for as long as it likes',
}

const STALLING_NAMES = new Set(Object.keys(STALLING))

const stallingFunction: Rule = {
  id: 'security-stalling-function',
  family: 'security',
  level: 'warning',
  summary: 'SLEEP(), BENCHMARK() or GET_LOCK() in a statement',
  rationale:
    'SLEEP() and BENCHMARK() in application or migration SQL are the signature of time-based SQL injection, and in a statement that took locks they hold them while the server waits or burns CPU. GET_LOCK() waits on an advisory lock that any session can hold indefinitely; inside a migration it can stall the deploy with no timeout the DBA set.',
  bad: "SELECT id FROM users WHERE email = 'a@b.c' AND SLEEP(5) = 0",
  good: "SELECT id FROM users WHERE email = 'a@b.c'",
  fix: 'Remove the call; wait in the application or the deploy tool, and take advisory locks there with a short timeout.',
  check(context) {
    return functionCalls(context.statement.tokens, STALLING_NAMES).map((at) => ({at, message: `${at.value}() ${STALLING[at.value]}`}))
  },
}

export const rules: Rule[] = [
  stallingFunction,
  grantAll,
  grantGlobal,
  anyHost,
  grantOption,
  plaintextPassword,
  sqlLogBinOff,
  foreignKeyChecksOff,
  uniqueChecksOff,
  sqlModeNotStrict,
  intoOutfile,
  dropUser,
  userWithoutSsl,
]
