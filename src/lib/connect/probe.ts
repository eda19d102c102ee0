import {performance} from 'node:perf_hooks'
import {capabilitiesOf, hasCapability, type Capabilities, type Flavor} from './capabilities.ts'
import {connectionFailure} from './failure.ts'
import type {ConnectionTarget} from './target.ts'

export type Role = 'primary' | 'replica' | 'unknown'

export interface ReplicationState {
  /** host:port of the server this replica follows. */
  source: string | null
  /** Both replication threads (or the Redis link / Mongo member state) are running. */
  running: boolean
  state: string
  /**
   * Redis: seconds since the replica last heard anything from its primary (master_last_io_seconds_ago).
   * Not lag: an idle primary pings only every repl-ping-replica-period (10 s by default), so a
   * caught-up replica shows up to that many seconds here.
   */
  lastIoSecondsAgo?: number | null
  /** Redis: replication stream offset the replica has applied (slave_repl_offset). */
  offset?: number | null
  /** Redis: the primary's master_repl_offset, asked of the primary itself; null when it could not be asked. */
  sourceOffset?: number | null
}

export interface ServerReport {
  profile: string | null
  endpoint: string
  engine: ConnectionTarget['engine']
  flavor: Flavor
  version: string
  role: Role
  /**
   * Seconds the replica is behind its source, as the server measures it (MySQL/MariaDB
   * Seconds_Behind_Source, MongoDB optime difference); null on a primary, when replication is
   * stopped, and on Redis, which measures no time lag.
   */
  replicaLagSeconds: number | null
  /**
   * Redis: bytes of the primary's replication stream the replica has not applied (sourceOffset minus
   * offset); 0 on a caught-up replica. Null elsewhere, and when the primary could not be asked.
   */
  replicaLagBytes: number | null
  replication: ReplicationState | null
  /** Median of three round trips of a no-op command, in milliseconds. */
  latencyMs: number
  capabilities: Capabilities
  notes: string[]
}

async function medianRoundTrip(ping: () => Promise<unknown>): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < 3; i++) {
    const started = performance.now()
    await ping()
    samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  return Math.round((samples[1] ?? 0) * 100) / 100
}

const numberOrNull = (value: unknown): number | null => {
  if (value === null || value === undefined || value === '') return null
  const number = Number(value)
  return Number.isFinite(number) ? number : null
}

/**
 * Connects and reports what a DBA checks first: which server this is, whether it is a primary or a
 * replica (and how far behind), and how long a round trip takes.
 */
export async function probeServer(target: ConnectionTarget): Promise<ServerReport> {
  const base = {profile: target.profile ?? null, endpoint: target.label, engine: target.engine, notes: [] as string[]}
  switch (target.engine) {
    case 'mysql':
      return {...base, ...(await probeMysql(target, base.notes))}
    case 'redis':
      return {...base, ...(await probeRedis(target, base.notes))}
    case 'mongodb':
      return {...base, ...(await probeMongo(target))}
  }
}

type Probed = Omit<ServerReport, 'profile' | 'endpoint' | 'engine' | 'notes'>

/** Runs `read` on an open session: a driver error becomes a connection failure naming the target, and the session is closed either way. */
async function withSession<Session extends {close(): Promise<void>}, T>(target: ConnectionTarget, session: Session, read: (session: Session) => Promise<T>): Promise<T> {
  try {
    return await read(session)
  } catch (error) {
    throw connectionFailure(target, error)
  } finally {
    await session.close()
  }
}

async function probeMysql(target: ConnectionTarget, notes: string[]): Promise<Probed> {
  const {openMysql} = await import('./drivers/mysql.ts')
  return withSession(target, await openMysql(target), async (session) => {
    const {identity} = session
    const latencyMs = await medianRoundTrip(() => session.query('SELECT 1'))
    const statement =
      identity.flavor === 'mariadb'
        ? hasCapability(identity, 'replicaKeyword') ? 'SHOW ALL REPLICAS STATUS' : 'SHOW ALL SLAVES STATUS'
        : hasCapability(identity, 'replicaKeyword') ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS'
    let channels: Array<Record<string, unknown>>
    try {
      channels = await session.query(statement)
    } catch (error) {
      if ((error as {errno?: number}).errno === 1227) {
        notes.push(`role unknown: ${statement} needs the REPLICATION CLIENT (MariaDB: SLAVE MONITOR) privilege`)
        return {...identity, role: 'unknown', replicaLagSeconds: null, replicaLagBytes: null, replication: null, latencyMs, capabilities: capabilitiesOf(identity)}
      }
      throw error
    }
    const channel = channels[0]
    if (!channel) {
      return {...identity, role: 'primary', replicaLagSeconds: null, replicaLagBytes: null, replication: null, latencyMs, capabilities: capabilitiesOf(identity)}
    }
    if (channels.length > 1) notes.push(`${channels.length} replication channels; showing the first`)
    const field = (...names: string[]) => names.map((name) => channel[name]).find((value) => value !== undefined)
    const io = String(field('Replica_IO_Running', 'Slave_IO_Running') ?? '')
    const sql = String(field('Replica_SQL_Running', 'Slave_SQL_Running') ?? '')
    const sourceHost = field('Source_Host', 'Master_Host')
    const sourcePort = field('Source_Port', 'Master_Port')
    return {
      ...identity,
      role: 'replica',
      replicaLagSeconds: numberOrNull(field('Seconds_Behind_Source', 'Seconds_Behind_Master')),
      replicaLagBytes: null,
      replication: {
        source: sourceHost ? `${sourceHost}:${sourcePort}` : null,
        running: io === 'Yes' && sql === 'Yes',
        state: `io=${io || '?'} sql=${sql || '?'}`,
      },
      latencyMs,
      capabilities: capabilitiesOf(identity),
    }
  })
}

async function probeRedis(target: ConnectionTarget, notes: string[]): Promise<Probed> {
  const {openRedis} = await import('./drivers/redis.ts')
  return withSession(target, await openRedis(target), async (session) => {
    const {identity} = session
    const latencyMs = await medianRoundTrip(() => session.client.ping())
    const replication = await session.info('replication')
    const capabilities = capabilitiesOf(identity)
    if (replication.role !== 'slave') {
      return {...identity, role: 'primary', replicaLagSeconds: null, replicaLagBytes: null, replication: null, latencyMs, capabilities}
    }
    const linkUp = replication.master_link_status === 'up'
    const source = replication.master_host ? {host: replication.master_host, port: Number(replication.master_port)} : undefined
    // A replica knows only its own offset, so the primary's is asked of the primary, first: whatever
    // the primary had then, a caught-up replica has applied by the time it is asked again.
    const sourceOffset = linkUp && source ? await redisSourceOffset(target, source, replication.master_replid, notes) : null
    const offset = numberOrNull(sourceOffset === null ? replication.slave_repl_offset : (await session.info('replication')).slave_repl_offset)
    return {
      ...identity,
      role: 'replica',
      replicaLagSeconds: null,
      replicaLagBytes: sourceOffset !== null && offset !== null ? Math.max(0, sourceOffset - offset) : null,
      replication: {
        source: source ? `${source.host}:${source.port}` : null,
        running: linkUp,
        state: `link=${replication.master_link_status ?? '?'}${replication.master_sync_in_progress === '1' ? ' syncing' : ''}`,
        lastIoSecondsAgo: linkUp ? numberOrNull(replication.master_last_io_seconds_ago) : null,
        offset,
        sourceOffset,
      },
      latencyMs,
      capabilities,
    }
  })
}

/** Waiting longer than this for the primary would hold up a report that is about the replica. */
const SOURCE_CONNECT_TIMEOUT_MS = 3000

/**
 * The primary's replication offset, read with the replica profile's user, password and TLS. Null,
 * with a note saying why, when the primary cannot be reached from here or follows another history
 * (its replication id differs, as after a failover the replica has not caught up with).
 */
async function redisSourceOffset(target: ConnectionTarget, source: {host: string; port: number}, replicaReplId: string | undefined, notes: string[]): Promise<number | null> {
  const {openRedis} = await import('./drivers/redis.ts')
  const where = `${source.host.includes(':') ? `[${source.host}]` : source.host}:${source.port}`
  const params = {...target.url.params}
  delete params.socket
  const primaryTarget: ConnectionTarget = {
    ...target,
    url: {...target.url, hosts: [source], params},
    connectTimeoutMs: Math.min(target.connectTimeoutMs, SOURCE_CONNECT_TIMEOUT_MS),
    label: target.user ? `${target.user}@${where}` : where,
  }
  try {
    const primary = await openRedis(primaryTarget)
    try {
      const info = await primary.info('replication')
      if (replicaReplId !== undefined && info.master_replid !== replicaReplId) {
        notes.push(`lag in bytes unknown: the primary ${where} has another replication id than this replica`)
        return null
      }
      return numberOrNull(info.master_repl_offset)
    } finally {
      await primary.close()
    }
  } catch (error) {
    notes.push(`lag in bytes unknown: could not ask the primary ${where} for its offset (${(error as Error).message.split('\n')[0]})`)
    return null
  }
}

interface MongoMember {
  self?: boolean
  stateStr?: string
  name?: string
  optimeDate?: Date
}

async function probeMongo(target: ConnectionTarget): Promise<Probed> {
  const {openMongo} = await import('./drivers/mongo.ts')
  return withSession(target, await openMongo(target), async (session) => {
    const {identity} = session
    const latencyMs = await medianRoundTrip(() => session.admin({ping: 1}))
    const hello = await session.admin(hasCapability(identity, 'helloCommand') ? {hello: 1} : {isMaster: 1})
    const capabilities = capabilitiesOf(identity)
    if (hello.secondary !== true) {
      return {...identity, role: 'primary', replicaLagSeconds: null, replicaLagBytes: null, replication: null, latencyMs, capabilities}
    }
    const status = await session.admin({replSetGetStatus: 1})
    const members = (status.members ?? []) as MongoMember[]
    const self = members.find((member) => member.self)
    const primary = members.find((member) => member.stateStr === 'PRIMARY')
    const lag = self?.optimeDate && primary?.optimeDate ? Math.max(0, (primary.optimeDate.getTime() - self.optimeDate.getTime()) / 1000) : null
    return {
      ...identity,
      role: 'replica',
      replicaLagSeconds: lag,
      replicaLagBytes: null,
      replication: {source: primary?.name ?? null, running: self?.stateStr === 'SECONDARY', state: self?.stateStr ?? 'unknown'},
      latencyMs,
      capabilities,
    }
  })
}
