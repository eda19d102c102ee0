import type {Redis} from 'ioredis'
import type {ServerIdentity} from '../capabilities.ts'
import {connectionFailure} from '../failure.ts'
import type {ConnectionTarget} from '../target.ts'
import {nodeTlsOptions} from './tls.ts'

export interface RedisSession {
  readonly identity: ServerIdentity
  readonly client: Redis
  /** INFO SECTION parsed into key/value pairs. */
  info(section: string): Promise<Record<string, string>>
  close(): Promise<void>
}

export function parseRedisInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colonAt = line.indexOf(':')
    if (colonAt > 0) fields[line.slice(0, colonAt)] = line.slice(colonAt + 1)
  }
  return fields
}

/**
 * `a=1,b=2` (an INFO field such as slave0 or db0) or `id=7 addr=… user=x` (a CLIENT LIST line, with
 * the separator ' ') as key/value pairs; a value may itself hold `=`.
 */
export function parseRedisPairs(text: string, separator: ',' | ' '): Record<string, string> {
  const pairs: Record<string, string> = {}
  for (const pair of text.split(separator)) {
    const equals = pair.indexOf('=')
    if (equals > 0) pairs[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  return pairs
}

/**
 * Opens one Redis connection that fails fast: no reconnect loop and no offline queue, so an
 * unreachable server is an error within the connect timeout rather than a hang.
 */
function createClient(Redis: typeof import('ioredis').Redis, target: ConnectionTarget, tls: Awaited<ReturnType<typeof nodeTlsOptions>>, extra: Record<string, unknown> = {}) {
  const host = target.url.hosts[0]
  return new Redis({
    ...(host ? {host: host.host, port: host.port} : {}),
    ...(target.url.params.socket ? {path: target.url.params.socket} : {}),
    ...(target.user === undefined ? {} : {username: target.user}),
    ...(target.password === undefined ? {} : {password: target.password}),
    db: target.url.database === undefined ? 0 : Number(target.url.database),
    ...(tls ? {tls} : {}),
    connectTimeout: target.connectTimeoutMs,
    commandTimeout: target.commandTimeoutMs,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    ...extra,
  })
}

/**
 * Opens one Redis connection that fails fast: no reconnect loop and no offline queue, so an
 * unreachable server is an error within the connect timeout rather than a hang.
 */
export async function openRedis(target: ConnectionTarget): Promise<RedisSession> {
  const {Redis} = await import('ioredis')
  const client = createClient(Redis, target, await nodeTlsOptions(target.tls))
  let lastError: unknown
  client.on('error', (error) => {
    lastError = error
  })
  const info = async (section: string) => parseRedisInfo(await client.info(section))
  try {
    await client.connect()
    const server = await info('server')
    const identity: ServerIdentity = {
      flavor: server.server_name === 'valkey' ? 'valkey' : 'redis',
      version: server.valkey_version ?? server.redis_version ?? '0',
    }
    return {identity, client, info, close: async () => void (await client.quit().catch(() => client.disconnect()))}
  } catch (error) {
    client.disconnect()
    throw connectionFailure(target, isUseful(error) ? error : (lastError ?? error))
  }
}

/**
 * Logs in and out, and nothing else: an application's user may be allowed no command at all
 * beyond AUTH (not INFO, not even PING), and its login is still what has to work.
 */
export async function checkRedisLogin(target: ConnectionTarget): Promise<void> {
  const {Redis} = await import('ioredis')
  const client = createClient(Redis, target, await nodeTlsOptions(target.tls), {enableReadyCheck: false})
  let lastError: unknown
  client.on('error', (error) => {
    lastError = error
  })
  try {
    await client.connect()
  } catch (error) {
    throw connectionFailure(target, isUseful(error) ? error : (lastError ?? error))
  } finally {
    client.disconnect()
  }
}

function isUseful(error: unknown): boolean {
  return !(error instanceof Error && /Connection is closed|Stream isn't writeable/.test(error.message))
}
