import {ident} from './identifiers.ts'

export interface DigestColumn {
  name: string
  /** FLOAT columns are hashed as DOUBLEs: their 6-digit text would hide a difference. */
  float: boolean
}

/**
 * The select list of an order-independent digest of a set of rows, computed by the server: the row
 * count and the XOR of a CRC32 per row over every column and whether it is NULL (so NULL and the
 * string 'NULL' differ). Two row sets with the same values give the same digest in any order.
 */
export function rowsDigest(columns: DigestColumn[]): string {
  const parts = columns.map((c) => `ISNULL(${ident(c.name)}), ${c.float ? `CAST(${ident(c.name)} AS DOUBLE)` : ident(c.name)}`)
  return `COUNT(*) AS n, COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', ${parts.join(', ')}))), 0) AS x`
}

export const isFloatType = (columnType: string) => /^float\b/i.test(columnType)
