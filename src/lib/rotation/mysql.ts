import {createHash} from 'node:crypto'
import {environmentError, isDbakitError, usageError} from '../core/errors.ts'
import {closestMatch} from '../core/text.ts'
import {compareVersions} from '../connect/capabilities.ts'
import {errnoOf, openMysql, permissionFailure, type MysqlSession} from '../connect/drivers/mysql.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {addressOf, nodeTarget, selfRotation, targetAs, type AccountAdapter, type AccountRequest, type CredentialStep, type NodeCheck, type Passwords, type StraggleSession} from './account.ts'
import type {RotationNode} from './journal.ts'

/** One way an account may log in: MariaDB keeps several, joined with OR. */
export interface AuthAlternative {
  plugin: string
  /** The stored hash (`*` and 40 hex digits for mysql_native_password), never a password. */
  auth: string
}

/** MySQL 8's single stored credential, as hex so that caching_sha2's binary string survives JSON. */
export interface Mysql8Credential {
  plugin: string
  authHex: string
}

const NATIVE = 'mysql_native_password'
const ALTER_LOCK_WAIT_SECONDS = 10
const MYSQL8_PLUGINS = new Set(['caching_sha2_password', NATIVE, 'sha256_password'])

/** mysql_native_password's stored form: `*` and SHA1(SHA1(password)) in upper-case hex. */
export function nativeHash(password: string): string {
  const inner = createHash('sha1').update(password, 'utf8').digest()
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`
}

/**
 * The ways in from mysql.global_priv's JSON: the main plugin, then `auth_or`, whose `{}` entry
 * stands for the main one (MariaDB stores `VIA a OR b` as main a and auth_or [{}, b]).
 */
export function authAlternatives(priv: string): AuthAlternative[] {
  const parsed = JSON.parse(priv) as {plugin?: string; authentication_string?: string; auth_or?: Array<{plugin?: string; authentication_string?: string}>}
  const main = {plugin: parsed.plugin ?? NATIVE, auth: parsed.authentication_string ?? ''}
  if (!parsed.auth_or) return [main]
  return parsed.auth_or.map((entry) => (entry.plugin === undefined ? main : {plugin: entry.plugin, auth: entry.authentication_string ?? ''}))
}

/** `IDENTIFIED VIA a USING 'x' OR b USING 'y'` with hashes only: no password crosses the wire or reaches the binlog. */
export function mariadbIdentifiedVia(alternatives: AuthAlternative[]): string {
  const unique = alternatives.filter((alternative, index) => alternatives.findIndex((other) => other.plugin === alternative.plugin && other.auth === alternative.auth) === index)
  return `IDENTIFIED VIA ${unique.map(({plugin, auth}) => `${plugin} USING '${auth.replaceAll("'", "''")}'`).join(' OR ')}`
}

/** MariaDB's alternatives after a step: the old ones and the new hash, the new alone, or the old alone. */
export function mariadbAlternativesAfter(step: CredentialStep, previous: AuthAlternative[], newPassword: string): AuthAlternative[] {
  const fresh = {plugin: NATIVE, auth: nativeHash(newPassword)}
  if (step === 'drop-old') return [fresh]
  if (step === 'drop-new') return previous
  return [...previous.filter((alternative) => alternative.auth !== fresh.auth), fresh]
}

/**
 * MySQL 8's statements for a step (dual passwords, 8.0.14+); values fill the `?`s. add-old without
 * the old password puts its stored hash back as the only one: MySQL cannot RETAIN a hash.
 */
export function mysql8Statement(step: CredentialStep, user: string, host: string, previous: Mysql8Credential, passwords: Pick<Passwords, 'oldPassword' | 'newPassword'>): {sql: string; values: unknown[]} {
  const account = [user, host]
  switch (step) {
    case 'add-new':
      return {sql: 'ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD', values: [...account, passwords.newPassword]}
    case 'drop-old':
    case 'drop-new':
      return {sql: 'ALTER USER ?@? DISCARD OLD PASSWORD', values: account}
    case 'add-old':
      if (passwords.oldPassword !== undefined) return {sql: 'ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD', values: [...account, passwords.oldPassword]}
      if (!/^[0-9A-F]*$/i.test(previous.authHex) || !MYSQL8_PLUGINS.has(previous.plugin)) throw new Error('the stored credential is not hex of a password plugin')
      return {sql: `ALTER USER ?@? IDENTIFIED WITH ${previous.plugin} AS 0x${previous.authHex}`, values: account}
  }
}

/** A SHOW GRANTS line without its credentials (MariaDB puts `IDENTIFIED BY PASSWORD '*…'` or `VIA …` in the USAGE line). */
export function grantWithoutCredentials(line: string): string {
  return line.replace(/ IDENTIFIED (?:BY PASSWORD '[^']*'|VIA .*?)(?= WITH |$)/, '')
}

interface Node {
  info: RotationNode
  session: MysqlSession
  target: ConnectionTarget
}

/** MariaDB 10.4+ (OR-joined mysql_native_password entries) and MySQL 8.0.14+ (RETAIN CURRENT PASSWORD). */
export class MysqlAccount implements AccountAdapter {
  readonly engine: 'mariadb' | 'mysql'
  readonly account: string
  readonly warnings: string[] = []
  private readonly nodeList: Node[]
  private readonly user: string
  private readonly host: string
  private readonly replicaTimeoutMs: number

  private constructor(engine: 'mariadb' | 'mysql', user: string, host: string, nodes: Node[], replicaTimeoutMs: number) {
    this.engine = engine
    this.user = user
    this.host = host
    this.account = `${user}@${host}`
    this.nodeList = nodes
    this.replicaTimeoutMs = replicaTimeoutMs
  }

  get nodes(): RotationNode[] {
    return this.nodeList.map((node) => node.info)
  }

  private get primary(): Node {
    return this.nodeList[0]!
  }

  static async open(request: AccountRequest): Promise<MysqlAccount> {
    const session = await openMysql(request.target)
    const opened: Node[] = [{info: {address: addressOf(request.target), role: 'primary', foundBy: 'target'}, session, target: request.target}]
    try {
      const {identity} = session
      const engine = identity.flavor === 'mariadb' ? 'mariadb' : 'mysql'
      if (engine === 'mariadb' ? compareVersions(identity.version, '10.4') < 0 : compareVersions(identity.version, '8.0.14') < 0) {
        throw usageError('ROTATION_UNSUPPORTED_VERSION', `${request.target.label} runs ${engine === 'mariadb' ? 'MariaDB' : 'MySQL'} ${identity.version}, which cannot accept two passwords for one account`, {
          hint: engine === 'mariadb' ? 'MariaDB 10.4 added OR-joined authentication; upgrade, or rotate by hand in a maintenance window' : 'MySQL 8.0.14 added RETAIN CURRENT PASSWORD; upgrade, or rotate by hand in a maintenance window',
        })
      }
      await refuseReplica(session, request.target)
      // ALTER USER waits for the grant tables' metadata lock; MariaDB's default wait is a day.
      await session.query(`SET SESSION lock_wait_timeout = ${ALTER_LOCK_WAIT_SECONDS}`)
      const host = await findAccount(session, request.user, request.host, request.target)
      const [self] = await session.query<{account: string}>('SELECT CURRENT_USER() AS account')
      if (self?.account === `${request.user}@${host}`) throw selfRotation(`${request.user}@${host}`)
      await requireCreateUser(session)
      const account = new MysqlAccount(engine, request.user, host, opened, request.replicaTimeoutMs)
      const nodes = request.nodes?.filter((node) => node.role === 'replica') ?? (await discoverReplicas(session, request, account.warnings))
      for (const node of nodes) {
        const target = await nodeTarget(request, node)
        opened.push({info: node, session: await openMysql(target), target})
      }
      if (!request.nodes) await account.refuseDivergedReplicas()
      return account
    } catch (error) {
      await Promise.all(opened.map((node) => node.session.close()))
      throw error
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodeList.map((node) => node.session.close()))
  }

  /**
   * Every replica must hold the account as the primary does: the ALTER USER replicates, and on a
   * replica without the account it would stop replication; on one whose password differs (a change
   * made with sql_log_bin=0) it would silently replace the password that works there.
   */
  private async refuseDivergedReplicas(): Promise<void> {
    /** The node's stored credentials, comparable as text; undefined where the account does not exist. */
    const stored = async (node: Node): Promise<string | undefined> => {
      try {
        return JSON.stringify(await (this.engine === 'mariadb' ? this.mariadbAlternatives(node) : this.mysql8Credential(node)))
      } catch (error) {
        if (isDbakitError(error) && error.code === 'ROTATION_ACCOUNT_MISSING') return undefined
        throw error
      }
    }
    const primary = await stored(this.primary)
    for (const node of this.nodeList.slice(1)) {
      const there = await stored(node)
      if (there === undefined) {
        throw usageError('ROTATION_ACCOUNT_MISSING_ON_REPLICA', `${this.account} exists on the primary but not on replica ${node.info.address} (it was created with sql_log_bin=0, or the replica filters the mysql schema): the ALTER USER would stop replication there`, {
          hint: 'create the account on the replica as it is on the primary (or fix the filter), then rotate; nothing was changed',
          data: {node: node.info.address},
        })
      }
      if (there !== primary) {
        throw usageError('ROTATION_REPLICA_DIVERGED', `replica ${node.info.address} does not have the password ${this.account} has on the primary: a change made with sql_log_bin=0 (or on the replica itself) did not replicate`, {
          hint: 'decide which password is right and set it on both, then rotate; a rotation now would replace the one that works on the replica; nothing was changed',
          data: {node: node.info.address},
        })
      }
    }
  }

  async capture(): Promise<AuthAlternative[] | Mysql8Credential> {
    return this.engine === 'mariadb' ? this.mariadbAlternatives(this.primary) : this.mysql8Credential(this.primary)
  }

  accepts(previous: unknown, password: string): boolean | undefined {
    if (this.engine === 'mariadb') return (previous as AuthAlternative[]).some((alternative) => alternative.auth === nativeHash(password))
    const credential = previous as Mysql8Credential
    return credential.plugin === NATIVE ? Buffer.from(credential.authHex, 'hex').toString('latin1') === nativeHash(password) : undefined
  }

  async privileges(): Promise<Record<string, string[]>> {
    const found: Record<string, string[]> = {}
    for (const node of this.nodeList) {
      const rows = await node.session.query<Record<string, string>>('SHOW GRANTS FOR ?@?', [this.user, this.host])
      found[node.info.address] = rows.map((row) => grantWithoutCredentials(Object.values(row)[0] ?? '')).sort()
    }
    return found
  }

  async apply(step: CredentialStep, passwords: Passwords): Promise<void> {
    const {session} = this.primary
    try {
      if (this.engine === 'mariadb') {
        const alternatives = mariadbAlternativesAfter(step, passwords.previous as AuthAlternative[], passwords.newPassword)
        await session.query(`ALTER USER ?@? ${mariadbIdentifiedVia(alternatives)}`, [this.user, this.host])
        return
      }
      const previous = passwords.previous as Mysql8Credential
      const current = await this.mysql8Credential(this.primary)
      // RETAIN twice would push the old password out: repeat add-new only while the old one is still the primary.
      if (step === 'add-new' && current.authHex !== previous.authHex) return
      if (step === 'add-old' && current.authHex === previous.authHex) return
      const {sql, values} = mysql8Statement(step, this.user, this.host, previous, passwords)
      await session.query(sql, values)
    } catch (error) {
      throw permissionFailure(error, `changing another account's password takes CREATE USER: GRANT CREATE USER ON *.* TO ${this.primary.target.user ?? 'the admin account'}`, `altering ${this.account}`)
    }
  }

  async verify(newPassword: string): Promise<NodeCheck[]> {
    await this.waitForReplicas()
    const checks: NodeCheck[] = []
    for (const node of this.nodeList) {
      const stored = this.engine === 'mariadb' ? (await this.mariadbAlternatives(node)).some((alternative) => alternative.auth === nativeHash(newPassword)) : undefined
      if (stored === false) {
        throw environmentError('ROTATION_NODE_LACKS_CHANGE', `${node.info.role} ${node.info.address} does not have the new password of ${this.account}: the change did not replicate to it (sql_log_bin=0 on the primary, a replication filter on the mysql schema, or accounts managed on the replica itself)`, {
          hint: 'apply it there or fix replication, then `dbakit secret resume ID`; both passwords keep working meanwhile, and `secret get` still returns the old one',
          data: {node: node.info.address},
        })
      }
      checks.push(await this.login(node, newPassword, stored === true))
    }
    return checks
  }

  async sessionMark(): Promise<Record<string, number>> {
    const mark: Record<string, number> = {}
    for (const node of this.nodeList) {
      const [row] = await node.session.query<{id: string | number | null}>('SELECT MAX(ID) AS id FROM information_schema.PROCESSLIST')
      mark[node.info.address] = Number(row?.id ?? 0)
    }
    return mark
  }

  async sessionsBefore(mark: Record<string, number>): Promise<StraggleSession[]> {
    const found: StraggleSession[] = []
    for (const node of this.nodeList) {
      const rows = await node.session.query<{id: string | number; host: string; time: string | number}>('SELECT ID AS id, HOST AS host, TIME AS time FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <= ?', [this.user, mark[node.info.address] ?? 0])
      for (const row of rows) found.push({address: node.info.address, id: Number(row.id), client: row.host})
    }
    return found
  }

  private async mariadbAlternatives(node: Node): Promise<AuthAlternative[]> {
    const [row] = await node.session.query<{priv: string}>('SELECT Priv AS priv FROM mysql.global_priv WHERE User = ? AND Host = ?', [this.user, this.host])
    if (!row) throw environmentError('ROTATION_ACCOUNT_MISSING', `${this.account} does not exist on ${node.info.role} ${node.info.address}`, {hint: 'accounts replicate from the primary: check replication to this node, then `dbakit secret resume ID`'})
    const alternatives = authAlternatives(row.priv)
    const foreign = alternatives.find((alternative) => alternative.plugin !== NATIVE)
    if (foreign) throw unsupportedPlugin(this.account, foreign.plugin)
    return alternatives
  }

  private async mysql8Credential(node: Node): Promise<Mysql8Credential> {
    const [row] = await node.session.query<{plugin: string; auth: string}>('SELECT plugin, HEX(authentication_string) AS auth FROM mysql.user WHERE User = ? AND Host = ?', [this.user, this.host])
    if (!row) throw environmentError('ROTATION_ACCOUNT_MISSING', `${this.account} does not exist on ${node.info.role} ${node.info.address}`, {hint: 'check replication to this node, then `dbakit secret resume ID`'})
    if (!MYSQL8_PLUGINS.has(row.plugin)) throw unsupportedPlugin(this.account, row.plugin)
    return {plugin: row.plugin, authHex: row.auth}
  }

  /** Replicas apply the ALTER from the binlog: wait until each has executed the primary's position. */
  private async waitForReplicas(): Promise<void> {
    const replicas = this.nodeList.slice(1)
    if (replicas.length === 0) return
    const seconds = Math.max(1, Math.ceil(this.replicaTimeoutMs / 1000))
    const [position] = await this.primary.session.query<{gtid: string | null}>(this.engine === 'mariadb' ? 'SELECT @@gtid_binlog_pos AS gtid' : 'SELECT @@gtid_executed AS gtid')
    for (const node of replicas) {
      if (!position?.gtid) break
      const [row] = await node.session.query<{waited: string | number | null}>(this.engine === 'mariadb' ? 'SELECT MASTER_GTID_WAIT(?, ?) AS waited' : 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited', [position.gtid, seconds])
      if (Number(row?.waited) !== 0) {
        throw environmentError('ROTATION_REPLICA_BEHIND', `replica ${node.info.address} has not applied the change to ${this.account} after ${seconds}s (it is behind, or its replication is stopped)`, {
          hint: 'both passwords keep working meanwhile; once it has caught up, `dbakit secret resume ID` goes on',
          data: {node: node.info.address},
        })
      }
    }
  }

  private async login(node: Node, password: string, hashChecked: boolean): Promise<NodeCheck> {
    const base = {address: node.info.address, role: node.info.role}
    let session: MysqlSession
    try {
      session = await openMysql(targetAs(node.target, this.user, password))
    } catch (error) {
      if (hashChecked) return {...base, proof: 'stored-hash', note: `a login from here was refused (${(error as Error).message.split('\n')[0]}): ${this.host} may not admit this machine`}
      throw environmentError('ROTATION_LOGIN_FAILED', `the new password of ${this.account} does not log in on ${node.info.role} ${node.info.address}`, {
        hint: 'both passwords keep working meanwhile; `dbakit secret resume ID` checks again, `dbakit secret rollback ID` undoes the change',
        cause: error,
      })
    }
    try {
      const [row] = await session.query<{account: string}>('SELECT CURRENT_USER() AS account')
      if (row?.account === `${this.user}@${this.host}`) return {...base, proof: 'login'}
      return {...base, proof: hashChecked ? 'stored-hash' : 'login', note: `a login from here is matched to ${row?.account}, another account`}
    } finally {
      await session.close()
    }
  }
}

function unsupportedPlugin(account: string, plugin: string) {
  if (plugin === 'ed25519' || plugin === 'client_ed25519') {
    return usageError('AUTH_PLUGIN_UNSUPPORTED', `${account} authenticates with ed25519, which mysql2 (dbakit's driver, and most Node applications') cannot speak: its logins could not be verified`, {
      hint: `rotate it by hand, or move it to mysql_native_password first: ALTER USER ${account} IDENTIFIED VIA mysql_native_password USING PASSWORD('...')`,
    })
  }
  return usageError('AUTH_PLUGIN_UNSUPPORTED', `${account} authenticates with ${plugin}, not with a password dbakit can rotate`, {hint: 'dbakit rotates mysql_native_password accounts on MariaDB and password accounts on MySQL 8'})
}

async function refuseReplica(session: MysqlSession, target: ConnectionTarget): Promise<void> {
  const [flags] = await session.query<{readOnly: string | number}>('SELECT @@read_only AS readOnly')
  if (Number(flags?.readOnly) !== 1) return
  const status = await session.query<Record<string, unknown>>(session.identity.flavor === 'mariadb' ? 'SHOW SLAVE STATUS' : 'SHOW REPLICA STATUS').catch(() => [])
  const source = status[0] ? `${String(status[0].Master_Host ?? status[0].Source_Host)}:${String(status[0].Master_Port ?? status[0].Source_Port)}` : undefined
  throw usageError('ROTATION_TARGET_IS_REPLICA', `${target.label} is a read-only ${status.length > 0 ? 'replica' : 'server'}: a password changed there would not reach the primary, and replication would undo or break it`, {
    hint: source ? `point --profile/--url at the primary, ${source}; its replicas are found and checked from there` : 'point --profile/--url at the primary',
  })
}

async function findAccount(session: MysqlSession, user: string, host: string | undefined, target: ConnectionTarget): Promise<string> {
  let rows: Array<{user: string; host: string}>
  try {
    rows = await session.query('SELECT User AS user, Host AS host FROM mysql.user WHERE User = ?', [user])
  } catch (error) {
    throw permissionFailure(error, `rotation reads accounts from the mysql schema: GRANT SELECT ON mysql.* TO ${target.user ?? 'the admin account'}`, 'looking up the account')
  }
  if (rows.length === 0) {
    const users = (await session.query<{user: string}>('SELECT DISTINCT User AS user FROM mysql.user WHERE User <> \'\' ORDER BY User')).map((row) => row.user)
    const near = closestMatch(user, users)
    throw usageError('ROTATION_USER_NOT_FOUND', `there is no account named ${user} on ${target.label}`, {hint: `${near ? `did you mean ${near}? ` : ''}the accounts there are: ${users.join(', ')}`, data: {users}})
  }
  const hosts = rows.map((row) => row.host)
  if (host !== undefined) {
    if (hosts.includes(host)) return host
    throw usageError('ROTATION_HOST_NOT_FOUND', `${user} has no account for host '${host}' on ${target.label}`, {hint: `its accounts are ${hosts.map((h) => `${user}@'${h}'`).join(', ')}: pass one with --host`, data: {hosts}})
  }
  if (hosts.length === 1) return hosts[0]!
  throw usageError('ROTATION_HOST_AMBIGUOUS', `${user} has ${hosts.length} accounts on ${target.label}, each with its own password`, {hint: `pass --host with one of: ${hosts.map((h) => `'${h}'`).join(', ')}`, data: {hosts}})
}

/** ALTER USER on another account takes CREATE USER (or UPDATE on the mysql schema); checked before anything is stored. */
async function requireCreateUser(session: MysqlSession): Promise<void> {
  const [who] = await session.query<{account: string}>('SELECT CURRENT_USER() AS account')
  const at = who?.account.lastIndexOf('@') ?? -1
  // USER_PRIVILEGES lists every account's grants to one that may read the mysql schema: count this one's only.
  const grantee = `'${who?.account.slice(0, at)}'@'${who?.account.slice(at + 1)}'`
  const [granted] = await session.query<{n: string | number}>(
    "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = 'CREATE USER') + (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = 'mysql' AND PRIVILEGE_TYPE = 'UPDATE') AS n",
    [grantee, grantee],
  )
  if (Number(granted?.n) > 0) return
  throw environmentError('PERMISSION_MISSING', `${who?.account ?? 'this account'} may not change other accounts' passwords`, {hint: `grant it CREATE USER: GRANT CREATE USER ON *.* TO ${who?.account ?? '...'}`})
}

/**
 * Replicas: the --replica profiles, then those registered with the primary (SHOW SLAVE HOSTS, whose
 * host is report_host or the address it connected from); a replica streaming the binlog that no
 * such list names is reported, since its logins could not be checked.
 */
async function discoverReplicas(session: MysqlSession, request: AccountRequest, warnings: string[]): Promise<RotationNode[]> {
  const nodes: RotationNode[] = request.replicas.map(({profile, target}) => ({address: addressOf(target), role: 'replica', foundBy: `--replica ${profile}`, profile}))
  const registered = await session.query<Record<string, unknown>>(session.identity.flavor === 'mariadb' ? 'SHOW SLAVE HOSTS' : 'SHOW REPLICAS').catch((error) => {
    if (errnoOf(error) === 1227) warnings.push('replicas could not be listed: SHOW SLAVE HOSTS needs REPLICATION MASTER ADMIN (or REPLICATION SLAVE); pass them with --replica')
    return []
  })
  for (const row of registered) {
    const host = String(row.Host ?? '')
    const port = Number(row.Port ?? 0)
    if (!host || !port) {
      warnings.push(`replica with server_id ${String(row.Server_id)} does not report its address (set report_host on it): pass it with --replica`)
      continue
    }
    const address = `${host}:${port}`
    if (!nodes.some((node) => node.address === address)) nodes.push({address, role: 'replica', foundBy: 'SHOW SLAVE HOSTS'})
  }
  const [streaming] = await session.query<{n: string | number}>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID')").catch(() => [{n: 0}])
  if (Number(streaming?.n) > nodes.length) warnings.push(`${Number(streaming?.n)} replicas stream the binlog, ${nodes.length} could be found: the others' logins are not checked (pass them with --replica)`)
  return nodes
}
