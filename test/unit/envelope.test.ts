import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'
import {DbakitError, ExitCode} from '../../src/lib/core/errors.ts'
import {canonicalAad, openEnvelope, parseEnvelope, rewrapEnvelope, sealEnvelope, serialiseEnvelope, type EnvelopeAad} from '../../src/lib/secrets/envelope.ts'
import {PassphraseKeyProvider} from '../../src/lib/secrets/providers/passphrase.ts'
import {rejection} from '../helpers/errors.ts'

const PASSPHRASE = 'a long enough passphrase'
const providers: PassphraseKeyProvider[] = []
after(async () => {
  for (const provider of providers) await provider.close()
})

async function passphraseProvider(passphrase = PASSPHRASE, params?: PassphraseKeyProvider['keyParams']) {
  const provider = new PassphraseKeyProvider({...(params ? {params} : {}), passphrase: async () => passphrase})
  providers.push(provider)
  if (!params) await provider.createKey()
  return provider
}

const aad: EnvelopeAad = {name: 'secret/app', purpose: 'operator-secret', engine: 'mysql', target: 'db1:3306', account: 'app'}

describe('secret envelopes', () => {
  it('writes the AAD as a fixed-order array that another implementation can rebuild byte for byte', () => {
    assert.equal(canonicalAad(aad).toString(), '["dbakit-aad-v1","secret/app","operator-secret","mysql","db1:3306","app"]')
    assert.equal(canonicalAad({name: 'secret/x', purpose: 'operator-secret'}).toString(), '["dbakit-aad-v1","secret/x","operator-secret",null,null,null]')
    assert.deepEqual(canonicalAad({account: 'a', target: 't', purpose: 'p', name: 'n'}), canonicalAad({name: 'n', purpose: 'p', target: 't', account: 'a'}))
  })

  it('round-trips through its JSON form, with a fresh data key and IV each time and no plaintext in the file', async () => {
    const provider = await passphraseProvider()
    const secret = Buffer.from('hunter2-hunter2')
    const first = await sealEnvelope(provider, secret, aad)
    const second = await sealEnvelope(provider, secret, aad)
    assert.notEqual(first.iv, second.iv)
    assert.notEqual(first.wrapped, second.wrapped)
    assert.notEqual(first.ciphertext, second.ciphertext)
    const text = serialiseEnvelope(first)
    assert.ok(!text.includes('hunter2'))
    const parsed = parseEnvelope(text, 'f.json')
    assert.deepEqual(parsed.key, {provider: 'passphrase', keyId: 'passphrase', keyVersion: 1})
    assert.equal((await openEnvelope(provider, parsed, aad, 'f.json')).toString(), 'hunter2-hunter2')
  })

  it('refuses an envelope opened as another name, account or purpose before any key is used', async () => {
    const provider = await passphraseProvider()
    const envelope = await sealEnvelope(provider, Buffer.from('x'), aad)
    for (const wrong of [{...aad, name: 'secret/other'}, {...aad, account: 'root'}, {...aad, purpose: 'backup-key'}]) {
      const error = await rejection(openEnvelope(provider, envelope, wrong, 'f.json'))
      assert.equal(error.exitCode, ExitCode.findings)
      assert.match(error.message, /^f\.json: refused: it was made for/)
    }
  })

  it('refuses an AAD edited inside the envelope to match: the data key and the tag are bound to the original', async () => {
    const provider = await passphraseProvider()
    const envelope = await sealEnvelope(provider, Buffer.from('x'), aad)
    const edited = {...envelope, aad: {...envelope.aad, account: 'root'}}
    const error = await rejection(openEnvelope(provider, edited, edited.aad, 'f.json'))
    assert.equal(error.code, 'ENVELOPE_TAMPERED')
    assert.match(error.message, /^f\.json: /)
  })

  it('names what is wrong with a truncated or malformed file', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /it is empty/],
      ['{"format":"dbakit-envelope"', /not complete JSON/],
      ['[]', /not an envelope object/],
      ['{"format":"other"}', /format is not dbakit-envelope/],
      ['{"format":"dbakit-envelope","v":2}', /version 2 is not one this dbakit reads/],
    ]
    for (const [text, message] of cases) {
      assert.throws(() => parseEnvelope(text, 'bad.json'), (error: DbakitError) => error.exitCode === ExitCode.findings && message.test(error.message) && error.message.startsWith('bad.json: '))
    }
  })

  it('tells a wrong passphrase (exit 3) from a changed envelope (exit 1)', async () => {
    const right = await passphraseProvider()
    const envelope = await sealEnvelope(right, Buffer.from('x'), aad)
    const wrong = await passphraseProvider('not the right passphrase', right.keyParams)
    const error = await rejection(openEnvelope(wrong, envelope, aad, 'f.json'))
    assert.equal(error.exitCode, ExitCode.environment)
    assert.equal(error.code, 'PASSPHRASE_WRONG')
  })

  it('refuses scrypt costs in a file that would exhaust memory, as a changed envelope', async () => {
    const provider = await passphraseProvider()
    const envelope = await sealEnvelope(provider, Buffer.from('x'), aad)
    const greedy = {...envelope, params: {...envelope.params!, N: 2 ** 24}}
    assert.equal((await rejection(openEnvelope(provider, greedy, aad, 'f.json'))).code, 'ENVELOPE_TAMPERED')
  })

  it('rewraps only the data key: the ciphertext stays, and the envelope opens under the new provider alone', async () => {
    const from = await passphraseProvider()
    const to = await passphraseProvider('another long passphrase')
    const envelope = await sealEnvelope(from, Buffer.from('moved'), aad)
    const moved = await rewrapEnvelope(from, to, envelope, 'f.json')
    assert.equal(moved.ciphertext, envelope.ciphertext)
    assert.notEqual(moved.wrapped, envelope.wrapped)
    assert.equal((await openEnvelope(to, moved, aad, 'f.json')).toString(), 'moved')
    assert.equal((await rejection(openEnvelope(from, moved, aad, 'f.json'))).exitCode, ExitCode.environment, 'the old passphrase still opens it')
  })

  it('refuses a passphrase shorter than twelve characters when creating the key', async () => {
    const provider = new PassphraseKeyProvider({passphrase: async () => 'short'})
    assert.equal((await rejection(provider.createKey())).code, 'PASSPHRASE_TOO_SHORT')
  })
})
