import {usageError} from '../core/errors.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {RotationEngine, RotationNode} from './journal.ts'

/**
 * The four changes a rotation makes, each idempotent so that a resumed rotation can repeat the one
 * it was in: add the new password next to the old (the engine's own overlap), drop the old, and for
 * a rollback add the old back and drop the new.
 */
export type CredentialStep = 'add-new' | 'drop-old' | 'add-old' | 'drop-new'

export interface Passwords {
  /** What made the old password work, as the account adapter captured it (hashes: kept sealed). */
  previous: unknown
  /** The old password itself, when dbakit knew it (the secret held it). */
  oldPassword?: string
  newPassword: string
}

export interface NodeCheck {
  address: string
  role: RotationNode['role']
  /** How the new password was proven on this node. */
  proof: 'login' | 'stored-hash'
  note?: string
}

export interface StraggleSession {
  address: string
  id: number
  client: string
  /** Seconds since it connected, where the server says. */
  ageSeconds?: number
}

/** One account on every node of one server: what the rotation needs of an engine. */
export interface AccountAdapter {
  readonly engine: RotationEngine
  /** `user@host` or the Redis user. */
  readonly account: string
  readonly nodes: RotationNode[]
  readonly warnings: string[]
  /** The stored credentials that make the current password(s) work, to put back on rollback. */
  capture(): Promise<unknown>
  /** Whether `password` is one the account accepts now, by its stored hash; undefined where a hash cannot tell. */
  accepts(previous: unknown, password: string): boolean | undefined
  /** Per node, the account's privileges with every credential left out. */
  privileges(): Promise<Record<string, string[]>>
  apply(step: CredentialStep, passwords: Passwords): Promise<void>
  /** Waits for replicas to have the change, then proves the password on every node; throws naming the node that lacks it. */
  verify(password: string, which?: 'new' | 'old'): Promise<NodeCheck[]>
  /** Alternating users (MongoDB): the user the secret's `.user` companion names after the switch, and before. */
  readonly userAfterSwitch?: string
  readonly userBefore?: string
  /** Per node, the newest session id now: sessions up to it may have logged in with the old password. */
  sessionMark(): Promise<Record<string, number>>
  sessionsBefore(mark: Record<string, number>): Promise<StraggleSession[]>
  /** Logins refused since `since` (epoch ms), where the server records them (Redis ACL LOG): clients still on the old password. */
  refusedLoginsSince?(since: number): Promise<StraggleSession[]>
  close(): Promise<void>
}

export interface AccountRequest {
  target: ConnectionTarget
  /** --replica profiles, resolved. */
  replicas: Array<{profile: string; target: ConnectionTarget}>
  user: string
  host?: string
  /** On resume: the nodes the rotation started with (discovery is not repeated). */
  nodes?: RotationNode[]
  /** Resolves a node's profile on resume. */
  resolveProfile: (profile: string) => Promise<ConnectionTarget>
  replicaTimeoutMs: number
  /** Alternating users: the user the secret points at now, and on resume what was captured. */
  activeUser?: string
  previous?: unknown
}

export const addressOf = (target: ConnectionTarget) => {
  const host = target.url.hosts[0]
  return host ? `${host.host}:${host.port}` : (target.url.params.socket ?? 'localhost')
}

/** The admin's target pointed at another node of the same server (a replica found by discovery). */
export function targetAt(target: ConnectionTarget, address: string): ConnectionTarget {
  const colon = address.lastIndexOf(':')
  const host = address.slice(0, colon)
  const port = Number(address.slice(colon + 1))
  const {socket: _socket, ...params} = target.url.params
  return {...target, url: {...target.url, hosts: [{host, port}], params}, label: `${target.user ? `${target.user}@` : ''}${address}`}
}

/** The same node, logging in as the rotated account with `password`. */
export const targetAs = (target: ConnectionTarget, user: string, password: string): ConnectionTarget => ({...target, user, password, label: `${user}@${addressOf(target)}`})

/** How to reach a node as the admin: its --replica profile, else the admin's target at its address. */
export async function nodeTarget(request: AccountRequest, node: RotationNode): Promise<ConnectionTarget> {
  if (!node.profile) return targetAt(request.target, node.address)
  return request.replicas.find((replica) => replica.profile === node.profile)?.target ?? (await request.resolveProfile(node.profile))
}

/** The account dbakit is connected as: its profile would keep the old password, and the next connection would fail. */
export function selfRotation(account: string) {
  return usageError('ROTATION_SELF', `${account} is the account this connection logs in as: rotating it would leave the profile or DBAKIT_PASSWORD with the old password`, {
    hint: 'connect as another administrator (--profile/--url) to rotate this one',
  })
}
