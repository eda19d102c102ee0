import assert from 'node:assert/strict'
import {createServer, type Socket} from 'node:net'
import {describe, it} from 'node:test'
import {freshHome, runCli} from '../helpers/cli.ts'

describe('signals', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`exits 130 on ${signal} while waiting on a server`, async () => {
      // A server that accepts and never answers: the CLI is stuck in its handshake until signalled.
      const sockets: Socket[] = []
      let signalChild: () => void = () => {}
      const server = createServer((socket) => {
        sockets.push(socket)
        signalChild()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as {port: number}).port
      try {
        const result = await runCli(['profile', 'test', '--url', `mysql://dba@127.0.0.1:${port}`, '--connect-timeout', '300'], {
          env: {DBAKIT_HOME: freshHome()},
          onSpawn: (child) => {
            signalChild = () => child.kill(signal)
          },
        })
        assert.equal(result.code, 130)
        assert.match(result.stderr, new RegExp(`interrupted by ${signal}`))
      } finally {
        for (const socket of sockets) socket.destroy()
        server.close()
      }
    })
  }
})
