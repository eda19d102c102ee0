import {statfs} from 'node:fs/promises'
import {errnoOf, openMysql, permissionFailure, type MysqlSession} from '../connect/drivers/mysql.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {ident, qualified} from '../sql/identifiers.ts'
import {isVariable, rebuiltFileBytes, type ColumnShape, type IndexShape} from './innodb.ts'
import type {Figure, InstanceCapacity, TableCapacity} from './report.ts'

const SYSTEM = ['mysql', 'information_schema', 'performance_schema', 'sys']
const SYSTEM_LIST = SYSTEM.map((name) => `'${name}'`).join(', ')

export interface MysqlCapacityOptions {
  /** How many of the biggest tables get a sampled rebuild estimate of their reclaimable space. */
  sampleTables: number
  /** Rows read per sampled table. */
  sampleRows: number
  /** The disk's size when the server cannot say (a remote host without the DISKS plugin). */
  diskBytes?: number
  /** Refresh the sampled tables' statistics first (ANALYZE NO_WRITE_TO_BINLOG TABLE): row counts lag a mass delete. */
  analyze?: boolean
}

const exact = (value: number | null, source: string): Figure => ({value, exact: true, source})
const estimate = (value: number | null, source: string): Figure => ({value, exact: false, source})

/** The largest value an auto-increment column of this type can hold. */
export function autoIncrementMax(columnType: string): number {
  const unsigned = /unsigned/i.test(columnType)
  const bits = {tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64}[/^(\w+)/.exec(columnType.toLowerCase())?.[1] ?? 'bigint'] ?? 64
  return unsigned ? 2 ** bits - 1 : 2 ** (bits - 1) - 1
}

/** 'db/t#P#p0' (tablespace names are file names: @XXXX for what a file name cannot hold) as [db, table]. */
export function tablespaceTable(name: string): [string, string] | undefined {
  const decode = (part: string) => part.replace(/@([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  const slash = name.indexOf('/')
  if (slash < 0) return undefined
  return [decode(name.slice(0, slash)), decode(name.slice(slash + 1).replace(/#[pP]#.*$/, ''))]
}

/**
 * One instance's sizes in a bounded number of queries (tables, tablespaces, columns, indexes,
 * binlogs, disk: not one per table), plus one sample query for each of the biggest tables.
 */
export async function mysqlCapacity(target: ConnectionTarget, options: MysqlCapacityOptions): Promise<InstanceCapacity> {
  const session = await openMysql(target)
  const warnings: string[] = []
  try {
    const mariadb = session.identity.flavor === 'mariadb'
    const tables = await session.query<{db: string; name: string; engine: string | null; rows: string | null; data: string | null; indexes: string | null; free: string | null; autoIncrement: string | null}>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, ENGINE AS engine, TABLE_ROWS AS \`rows\`, DATA_LENGTH AS data, INDEX_LENGTH AS indexes, DATA_FREE AS free, AUTO_INCREMENT AS autoIncrement FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${SYSTEM_LIST})`,
    )
    const files = new Map<string, {file: number; allocated: number}>()
    for (const row of await session.query<{name: string; file: string; allocated: string}>(`SELECT NAME AS name, FILE_SIZE AS file, ALLOCATED_SIZE AS allocated FROM information_schema.${mariadb ? 'INNODB_SYS_TABLESPACES' : 'INNODB_TABLESPACES'}`).catch((error) => {
      warnings.push(`on-disk sizes unavailable (${(error as Error).message.split('\n')[0]}): the sizes below are information_schema's estimates; reading the tablespace views takes the PROCESS privilege`)
      return []
    })) {
      const table = tablespaceTable(row.name)
      if (!table) continue
      const key = JSON.stringify(table)
      const sum = files.get(key) ?? {file: 0, allocated: 0}
      files.set(key, {file: sum.file + Number(row.file), allocated: sum.allocated + Number(row.allocated)})
    }
    const columns = await session.query<{db: string; name: string; column: string; dataType: string; columnType: string; maxBytes: string | null; precision: string | null; scale: string | null; fsp: string | null; nullable: string; extra: string}>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, COLUMN_NAME AS \`column\`, LOWER(DATA_TYPE) AS dataType, COLUMN_TYPE AS columnType, CHARACTER_OCTET_LENGTH AS maxBytes, NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale, DATETIME_PRECISION AS fsp, IS_NULLABLE AS nullable, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN (${SYSTEM_LIST}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    )
    const indexParts = await session.query<{db: string; name: string; index: string; column: string; prefix: string | null}>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, INDEX_NAME AS \`index\`, COLUMN_NAME AS \`column\`, SUB_PART AS prefix FROM information_schema.STATISTICS WHERE TABLE_SCHEMA NOT IN (${SYSTEM_LIST}) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    )
    const shapes = new Map<string, {columns: ColumnShape[]; indexes: IndexShape[]; autoIncrementType?: string}>()
    const shapeOf = (db: string, name: string) => {
      const key = JSON.stringify([db, name])
      let shape = shapes.get(key)
      if (!shape) shapes.set(key, (shape = {columns: [], indexes: []}))
      return shape
    }
    for (const row of columns) {
      const shape = shapeOf(row.db, row.name)
      const number = (value: string | null) => (value === null ? null : Number(value))
      shape.columns.push({name: row.column, dataType: row.dataType, columnType: row.columnType, maxBytes: number(row.maxBytes), precision: number(row.precision), scale: number(row.scale), datetimePrecision: number(row.fsp), nullable: row.nullable === 'YES'})
      if (/auto_increment/i.test(row.extra)) shape.autoIncrementType = row.columnType
    }
    for (const row of indexParts) {
      const shape = shapeOf(row.db, row.name)
      let index = shape.indexes.find((each) => each.name === row.index)
      if (!index) shape.indexes.push((index = {name: row.index, columns: []}))
      index.columns.push({name: row.column, prefix: row.prefix === null ? null : Number(row.prefix)})
    }
    const [{pageSize}] = (await session.query<{pageSize: string}>('SELECT @@innodb_page_size AS pageSize')) as [{pageSize: string}]

    const report: TableCapacity[] = tables.map((row) => {
      const file = files.get(JSON.stringify([row.db, row.name]))
      const shape = shapes.get(JSON.stringify([row.db, row.name]))
      const data = Number(row.data ?? 0)
      const indexes = Number(row.indexes ?? 0)
      const auto = shape?.autoIncrementType && row.autoIncrement !== null ? {next: Number(row.autoIncrement), max: autoIncrementMax(shape.autoIncrementType), columnType: shape.autoIncrementType} : undefined
      return {
        database: row.db,
        table: row.name,
        engine: row.engine ?? '',
        onDisk: file ? exact(file.allocated || file.file, mariadb ? 'INNODB_SYS_TABLESPACES.ALLOCATED_SIZE' : 'INNODB_TABLESPACES.ALLOCATED_SIZE') : estimate(data + indexes + Number(row.free ?? 0), 'TABLES.DATA_LENGTH+INDEX_LENGTH+DATA_FREE'),
        data: estimate(data, 'TABLES.DATA_LENGTH'),
        indexes: estimate(indexes, 'TABLES.INDEX_LENGTH'),
        rows: estimate(Number(row.rows ?? 0), 'TABLES.TABLE_ROWS'),
        reclaimable: estimate(Number(row.free ?? 0), 'TABLES.DATA_FREE (free extents only)'),
        ...(auto ? {autoIncrement: {...auto, usedPercent: (auto.next / auto.max) * 100, exact: mariadb}} : {}),
      }
    })
    report.sort((a, b) => (b.onDisk.value ?? 0) - (a.onDisk.value ?? 0))
    for (const table of report.filter((each) => each.engine.toLowerCase() === 'innodb' && each.onDisk.exact).slice(0, options.sampleTables)) {
      const shape = shapes.get(JSON.stringify([table.database, table.table]))
      if (!shape) continue
      try {
        if (options.analyze) {
          await session.query(`ANALYZE NO_WRITE_TO_BINLOG TABLE ${qualified(table.database, table.table)}`)
          const [fresh] = await session.query<{rows: string}>('SELECT TABLE_ROWS AS `rows` FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [table.database, table.table])
          table.rows = estimate(Number(fresh?.rows ?? table.rows.value), 'TABLES.TABLE_ROWS after ANALYZE')
        }
        const meanBytes = await sampleMeans(session, table, shape.columns, options.sampleRows)
        const rebuilt = rebuiltFileBytes({columns: shape.columns, indexes: shape.indexes, meanBytes, rows: table.rows.value ?? 0, pageSize: Number(pageSize)})
        table.reclaimable = estimate(Math.max(0, (table.onDisk.value ?? 0) - rebuilt), `file size less a rebuild of ${table.rows.value} rows sized from ${options.sampleRows} sampled`)
      } catch (error) {
        warnings.push(`${table.database}.${table.table}: no sample (${(error as Error).message.split('\n')[0]}); its reclaimable space is DATA_FREE's, which misses half-empty pages`)
      }
    }
    const disk = await diskOf(session, target, options, warnings)
    const binlogs = await binlogBytes(session, warnings)
    if (disk && disk.used.value === null) {
      disk.used = estimate(report.reduce((sum, table) => sum + (table.onDisk.value ?? 0), 0) + (binlogs.value ?? 0), 'tables and binlogs (other files on the disk not counted)')
    }
    return {
      instance: target.profile ?? target.label,
      engine: session.identity.flavor,
      version: session.identity.version,
      takenAt: new Date().toISOString(),
      disk,
      binlogs,
      tables: report,
      warnings,
    }
  } catch (error) {
    throw permissionFailure(error, 'capacity reads information_schema (any account), the tablespace views (PROCESS) and SHOW BINARY LOGS (BINLOG MONITOR or REPLICATION CLIENT)', `reading sizes on ${target.label}`)
  } finally {
    await session.close()
  }
}

/** Mean stored bytes of each variable-length column over the first rows in key order. */
async function sampleMeans(session: MysqlSession, table: TableCapacity, columns: ColumnShape[], rows: number): Promise<Record<string, number>> {
  const variable = columns.filter(isVariable)
  if (variable.length === 0) return {}
  const inner = variable.map((column, index) => `${ident(column.name)} AS c${index}`).join(', ')
  const means = variable.map((_, index) => `AVG(COALESCE(LENGTH(c${index}), 0)) AS m${index}`).join(', ')
  const [row] = await session.query<Record<string, string | null>>(`SELECT ${means} FROM (SELECT ${inner} FROM ${qualified(table.database, table.table)} LIMIT ${Math.max(1, Math.floor(rows))}) AS sample`)
  return Object.fromEntries(variable.map((column, index) => [column.name, Number(row?.[`m${index}`] ?? 0)]))
}

async function binlogBytes(session: MysqlSession, warnings: string[]): Promise<Figure> {
  try {
    const logs = await session.query<{File_size: string | number}>('SHOW BINARY LOGS')
    return exact(logs.reduce((sum, log) => sum + Number(log.File_size), 0), 'SHOW BINARY LOGS')
  } catch (error) {
    if (errnoOf(error) === 1381) return exact(0, 'binary log off')
    warnings.push(`binlog space unknown: ${(error as Error).message.split('\n')[0]}`)
    return exact(null, 'SHOW BINARY LOGS')
  }
}

/**
 * The data directory's filesystem: from MariaDB's DISKS plugin where it is loaded, from this host
 * when the server is on it, else from --disk-size.
 */
async function diskOf(session: MysqlSession, target: ConnectionTarget, options: MysqlCapacityOptions, warnings: string[]): Promise<InstanceCapacity['disk']> {
  const [{datadir}] = (await session.query<{datadir: string}>('SELECT @@datadir AS datadir')) as [{datadir: string}]
  if (options.diskBytes !== undefined) return {total: exact(options.diskBytes, '--disk-size'), used: estimate(null, 'unknown'), path: datadir}
  const disks = await session.query<{path: string; total: string; used: string}>('SELECT Path AS path, Total AS total, Used AS used FROM information_schema.DISKS').catch(() => [])
  const mount = disks.filter((disk) => datadir.startsWith(disk.path)).sort((a, b) => b.path.length - a.path.length)[0]
  if (mount) return {total: exact(Number(mount.total) * 1024, 'information_schema.DISKS'), used: exact(Number(mount.used) * 1024, 'information_schema.DISKS'), path: datadir}
  const host = target.url.hosts[0]?.host
  if (!host || ['127.0.0.1', 'localhost', '::1'].includes(host)) {
    try {
      const fs = await statfs(datadir)
      return {total: exact(fs.blocks * fs.bsize, 'statfs on this host'), used: exact((fs.blocks - fs.bfree) * fs.bsize, 'statfs on this host'), path: datadir}
    } catch {
      // Not readable from here (another user's container, a mount namespace): fall through.
    }
  }
  warnings.push(`the size of the disk under ${datadir} is unknown: load MariaDB's DISKS plugin (INSTALL SONAME 'disks') or pass --disk-size`)
  return null
}
