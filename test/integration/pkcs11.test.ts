import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, describe, it} from 'node:test'
import {ExitCode} from '../../src/lib/core/errors.ts'
import {Pkcs11KeyProvider, type Pkcs11ProviderOptions} from '../../src/lib/secrets/providers/pkcs11.ts'
import {destroyKeysWithPrefix, keysWithPrefix, pkcs11js, softhsmPin as pin, withRawSession} from '../helpers/pkcs11.ts'
import {softhsm} from '../helpers/services.ts'
import {rejection, sampleAad as aad} from '../helpers/kms.ts'

const runPrefix = `dbakit-test-${process.pid}-${randomBytes(3).toString('hex')}`
let labels = 0
const uniqueLabel = () => `${runPrefix}-${++labels}`

const providers: Pkcs11KeyProvider[] = []
function provider(options: Partial<Pkcs11ProviderOptions> = {}): Pkcs11KeyProvider {
  const made = new Pkcs11KeyProvider({module: softhsm.module, token: softhsm.token, keyLabel: uniqueLabel(), pin: async () => pin(), ...options})
  providers.push(made)
  return made
}

/** PKCS#11 login and initialisation are per process: the raw session and the PIN check need the token to ourselves. */
async function closeProviders() {
  for (const made of providers.splice(0)) await made.close()
}

after(async () => {
  await closeProviders()
  destroyKeysWithPrefix(runPrefix)
})


describe('pkcs11 provider against a real SoftHSM2 token', () => {
  it('creates a key and round-trips a data key bound to the AAD', async () => {
    const kms = provider()
    const created = await kms.createKey()
    assert.deepEqual(created.keyVersion, 1)
    const dataKey = randomBytes(32)
    const wrapped = await kms.wrap(dataKey, aad)
    assert.equal(wrapped.key.provider, 'pkcs11')
    assert.equal(Buffer.from(wrapped.params!.iv as string, 'base64').length, 12)
    assert.ok(!Buffer.from(wrapped.wrapped, 'base64').includes(dataKey), 'the data key appears in clear')
    assert.deepEqual(Buffer.from(await kms.unwrap(wrapped, aad)), dataKey)
    const again = await kms.wrap(dataKey, aad)
    assert.notEqual(again.params!.iv, wrapped.params!.iv, 'IV reused')
  })

  it('refuses to create a key whose label is taken, leaving it usable', async () => {
    const kms = provider()
    await kms.createKey()
    const wrapped = await kms.wrap(randomBytes(32), aad)
    const error = await rejection(kms.createKey())
    assert.equal(error.code, 'PKCS11_KEY_EXISTS')
    assert.equal((await kms.unwrap(wrapped, aad)).length, 32)
  })

  it('keeps one provider working when another on the same token closes', async () => {
    const label = uniqueLabel()
    const first = provider({keyLabel: label})
    await first.createKey()
    const second = provider({keyLabel: label})
    const wrapped = await second.wrap(randomBytes(32), aad)
    await first.close()
    assert.equal((await second.unwrap(wrapped, aad)).length, 32)
  })

  it('refuses a wrong AAD and a wrapped key with one flipped byte as tampered (exit 1)', async () => {
    const kms = provider()
    await kms.createKey()
    const wrapped = await kms.wrap(randomBytes(32), aad)
    const wrongAad = await rejection(kms.unwrap(wrapped, Buffer.from(aad.toString().replace('app', 'other'))))
    assert.equal(wrongAad.code, 'ENVELOPE_TAMPERED')
    assert.equal(wrongAad.exitCode, ExitCode.findings)
    const bytes = Buffer.from(wrapped.wrapped, 'base64')
    bytes[5]! ^= 0x01
    const flipped = await rejection(kms.unwrap({...wrapped, wrapped: bytes.toString('base64')}, aad))
    assert.equal(flipped.code, 'ENVELOPE_TAMPERED')
    assert.equal(flipped.exitCode, ExitCode.findings)
    const iv = Buffer.from(wrapped.params!.iv as string, 'base64')
    iv[0]! ^= 0x80
    const badIv = await rejection(kms.unwrap({...wrapped, params: {...wrapped.params, iv: iv.toString('base64')}}, aad))
    assert.equal(badIv.code, 'ENVELOPE_TAMPERED')
    // The session survives failed unwraps.
    assert.equal((await kms.unwrap(wrapped, aad)).length, 32)
  })

  it('keeps the key on the token: sensitive, not extractable, its value unreadable', async () => {
    const label = uniqueLabel()
    await provider({keyLabel: label}).createKey()
    await closeProviders()
    withRawSession((library, session) => {
      const [key] = keysWithPrefix(library, session, label)
      assert.ok(key)
      const [extractable, sensitive, onToken] = library.C_GetAttributeValue(session, key.handle, [
        {type: pkcs11js.CKA_EXTRACTABLE},
        {type: pkcs11js.CKA_SENSITIVE},
        {type: pkcs11js.CKA_TOKEN},
      ])
      assert.deepEqual([extractable!.value[0], sensitive!.value[0], onToken!.value[0]], [0, 1, 1])
      assert.throws(() => library.C_GetAttributeValue(session, key.handle, [{type: pkcs11js.CKA_VALUE}]), /CKR_ATTRIBUTE_SENSITIVE/)
    })
  })

  it('reports a wrong PIN as an environment error naming the token, without the PIN', async () => {
    await closeProviders()
    const wrongPin = `wrong-${randomBytes(6).toString('hex')}`
    const kms = provider({pin: async () => wrongPin})
    const error = await rejection(kms.currentKey())
    assert.equal(error.code, 'PKCS11_PIN_INCORRECT')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.match(error.message, new RegExp(`token "${softhsm.token}"`))
    assert.match(error.message, /module /)
    const everything = JSON.stringify({message: error.message, hint: error.hint, data: error.data})
    assert.ok(!everything.includes(wrongPin), 'the PIN appears in the error')
    assert.ok(!everything.includes(pin()), 'the real PIN appears in the error')
  })

  it('names the key, token and module when the key label does not exist', async () => {
    const label = uniqueLabel()
    const error = await rejection(provider({keyLabel: label}).currentKey())
    assert.equal(error.code, 'PKCS11_KEY_NOT_FOUND')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.match(error.message, new RegExp(`key "${label}" on token "${softhsm.token}" \\(module ${softhsm.module}\\)`))
  })

  it('names the token and the module when the token or module is missing', async () => {
    const noToken = await rejection(provider({token: `no-such-token-${process.pid}`}).currentKey())
    assert.equal(noToken.code, 'PKCS11_TOKEN_NOT_FOUND')
    assert.equal(noToken.exitCode, ExitCode.environment)
    assert.match(noToken.message, /no-such-token/)
    assert.match(noToken.hint ?? '', new RegExp(softhsm.token))
    const noModule = await rejection(provider({module: '/nonexistent/libpkcs11.so'}).currentKey())
    assert.equal(noModule.code, 'PKCS11_MODULE_UNAVAILABLE')
    assert.equal(noModule.exitCode, ExitCode.environment)
    assert.match(noModule.message, /\/nonexistent\/libpkcs11\.so/)
  })

  it('rotates to version 2 for new wraps while version-1 wraps still unwrap', async () => {
    const label = uniqueLabel()
    const kms = provider({keyLabel: label})
    await kms.createKey()
    const first = randomBytes(32)
    const wrappedV1 = await kms.wrap(first, aad)
    assert.equal(wrappedV1.key.keyVersion, 1)
    assert.deepEqual(await kms.rotateKey(), {provider: 'pkcs11', keyId: label, keyVersion: 2})
    assert.equal((await kms.currentKey()).keyVersion, 2)
    const wrappedV2 = await kms.wrap(first, aad)
    assert.equal(wrappedV2.key.keyVersion, 2)
    // A new session (another process later) finds version 2 on the token by itself.
    const later = provider({keyLabel: label})
    assert.deepEqual(await later.currentKey(), {provider: 'pkcs11', keyId: label, keyVersion: 2})
    assert.deepEqual(Buffer.from(await later.unwrap(wrappedV1, aad)), first)
    assert.deepEqual(Buffer.from(await later.unwrap(wrappedV2, aad)), first)
    // The versions are different keys: version 1's wrap does not unwrap as version 2.
    const relabelled = await rejection(later.unwrap({...wrappedV1, key: {...wrappedV1.key, keyVersion: 2}}, aad))
    assert.equal(relabelled.code, 'ENVELOPE_TAMPERED')
  })
})
