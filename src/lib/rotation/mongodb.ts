import {randomBytes} from 'node:crypto'
import {environmentError, usageError} from '../core/errors.ts'
import {closestMatch} from '../core/text.ts'
import {openMongo, type MongoSession} from '../connect/drivers/mongo.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {addressOf, nodeTarget, targetAs, type AccountAdapter, type AccountRequest, type CredentialStep, type NodeCheck, type Passwords, type StraggleSession} from './account.ts'
import type {RotationNode} from './journal.ts'

/**
 * MongoDB keeps one password per user, so the overlap is two users with the same roles: the
 * rotation sets the new password on the one not in use, the secret flips to it, and the old
 * user's password is then replaced by a random one nobody holds (the user stays, so that the
 * next rotation flips back to it).
 */
export interface MongoPrevious {
  /** The user the secret pointed at before the rotation, and its partner that takes the new password. */
  active: string
  inactive: string
  /** Whether the partner existed before (else the rollback drops it). */
  inactiveExisted: boolean
  roles: MongoRole[]
  database: string
}

export interface MongoRole {
  role: string
  db: string
}

/** The partner of an alternating pair: `app` and `app_clone`, as AWS's multi-user rotation names them. */
export const partnerOf = (user: string, base: string) => (user === base ? `${base}_clone` : base)

export type MongoCommand =
  | {command: 'createUser' | 'updateUser'; user: string; password: 'new' | 'old' | 'random'; roles: MongoRole[]}
  | {command: 'updateUser'; user: string; password: 'new' | 'old' | 'random'}
  | {command: 'dropUser'; user: string}

/** What a step does to the pair; pure, so the plan is tested without a server. */
export function mongoPlan(step: CredentialStep, previous: MongoPrevious, oldPasswordKnown: boolean): MongoCommand[] {
  switch (step) {
    case 'add-new':
      return [{command: previous.inactiveExisted ? 'updateUser' : 'createUser', user: previous.inactive, password: 'new', roles: previous.roles}]
    case 'drop-old':
      return [{command: 'updateUser', user: previous.active, password: 'random'}]
    case 'add-old':
      if (!oldPasswordKnown) {
        throw usageError('ROTATION_ROLLBACK_IMPOSSIBLE', `the old password of MongoDB user ${previous.active} was replaced, and dbakit never knew it (the secret was new)`, {
          hint: `set it by hand (db.updateUser("${previous.active}", {pwd: ...})) or rotate again; ${previous.inactive} keeps working with the new password`,
        })
      }
      return [{command: 'updateUser', user: previous.active, password: 'old'}]
    case 'drop-new':
      return previous.inactiveExisted ? [{command: 'updateUser', user: previous.inactive, password: 'random'}] : [{command: 'dropUser', user: previous.inactive}]
  }
}

interface Node {
  info: RotationNode
  target: ConnectionTarget
}

export class MongoAccount implements AccountAdapter {
  readonly engine = 'mongodb' as const
  readonly account: string
  readonly warnings: string[] = []
  private readonly session: MongoSession
  private readonly nodeList: Node[]
  private readonly previous: MongoPrevious
  private readonly replicaTimeoutMs: number

  private constructor(base: string, session: MongoSession, nodes: Node[], previous: MongoPrevious, replicaTimeoutMs: number) {
    this.account = base
    this.session = session
    this.nodeList = nodes
    this.previous = previous
    this.replicaTimeoutMs = replicaTimeoutMs
  }

  get nodes(): RotationNode[] {
    return this.nodeList.map((node) => node.info)
  }

  /** The user the application logs in as once the secret has switched. */
  get userAfterSwitch(): string {
    return this.previous.inactive
  }

  get userBefore(): string {
    return this.previous.active
  }

  /** `activeUser`: the user the secret points at now (its `.user` companion), else --user. */
  static async open(request: AccountRequest): Promise<MongoAccount> {
    const session = await openMongo(request.target)
    try {
      const hello = await session.admin({hello: 1})
      if (hello.setName && !hello.isWritablePrimary) {
        throw usageError('ROTATION_TARGET_IS_REPLICA', `${request.target.label} is a secondary of replica set ${String(hello.setName)}: users are changed on the primary`, {hint: `point --profile/--url at the primary${hello.primary ? `, ${String(hello.primary)}` : ''}`})
      }
      const database = request.target.url.params.authSource ?? request.target.url.database ?? 'admin'
      const db = session.client.db(database)
      const previous = (request.previous as MongoPrevious | undefined) ?? (await pairOf(db, request.user, request.activeUser ?? request.user, database, request.target))
      const primary: Node = {info: {address: addressOf(request.target), role: 'primary', foundBy: 'target'}, target: request.target}
      const members = request.nodes?.filter((node) => node.role !== 'primary') ?? [...((hello.hosts as string[] | undefined) ?? []), ...((hello.passives as string[] | undefined) ?? [])].filter((address) => address !== hello.me && address !== primary.info.address).map((address): RotationNode => ({address, role: 'replica', foundBy: 'hello'}))
      const nodes = [primary]
      for (const info of members) nodes.push({info, target: await nodeTarget(request, info)})
      return new MongoAccount(request.user, session, nodes, previous, request.replicaTimeoutMs)
    } catch (error) {
      await session.close()
      throw error
    }
  }

  async close(): Promise<void> {
    await this.session.close()
  }

  async capture(): Promise<MongoPrevious> {
    return this.previous
  }

  accepts(): undefined {
    return undefined
  }

  async privileges(): Promise<Record<string, string[]>> {
    const roles = await this.rolesOf(this.previous.active)
    return {[this.nodeList[0]!.info.address]: (roles ?? []).map((role) => `${role.role}@${role.db}`).sort()}
  }

  async apply(step: CredentialStep, passwords: Passwords): Promise<void> {
    const previous = passwords.previous as MongoPrevious
    const db = this.session.client.db(previous.database)
    for (const command of mongoPlan(step, previous, passwords.oldPassword !== undefined)) {
      try {
        if (command.command === 'dropUser') {
          if (await this.rolesOf(command.user)) await db.command({dropUser: command.user, writeConcern: {w: 'majority'}})
          continue
        }
        const pwd = command.password === 'new' ? passwords.newPassword : command.password === 'old' ? passwords.oldPassword! : randomBytes(24).toString('base64url')
        const exists = (await this.rolesOf(command.user)) !== undefined
        const roles = 'roles' in command ? {roles: command.roles} : {}
        // createUser of a user that exists (a repeated step) becomes updateUser: every step is idempotent.
        await db.command({[exists ? 'updateUser' : 'createUser']: command.user, pwd, ...roles, writeConcern: {w: 'majority'}})
      } catch (error) {
        if ((error as {codeName?: string}).codeName === 'Unauthorized') {
          throw environmentError('PERMISSION_MISSING', `changing MongoDB user ${command.user}: ${(error as Error).message}`, {hint: `the admin needs the userAdmin role on ${previous.database} (createUser, updateUser, dropUser, viewUser)`})
        }
        throw error
      }
    }
  }

  async verify(password: string, which: 'new' | 'old' = 'new'): Promise<NodeCheck[]> {
    const user = which === 'new' ? this.previous.inactive : this.previous.active
    if (which === 'new') {
      const roles = await this.rolesOf(user)
      const expected = JSON.stringify([...this.previous.roles].map((role) => `${role.role}@${role.db}`).sort())
      if (JSON.stringify((roles ?? []).map((role) => `${role.role}@${role.db}`).sort()) !== expected) {
        throw environmentError('ROTATION_PRIVILEGES_CHANGED', `MongoDB user ${user} does not have the roles of ${this.previous.active}`, {hint: 'someone changed one of the pair meanwhile; `dbakit secret resume ID` sets the roles again'})
      }
    }
    const checks: NodeCheck[] = []
    for (const node of this.nodeList) {
      const target = targetAs({...node.target, url: {...node.target.url, params: {...node.target.url.params, directConnection: 'true', authSource: this.previous.database}}}, user, password)
      const deadline = Date.now() + this.replicaTimeoutMs
      for (;;) {
        try {
          await (await openMongo(target)).close()
          break
        } catch (error) {
          if (Date.now() > deadline) throw environmentError('ROTATION_LOGIN_FAILED', `${user} does not log in with the ${which} password on ${node.info.role} ${node.info.address}`, {hint: 'both users keep working meanwhile; `dbakit secret resume ID` checks again', cause: error})
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      }
      checks.push({address: node.info.address, role: node.info.role, proof: 'login', note: `as ${user}`})
    }
    return checks
  }

  async sessionMark(): Promise<Record<string, number>> {
    const ops = await this.operations()
    return {[this.nodeList[0]!.info.address]: Math.max(0, ...ops.map((op) => op.connectionId))}
  }

  async sessionsBefore(mark: Record<string, number>): Promise<StraggleSession[]> {
    const limit = mark[this.nodeList[0]!.info.address] ?? 0
    return (await this.operations()).filter((op) => op.user === this.previous.active && op.connectionId <= limit).map((op) => ({address: this.nodeList[0]!.info.address, id: op.connectionId, client: op.client}))
  }

  private async operations(): Promise<Array<{connectionId: number; user: string; client: string}>> {
    const reply = await this.session.admin({currentOp: 1, $all: true, idleConnections: true})
    return ((reply.inprog as Array<Record<string, unknown>>) ?? [])
      .filter((op) => typeof op.connectionId === 'number')
      .map((op) => ({connectionId: op.connectionId as number, user: ((op.effectiveUsers as Array<{user: string}> | undefined) ?? [])[0]?.user ?? '', client: String(op.client ?? '')}))
  }

  private async rolesOf(user: string): Promise<MongoRole[] | undefined> {
    const reply = await this.session.client.db(this.previous.database).command({usersInfo: user})
    const found = (reply.users as Array<{roles: MongoRole[]}>)[0]
    return found ? found.roles.map(({role, db}) => ({role, db})) : undefined
  }
}

async function pairOf(db: import('mongodb').Db, base: string, active: string, database: string, target: ConnectionTarget): Promise<MongoPrevious> {
  const reply = await db.command({usersInfo: 1})
  const users = (reply.users as Array<{user: string; roles: MongoRole[]}>) ?? []
  const current = users.find((user) => user.user === active)
  if (!current) {
    const names = users.map((user) => user.user)
    const near = closestMatch(active, names)
    throw usageError('ROTATION_USER_NOT_FOUND', `there is no MongoDB user ${active} in database ${database} on ${target.label}`, {hint: `${near ? `did you mean ${near}? ` : ''}the users there are: ${names.join(', ') || 'none'}`, data: {users: names}})
  }
  const inactive = partnerOf(active, base)
  return {active, inactive, inactiveExisted: users.some((user) => user.user === inactive), roles: current.roles.map(({role, db: roleDb}) => ({role, db: roleDb})), database}
}
