import type {InstanceCapacity} from './report.ts'

export interface HealthComponent {
  name: 'usage' | 'auto-increment' | 'reclaimable' | 'eviction' | 'fragmentation'
  /** 0 (act now) to 100 (nothing to do). */
  score: number
  weight: number
  why: string
}

export interface Health {
  /** The components' weighted mean, 0–100. */
  score: number
  components: HealthComponent[]
}

/** 100 up to `good`, 0 from `bad` on, a straight line between. */
const scale = (value: number, good: number, bad: number) => Math.round(Math.max(0, Math.min(100, ((bad - value) / (bad - good)) * 100)))

/**
 * A score per instance from components that each say what they measured (docs/capacity.md):
 * usage of what runs out (the disk or maxmemory: full marks to 50%, none from 95%), the fullest
 * auto-increment column (to 50%, none from 90%), the share of the files OPTIMIZE would free (to 10%,
 * none from 50%), and for Redis whether it can evict (maxmemory set) and its fragmentation (to 1.5,
 * none from 3).
 */
export function healthOf(report: InstanceCapacity, usedPercent: number | null): Health {
  const components: HealthComponent[] = []
  if (usedPercent !== null) components.push({name: 'usage', score: scale(usedPercent, 50, 95), weight: 4, why: `${usedPercent.toFixed(1)}% of the ${report.memory ? 'memory limit' : 'disk'} used`})
  const fullest = report.tables.filter((table) => table.autoIncrement).sort((a, b) => b.autoIncrement!.usedPercent - a.autoIncrement!.usedPercent)[0]
  if (fullest) components.push({name: 'auto-increment', score: scale(fullest.autoIncrement!.usedPercent, 50, 90), weight: 2, why: `${fullest.database}.${fullest.table} has used ${fullest.autoIncrement!.usedPercent.toFixed(2)}% of its ${fullest.autoIncrement!.columnType}`})
  const onDisk = report.tables.reduce((sum, table) => sum + (table.onDisk.value ?? 0), 0)
  if (onDisk > 0) {
    const share = (report.tables.reduce((sum, table) => sum + (table.reclaimable.value ?? 0), 0) / onDisk) * 100
    components.push({name: 'reclaimable', score: scale(share, 10, 50), weight: 1, why: `${share.toFixed(1)}% of the table files would be freed by OPTIMIZE TABLE`})
  }
  if (report.memory) {
    const limited = report.memory.evicts
    components.push({name: 'eviction', score: limited ? 100 : 0, weight: 1, why: limited ? 'maxmemory is set' : 'no maxmemory: Redis grows until the host runs out of memory'})
    components.push({name: 'fragmentation', score: scale(report.memory.fragmentation, 1.5, 3), weight: 1, why: `mem_fragmentation_ratio ${report.memory.fragmentation}`})
  }
  const weight = components.reduce((sum, component) => sum + component.weight, 0)
  return {score: weight === 0 ? 100 : Math.round(components.reduce((sum, component) => sum + component.score * component.weight, 0) / weight), components}
}
