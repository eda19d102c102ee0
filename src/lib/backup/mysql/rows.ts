/**
 * The rows of a MySQL chunk, in the format LOAD DATA reads with its defaults: fields end with a tab,
 * rows with a newline, `\` escapes a backslash, tab or newline inside a value, and `\N` is NULL. A
 * value is the bytes the server holds (the dump reads with character_set_results = binary and the
 * restore loads with CHARACTER SET binary), so no character set conversion touches it; numbers from
 * the binary protocol are printed so that they parse back to the same double. docs/backup-mysql.md.
 */
export const CHUNK_FORMAT = 'mysql-load-data-v1'
/** The LOAD DATA clauses that read this format; the statement names the columns after it. */
export const LOAD_DATA_FORMAT = "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'"

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
const NULL_FIELD = Buffer.from('\\N')
const PIECE_BYTES = 1 << 20

/** Collects encoded rows into pieces of about 1 MiB, so the stream downstream sees few, large writes. */
export class RowEncoder {
  rows = 0
  bytes = 0
  private buffer = Buffer.allocUnsafe(PIECE_BYTES)
  private used = 0

  add(row: readonly unknown[]): void {
    for (let i = 0; i < row.length; i++) {
      if (i > 0) this.byte(TAB)
      const value = row[i]
      if (value === null || value === undefined) this.copy(NULL_FIELD)
      else if (Buffer.isBuffer(value)) this.escaped(value)
      else if (typeof value === 'number') this.ascii(Object.is(value, -0) ? '-0' : String(value))
      else if (typeof value === 'bigint') this.ascii(String(value))
      else this.escaped(Buffer.from(String(value), 'utf8'))
    }
    this.byte(NEWLINE)
    this.rows++
  }

  /** What has been collected since the last call, or undefined. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined
    const piece = this.buffer.subarray(0, this.used)
    this.bytes += this.used
    this.buffer = Buffer.allocUnsafe(PIECE_BYTES)
    this.used = 0
    return piece
  }

  get pending(): number {
    return this.used
  }

  private room(n: number): void {
    if (this.used + n <= this.buffer.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + n))
    this.buffer.copy(bigger, 0, 0, this.used)
    this.buffer = bigger
  }

  private byte(b: number): void {
    this.room(1)
    this.buffer[this.used++] = b
  }

  private copy(bytes: Buffer): void {
    this.room(bytes.length)
    bytes.copy(this.buffer, this.used)
    this.used += bytes.length
  }

  private ascii(text: string): void {
    this.room(text.length)
    this.used += this.buffer.write(text, this.used, 'latin1')
  }

  private escaped(value: Buffer): void {
    // At most every byte doubles.
    this.room(value.length * 2)
    const out = this.buffer
    let used = this.used
    let start = 0
    for (let i = 0; i < value.length; i++) {
      const b = value[i]!
      if (b !== TAB && b !== NEWLINE && b !== BACKSLASH) continue
      if (i > start) used += value.copy(out, used, start, i)
      out[used++] = BACKSLASH
      out[used++] = b === TAB ? 0x74 : b === NEWLINE ? 0x6e : BACKSLASH
      start = i + 1
    }
    if (start < value.length) used += value.copy(out, used, start)
    this.used = used
  }
}

/** Counts rows in a chunk's plain bytes: every unescaped newline ends one, and newlines in values are escaped. */
export function countRows(): {update(plain: Buffer): void; rows(): number} {
  let rows = 0
  return {
    update(plain) {
      for (let at = plain.indexOf(NEWLINE); at !== -1; at = plain.indexOf(NEWLINE, at + 1)) rows++
    },
    rows: () => rows,
  }
}
