import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.ts'
import {forgetKeychainEntries, keychainEntriesOf} from '../helpers/keychain.ts'
import {destroyKeysWithPrefix, softhsmPin} from '../helpers/pkcs11.ts'
import {keyringBus, mariadb, softhsm} from '../helpers/services.ts'

const runPrefix = `dbakit-kms-test-${process.pid}-${randomBytes(3).toString('hex')}`
let labels = 0
const homes: string[] = []
after(async () => {
  await forgetKeychainEntries(homes)
  destroyKeysWithPrefix(runPrefix)
})

/** A DBAKIT_HOME of its own, with the keychain on the test D-Bus (or none at all: a headless host). */
function home(options: {keychain?: boolean} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dbakit-kms-'))
  homes.push(dir)
  const env = {DBAKIT_HOME: dir, DBUS_SESSION_BUS_ADDRESS: options.keychain === false ? `unix:path=${join(dir, 'no-bus')}` : keyringBus(), DBAKIT_PKCS11_PIN: undefined, DBAKIT_KMS_PASSPHRASE: undefined}
  const run = (args: string[], extra: {input?: string; env?: Record<string, string | undefined>} = {}) => runCli(args, {env: {...env, ...extra.env}, ...(extra.input === undefined ? {} : {input: extra.input})})
  return {dir, run, envelope: (name: string) => join(dir, 'state', 'envelopes', `${name}.json`)}
}

const PASSPHRASE = 'correct horse battery staple'
const pkcs11Init = (label = `${runPrefix}-${++labels}`) => ['kms', 'init', '--provider', 'pkcs11', '--module', softhsm.module, '--token', softhsm.token, '--key', label, '--pin-file', softhsm.pinFile, '--yes', '--json']
const passphraseEnv = {DBAKIT_KMS_PASSPHRASE: PASSPHRASE}
const json = <T = Record<string, unknown>>(stdout: string) => JSON.parse(stdout) as T

/** Flips one bit of a base64 field of an envelope file, as a disk error or an attacker would. */
function flip(file: string, field: 'ciphertext' | 'tag' | 'wrapped') {
  const envelope = JSON.parse(readFileSync(file, 'utf8'))
  const bytes = Buffer.from(envelope[field], 'base64')
  bytes.writeUInt8(bytes.readUInt8(0) ^ 0x01, 0)
  envelope[field] = bytes.toString('base64')
  writeFileSync(file, JSON.stringify(envelope))
}

describe('kms and secret commands against SoftHSM2 and gnome-keyring', () => {
  it('initialises a PKCS#11 key, keeps a secret as a 0600 envelope that holds no plaintext, and reads it back', async () => {
    const h = home()
    const init = await h.run(pkcs11Init())
    assert.equal(init.code, 0, init.stderr)
    assert.equal(json<{created: boolean}>(init.stdout).created, true)
    const value = `s3cr3t-${randomBytes(6).toString('hex')}`
    const set = await h.run(['secret', 'set', 'backup-key', '--stdin', '--backend', 'kms'], {input: `${value}\n`})
    assert.equal(set.code, 0, set.stderr)
    const file = h.envelope('secret/backup-key')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.ok(!readFileSync(file, 'utf8').includes(value))
    assert.equal(json<{key: {provider: string}}>(readFileSync(file, 'utf8')).key.provider, 'pkcs11')
    const get = await h.run(['secret', 'get', 'backup-key'])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, value)
    const asJson = await h.run(['secret', 'get', 'backup-key', '--json'])
    assert.equal(asJson.code, 0)
    assert.ok(!asJson.stdout.includes(value), '--json printed the secret')
    assert.equal(json<{backend: string}>(asJson.stdout).backend, 'kms')
  })

  it('selects an existing key instead of replacing it, so envelopes made under it still open', async () => {
    const h = home()
    const label = `${runPrefix}-${++labels}`
    assert.equal((await h.run(pkcs11Init(label))).code, 0)
    assert.equal((await h.run(['secret', 'set', 'a', '--stdin', '--backend', 'kms'], {input: 'one'})).code, 0)
    const again = await h.run(pkcs11Init(label))
    assert.equal(again.code, 0, again.stderr)
    assert.equal(json<{created: boolean}>(again.stdout).created, false)
    assert.equal((await h.run(['secret', 'get', 'a'])).stdout, 'one')
  })

  it('keeps operator secrets in the keychain where there is one, lists both kinds, and deletes only when confirmed', async () => {
    const h = home()
    assert.equal((await h.run(pkcs11Init())).code, 0)
    assert.equal((await h.run(['secret', 'set', 'in-keychain', '--stdin'], {input: 'k-value'})).code, 0)
    assert.deepEqual((await keychainEntriesOf(h.dir)).map((e) => [e.account.split('@')[0], e.password]), [['secret:in-keychain', 'k-value']])
    assert.equal((await h.run(['secret', 'set', 'in-kms', '--stdin', '--backend', 'kms'], {input: 'e-value'})).code, 0)
    const list = await h.run(['secret', 'list', '--json'])
    assert.deepEqual(json<{secrets: Array<{name: string; backend: string}>}>(list.stdout).secrets.map((s) => [s.name, s.backend]), [['in-keychain', 'keychain'], ['in-kms', 'kms']])
    assert.ok(!list.stdout.includes('value'))
    const refused = await h.run(['secret', 'delete', 'in-keychain'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--yes/)
    const dry = await h.run(['secret', 'delete', 'in-kms', '--dry-run'])
    assert.equal(dry.code, 0)
    assert.ok(existsSync(h.envelope('secret/in-kms')))
    assert.equal((await h.run(['secret', 'delete', 'in-keychain', '--yes'])).code, 0)
    assert.equal((await h.run(['secret', 'delete', 'in-kms', '--yes'])).code, 0)
    assert.deepEqual(await keychainEntriesOf(h.dir), [])
    assert.ok(!existsSync(h.envelope('secret/in-kms')))
  })

  it('on a host without a keychain, keeps the secret as an envelope; replacing it needs --yes', async () => {
    const h = home({keychain: false})
    assert.equal((await h.run(pkcs11Init())).code, 0)
    const set = await h.run(['secret', 'set', 'db-admin', '--stdin', '--json'], {input: 'first'})
    assert.equal(set.code, 0, set.stderr)
    assert.equal(json<{backend: string}>(set.stdout).backend, 'kms')
    const replace = await h.run(['secret', 'set', 'db-admin', '--stdin'], {input: 'second'})
    assert.equal(replace.code, 2)
    assert.equal((await h.run(['secret', 'get', 'db-admin'])).stdout, 'first', 'a refused replacement changed the value')
    assert.equal((await h.run(['secret', 'set', 'db-admin', '--stdin', '--yes'], {input: 'second'})).code, 0)
    assert.equal((await h.run(['secret', 'get', 'db-admin'])).stdout, 'second')
  })

  it('rewraps every envelope to a new key version, and the secrets still open', async () => {
    const h = home()
    assert.equal((await h.run(pkcs11Init())).code, 0)
    for (const name of ['one', 'two']) assert.equal((await h.run(['secret', 'set', name, '--stdin', '--backend', 'kms'], {input: `${name}-value`})).code, 0)
    const rotate = await h.run(['kms', 'rotate', '--json'])
    assert.equal(rotate.code, 0, rotate.stderr)
    assert.equal(json<{to: {keyVersion: number}}>(rotate.stdout).to.keyVersion, 2)
    const before = json<{keys: Array<{keyVersion: number; envelopes: number; current: boolean}>}>((await h.run(['kms', 'status', '--json'])).stdout)
    assert.deepEqual(before.keys.map((k) => [k.keyVersion, k.envelopes, k.current]), [[1, 2, false]])
    const dry = await h.run(['kms', 'rewrap', '--dry-run', '--json'])
    assert.equal(json<{rewrapped: unknown[]}>(dry.stdout).rewrapped.length, 2)
    assert.equal(json<{key: {keyVersion: number}}>(readFileSync(h.envelope('secret/one'), 'utf8')).key.keyVersion, 1, '--dry-run changed an envelope')
    const ciphertext = json<{ciphertext: string}>(readFileSync(h.envelope('secret/one'), 'utf8')).ciphertext
    const rewrap = await h.run(['kms', 'rewrap', '--yes'])
    assert.equal(rewrap.code, 0, rewrap.stderr)
    const after = json<{keys: Array<{keyVersion: number; envelopes: number; current: boolean}>}>((await h.run(['kms', 'status', '--json'])).stdout)
    assert.deepEqual(after.keys.map((k) => [k.keyVersion, k.envelopes, k.current]), [[2, 2, true]])
    const moved = json<{ciphertext: string}>(readFileSync(h.envelope('secret/one'), 'utf8'))
    assert.equal(moved.ciphertext, ciphertext, 'rewrap re-encrypted the secret instead of re-wrapping its key')
    assert.equal((await h.run(['secret', 'get', 'two'])).stdout, 'two-value')
  })

  it('moves envelopes from a passphrase to a PKCS#11 key, after which the passphrase is not needed', async () => {
    const h = home()
    const init = await h.run(['kms', 'init', '--provider', 'passphrase', '--yes'], {env: passphraseEnv})
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stderr, /not a KMS/)
    assert.equal((await h.run(['secret', 'set', 'laptop', '--stdin', '--backend', 'kms'], {input: 'from-laptop', env: passphraseEnv})).code, 0)
    const wrong = await h.run(['secret', 'get', 'laptop'], {env: {DBAKIT_KMS_PASSPHRASE: 'not the passphrase at all'}})
    assert.equal(wrong.code, 3, wrong.stderr)
    assert.match(wrong.stderr, /passphrase is wrong/)
    assert.equal((await h.run(pkcs11Init())).code, 0)
    const rewrap = await h.run(['kms', 'rewrap', '--yes', '--json'], {env: passphraseEnv})
    assert.equal(rewrap.code, 0, rewrap.stderr)
    assert.equal(json<{rewrapped: unknown[]}>(rewrap.stdout).rewrapped.length, 1)
    assert.equal(json<{key: {provider: string}}>(readFileSync(h.envelope('secret/laptop'), 'utf8')).key.provider, 'pkcs11')
    const get = await h.run(['secret', 'get', 'laptop'])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, 'from-laptop')
  })

  it('refuses an envelope with a flipped byte in the ciphertext, the tag or the wrapped key, a changed AAD, or one copied to another name (exit 1, file named)', async () => {
    const h = home()
    assert.equal((await h.run(pkcs11Init())).code, 0)
    const names = ['cipher', 'tag', 'wrapped', 'aad', 'original']
    for (const name of names) assert.equal((await h.run(['secret', 'set', name, '--stdin', '--backend', 'kms'], {input: `value-of-${name}`})).code, 0)
    flip(h.envelope('secret/cipher'), 'ciphertext')
    flip(h.envelope('secret/tag'), 'tag')
    flip(h.envelope('secret/wrapped'), 'wrapped')
    const aadFile = h.envelope('secret/aad')
    const envelope = JSON.parse(readFileSync(aadFile, 'utf8'))
    envelope.aad.purpose = 'backup-key'
    writeFileSync(aadFile, JSON.stringify(envelope))
    copyFileSync(h.envelope('secret/original'), h.envelope('secret/copy'))
    for (const name of ['cipher', 'tag', 'wrapped', 'aad', 'copy']) {
      const get = await h.run(['secret', 'get', name])
      assert.equal(get.code, 1, `${name}: ${get.stderr}`)
      assert.equal(get.stdout, '', `${name}: printed something`)
      assert.ok(get.stderr.includes(h.envelope(`secret/${name}`)), `${name}: ${get.stderr}`)
      assert.ok(!get.stderr.includes('value-of'), 'a secret reached the error')
    }
    const truncated = h.envelope('secret/original')
    writeFileSync(truncated, readFileSync(truncated, 'utf8').slice(0, 100))
    const cut = await h.run(['secret', 'get', 'original'])
    assert.equal(cut.code, 1)
    assert.match(cut.stderr, /not complete JSON/)
  })

  it('exits 3 naming the provider for a wrong PIN, and 2 for an unknown secret with the closest name', async () => {
    const h = home()
    assert.equal((await h.run(pkcs11Init())).code, 0)
    assert.equal((await h.run(['secret', 'set', 'replica-password', '--stdin', '--backend', 'kms'], {input: 'x'})).code, 0)
    const config = join(h.dir, 'config.yaml')
    const pinFile = join(h.dir, 'wrong-pin')
    writeFileSync(pinFile, '999999\n', {mode: 0o600})
    writeFileSync(config, readFileSync(config, 'utf8').replace(softhsm.pinFile, pinFile))
    const wrongPin = await h.run(['secret', 'get', 'replica-password'])
    assert.equal(wrongPin.code, 3, wrongPin.stderr)
    assert.match(wrongPin.stderr, /pkcs11/)
    assert.ok(!wrongPin.stderr.includes('999999') && !wrongPin.stderr.includes(softhsmPin()), 'a PIN reached the error')
    const unknown = await h.run(['secret', 'get', 'replica-pasword'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /did you mean replica-password/)
  })

  it('says how to set up a key when none is configured (exit 2)', async () => {
    const h = home({keychain: false})
    const set = await h.run(['secret', 'set', 'x', '--stdin'], {input: 'v'})
    assert.equal(set.code, 2, set.stderr)
    assert.match(set.stderr, /dbakit kms init/)
  })

  it('logs every read and write in the audit log, without the secret, and --verify finds a changed line', async () => {
    const h = home()
    assert.equal((await h.run(pkcs11Init())).code, 0)
    assert.equal((await h.run(['secret', 'set', 'logged', '--stdin', '--backend', 'kms'], {input: 'very-secret-value'})).code, 0)
    assert.equal((await h.run(['secret', 'get', 'logged'])).code, 0)
    assert.equal((await h.run(['secret', 'get', 'nosuch'])).code, 2)
    const log = join(h.dir, 'state', 'secret-audit.jsonl')
    const text = readFileSync(log, 'utf8')
    assert.ok(!text.includes('very-secret-value'))
    const entries = text.trim().split('\n').map((line) => JSON.parse(line) as {action: string; target: string; outcome: string; provider: string | null})
    assert.deepEqual(entries.map((e) => [e.action, e.target, e.outcome]), [['init', 'pkcs11', 'ok'], ['write', 'secret/logged', 'ok'], ['read', 'secret/logged', 'ok'], ['read', 'secret/nosuch', 'error']])
    assert.equal(entries[2]!.provider, 'pkcs11')
    assert.equal((await h.run(['secret', 'audit', '--verify'])).code, 0)
    writeFileSync(log, text.replace('"read"', '"list"'))
    const verify = await h.run(['secret', 'audit', '--verify'])
    assert.equal(verify.code, 1)
    assert.match(verify.stderr, /line 3/)
  })

  it('keeps a profile password as an envelope bound to its server and user, and connects with it', async () => {
    const h = home({keychain: false})
    assert.equal((await h.run(pkcs11Init())).code, 0)
    const add = await h.run(['profile', 'add', 'prim', '--url', mariadb.primaryUrl, '--password-stdin', '--password-kms'], {input: mariadb.password})
    assert.equal(add.code, 0, add.stderr)
    assert.match(readFileSync(join(h.dir, 'config.yaml'), 'utf8'), /password: kms/)
    assert.ok(!readFileSync(join(h.dir, 'config.yaml'), 'utf8').includes(mariadb.password))
    const test = await h.run(['profile', 'test', 'prim', '--json'])
    assert.equal(test.code, 0, test.stderr)
    const other = new URL(mariadb.primaryUrl)
    other.username = 'someone_else'
    assert.equal((await h.run(['profile', 'add', 'other', '--url', other.toString(), '--password-stdin', '--password-kms'], {input: 'their-password'})).code, 0)
    const profiles = join(h.dir, 'state', 'envelopes', 'profile')
    const envelopeOf = (name: string) => join(profiles, readdirSync(profiles).find((file) => file.startsWith(`${name}@`))!)
    const own = envelopeOf('prim')
    copyFileSync(own, envelopeOf('other'))
    const moved = await h.run(['profile', 'test', 'other'])
    assert.equal(moved.code, 1, moved.stderr)
    assert.match(moved.stderr, /copied or moved/)
    assert.equal((await h.run(['profile', 'remove', 'prim', '--yes'])).code, 0)
    assert.ok(!existsSync(own), 'the envelope outlived its profile')
  })

  it('keeps a profile password as an envelope by default on a host without a keychain once kms init has run, and says how otherwise', async () => {
    const bare = home({keychain: false})
    const refused = await bare.run(['profile', 'add', 'prim', '--url', mariadb.primaryUrl, '--password-stdin'], {input: mariadb.password})
    assert.equal(refused.code, 3, refused.stderr)
    assert.match(refused.stderr, /dbakit kms init/)
    assert.ok(!existsSync(join(bare.dir, 'config.yaml')) || !readFileSync(join(bare.dir, 'config.yaml'), 'utf8').includes('prim'), 'a profile was saved without its password')
    assert.equal((await bare.run(pkcs11Init())).code, 0)
    const add = await bare.run(['profile', 'add', 'prim', '--url', mariadb.primaryUrl, '--password-stdin', '--json'], {input: mariadb.password})
    assert.equal(add.code, 0, add.stderr)
    assert.match(add.stderr, /KMS envelope/)
    assert.deepEqual(json<{password: unknown}>(add.stdout).password, {kind: 'kms'})
    const test = await bare.run(['profile', 'test', 'prim'])
    assert.equal(test.code, 0, test.stderr)
  })
})
