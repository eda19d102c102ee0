import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {afterEach, describe, it} from 'node:test'
import {ExitCode} from '../../src/lib/core/errors.ts'
import {VaultTransitKeyProvider, type VaultTransitProviderOptions} from '../../src/lib/secrets/providers/vault-transit.ts'
import {closeReplayServers, everythingShown, otherAad, recorded, refusingAddress, rejection, replayServer, sampleAad, type Turn} from '../helpers/kms.ts'

afterEach(closeReplayServers)

const token = `hvs.${randomBytes(18).toString('base64url')}`
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
/** The data key the recorded decrypt answers with: the one a round trip must start from. */
const dataKey = Buffer.from((recorded('vault-decrypt').body as {data: {plaintext: string}}).data.plaintext, 'base64')
const encrypted = (recorded('vault-encrypt').body as {data: {ciphertext: string}}).data.ciphertext

async function vault(turns: Turn[], options: Partial<VaultTransitProviderOptions> = {}) {
  const server = await replayServer(turns)
  let tokenAsked = 0
  const kms = new VaultTransitKeyProvider({
    address: server.url,
    key: 'dbakit',
    token: async () => {
      tokenAsked++
      return token
    },
    ...options,
  })
  return {server, kms, tokenAsked: () => tokenAsked}
}

/** Runs `work` against the recorded answers; it must end in the environment error (exit 3) `code`. */
async function environmentFailure(turns: Turn[], work: (kms: VaultTransitKeyProvider) => Promise<unknown>, code: string, options: Partial<VaultTransitProviderOptions> = {}) {
  const {server, kms} = await vault(turns, options)
  const error = await rejection(work(kms))
  assert.equal(error.code, code)
  assert.equal(error.exitCode, ExitCode.environment)
  server.done()
  return {error, address: server.url}
}

const wrappedV3 = {key: {provider: 'vault-transit' as const, keyId: 'transit/dbakit', keyVersion: 3}, wrapped: encrypted}

describe('vault-transit provider against recorded Vault answers', () => {
  it('wraps under the latest key version and unwraps, the AAD sent as the derivation context both ways', async () => {
    const {server, kms, tokenAsked} = await vault([recorded('vault-read-key'), recorded('vault-encrypt'), recorded('vault-decrypt')])
    const wrapped = await kms.wrap(dataKey, sampleAad)
    assert.deepEqual(wrapped, {key: {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 3}, wrapped: encrypted})
    assert.deepEqual(Buffer.from(await kms.unwrap(wrapped, sampleAad)), dataKey)
    server.done()
    const [read, encrypt, decrypt] = server.received
    assert.equal(read!.body, undefined)
    assert.deepEqual(encrypt!.body, {plaintext: b64(dataKey), context: b64(sampleAad)})
    assert.deepEqual(decrypt!.body, {ciphertext: encrypted, context: b64(sampleAad)})
    for (const request of server.received) {
      assert.equal(request.headers['x-vault-token'], token)
      assert.equal(request.headers['x-vault-namespace'], undefined)
    }
    assert.equal(tokenAsked(), 1, 'the token was asked for more than once')
  })

  it('reports the current key from the key\'s latest_version, once per provider', async () => {
    const {server, kms} = await vault([recorded('vault-read-key')])
    assert.deepEqual(await kms.currentKey(), {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 3})
    assert.deepEqual(await kms.currentKey(), {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 3})
    server.done()
  })

  it('rewraps inside Vault to the new version without the data key leaving it', async () => {
    const {server, kms} = await vault([recorded('vault-rewrap')])
    const rewrapped = await kms.rewrap(wrappedV3, sampleAad)
    assert.equal(rewrapped.key.keyVersion, 4)
    assert.match(rewrapped.wrapped, /^vault:v4:/)
    server.done()
    assert.deepEqual(server.received[0]!.body, {ciphertext: encrypted, context: b64(sampleAad)})
  })

  it('moves a key wrapped under another transit key by decrypting and encrypting, since rewrap stays within one key', async () => {
    const oldKey = {...recorded('vault-decrypt'), request: {method: 'POST', path: '/v1/transit/decrypt/dbakit-old'}}
    const {server, kms} = await vault([oldKey, recorded('vault-read-key'), recorded('vault-encrypt')])
    const moved = await kms.rewrap({...wrappedV3, key: {...wrappedV3.key, keyId: 'transit/dbakit-old'}}, sampleAad)
    assert.deepEqual(moved.key, {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 3})
    server.done()
    assert.deepEqual(server.received[2]!.body, {plaintext: b64(dataKey), context: b64(sampleAad)})
  })

  it('creates a derived aes256-gcm96 key at version 1, and refuses (exit 2) when the name is taken', async () => {
    const {server, kms} = await vault([recorded('vault-key-missing'), recorded('vault-create-key')])
    assert.deepEqual(await kms.createKey(), {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 1})
    server.done()
    assert.deepEqual(server.received[1]!.body, {type: 'aes256-gcm96', derived: true})

    const taken = await vault([recorded('vault-read-key')])
    const error = await rejection(taken.kms.createKey())
    assert.equal(error.code, 'VAULT_KEY_EXISTS')
    assert.equal(error.exitCode, ExitCode.usage)
    taken.server.done()
  })

  it('rotates to the version Vault answers with', async () => {
    const {server, kms} = await vault([recorded('vault-rotate-key')])
    assert.deepEqual(await kms.rotateKey(), {provider: 'vault-transit', keyId: 'transit/dbakit', keyVersion: 4})
    server.done()
  })

  it('refuses a wrong AAD or changed ciphertext as tampered (exit 1)', async () => {
    const {server, kms} = await vault([recorded('vault-decrypt-refused')])
    const error = await rejection(kms.unwrap(wrappedV3, otherAad))
    assert.equal(error.code, 'ENVELOPE_TAMPERED')
    assert.equal(error.exitCode, ExitCode.findings)
    assert.match(error.message, /message authentication failed/)
    server.done()
    assert.equal(server.received[0]!.body?.context, b64(otherAad))
  })

  it('refuses, without asking Vault, a wrapped key whose envelope disagrees with its ciphertext', async () => {
    const {server, kms} = await vault([])
    const relabelled = await rejection(kms.unwrap({...wrappedV3, key: {...wrappedV3.key, keyVersion: 2}}, sampleAad))
    assert.equal(relabelled.code, 'ENVELOPE_TAMPERED')
    const otherProvider = await rejection(kms.unwrap({...wrappedV3, key: {...wrappedV3.key, provider: 'pkcs11'}}, sampleAad))
    assert.equal(otherProvider.code, 'ENVELOPE_TAMPERED')
    const notTransit = await rejection(kms.unwrap({...wrappedV3, wrapped: Buffer.from(encrypted).toString('base64')}, sampleAad))
    assert.equal(notTransit.code, 'ENVELOPE_TAMPERED')
    server.done()
  })

  it('reports permission denied as an environment error naming address and key, without the token', async () => {
    const {error, address} = await environmentFailure(
      [recorded('vault-read-key'), recorded('vault-permission-denied')],
      (kms) => kms.wrap(dataKey, sampleAad),
      'VAULT_PERMISSION_DENIED',
    )
    assert.ok(error.message.includes(`key "transit/dbakit" at ${address}`), error.message)
    assert.match(error.message, /transit\/encrypt\/dbakit/)
    assert.ok(error.hint)
    const shown = everythingShown(error)
    assert.ok(!shown.includes(token), 'the token appears in the error')
    assert.ok(!shown.includes(b64(dataKey)), 'the data key appears in the error')
  })

  it('reports a sealed Vault (exit 3) without retrying it', async () => {
    const {error} = await environmentFailure([recorded('vault-sealed')], (kms) => kms.currentKey(), 'VAULT_SEALED')
    assert.match(error.hint ?? '', /unseal/)
  })

  it('retries a read after a proxy\'s 502 or a dropped connection, then succeeds', async () => {
    const {server, kms} = await vault([recorded('proxy-bad-gateway'), 'reset', recorded('vault-read-key')])
    assert.equal((await kms.currentKey()).keyVersion, 3)
    server.done()
  })

  it('does not repeat a rotation whose answer a proxy lost: it might have happened', async () => {
    const badGateway = {...recorded('proxy-bad-gateway'), request: {method: 'POST', path: '/v1/transit/keys/dbakit/rotate'}}
    await environmentFailure([badGateway], (kms) => kms.rotateKey(), 'VAULT_UNAVAILABLE')
  })

  it('gives up after three 502s', async () => {
    const badGateway = recorded('proxy-bad-gateway')
    const {error} = await environmentFailure([badGateway, badGateway, badGateway], (kms) => kms.currentKey(), 'VAULT_UNAVAILABLE')
    assert.match(error.message, /HTTP 502/)
  })

  it('sends the namespace header and uses the mount it is given', async () => {
    const at = (name: string, path: string) => ({...recorded(name), request: {...recorded(name).request, path}})
    const {server, kms} = await vault([at('vault-read-key', '/v1/secrets/transit/keys/dbakit'), at('vault-encrypt', '/v1/secrets/transit/encrypt/dbakit')], {
      namespace: 'team-a/',
      mount: '/secrets/transit/',
    })
    const wrapped = await kms.wrap(dataKey, sampleAad)
    assert.equal(wrapped.key.keyId, 'secrets/transit/dbakit')
    server.done()
    for (const request of server.received) assert.equal(request.headers['x-vault-namespace'], 'team-a')
  })

  it('refuses a key that is not derived: it would ignore the AAD', async () => {
    const {error} = await environmentFailure([recorded('vault-read-key-not-derived')], (kms) => kms.wrap(dataKey, sampleAad), 'VAULT_KEY_NOT_DERIVED')
    assert.match(error.hint ?? '', /derived=true/)
  })

  it('names the key when it does not exist', async () => {
    const {error} = await environmentFailure([recorded('vault-key-missing')], (kms) => kms.currentKey(), 'VAULT_KEY_NOT_FOUND')
    assert.match(error.message, /key "transit\/dbakit"/)
  })

  it('reports an address where nothing listens as unreachable (exit 3)', async () => {
    const address = await refusingAddress()
    const kms = new VaultTransitKeyProvider({address, key: 'dbakit', token: async () => token})
    const error = await rejection(kms.currentKey())
    assert.equal(error.code, 'VAULT_UNREACHABLE')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.ok(error.message.includes(address), error.message)
    assert.match(error.message, /ECONNREFUSED/)
  })

  it('gives up on a Vault that never answers after timeoutMs (exit 3)', {timeout: 30_000}, async () => {
    const {error} = await environmentFailure(['hang'], (kms) => kms.currentKey(), 'VAULT_TIMEOUT', {timeoutMs: 150})
    assert.match(error.message, /within 150 ms/)
  })

  it('refuses a bad address, mount or key name as a usage error (exit 2)', () => {
    const made = (options: Partial<VaultTransitProviderOptions>) => () =>
      new VaultTransitKeyProvider({address: 'https://vault.example.com:8200', key: 'dbakit', token: async () => token, ...options})
    assert.throws(made({address: 'vault.example.com:8200'}), {code: 'VAULT_BAD_ADDRESS', exitCode: ExitCode.usage})
    assert.throws(made({mount: '../sys'}), {code: 'VAULT_BAD_MOUNT', exitCode: ExitCode.usage})
    assert.throws(made({key: 'a/b'}), {code: 'VAULT_BAD_KEY_NAME', exitCode: ExitCode.usage})
  })
})
