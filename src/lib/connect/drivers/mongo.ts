import type {MongoClient} from 'mongodb'
import type {ServerIdentity} from '../capabilities.ts'
import {connectionFailure} from '../failure.ts'
import type {ConnectionTarget} from '../target.ts'

export interface MongoSession {
  readonly identity: ServerIdentity
  readonly client: MongoClient
  admin(command: Record<string, unknown>): Promise<Record<string, unknown>>
  close(): Promise<void>
}

/** Opens a MongoDB client; the password goes in the auth option, never into the URL string. */
export async function openMongo(target: ConnectionTarget): Promise<MongoSession> {
  const {MongoClient} = await import('mongodb')
  const tls = target.tls
  const client = new MongoClient(mongoUri(target), {
    ...(target.user === undefined ? {} : {auth: {username: target.user, ...(target.password === undefined ? {} : {password: target.password})}}),
    serverSelectionTimeoutMS: target.connectTimeoutMs,
    connectTimeoutMS: target.connectTimeoutMs,
    socketTimeoutMS: target.commandTimeoutMs,
    appName: 'dbakit',
    ...(tls.mode === 'disabled'
      ? {}
      : {
          tls: true,
          tlsAllowInvalidCertificates: tls.mode === 'required',
          tlsAllowInvalidHostnames: tls.mode !== 'verify-identity',
          ...(tls.ca ? {tlsCAFile: tls.ca} : {}),
          ...(tls.cert ? {tlsCertificateKeyFile: tls.cert} : {}),
        }),
  })
  const admin = (command: Record<string, unknown>) => client.db('admin').command(command) as Promise<Record<string, unknown>>
  try {
    await client.connect()
    const build = await admin({buildInfo: 1})
    return {identity: {flavor: 'mongodb', version: String(build.version ?? '0')}, client, admin, close: () => client.close()}
  } catch (error) {
    await client.close().catch(() => {})
    throw connectionFailure(target, error)
  }
}

/** The stored URL without user info: credentials travel in the auth option. */
function mongoUri(target: ConnectionTarget): string {
  const {scheme, hosts, database, params} = target.url
  const hostList = hosts.map((h) => (scheme === 'mongodb+srv' ? h.host : `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`)).join(',')
  const query = new URLSearchParams(params).toString()
  return `${scheme}://${hostList}/${database ?? ''}${query ? `?${query}` : ''}`
}
