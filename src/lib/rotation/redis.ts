import {createHash} from 'node:crypto'
import {environmentError, usageError} from '../core/errors.ts'
import {closestMatch} from '../core/text.ts'
import {checkRedisLogin, openRedis, parseRedisPairs, type RedisSession} from '../connect/drivers/redis.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {addressOf, nodeTarget, selfRotation, targetAs, type AccountAdapter, type AccountRequest, type CredentialStep, type NodeCheck, type Passwords, type StraggleSession} from './account.ts'
import type {RotationNode} from './journal.ts'

/** What Redis stores of a password: its SHA-256 in hex. `#hash` adds one and `!hash` removes one, so no password is sent. */
export const aclHash = (password: string) => createHash('sha256').update(password, 'utf8').digest('hex')

/** ACL GETUSER's reply (a flat list of field, value) as an object. */
export function parseAclUser(reply: unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {}
  for (let index = 0; index + 1 < reply.length; index += 2) fields[String(reply[index])] = reply[index + 1]
  return fields
}

/** Per node, the password hashes that make the old password(s) work. */
export type RedisPrevious = Record<string, string[]>

/** The ACL SETUSER rules that take a node from the hashes it has to those a step wants. */
export function aclRules(step: CredentialStep, has: string[], previous: string[], newPassword: string): string[] {
  const fresh = aclHash(newPassword)
  const want = step === 'drop-old' ? [fresh] : step === 'drop-new' ? previous : [...new Set([...previous, fresh])]
  return [...want.filter((hash) => !has.includes(hash)).map((hash) => `#${hash}`), ...has.filter((hash) => !want.includes(hash)).map((hash) => `!${hash}`)]
}

interface Node {
  info: RotationNode
  session: RedisSession
  target: ConnectionTarget
  /** Whether this node keeps its ACL in an aclfile (ACL SAVE persists it). */
  aclFile: boolean
}

/**
 * A Redis 6+ ACL user on every node: ACLs are not replicated, so each change is made on the primary,
 * each replica and each cluster node, and saved where an aclfile is configured.
 */
export class RedisAccount implements AccountAdapter {
  readonly engine = 'redis' as const
  readonly account: string
  readonly warnings: string[] = []
  private readonly nodeList: Node[]

  private constructor(user: string, nodes: Node[]) {
    this.account = user
    this.nodeList = nodes
  }

  get nodes(): RotationNode[] {
    return this.nodeList.map((node) => node.info)
  }

  static async open(request: AccountRequest): Promise<RedisAccount> {
    if ((request.target.user ?? 'default') === request.user) throw selfRotation(request.user)
    const opened: Node[] = []
    try {
      const primary = await openNode({address: addressOf(request.target), role: 'primary', foundBy: 'target'}, request.target)
      opened.push(primary)
      const replication = await primary.session.info('replication')
      if (replication.role === 'slave') {
        throw usageError('ROTATION_TARGET_IS_REPLICA', `${request.target.label} is a replica: ACL changes are made on every node from the primary's list of them`, {
          hint: `point --profile/--url at the primary, ${replication.master_host}:${replication.master_port}`,
        })
      }
      const nodes = request.nodes?.filter((node) => node.role !== 'primary') ?? (await discoverNodes(primary.session, request))
      for (const node of nodes) {
        const target = await nodeTarget(request, node)
        opened.push(await openNode(node, target))
      }
      const account = new RedisAccount(request.user, opened)
      await account.checkUser()
      for (const node of opened.filter((each) => !each.aclFile)) {
        account.warnings.push(`${node.info.address} has no aclfile: its ACL lives in memory (or in redis.conf), and a restart would bring back the old password; configure an aclfile (dbakit then runs ACL SAVE), or update redis.conf after the rotation`)
      }
      return account
    } catch (error) {
      await Promise.all(opened.map((node) => node.session.close()))
      throw error
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodeList.map((node) => node.session.close()))
  }

  private async user(node: Node): Promise<Record<string, unknown> | undefined> {
    const reply = (await node.session.client.call('ACL', 'GETUSER', this.account)) as unknown[] | null
    return reply ? parseAclUser(reply) : undefined
  }

  private async checkUser(): Promise<void> {
    const [primary] = this.nodeList
    const found = await this.user(primary!)
    if (!found) {
      const users = (await primary!.session.client.call('ACL', 'USERS')) as string[]
      const near = closestMatch(this.account, users)
      throw usageError('ROTATION_USER_NOT_FOUND', `there is no ACL user named ${this.account} on ${primary!.info.address}`, {hint: `${near ? `did you mean ${near}? ` : ''}the users there are: ${users.join(', ')}`, data: {users}})
    }
    if ((found.flags as string[]).includes('nopass')) {
      throw usageError('ROTATION_NOPASS', `ACL user ${this.account} has nopass: any password logs in, so there is none to rotate`, {hint: `give it a password first (ACL SETUSER ${this.account} resetpass >...) on every node`})
    }
    for (const node of this.nodeList.slice(1)) {
      if (!(await this.user(node))) {
        throw usageError('ROTATION_USER_MISSING_ON_NODE', `ACL user ${this.account} exists on the primary but not on ${node.info.role} ${node.info.address}: ACLs are kept per node`, {
          hint: 'create it there with the same rules (or load the same aclfile), then rotate; nothing was changed',
        })
      }
    }
  }

  async capture(): Promise<RedisPrevious> {
    const previous: RedisPrevious = {}
    for (const node of this.nodeList) previous[node.info.address] = ((await this.user(node))?.passwords as string[] | undefined) ?? []
    return previous
  }

  accepts(previous: unknown, password: string): boolean {
    const hash = aclHash(password)
    return Object.values(previous as RedisPrevious).every((hashes) => hashes.includes(hash))
  }

  async privileges(): Promise<Record<string, string[]>> {
    const found: Record<string, string[]> = {}
    for (const node of this.nodeList) {
      const {passwords: _passwords, ...rules} = (await this.user(node)) ?? {}
      found[node.info.address] = Object.entries(rules).map(([field, value]) => `${field} ${JSON.stringify(value)}`).sort()
    }
    return found
  }

  async apply(step: CredentialStep, passwords: Passwords): Promise<void> {
    const previous = passwords.previous as RedisPrevious
    for (const node of this.nodeList) {
      const has = ((await this.user(node))?.passwords as string[] | undefined) ?? []
      const rules = aclRules(step, has, previous[node.info.address] ?? [], passwords.newPassword)
      if (rules.length === 0) continue
      try {
        await node.session.client.call('ACL', 'SETUSER', this.account, ...rules)
        if (node.aclFile) await node.session.client.call('ACL', 'SAVE')
      } catch (error) {
        throw environmentError(/NOPERM/.test((error as Error).message) ? 'PERMISSION_MISSING' : 'ROTATION_NODE_FAILED', `changing ACL user ${this.account} on ${node.info.role} ${node.info.address}: ${(error as Error).message}`, {
          hint: /NOPERM/.test((error as Error).message) ? 'the admin user needs +acl (ACL SETUSER and ACL SAVE) on every node' : 'the change is repeated on every node by `dbakit secret resume ID`',
        })
      }
    }
  }

  async verify(newPassword: string): Promise<NodeCheck[]> {
    const hash = aclHash(newPassword)
    const checks: NodeCheck[] = []
    for (const node of this.nodeList) {
      const passwords = ((await this.user(node))?.passwords as string[] | undefined) ?? []
      if (!passwords.includes(hash)) {
        throw environmentError('ROTATION_NODE_LACKS_CHANGE', `${node.info.role} ${node.info.address} does not have the new password of ${this.account} (its ACL was changed or reloaded meanwhile)`, {hint: '`dbakit secret resume ID` sets it again on every node', data: {node: node.info.address}})
      }
      try {
        await checkRedisLogin(targetAs(node.target, this.account, newPassword))
      } catch (error) {
        throw environmentError('ROTATION_LOGIN_FAILED', `the new password of ${this.account} does not log in on ${node.info.role} ${node.info.address}`, {hint: 'both passwords keep working meanwhile; `dbakit secret resume ID` checks again', cause: error})
      }
      checks.push({address: node.info.address, role: node.info.role, proof: 'login'})
    }
    return checks
  }

  async sessionMark(): Promise<Record<string, number>> {
    const mark: Record<string, number> = {}
    for (const node of this.nodeList) mark[node.info.address] = Math.max(0, ...(await this.clients(node)).map((client) => client.id))
    return mark
  }

  async sessionsBefore(mark: Record<string, number>): Promise<StraggleSession[]> {
    const found: StraggleSession[] = []
    for (const node of this.nodeList) {
      for (const client of await this.clients(node)) {
        if (client.user === this.account && client.id <= (mark[node.info.address] ?? 0)) found.push({address: node.info.address, id: client.id, client: client.addr, ageSeconds: client.age})
      }
    }
    return found
  }

  async refusedLoginsSince(since: number): Promise<StraggleSession[]> {
    const found: StraggleSession[] = []
    const window = (Date.now() - since) / 1000
    for (const node of this.nodeList) {
      for (const reply of (await node.session.client.call('ACL', 'LOG', '128')) as unknown[][]) {
        const entry = parseAclUser(reply)
        if (entry.reason !== 'auth' || entry.username !== this.account || Number(entry['age-seconds']) > window) continue
        const client = parseRedisPairs(String(entry['client-info'] ?? ''), ' ')
        found.push({address: node.info.address, id: Number(client.id ?? 0), client: client.addr ?? '?'})
      }
    }
    return found
  }

  private async clients(node: Node): Promise<Array<{id: number; user: string; addr: string; age: number}>> {
    const text = (await node.session.client.call('CLIENT', 'LIST')) as string
    return text.split('\n').filter(Boolean).map((line) => {
      const fields = parseRedisPairs(line, ' ')
      return {id: Number(fields.id), user: fields.user ?? '', addr: fields.addr ?? '', age: Number(fields.age)}
    })
  }
}

async function openNode(info: RotationNode, target: ConnectionTarget): Promise<Node> {
  const session = await openRedis(target)
  const reply = (await session.client.call('CONFIG', 'GET', 'aclfile').catch(() => ['aclfile', ''])) as string[]
  return {info, session, target, aclFile: Boolean(reply[1])}
}

/** Every node the primary knows: its replicas (INFO replication), and in a cluster every node (CLUSTER NODES). */
async function discoverNodes(primary: RedisSession, request: AccountRequest): Promise<RotationNode[]> {
  const nodes: RotationNode[] = request.replicas.map(({profile, target}) => ({address: addressOf(target), role: 'replica', foundBy: `--replica ${profile}`, profile}))
  const add = (address: string, foundBy: string, role: RotationNode['role'] = 'replica') => {
    if (address !== addressOf(request.target) && !nodes.some((node) => node.address === address)) nodes.push({address, role, foundBy})
  }
  const replication = await primary.info('replication')
  for (const [field, value] of Object.entries(replication)) {
    if (!/^slave\d+$/.test(field)) continue
    const entry = parseRedisPairs(value, ',')
    if (entry.ip && entry.port) add(`${entry.ip}:${entry.port}`, 'INFO replication')
  }
  const cluster = await primary.info('cluster')
  if (cluster.cluster_enabled === '1') {
    const text = (await primary.client.call('CLUSTER', 'NODES')) as string
    for (const line of text.split('\n').filter(Boolean)) {
      const [, address, flags] = line.split(' ')
      if (address && !flags?.includes('fail')) add(address.split('@')[0]!, 'CLUSTER NODES', 'cluster-node')
    }
  }
  return nodes
}
