/**
 * The rows of a MySQL chunk, in the format LOAD DATA reads with its defaults: fields end with a tab,
 * rows with a newline, `\` escapes a backslash, tab or newline inside a value, and `\N` is NULL. A
 * value is the bytes the server holds (the dump reads with character_set_results = binary and the
 * restore loads with CHARACTER SET binary), so no character set conversion touches it; a number is
 * the server's own text of it (FLOAT read as the DOUBLE it is exactly, whose text round-trips).
 * docs/backup-mysql.md.
 */
export const CHUNK_FORMAT = 'mysql-load-data-v1'
/** The LOAD DATA clauses that read this format; the statement names the columns after it. */
export const LOAD_DATA_FORMAT = "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'"

import type {RowFeed} from '../../connect/drivers/mysql.ts'

const TAB = 0x09
const NEWLINE = 0x0a
const BACKSLASH = 0x5c
/** A piece handed downstream is about this big. */
export const PIECE_BYTES = 1 << 20
/** Room beyond a piece for the row that crosses it; a bigger row grows the buffer. Every piece is garbage once written, so none is allocated bigger than it needs to be. */
const PIECE_SLACK = 64 * 1024

/** Values up to this long are escaped byte by byte; longer ones are copied between the bytes that need escaping. */
const SHORT_VALUE = 256
const LENGTH_NULL = 0xfb
const LENGTH_2 = 0xfc
const LENGTH_3 = 0xfd

/**
 * Encodes rows straight from the server's text-protocol row packets (see MysqlSession.rawRows) and
 * collects them into pieces of about 1 MiB, so the stream downstream sees few, large writes. This is
 * the dump's hottest loop: every byte of every row passes here once, and no value becomes an object.
 */
export class RowEncoder {
  /** Rows and plain bytes handed out by take(). */
  rows = 0
  bytes = 0
  private pendingRows = 0
  private buffer = Buffer.allocUnsafe(PIECE_BYTES + PIECE_SLACK)
  private used = 0

  /** One row packet's values, `packet[start, end)`: each a length-encoded string, or 0xFB for NULL. */
  addPacket(packet: Buffer, start: number, end: number): void {
    // Worst case per value: a one-byte NULL becomes a tab and \N; any other byte at most doubles.
    const need = 3 * (end - start) + 1
    if (this.used + need > this.buffer.length) this.grow(need)
    const out = this.buffer
    let used = this.used
    let at = start
    while (at < end) {
      if (at > start) out[used++] = TAB
      const first = packet[at++]!
      if (first === LENGTH_NULL) {
        out[used++] = BACKSLASH
        out[used++] = 0x4e
        continue
      }
      let length = first
      if (first === LENGTH_2) {
        length = packet.readUInt16LE(at)
        at += 2
      } else if (first === LENGTH_3) {
        length = packet.readUIntLE(at, 3)
        at += 3
      } else if (first > LENGTH_3) {
        length = Number(packet.readBigUInt64LE(at))
        at += 8
      }
      const stop = at + length
      if (length <= SHORT_VALUE) {
        for (; at < stop; at++) {
          const b = packet[at]!
          if (b === TAB || b === NEWLINE || b === BACKSLASH) {
            out[used++] = BACKSLASH
            out[used++] = b === TAB ? 0x74 : b === NEWLINE ? 0x6e : BACKSLASH
          } else out[used++] = b
        }
        continue
      }
      let from = at
      for (; at < stop; at++) {
        const b = packet[at]!
        if (b !== TAB && b !== NEWLINE && b !== BACKSLASH) continue
        if (at > from) used += packet.copy(out, used, from, at)
        out[used++] = BACKSLASH
        out[used++] = b === TAB ? 0x74 : b === NEWLINE ? 0x6e : BACKSLASH
        from = at + 1
      }
      if (stop > from) used += packet.copy(out, used, from, stop)
    }
    out[used++] = NEWLINE
    this.used = used
    this.pendingRows++
  }

  /** What has been collected since the last call, and how many rows it holds; undefined when nothing. */
  take(): {piece: Buffer; rows: number} | undefined {
    if (this.used === 0) return undefined
    const taken = {piece: this.buffer.subarray(0, this.used), rows: this.pendingRows}
    this.bytes += this.used
    this.rows += this.pendingRows
    this.buffer = Buffer.allocUnsafe(PIECE_BYTES + PIECE_SLACK)
    this.used = 0
    this.pendingRows = 0
    return taken
  }

  get pending(): number {
    return this.used
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + need))
    this.buffer.copy(bigger, 0, 0, this.used)
    this.buffer = bigger
  }
}

/** How many encoded pieces may wait for the chunk writer before the server's feed is paused. */
const QUEUED_PIECES = 4

/**
 * The rows of one statement, encoded as they arrive and handed out piece by piece to whoever pulls:
 * the feed pushes, the chunk writers pull, and the feed is paused while QUEUED_PIECES wait.
 */
export function encodeRows(open: (onRow: (packet: Buffer, start: number, end: number) => void) => RowFeed): {next(): Promise<{piece: Buffer; rows: number} | undefined>} {
  const encoder = new RowEncoder()
  const queue: Array<{piece: Buffer; rows: number}> = []
  let ended = false
  let failed = false
  let failure: unknown
  let paused = false
  let wake: (() => void) | undefined
  const notify = () => {
    const waiting = wake
    wake = undefined
    waiting?.()
  }
  const feed: RowFeed = open((packet, start, end) => {
    encoder.addPacket(packet, start, end)
    if (encoder.pending < PIECE_BYTES) return
    queue.push(encoder.take()!)
    if (queue.length >= QUEUED_PIECES && !paused) {
      paused = true
      feed.pause()
    }
    notify()
  })
  feed.done.then(
    () => {
      const rest = encoder.take()
      if (rest) queue.push(rest)
      ended = true
      notify()
    },
    (error: unknown) => {
      failed = true
      failure = error
      notify()
    },
  )
  return {
    async next() {
      while (queue.length === 0) {
        if (failed) throw failure
        if (ended) return undefined
        await new Promise<void>((resolve) => (wake = resolve))
      }
      const piece = queue.shift()!
      if (paused && queue.length <= QUEUED_PIECES / 2) {
        paused = false
        feed.resume()
      }
      return piece
    },
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
