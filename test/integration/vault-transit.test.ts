import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, describe, it} from 'node:test'
import {ExitCode} from '../../src/lib/core/errors.ts'
import {VaultTransitKeyProvider} from '../../src/lib/secrets/providers/vault-transit.ts'
import {otherAad, rejection, sampleAad} from '../helpers/kms.ts'
import {vault, vaultSkipReason} from '../helpers/services.ts'

if (vaultSkipReason) console.log(`# ${vaultSkipReason}`)

const runPrefix = `dbakit-test-${process.pid}-${randomBytes(3).toString('hex')}`
let names = 0
const created: string[] = []
const providers: VaultTransitKeyProvider[] = []

function provider(key: string): VaultTransitKeyProvider {
  const made = new VaultTransitKeyProvider({address: vault.address!, token: async () => vault.token!, key, mount: vault.mount, namespace: vault.namespace})
  providers.push(made)
  return made
}

/** A provider for a key of its own, created for the test and deleted after the run. */
async function freshKey(): Promise<{kms: VaultTransitKeyProvider; name: string}> {
  const name = `${runPrefix}-${++names}`
  const kms = provider(name)
  assert.deepEqual(await kms.createKey(), {provider: 'vault-transit', keyId: `${vault.mount}/${name}`, keyVersion: 1})
  created.push(name)
  return {kms, name}
}

/** Straight to Vault's API, outside the provider: transit keys can be deleted only once deletion is allowed. */
async function vaultApi(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${vault.address!.replace(/\/+$/, '')}/v1/${vault.mount}/${path}`, {
    method,
    headers: {'X-Vault-Token': vault.token!, ...(vault.namespace === undefined ? {} : {'X-Vault-Namespace': vault.namespace})},
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  assert.ok(response.ok, `${method} ${path}: HTTP ${response.status} ${await response.text()}`)
}

after(async () => {
  for (const made of providers.splice(0)) await made.close()
  for (const name of created.splice(0)) {
    await vaultApi('POST', `keys/${name}/config`, {deletion_allowed: true})
    await vaultApi('DELETE', `keys/${name}`)
  }
})

describe('vault-transit provider against a real Vault', () => {
  it('creates a derived key and round-trips a data key bound to the AAD', {skip: vaultSkipReason}, async () => {
    const {kms} = await freshKey()
    const dataKey = randomBytes(32)
    const wrapped = await kms.wrap(dataKey, sampleAad)
    assert.equal(wrapped.key.keyVersion, 1)
    assert.match(wrapped.wrapped, /^vault:v1:/)
    assert.deepEqual(Buffer.from(await kms.unwrap(wrapped, sampleAad)), dataKey)
    const again = await kms.wrap(dataKey, sampleAad)
    assert.notEqual(again.wrapped, wrapped.wrapped, 'the same data key wrapped twice gave the same ciphertext')
  })

  it('refuses a wrong AAD and a changed ciphertext as tampered (exit 1)', {skip: vaultSkipReason}, async () => {
    const {kms} = await freshKey()
    const wrapped = await kms.wrap(randomBytes(32), sampleAad)
    const wrongAad = await rejection(kms.unwrap(wrapped, otherAad))
    assert.equal(wrongAad.code, 'ENVELOPE_TAMPERED')
    assert.equal(wrongAad.exitCode, ExitCode.findings)
    const bytes = Buffer.from(wrapped.wrapped.slice('vault:v1:'.length), 'base64')
    bytes[20]! ^= 0x01
    const flipped = await rejection(kms.unwrap({...wrapped, wrapped: `vault:v1:${bytes.toString('base64')}`}, sampleAad))
    assert.equal(flipped.code, 'ENVELOPE_TAMPERED')
    const rewrapWrongAad = await rejection(kms.rewrap(wrapped, otherAad))
    assert.equal(rewrapWrongAad.code, 'ENVELOPE_TAMPERED')
  })

  it('refuses to create a key whose name is taken, leaving it usable', {skip: vaultSkipReason}, async () => {
    const {kms, name} = await freshKey()
    const wrapped = await kms.wrap(randomBytes(32), sampleAad)
    const error = await rejection(provider(name).createKey())
    assert.equal(error.code, 'VAULT_KEY_EXISTS')
    assert.equal(error.exitCode, ExitCode.usage)
    assert.equal((await kms.unwrap(wrapped, sampleAad)).length, 32)
  })

  it('rotates: old wraps still unwrap, new wraps use version 2, and rewrap moves old ones to it', {skip: vaultSkipReason}, async () => {
    const {kms, name} = await freshKey()
    const first = randomBytes(32)
    const wrappedV1 = await kms.wrap(first, sampleAad)
    assert.deepEqual(await kms.rotateKey(), {provider: 'vault-transit', keyId: `${vault.mount}/${name}`, keyVersion: 2})
    const wrappedV2 = await kms.wrap(first, sampleAad)
    assert.equal(wrappedV2.key.keyVersion, 2)
    assert.match(wrappedV2.wrapped, /^vault:v2:/)
    // A provider of a later run finds version 2 by itself.
    const later = provider(name)
    assert.equal((await later.currentKey()).keyVersion, 2)
    assert.deepEqual(Buffer.from(await later.unwrap(wrappedV1, sampleAad)), first)
    assert.deepEqual(Buffer.from(await later.unwrap(wrappedV2, sampleAad)), first)
    const rewrapped = await later.rewrap(wrappedV1, sampleAad)
    assert.equal(rewrapped.key.keyVersion, 2)
    assert.deepEqual(Buffer.from(await later.unwrap(rewrapped, sampleAad)), first)
  })

  it('names the key when it does not exist', {skip: vaultSkipReason}, async () => {
    const name = `${runPrefix}-missing`
    const error = await rejection(provider(name).currentKey())
    assert.equal(error.code, 'VAULT_KEY_NOT_FOUND')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.ok(error.message.includes(`${vault.mount}/${name}`), error.message)
  })
})
