/**
 * What is known of a database's tables, from a live server or a snapshot file. It lives with the
 * SQL layer because audit rules, online schema change and capacity all read it.
 */
export interface TableStats {
  rows?: number
  dataBytes?: number
  indexBytes?: number
}

export interface ColumnInfo {
  name: string
  type: string
  nullable: boolean
  default?: string | null
  /** Character columns only, as the server reports them (lower case): what a MODIFY may or may not change. */
  charset?: string
  collation?: string
}

export interface IndexInfo {
  name: string
  columns: string[]
  unique: boolean
  cardinality?: number
  /** BTREE, FULLTEXT, SPATIAL, HASH: a FULLTEXT index makes some instant changes rebuild the table. */
  type?: string
}

export interface TableInfo {
  schema?: string
  name: string
  engine?: string
  /** Default collation, which columns restated without a character set take. */
  collation?: string
  /** Dynamic, Compact, Redundant, Compressed: what InnoDB can change in place depends on it. */
  rowFormat?: string
  columns: ColumnInfo[]
  indexes: IndexInfo[]
  stats?: TableStats
}

export interface SchemaView {
  table(name: string, schema?: string): TableInfo | undefined
}

