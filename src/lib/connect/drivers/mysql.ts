import type {Connection, RowDataPacket} from 'mysql2/promise'
import {environmentError} from '../../core/errors.ts'
import {identifyMysqlFamily, type ServerIdentity} from '../capabilities.ts'
import {connectionFailure} from '../failure.ts'
import type {ConnectionTarget} from '../target.ts'
import {nodeTlsOptions} from './tls.ts'

export interface MysqlSession {
  readonly identity: ServerIdentity
  /** Runs one statement with the target's command timeout; rows come back as plain objects. */
  query<Row = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<Row[]>
  /** The same as a server-side prepared statement: values travel in binary, with no SQL text to parse. */
  execute<Row = Record<string, unknown>>(sql: string, values: unknown[]): Promise<Row[]>
  /**
   * A result's rows as the server sends them in the text protocol, each a run of length-encoded
   * values (0xFB for NULL) in `packet[start, end)`, valid only during the call: no value becomes an
   * object, which makes this several times faster than rows as arrays, for reading whole tables.
   * The caller pauses the feed while it cannot keep up, so memory stays flat. No command timeout.
   */
  rawRows(sql: string, onRow: (packet: Buffer, start: number, end: number) => void): RowFeed
  /** Runs a LOAD DATA LOCAL INFILE statement (`values` fill its `?`s, as for query); the server reads its file from `source`. */
  loadData(sql: string, values: unknown[], source: () => NodeJS.ReadableStream): Promise<{affectedRows: number; warningStatus: number}>
  close(): Promise<void>
  /** Drops the connection at once, as when a result is left half read. */
  destroy(): void
}

export interface RowFeed {
  pause(): void
  resume(): void
  /** Settles when the last row has been handed over, or with the statement's error. */
  readonly done: Promise<void>
}

/** The server's error number of a failed statement. */
export const errnoOf = (error: unknown): number | undefined => (error as {errno?: number}).errno

/** Access denied to a database, a table, a column, or for want of a privilege (SUPER and the like). */
const PERMISSION_ERRNOS = new Set([1044, 1142, 1143, 1227])

/**
 * A statement refused for a grant the account lacks, as exit 3 with the server's own words and
 * `needs`, every grant the operation takes; any other error is returned as it is.
 */
export function permissionFailure(error: unknown, needs: string, what?: string): unknown {
  if (!PERMISSION_ERRNOS.has(errnoOf(error) ?? 0)) return error
  return environmentError('PERMISSION_MISSING', `${what ? `${what}: ` : ''}${(error as Error).message}`, {hint: needs})
}

/** What rawRows relies on of mysql2's query command (lib/commands/query.js). */
interface QueryCommand {
  row(this: QueryCommand, packet: {buffer: Buffer; start: number; offset: number; end: number}, connection: unknown): unknown
  once(event: string, listener: (...args: never[]) => void): void
}

/** Opens one MySQL/MariaDB connection (mysql2 is imported only here, only when needed). */
export async function openMysql(target: ConnectionTarget): Promise<MysqlSession> {
  const {createConnection} = await import('mysql2/promise')
  const host = target.url.hosts[0]
  const ssl = await nodeTlsOptions(target.tls)
  let connection: Connection
  try {
    connection = await createConnection({
      ...(host ? {host: host.host, port: host.port} : {}),
      ...(target.url.params.socket ? {socketPath: target.url.params.socket} : {}),
      ...(target.user === undefined ? {} : {user: target.user}),
      ...(target.password === undefined ? {} : {password: target.password}),
      ...(target.url.database === undefined ? {} : {database: target.url.database}),
      ...(ssl ? {ssl} : {}),
      connectTimeout: target.connectTimeoutMs,
      supportBigNumbers: true,
      bigNumberStrings: true,
      // JSON as the text the server holds: parsed and printed again, it would not be the same bytes.
      jsonStrings: true,
      dateStrings: true,
      multipleStatements: false,
    })
  } catch (error) {
    throw connectionFailure(target, error)
  }
  // A dropped connection emits 'error' on the object; without a listener Node would crash the process.
  connection.on('error', () => {})
  const query = async <Row>(sql: string, values?: unknown[]) => {
    const [rows] = await connection.query<RowDataPacket[]>({sql, timeout: target.commandTimeoutMs, ...(values ? {values} : {})})
    return rows as Row[]
  }
  try {
    const [row] = await query<{version: string; comment: string}>('SELECT VERSION() AS version, @@version_comment AS comment')
    const identity = identifyMysqlFamily(row?.version ?? '', row?.comment ?? '')
    const execute = async <Row>(sql: string, values: unknown[]) => {
      const [rows] = await connection.execute<RowDataPacket[]>({sql, timeout: target.commandTimeoutMs}, values as never)
      return rows as Row[]
    }
    // The callback connection under the promise wrapper, whose query command's row state is replaced
    // for rawRows: it is entered once the column definitions are read, and returns itself per row.
    const core = (connection as unknown as {connection: import('mysql2').Connection & {pause(): void; resume(): void}}).connection
    const rawRows = (sql: string, onRow: (packet: Buffer, start: number, end: number) => void): RowFeed => {
      const command = core.query({sql}) as unknown as QueryCommand
      const defaultRow = Object.getPrototypeOf(command).row as QueryCommand['row']
      const done = new Promise<void>((resolve, reject) => {
        command.once('error', reject)
        command.once('end', () => resolve())
      })
      command.row = function (packet, conn) {
        // An EOF packet is short; a row that starts with a 0xFE-prefixed (8-byte) length is not.
        if (packet.buffer[packet.offset] === 0xfe && packet.end - packet.start < 13) return defaultRow.call(this, packet, conn)
        onRow(packet.buffer, packet.offset, packet.end)
        return command.row
      }
      return {pause: () => core.pause(), resume: () => core.resume(), done}
    }
    const loadData = async (sql: string, values: unknown[], source: () => NodeJS.ReadableStream) => {
      const [result] = await connection.query({sql, values, infileStreamFactory: source} as never)
      return result as unknown as {affectedRows: number; warningStatus: number}
    }
    return {
      identity,
      query,
      execute,
      rawRows,
      loadData,
      close: async () => {
        await connection.end().catch(() => connection.destroy())
      },
      destroy: () => connection.destroy(),
    }
  } catch (error) {
    connection.destroy()
    throw connectionFailure(target, error)
  }
}
