import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createServer, type IncomingHttpHeaders, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {DbakitError} from '../../src/lib/core/errors.ts'

/** The canonical AAD of an envelope, as the key providers are given it. */
export const sampleAad = Buffer.from('{"account":"app","engine":"mysql","purpose":"profile-password","target":"db1"}')
export const otherAad = Buffer.from(sampleAad.toString().replace('"app"', '"other"'))

export {rejection} from './errors.ts'

/** Everything an error shows a user or a script: a secret must be in none of it. */
export function everythingShown(error: DbakitError): string {
  return JSON.stringify({message: error.message, hint: error.hint, data: error.data})
}

/**
 * An answer of Vault, AWS KMS or a proxy in front of them, kept in test/fixtures/kms/NAME.json with
 * the request it answers and a comment saying which API and version it mirrors.
 */
export interface Recorded {
  comment: string
  request: {method: string; path: string; target?: string}
  status: number
  headers: Record<string, string>
  body?: unknown
  text?: string
}

export function recorded(name: string): Recorded {
  return JSON.parse(readFileSync(new URL(`../fixtures/kms/${name}.json`, import.meta.url), 'utf8')) as Recorded
}

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** The body parsed as JSON; undefined when there was none. */
  body: Record<string, unknown> | undefined
}

/** What the server does with the next request: answer with a recording, never answer, or drop the connection. */
export type Turn = Recorded | 'hang' | 'reset'

export interface ReplayServer {
  url: string
  received: Received[]
  /** Fails unless every request was the one its recording answers and every turn was taken. */
  done(): void
}

const servers: Server[] = []

/**
 * A server on 127.0.0.1 that answers each request with the next turn. It checks that a request is
 * the one the recording answers (method, path, X-Amz-Target) and answers one that is not with a 418
 * naming the difference, which the provider's error then repeats.
 */
export async function replayServer(turns: Turn[]): Promise<ReplayServer> {
  const received: Received[] = []
  const mismatches: string[] = []
  let next = 0
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const method = request.method ?? ''
      const path = request.url ?? ''
      received.push({method, path, headers: request.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>)})
      const turn = turns[next++]
      if (turn === 'hang') return
      if (turn === 'reset') {
        request.socket.destroy()
        return
      }
      const asked = `${method} ${path}${request.headers['x-amz-target'] === undefined ? '' : ` ${String(request.headers['x-amz-target'])}`}`
      const expected = turn === undefined ? undefined : `${turn.request.method} ${turn.request.path}${turn.request.target === undefined ? '' : ` ${turn.request.target}`}`
      if (turn === undefined || asked !== expected) {
        const mismatch = `replay server: got ${asked}, expected ${expected ?? 'no more requests'}`
        mismatches.push(mismatch)
        response.writeHead(418, {'Content-Type': 'application/json'}).end(JSON.stringify({errors: [mismatch], __type: 'ReplayMismatch', message: mismatch}))
        return
      }
      response.writeHead(turn.status, turn.headers).end(turn.text ?? (turn.body === undefined ? '' : JSON.stringify(turn.body)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    done() {
      assert.deepEqual(mismatches, [])
      assert.equal(next, turns.length, `${turns.length - next} recorded answer(s) were never asked for`)
    },
  }
}

/** Stops every replay server, dropping requests still waiting for an answer. */
export async function closeReplayServers(): Promise<void> {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** A loopback address where nothing listens: a port that was just free. */
export async function refusingAddress(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}
