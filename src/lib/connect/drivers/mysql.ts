import type {Connection, RowDataPacket} from 'mysql2/promise'
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
  close(): Promise<void>
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
    return {
      identity,
      query,
      execute,
      close: async () => {
        await connection.end().catch(() => connection.destroy())
      },
    }
  } catch (error) {
    connection.destroy()
    throw connectionFailure(target, error)
  }
}
