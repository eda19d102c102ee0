import {DbakitError, ExitCode, isDbakitError, usageError} from '../core/errors.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {Secrets} from '../secrets/index.ts'
import {addressOf, type AccountAdapter, type AccountRequest, type NodeCheck, type Passwords, type StraggleSession} from './account.ts'
import {accountKey, FileRotationJournal, FINISHED_STATES, newRotationId, RotationJournal, type RotationNode, type RotationRecord, type RotationState} from './journal.ts'
import {MysqlAccount} from './mysql.ts'
import {MongoAccount} from './mongodb.ts'
import {generatePassword} from './password.ts'
import {RedisAccount} from './redis.ts'

export {ROTATION_STATES, RotationJournal, type RotationRecord, type RotationState} from './journal.ts'

/** The journal in the state directory, or in the MySQL schema --store names (resolved by the caller, password and all). */
export async function openRotationJournal(options: {store?: ConnectionTarget; env: NodeJS.ProcessEnv}): Promise<RotationJournal> {
  if (!options.store) return new FileRotationJournal(options.env)
  const {MysqlRotationJournal} = await import('./journal-mysql.ts')
  return MysqlRotationJournal.open(options.store)
}
export {checkPasswordLength, PASSWORD_LENGTH} from './password.ts'

export interface RotationContext {
  secrets: Secrets
  journal: RotationJournal
  /** Each transition, as it is journaled: for progress lines. */
  onState?: (record: RotationRecord, note: string) => void
  signal?: AbortSignal
}

export interface Connection {
  target: ConnectionTarget
  replicas: Array<{profile: string; target: ConnectionTarget}>
  resolveProfile: (profile: string) => Promise<ConnectionTarget>
  replicaTimeoutMs: number
}

export interface RotateRequest extends Connection {
  user: string
  host?: string
  secret?: string
  passwordLength: number
  graceMs: number
  discardAfterMs: number
  forceDiscard: boolean
  retainMs: number
  dryRun: boolean
  /** Asked once the plan is known, before anything is stored or changed; false stops with nothing done. */
  confirm: (plan: RotationPlan) => Promise<boolean>
}

export interface RotationPlan {
  engine: RotationRecord['engine']
  account: string
  secret: string
  /** Whether the secret holds the account's current password (then rollback restores it). */
  secretExisted: boolean
  nodes: RotationNode[]
  steps: string[]
  warnings: string[]
}

export interface RotationReport {
  id: string
  engine: RotationRecord['engine']
  account: string
  secret: string
  state: RotationState
  nodes: RotationNode[]
  checks: NodeCheck[]
  /** Sessions connected before the new password was handed out, still there when the old one was discarded (or not). */
  oldPasswordSessions: StraggleSession[]
  warnings: string[]
  retainUntil?: string
  resumed: boolean
  history: RotationRecord['history']
}

/** The user an alternating pair's secret names (its `.user` companion), when it has been rotated before. */
async function activeUserOf(request: RotateRequest, context: RotationContext): Promise<string | undefined> {
  const companion = `${request.secret ?? defaultSecretName(request.target, request.user)}.user`
  if (!(await context.secrets.locate(companion))) return undefined
  const {value} = await context.secrets.get(companion)
  return value.toString('utf8')
}

/** A rotation's secret name by default: the profile (or host:port), the user and, for MySQL, its host. */
export const defaultSecretName = (target: ConnectionTarget, account: string) => `${target.profile ?? addressOf(target)}/${account}`

async function openAccount(request: AccountRequest): Promise<AccountAdapter> {
  switch (request.target.engine) {
    case 'mysql':
      return MysqlAccount.open(request)
    case 'redis':
      return RedisAccount.open(request)
    case 'mongodb':
      return MongoAccount.open(request)
  }
}

const STEPS: Record<string, string> = {
  'add-new': 'add the new password next to the old one on every node (both log in)',
  verify: 'wait for replicas, log in with the new password on every node, compare privileges',
  switch: 'store the new password under the secret (`secret get` returns it from here)',
  'drop-old': 'keep the old password for --grace, wait for sessions connected before the switch to go, then remove it',
}

/**
 * Rotates one account's password with the engine's own overlap, so that at every instant the
 * secret holds a password that logs in. The journal is written before each change; an account with
 * an unfinished rotation whose process died is resumed instead of rotated anew.
 */
export async function rotate(request: RotateRequest, context: RotationContext): Promise<RotationReport | (RotationPlan & {dryRun: true})> {
  const adapter = await openAccount({...request, ...(request.target.engine === 'mongodb' ? {activeUser: await activeUserOf(request, context)} : {})})
  let unfinished: RotationRecord | undefined
  try {
    const key = accountKey({engine: adapter.engine, nodes: adapter.nodes, account: adapter.account})
    unfinished = await context.journal.unfinished(key)
    if (unfinished && request.secret !== undefined && unfinished.secret !== request.secret) {
      throw usageError('ROTATION_UNFINISHED', `${adapter.account} has an unfinished rotation ${unfinished.id} (at ${unfinished.state}) into secret ${unfinished.secret}`, {hint: `finish it with \`dbakit secret resume ${unfinished.id} --yes\` or undo it with \`dbakit secret rollback ${unfinished.id} --yes\` first`})
    }
    if (unfinished && request.dryRun) return {...planOf(unfinished, adapter, unfinished.secretExisted), steps: [`resume rotation ${unfinished.id}, left at ${unfinished.state}`], dryRun: true}
    if (!unfinished) return await (request.dryRun ? begin(request, adapter, context) : context.journal.withLock(key, () => begin(request, adapter, context)))
  } finally {
    await adapter.close()
  }
  // A rerun after a crash: the rotation goes on from its journal, as `secret resume` does it.
  return resume(unfinished.id, request, context)
}

async function begin(request: RotateRequest, adapter: AccountAdapter, context: RotationContext): Promise<RotationReport | (RotationPlan & {dryRun: true})> {
  const secret = request.secret ?? defaultSecretName(request.target, adapter.account)
  // Under the lock now: a rotation that began (and died) since the first look must be finished first.
  const started = await context.journal.unfinished(accountKey({engine: adapter.engine, nodes: adapter.nodes, account: adapter.account}))
  if (started) throw usageError('ROTATION_UNFINISHED', `${adapter.account} has an unfinished rotation ${started.id} (at ${started.state}), begun a moment ago`, {hint: `run the command again: it goes on with ${started.id}`})
  const existing = await context.secrets.locate(secret)
  let oldPassword: string | undefined
  if (existing) {
    const {value} = await context.secrets.get(secret)
    oldPassword = value.toString('utf8')
    value.fill(0)
  }
  const previous = await adapter.capture()
  if (oldPassword !== undefined && adapter.accepts(previous, oldPassword) === false) {
    throw usageError('ROTATION_SECRET_MISMATCH', `secret ${secret} does not hold the current password of ${adapter.account}`, {
      hint: 'store the password the account has now with `dbakit secret set NAME --backend kms --stdin`, or name another secret with --secret; nothing was changed',
    })
  }
  const plan: RotationPlan = {...planOf({secret}, adapter, existing !== undefined), steps: Object.values(STEPS)}
  if (request.dryRun) return {...plan, dryRun: true}
  if (!(await request.confirm(plan))) throw new DbakitError(ExitCode.stopped, 'DECLINED', `the password of ${adapter.account} was left as it was: not confirmed`)

  const now = new Date().toISOString()
  const record: RotationRecord = {
    v: 1,
    id: newRotationId(),
    engine: adapter.engine,
    ...(request.target.profile ? {profile: request.target.profile} : {url: request.target.url.display}),
    account: adapter.account,
    user: request.user,
    ...(adapter.engine === 'redis' ? {} : {host: adapter.account.slice(request.user.length + 1)}),
    secret,
    secretExisted: existing !== undefined,
    state: 'pending',
    nodes: adapter.nodes,
    graceMs: request.graceMs,
    discardAfterMs: request.discardAfterMs,
    forceDiscard: request.forceDiscard,
    retainMs: request.retainMs,
    privilegesBefore: await adapter.privileges(),
    history: [],
    warnings: [...adapter.warnings],
    createdAt: now,
    updatedAt: now,
  }
  await pruneExpired(context)
  const passwords: Passwords = {previous, ...(oldPassword === undefined ? {} : {oldPassword}), newPassword: generatePassword(request.passwordLength)}
  // Both parts are sealed before the journal names the rotation: a KMS that fails here leaves nothing behind.
  try {
    await context.secrets.sealRotationPart(record.id, 'new', Buffer.from(passwords.newPassword, 'utf8'))
    await context.secrets.sealRotationPart(record.id, 'previous', Buffer.from(JSON.stringify({previous, oldPassword}), 'utf8'))
  } catch (error) {
    await context.secrets.removeRotationPart(record.id, 'new').catch(() => {})
    throw error
  }
  await transition(record, 'pending', 'new password generated and sealed; nothing changed on the server', context)
  return await drive(record, adapter, passwords, context, false)
}

/** Continues a rotation from its journal: forward to done, or, when it was rolling back, back to rolled-back. */
export async function resume(id: string, connection: Connection, context: RotationContext, overrides: {forceDiscard?: boolean; discardAfterMs?: number} = {}): Promise<RotationReport> {
  const record = await context.journal.get(id)
  if (FINISHED_STATES.has(record.state)) throw usageError('ROTATION_FINISHED', `rotation ${id} is ${record.state}: there is nothing to resume`, {hint: record.state === 'done' ? `\`dbakit secret rollback ${id}\` restores the old password until ${record.retainUntil}` : 'start a new one with `dbakit secret rotate`'})
  return withRecord(record, connection, context, async (adapter, passwords) => {
    if (overrides.forceDiscard !== undefined) record.forceDiscard = overrides.forceDiscard
    if (overrides.discardAfterMs !== undefined) record.discardAfterMs = overrides.discardAfterMs
    return record.state === 'rolling-back' ? undo(record, adapter, passwords, context) : drive(record, adapter, passwords, context, true)
  })
}

/**
 * Restores the old password, without a moment in which neither works: the old one is added back,
 * the secret returns to it, then the new one is removed. After done this works until retainUntil.
 */
export async function rollback(id: string, connection: Connection, context: RotationContext): Promise<RotationReport> {
  const record = await context.journal.get(id)
  if (record.state === 'rolled-back') throw usageError('ROTATION_FINISHED', `rotation ${id} is already rolled back`, {hint: 'the account has its old password'})
  if (record.pruned) throw usageError('ROTATION_ROLLBACK_EXPIRED', `rotation ${id} finished and its old password was removed at ${record.retainUntil}`, {hint: 'rotate again with `dbakit secret rotate` instead'})
  return withRecord(record, connection, context, (adapter, passwords) => undo(record, adapter, passwords, context))
}

export async function status(context: RotationContext, id?: string): Promise<RotationRecord[]> {
  return id === undefined ? context.journal.list() : [await context.journal.get(id)]
}

async function withRecord(record: RotationRecord, connection: Connection, context: RotationContext, work: (adapter: AccountAdapter, passwords: Passwords) => Promise<RotationReport>): Promise<RotationReport> {
  const primary = record.nodes.find((node) => node.role === 'primary')
  if (primary && addressOf(connection.target) !== primary.address) {
    throw usageError('ROTATION_TARGET_MISMATCH', `rotation ${record.id} is of ${record.account} on ${primary.address}, and the connection given is to ${addressOf(connection.target)}`, {hint: `leave out --profile/--url to use the rotation's own (${record.profile ?? record.url})`})
  }
  return context.journal.withLock(accountKey(record), async () => {
    // Read again under the lock: another process may have moved it on since.
    Object.assign(record, await context.journal.get(record.id))
    const passwords = await partsOf(record, context)
    const adapter = await openAccount({...connection, user: record.user, ...(record.host === undefined ? {} : {host: record.host}), nodes: record.nodes, previous: passwords.previous})
    try {
      return await work(adapter, passwords)
    } finally {
      await adapter.close()
    }
  })
}

async function partsOf(record: RotationRecord, context: RotationContext): Promise<Passwords> {
  const fresh = await context.secrets.openRotationPart(record.id, 'new')
  const kept = await context.secrets.openRotationPart(record.id, 'previous')
  if (!fresh || !kept) {
    throw usageError('ROTATION_PARTS_MISSING', `the envelopes of rotation ${record.id} are gone (${record.pruned ? 'its retention ended' : 'removed by hand'})`, {hint: 'the account keeps the password it has; check it, and rotate anew with `dbakit secret rotate`'})
  }
  try {
    const {previous, oldPassword} = JSON.parse(kept.toString('utf8')) as {previous: unknown; oldPassword?: string}
    return {previous, ...(oldPassword === undefined ? {} : {oldPassword}), newPassword: fresh.toString('utf8')}
  } finally {
    fresh.fill(0)
    kept.fill(0)
  }
}

async function transition(record: RotationRecord, state: RotationState, note: string, context: RotationContext): Promise<void> {
  if (context.signal?.aborted) throw context.signal.reason
  await context.journal.transition(record, state, note)
  context.onState?.(record, note)
}

/** An error on the way, with the way on: the rotation's state and its id in the hint. */
function stopped(error: unknown, record: RotationRecord): unknown {
  if (!isDbakitError(error) || error.code === 'INTERRUPTED') return error
  const hint = (error.hint ?? '').replaceAll(' ID`', ` ${record.id} --yes\``)
  return new DbakitError(error.exitCode, error.code, `${error.message} (rotation ${record.id} stopped at ${record.state})`, {
    hint: hint || `\`dbakit secret resume ${record.id} --yes\` goes on from there, \`dbakit secret rollback ${record.id} --yes\` undoes it`,
    data: {...error.data, rotation: record.id, state: record.state},
  })
}

async function drive(record: RotationRecord, adapter: AccountAdapter, passwords: Passwords, context: RotationContext, resumed: boolean): Promise<RotationReport> {
  let checks: NodeCheck[] = []
  let lingering: StraggleSession[] = []
  try {
    if (record.state === 'pending') {
      await transition(record, 'set', `adding the new password on ${adapter.nodes.length} node(s)`, context)
    }
    if (record.state === 'set') {
      await adapter.apply('add-new', passwords)
      checks = await adapter.verify(passwords.newPassword)
      const after = await adapter.privileges()
      const changed = Object.keys(record.privilegesBefore).filter((node) => JSON.stringify(record.privilegesBefore[node]) !== JSON.stringify(after[node]))
      if (changed.length > 0) {
        throw new DbakitError(ExitCode.findings, 'ROTATION_PRIVILEGES_CHANGED', `the privileges of ${adapter.account} changed during the rotation on ${changed.join(', ')}`, {
          hint: 'someone else is changing the account; check SHOW GRANTS / ACL GETUSER, then `dbakit secret resume ID` or `dbakit secret rollback ID`',
        })
      }
      await transition(record, 'verified', `the new password logs in on ${checks.length} node(s); privileges unchanged`, context)
    }
    if (record.state === 'verified') {
      // Repeated on resume: the journal may say verified from before the secret was switched.
      if (adapter.userAfterSwitch) await context.secrets.set(`${record.secret}.user`, Buffer.from(adapter.userAfterSwitch, 'utf8'), 'kms')
      await context.secrets.set(record.secret, Buffer.from(passwords.newPassword, 'utf8'), 'kms')
      if (!record.sessionMark) {
        record.switchedAt = new Date().toISOString()
        record.sessionMark = await adapter.sessionMark()
        await context.journal.save(record)
      }
      await pause(Date.parse(record.switchedAt ?? record.updatedAt) + record.graceMs - Date.now(), context.signal)
      lingering = await awaitStragglers(record, adapter, context)
      if (lingering.length > 0 && !record.forceDiscard) {
        throw new DbakitError(ExitCode.findings, 'ROTATION_OLD_PASSWORD_IN_USE', `${lingering.length} session(s) of ${adapter.account} connected before the switch are still there (${describeSessions(lingering)}): they may reconnect with the old password`, {
          hint: 'both passwords keep working; once those clients have picked up the new one, `dbakit secret resume ID` removes the old (--force-discard removes it now)',
          data: {sessions: lingering},
        })
      }
      await transition(record, 'discarded', lingering.length > 0 ? `removing the old password although ${lingering.length} session(s) from before the switch are connected (--force-discard)` : 'removing the old password', context)
    }
    if (record.state === 'discarded') {
      const discardedAt = Date.now()
      await adapter.apply('drop-old', passwords)
      checks = await adapter.verify(passwords.newPassword)
      const refused = (await adapter.refusedLoginsSince?.(discardedAt)) ?? []
      if (refused.length > 0) record.warnings.push(`${refused.length} login(s) as ${adapter.account} were refused since the old password was removed (${describeSessions(refused)}): those clients still use it; \`secret rollback ${record.id}\` restores it`)
      record.retainUntil = new Date(Date.now() + record.retainMs).toISOString()
      await transition(record, 'done', `old password removed; \`secret rollback ${record.id}\` restores it until ${record.retainUntil}`, context)
    }
  } catch (error) {
    throw stopped(error, record)
  }
  return report(record, checks, lingering, resumed)
}

async function undo(record: RotationRecord, adapter: AccountAdapter, passwords: Passwords, context: RotationContext): Promise<RotationReport> {
  let checks: NodeCheck[] = []
  try {
    // The server was changed once the journal said set: before that, only the sealed new password exists.
    const changed = record.history.some((step) => step.state === 'set')
    await transition(record, 'rolling-back', changed ? 'adding the old password back' : 'nothing was changed on the server', context)
    if (changed) {
      await adapter.apply('add-old', passwords)
      if (adapter.userBefore) await context.secrets.set(`${record.secret}.user`, Buffer.from(adapter.userBefore, 'utf8'), 'kms')
      if (passwords.oldPassword !== undefined) {
        await context.secrets.set(record.secret, Buffer.from(passwords.oldPassword, 'utf8'), 'kms')
      } else if (await context.secrets.locate(record.secret)) {
        // The secret held only the new password, which is about to stop working.
        await context.secrets.delete(record.secret)
        record.warnings.push(`secret ${record.secret} was removed: it held only the new password, and dbakit never knew the old one`)
      }
      await adapter.apply('drop-new', passwords)
      if (passwords.oldPassword !== undefined) checks = await adapter.verify(passwords.oldPassword, 'old')
    }
    await context.secrets.removeRotationPart(record.id, 'new')
    await context.secrets.removeRotationPart(record.id, 'previous')
    record.pruned = true
    await transition(record, 'rolled-back', changed ? 'the old password is the only one again' : 'the new password was discarded', context)
  } catch (error) {
    throw stopped(error, record)
  }
  return report(record, checks, [], false)
}

/** Sessions from before the switch, waited for up to --discard-after. */
async function awaitStragglers(record: RotationRecord, adapter: AccountAdapter, context: RotationContext): Promise<StraggleSession[]> {
  const deadline = Date.now() + record.discardAfterMs
  for (;;) {
    const sessions = await adapter.sessionsBefore(record.sessionMark ?? {})
    if (sessions.length === 0 || Date.now() >= deadline || record.forceDiscard) return sessions
    await pause(Math.min(250, deadline - Date.now()), context.signal)
  }
}

async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw signal.reason
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
}

const describeSessions = (sessions: StraggleSession[]) =>
  sessions
    .slice(0, 5)
    .map((session) => `${session.address} id ${session.id} from ${session.client}`)
    .join(', ') + (sessions.length > 5 ? `, and ${sessions.length - 5} more` : '')

/** Envelopes of rotations done longer ago than their retention: rollback is no longer offered for them. */
async function pruneExpired(context: RotationContext): Promise<void> {
  for (const record of await context.journal.list()) {
    if (record.state !== 'done' || record.pruned || !record.retainUntil || Date.parse(record.retainUntil) > Date.now()) continue
    await context.secrets.removeRotationPart(record.id, 'new')
    await context.secrets.removeRotationPart(record.id, 'previous')
    record.pruned = true
    await context.journal.save(record)
  }
}

function planOf(record: {secret: string}, adapter: AccountAdapter, secretExisted: boolean): Omit<RotationPlan, 'steps'> {
  return {engine: adapter.engine, account: adapter.account, secret: record.secret, secretExisted, nodes: adapter.nodes, warnings: [...adapter.warnings]}
}

function report(record: RotationRecord, checks: NodeCheck[], lingering: StraggleSession[], resumed: boolean): RotationReport {
  return {
    id: record.id,
    engine: record.engine,
    account: record.account,
    secret: record.secret,
    state: record.state,
    nodes: record.nodes,
    checks,
    oldPasswordSessions: lingering,
    warnings: record.warnings,
    ...(record.retainUntil ? {retainUntil: record.retainUntil} : {}),
    resumed,
    history: record.history,
  }
}
