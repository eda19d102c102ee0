import {openRedis, parseRedisPairs, type RedisSession} from '../connect/drivers/redis.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {Figure, InstanceCapacity, KeyspaceCapacity} from './report.ts'

export interface RedisCapacityOptions {
  /** Keys sampled per database (RANDOMKEY, uniform): the prefix totals are extrapolated from them. 0: every key (SCAN). */
  sampleKeys: number
  /** A key's namespace: the part before the last `delimiter`, at most `depth` parts. */
  delimiter: string
  depth: number
  /** Keys asked about per round trip, and the pause after each, so a busy server is not crowded. */
  batch: number
  pauseMs: number
}

const exact = (value: number | null, source: string): Figure => ({value, exact: true, source})
const estimate = (value: number | null, source: string): Figure => ({value, exact: false, source})

/** `user:42:profile` → `user:42` at depth 2, `user` at depth 1; a key without the delimiter is its own group. */
export function prefixOf(key: string, delimiter: string, depth: number): string {
  const parts = key.split(delimiter)
  if (parts.length === 1) return '(no prefix)'
  return parts.slice(0, Math.min(depth, parts.length - 1)).join(delimiter)
}

interface KeyFacts {
  key: string
  bytes: number
  type: string
  ttlMs: number
}

/**
 * Memory against maxmemory, keys per database, and by namespace: from a uniform sample of keys
 * (RANDOMKEY), each measured with MEMORY USAGE ... SAMPLES 0, the totals extrapolated to the
 * database's key count and marked as estimates with the sample's size; or, with sampleKeys 0, from
 * every key (SCAN), exact.
 */
export async function redisCapacity(target: ConnectionTarget, options: RedisCapacityOptions): Promise<InstanceCapacity> {
  const session = await openRedis(target)
  const warnings: string[] = []
  try {
    const memory = await session.info('memory')
    const keyspace = await session.info('keyspace')
    const used = Number(memory.used_memory)
    const maxmemory = Number(memory.maxmemory ?? 0)
    const system = Number(memory.total_system_memory ?? 0)
    if (!maxmemory) warnings.push(`maxmemory is not set: usage is measured against the host's ${system ? `${Math.round(system / 2 ** 30)} GiB of ` : ''}memory, and Redis would use it all before evicting anything`)
    const keyspaces: KeyspaceCapacity[] = []
    for (const [name, value] of Object.entries(keyspace)) {
      const db = Number(/^db(\d+)$/.exec(name)?.[1])
      if (!Number.isInteger(db)) continue
      const fields = parseRedisPairs(value, ',')
      keyspaces.push(await measureDatabase(session, db, Number(fields.keys ?? 0), Number(fields.expires ?? 0), options))
    }
    return {
      instance: target.profile ?? target.label,
      engine: session.identity.flavor,
      version: session.identity.version,
      takenAt: new Date().toISOString(),
      disk: null,
      memory: {used: exact(used, 'INFO memory used_memory'), limit: maxmemory ? exact(maxmemory, 'maxmemory') : exact(system || null, 'INFO memory total_system_memory (no maxmemory)'), evicts: maxmemory > 0, fragmentation: Number(memory.mem_fragmentation_ratio ?? 0)},
      binlogs: exact(null, 'not a MySQL server'),
      tables: [],
      keyspaces,
      warnings,
    }
  } finally {
    await session.close()
  }
}

/** The pause between batches that keeps a busy server uncrowded. */
const rest = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve())

async function measureDatabase(session: RedisSession, db: number, keys: number, expires: number, options: RedisCapacityOptions): Promise<KeyspaceCapacity> {
  const client = session.client
  await client.select(db)
  const names: string[] = []
  if (options.sampleKeys === 0) {
    let cursor = '0'
    do {
      const [next, found] = await client.scan(cursor, 'COUNT', options.batch)
      names.push(...found)
      cursor = next
      await rest(options.pauseMs)
    } while (cursor !== '0')
  } else {
    for (let taken = 0; taken < options.sampleKeys && keys > 0; taken += options.batch) {
      const pipeline = client.pipeline()
      for (let i = 0; i < Math.min(options.batch, options.sampleKeys - taken); i++) pipeline.randomkey()
      for (const [, key] of (await pipeline.exec()) ?? []) if (typeof key === 'string') names.push(key)
      await rest(options.pauseMs)
    }
  }
  const facts: KeyFacts[] = []
  for (let start = 0; start < names.length; start += options.batch) {
    const slice = names.slice(start, start + options.batch)
    const pipeline = client.pipeline()
    for (const key of slice) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0').type(key).pttl(key)
    const replies = (await pipeline.exec()) ?? []
    slice.forEach((key, index) => {
      const [bytes, type, ttl] = [replies[index * 3]?.[1], replies[index * 3 + 1]?.[1], replies[index * 3 + 2]?.[1]]
      // A key that expired or was deleted between the two calls has no size: it is left out.
      if (typeof bytes === 'number') facts.push({key, bytes, type: String(type), ttlMs: Number(ttl)})
    })
    await rest(options.pauseMs)
  }
  const scale = options.sampleKeys === 0 || facts.length === 0 ? 1 : keys / facts.length
  /**
   * `hits`: sampled keys that fell in the namespace. Its count is binomial, so the extrapolation's
   * 95% margin is about 1.96·√((1−p)/hits): a namespace few sampled keys fall in is rough, and says so.
   */
  const figure = (value: number, hits?: number) => {
    if (options.sampleKeys === 0) return exact(value, 'every key (SCAN, MEMORY USAGE)')
    const margin = hits ? ` ${hits} in this namespace, about ±${Math.round(196 * Math.sqrt(Math.max(0, 1 - hits / facts.length) / hits))}% at 95%` : ''
    return estimate(value * scale, `${facts.length} keys sampled of ${keys} (RANDOMKEY, MEMORY USAGE)${margin && `;${margin}`}`)
  }
  const groups = new Map<string, {keys: number; bytes: number; withTtl: number; types: Set<string>}>()
  for (const fact of facts) {
    const prefix = prefixOf(fact.key, options.delimiter, options.depth)
    const group = groups.get(prefix) ?? {keys: 0, bytes: 0, withTtl: 0, types: new Set<string>()}
    group.keys++
    group.bytes += fact.bytes
    if (fact.ttlMs > 0) group.withTtl += fact.bytes
    group.types.add(fact.type)
    groups.set(prefix, group)
  }
  const biggest = [...facts].sort((a, b) => b.bytes - a.bytes).slice(0, 20)
  return {
    db,
    keys: exact(keys, 'INFO keyspace'),
    expires: exact(expires, 'INFO keyspace'),
    sampled: facts.length,
    bytes: figure(facts.reduce((sum, fact) => sum + fact.bytes, 0)),
    freedByTtl: figure(facts.filter((fact) => fact.ttlMs > 0).reduce((sum, fact) => sum + fact.bytes, 0)),
    prefixes: [...groups.entries()]
      .map(([prefix, group]) => ({prefix, keys: figure(group.keys, group.keys), bytes: figure(group.bytes, group.keys), freedByTtl: figure(group.withTtl, group.keys), types: [...group.types].sort()}))
      .sort((a, b) => (b.bytes.value ?? 0) - (a.bytes.value ?? 0)),
    biggest: biggest.map((fact) => ({key: fact.key, bytes: exact(fact.bytes, 'MEMORY USAGE SAMPLES 0'), type: fact.type})),
  }
}
