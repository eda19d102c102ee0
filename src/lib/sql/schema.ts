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
}

export interface IndexInfo {
  name: string
  columns: string[]
  unique: boolean
  cardinality?: number
}

export interface TableInfo {
  schema?: string
  name: string
  engine?: string
  columns: ColumnInfo[]
  indexes: IndexInfo[]
  stats?: TableStats
}

export interface SchemaView {
  table(name: string, schema?: string): TableInfo | undefined
}

