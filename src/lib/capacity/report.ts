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

/** One Redis database: its keys, and their memory by namespace (from a sample, or from every key). */
export interface KeyspaceCapacity {
  db: number
  keys: Figure
  expires: Figure
  /** Keys measured; the totals are extrapolated from them unless every key was. */
  sampled: number
  bytes: Figure
  /** Memory held by keys with a TTL: freed as they expire. */
  freedByTtl: Figure
  prefixes: Array<{prefix: string; keys: Figure; bytes: Figure; freedByTtl: Figure; types: string[]}>
  /** The biggest keys of those measured. */
  biggest: Array<{key: string; bytes: Figure; type: string}>
}

export interface InstanceCapacity {
  instance: string
  engine: string
  version: string
  takenAt: string
  disk: {total: Figure; used: Figure; path: string} | null
  /** Redis: used_memory against maxmemory (or the host's memory when there is no maxmemory). */
  /** `evicts`: maxmemory is set, so Redis evicts (or refuses writes) before the host runs out. */
  memory?: {used: Figure; limit: Figure; evicts: boolean; fragmentation: number}
  binlogs: Figure
  tables: TableCapacity[]
  keyspaces?: KeyspaceCapacity[]
  /** A score with its explained components (capacity/health.ts). */
  health?: import('./health.ts').Health
  warnings: string[]
}
