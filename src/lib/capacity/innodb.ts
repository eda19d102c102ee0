/**
 * What OPTIMIZE TABLE would leave of an InnoDB table: its records' bytes, packed as a sorted rebuild
 * packs them, in pages and extents. information_schema's DATA_FREE counts only free extents and
 * misses the half-empty pages a mass delete leaves (measured on MariaDB 10.11: 9.4 MB reported where
 * OPTIMIZE freed 53.5 MB), so the reclaimable space is the file size less this.
 */

export interface ColumnShape {
  name: string
  /** information_schema.COLUMNS.DATA_TYPE, lower case. */
  dataType: string
  /** COLUMN_TYPE, for DECIMAL(p,s), BIT(n), ENUM and SET. */
  columnType: string
  /** CHARACTER_OCTET_LENGTH: the most bytes a string column may take. */
  maxBytes: number | null
  precision: number | null
  scale: number | null
  datetimePrecision: number | null
  nullable: boolean
}

export interface IndexShape {
  name: string
  /** Columns in order, with a prefix length where the index takes one (SUB_PART, in characters). */
  columns: Array<{name: string; prefix: number | null}>
}

export interface TableShape {
  columns: ColumnShape[]
  /** PRIMARY first when there is one. */
  indexes: IndexShape[]
  /** Mean stored bytes of each variable-length column over a sample of rows (NULL counted as 0). */
  meanBytes: Record<string, number>
  rows: number
  pageSize: number
}

const PAGE_HEADERS = 38 + 56 + 26 + 8
/** A sorted rebuild leaves 1/16 of each clustered-index page free (innodb_fill_factor=100). */
const CLUSTERED_FILL = 15 / 16
/** Segments take whole extents and keep some in reserve: measured 1.15–1.22 pages per leaf after OPTIMIZE. */
const SEGMENT_SLACK = 1.15
/** The tablespace header, bitmap and inode pages, and each index's first pages. */
const FIXED_PAGES = 60
const EXTENT_PAGES = 64

const VARIABLE = new Set(['varchar', 'varbinary', 'tinytext', 'text', 'mediumtext', 'longtext', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'json', 'geometry', 'point', 'linestring', 'polygon'])

export const isVariable = (column: ColumnShape) => VARIABLE.has(column.dataType) || (column.dataType === 'char' && (column.maxBytes ?? 0) > charLength(column))

function charLength(column: ColumnShape): number {
  return Number(/\((\d+)\)/.exec(column.columnType)?.[1] ?? column.maxBytes ?? 1)
}

const fractional = (fsp: number | null) => Math.ceil((fsp ?? 0) / 2)

/** Stored bytes of a fixed-length column (InnoDB's on-page formats). */
export function fixedBytes(column: ColumnShape): number {
  switch (column.dataType) {
    case 'tinyint':
    case 'year':
      return 1
    case 'smallint':
      return 2
    case 'mediumint':
    case 'date':
      return 3
    case 'int':
    case 'integer':
    case 'float':
      return 4
    case 'bigint':
    case 'double':
    case 'real':
      return 8
    case 'datetime':
      return 5 + fractional(column.datetimePrecision)
    case 'timestamp':
      return 4 + fractional(column.datetimePrecision)
    case 'time':
      return 3 + fractional(column.datetimePrecision)
    case 'decimal':
    case 'numeric': {
      const digits = (p: number) => Math.floor(p / 9) * 4 + [0, 1, 1, 2, 2, 3, 3, 4, 4, 4][p % 9]!
      const scale = column.scale ?? 0
      return digits((column.precision ?? 10) - scale) + digits(scale)
    }
    case 'bit':
      return Math.ceil(Number(/\((\d+)\)/.exec(column.columnType)?.[1] ?? 1) / 8)
    case 'enum':
      return column.columnType.split(',').length > 255 ? 2 : 1
    case 'set':
      return Math.min(8, Math.ceil(column.columnType.split(',').length / 8))
    case 'char':
    case 'binary':
      return column.maxBytes ?? charLength(column)
    default:
      return column.maxBytes ?? 8
  }
}

/** Bytes of one column's value in a record, from the sample for variable-length ones. */
function valueBytes(column: ColumnShape, meanBytes: Record<string, number>, prefix: number | null = null): number {
  if (!isVariable(column)) return fixedBytes(column)
  const mean = meanBytes[column.name] ?? Math.min(column.maxBytes ?? 32, 32)
  // A CHAR in a multi-byte charset is variable-length but never shorter than its length in characters.
  const floor = column.dataType === 'char' ? charLength(column) : 0
  const bytes = Math.max(floor, mean)
  const capped = prefix === null ? bytes : Math.min(bytes, prefix * ((column.maxBytes ?? prefix) / Math.max(1, charLength(column))))
  return capped + ((column.maxBytes ?? 0) > 255 && capped > 127 ? 2 : 1)
}

function recordBytes(columns: ColumnShape[], meanBytes: Record<string, number>, prefixes: Map<string, number | null>, extra: number): number {
  const nullable = columns.filter((column) => column.nullable).length
  return 5 + Math.ceil(nullable / 8) + extra + columns.reduce((sum, column) => sum + valueBytes(column, meanBytes, prefixes.get(column.name) ?? null), 0)
}

/** Leaf pages of each index after a sorted rebuild. */
export function rebuiltLeafPages(table: TableShape): Record<string, number> {
  const byName = new Map(table.columns.map((column) => [column.name, column]))
  const primary = table.indexes.find((index) => index.name === 'PRIMARY')
  const keyColumns = primary ? primary.columns.map((part) => byName.get(part.name)).filter((column): column is ColumnShape => column !== undefined) : []
  const usable = table.pageSize - PAGE_HEADERS
  const pages: Record<string, number> = {}
  // The clustered record: every column, the transaction id and roll pointer (and a row id without a primary key).
  const clustered = recordBytes(table.columns, table.meanBytes, new Map(), 13 + (primary ? 0 : 6))
  pages.PRIMARY = Math.ceil((table.rows * (clustered + 2 / 6)) / (usable * CLUSTERED_FILL))
  for (const index of table.indexes) {
    if (index.name === 'PRIMARY') continue
    const own = index.columns.map((part) => byName.get(part.name)).filter((column): column is ColumnShape => column !== undefined)
    const columns = [...own, ...keyColumns.filter((column) => !own.includes(column))]
    const record = recordBytes(columns, table.meanBytes, new Map(index.columns.map((part) => [part.name, part.prefix])), primary ? 0 : 6)
    pages[index.name] = Math.ceil((table.rows * (record + 2 / 6)) / usable)
  }
  return pages
}

/** The .ibd file's size after OPTIMIZE TABLE: the rebuilt pages with their segments' slack, in whole extents. */
export function rebuiltFileBytes(table: TableShape): number {
  const leaves = Object.values(rebuiltLeafPages(table)).reduce((sum, pages) => sum + pages, 0)
  const pages = Math.ceil(leaves * SEGMENT_SLACK) + FIXED_PAGES
  return Math.ceil(pages / EXTENT_PAGES) * EXTENT_PAGES * table.pageSize
}
