import {usageError} from '../core/errors.ts'
import {formatBytes} from '../core/text.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {mysqlCapacity, type MysqlCapacityOptions} from './mysql.ts'
import {redisCapacity, type RedisCapacityOptions} from './redis.ts'
import {healthOf} from './health.ts'
import type {Figure, InstanceCapacity} from './report.ts'

export type {Figure, InstanceCapacity, KeyspaceCapacity, TableCapacity} from './report.ts'
export type {Health} from './health.ts'

export type CapacityOptions = MysqlCapacityOptions & RedisCapacityOptions

export async function capacityReport(target: ConnectionTarget, options: CapacityOptions): Promise<InstanceCapacity> {
  const report = await (async () => {
    switch (target.engine) {
      case 'mysql':
        return mysqlCapacity(target, options)
      case 'redis':
        return redisCapacity(target, options)
      case 'mongodb': {
        const {mongoCapacity} = await import('./mongodb.ts')
        return mongoCapacity(target)
      }
      default:
        throw usageError('CAPACITY_UNSUPPORTED_ENGINE', `capacity reports for ${target.engine} are not built yet`, {hint: 'MySQL, MariaDB and Redis are supported'})
    }
  })()
  return {...report, health: healthOf(report, usedPercent(report))}
}

/** The used share of what runs out: the disk (MySQL), memory against maxmemory (Redis); null when unknown. */
export function usedPercent(report: InstanceCapacity): number | null {
  const pair = report.memory ? {total: report.memory.limit, used: report.memory.used} : report.disk
  if (!pair || pair.total.value === null || pair.used.value === null || pair.total.value === 0) return null
  return (pair.used.value / pair.total.value) * 100
}

/** A figure for people: estimates carry a leading ~. */
export const formatFigure = (figure: Figure, format: (value: number) => string = formatBytes) => (figure.value === null ? '?' : `${figure.exact ? '' : '~'}${format(figure.value)}`)

export function totals(report: InstanceCapacity) {
  const sum = (pick: (table: InstanceCapacity['tables'][number]) => Figure): Figure => {
    const figures = report.tables.map(pick)
    return {value: figures.reduce((total, figure) => total + (figure.value ?? 0), 0), exact: figures.every((figure) => figure.exact), source: figures[0]?.source ?? 'none'}
  }
  return {onDisk: sum((table) => table.onDisk), reclaimable: sum((table) => table.reclaimable)}
}

export {fileHistory, mysqlHistory, snapshotOf, type CapacityHistory, type Snapshot} from './history.ts'
export type {Crossing} from './forecast.ts'

export interface Forecast {
  instance: string
  engine: string
  snapshots: number
  since: string
  lastAt: string
  /** What runs out, its size at the last snapshot, and the threshold's share of it. */
  of: 'disk' | 'memory'
  total: number
  thresholdPercent: number
  limit: number
  used: number
  usedPercent: number
  /** The best-fitting growth first, then the others. */
  crossings: import('./forecast.ts').Crossing[]
  /** When the best fit reaches the threshold, from the last snapshot (ISO date), or null. */
  reachesAt: string | null
  /** The objects growing fastest, bytes per day. */
  drivers: Array<{object: string; perDay: number; bytes: number}>
}

/** Days until `thresholdPercent` of the disk, per instance, from its snapshots. */
export async function forecastInstance(snapshots: import('./history.ts').Snapshot[], thresholdPercent: number): Promise<Forecast> {
  const {crossings, linearCrossing, MIN_POINTS} = await import('./forecast.ts')
  const usable = snapshots.filter((snapshot) => snapshot.usage.used !== null && snapshot.usage.total !== null)
  const last = usable.at(-1)
  const instance = snapshots[0]?.instance ?? '?'
  if (!last || usable.length < MIN_POINTS.linear) {
    throw usageError('HISTORY_TOO_SHORT', `${instance} has ${usable.length} snapshot(s) with a disk or memory size; a forecast needs at least ${MIN_POINTS.linear} (${MIN_POINTS.ets} for exponential smoothing too)`, {
      hint: 'take one a day with `dbakit capacity snapshot` (from cron), then forecast',
    })
  }
  const points = usable.map((snapshot) => ({at: Date.parse(snapshot.takenAt), value: snapshot.usage.used!}))
  const limit = (last.usage.total! * thresholdPercent) / 100
  const fits = await crossings(points, limit)
  const best = fits[0]
  const drivers = Object.keys(last.objects)
    .map((object) => {
      const series = usable.filter((snapshot) => snapshot.objects[object] !== undefined).map((snapshot) => ({at: Date.parse(snapshot.takenAt), value: snapshot.objects[object]!}))
      return {object, perDay: series.length >= 2 ? linearCrossing(series, Number.MAX_SAFE_INTEGER).perDay : 0, bytes: last.objects[object]!}
    })
    .filter((driver) => driver.perDay > 0)
    .sort((a, b) => b.perDay - a.perDay)
    .slice(0, 5)
  const lastAt = Date.parse(last.takenAt)
  return {
    instance,
    engine: last.engine,
    snapshots: usable.length,
    since: usable[0]!.takenAt,
    lastAt: last.takenAt,
    of: last.usage.of,
    total: last.usage.total!,
    thresholdPercent,
    limit,
    used: last.usage.used!,
    usedPercent: (last.usage.used! / last.usage.total!) * 100,
    crossings: fits,
    reachesAt: best?.days === null || best?.days === undefined ? null : new Date(lastAt + best.days * 86_400_000).toISOString().slice(0, 10),
    drivers,
  }
}

export interface FleetEntry {
  instance: string
  report?: InstanceCapacity
  usedPercent?: number | null
  /** Why this instance has no report; the others go on. */
  error?: {code: string; message: string; exitCode: number}
}

/** One report per member, `concurrency` at a time; a member that fails is reported in its entry. */
export async function capacityFleet(members: Array<{name: string; target: () => Promise<ConnectionTarget>}>, options: CapacityOptions, concurrency: number): Promise<FleetEntry[]> {
  const {mapBounded} = await import('../core/concurrency.ts')
  const {isDbakitError} = await import('../core/errors.ts')
  return mapBounded(members, concurrency, async (member): Promise<FleetEntry> => {
    try {
      const report = await capacityReport(await member.target(), options)
      return {instance: member.name, report: {...report, instance: member.name}, usedPercent: usedPercent(report)}
    } catch (error) {
      if (!isDbakitError(error)) throw error
      return {instance: member.name, error: {code: error.code, message: error.message, exitCode: error.exitCode}}
    }
  })
}

export {forecastHtml, reportHtml} from './html.ts'
