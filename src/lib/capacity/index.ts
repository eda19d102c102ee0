import {usageError} from '../core/errors.ts'
import {formatBytes} from '../core/text.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {mysqlCapacity, type MysqlCapacityOptions} from './mysql.ts'
import type {Figure, InstanceCapacity} from './report.ts'

export type {Figure, InstanceCapacity, TableCapacity} from './report.ts'

export type CapacityOptions = MysqlCapacityOptions

export async function capacityReport(target: ConnectionTarget, options: CapacityOptions): Promise<InstanceCapacity> {
  switch (target.engine) {
    case 'mysql':
      return mysqlCapacity(target, options)
    default:
      throw usageError('CAPACITY_UNSUPPORTED_ENGINE', `capacity reports for ${target.engine} are not built yet`, {hint: 'MySQL and MariaDB are supported'})
  }
}

/** The disk's used share, when both figures are known. */
export function diskUsedPercent(report: InstanceCapacity): number | null {
  const {disk} = report
  if (!disk || disk.total.value === null || disk.used.value === null || disk.total.value === 0) return null
  return (disk.used.value / disk.total.value) * 100
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
