/** A number and how far to trust it: exact (read from the file or the server's own counter) or an estimate, and where it came from. */
export interface Figure {
  value: number | null
  exact: boolean
  source: string
}

export interface TableCapacity {
  database: string
  table: string
  engine: string
  /** The tablespace file's allocated size where there is one: the truth. */
  onDisk: Figure
  data: Figure
  indexes: Figure
  rows: Figure
  /** What OPTIMIZE TABLE would free. */
  reclaimable: Figure
  autoIncrement?: {next: number; max: number; columnType: string; usedPercent: number; exact: boolean}
}

export interface InstanceCapacity {
  instance: string
  engine: string
  version: string
  takenAt: string
  disk: {total: Figure; used: Figure; path: string} | null
  binlogs: Figure
  tables: TableCapacity[]
  warnings: string[]
}
