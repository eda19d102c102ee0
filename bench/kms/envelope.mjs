// Envelope seal and open per second through the pkcs11 (SoftHSM2) and passphrase providers: what
// a fleet run that opens hundreds of profile passwords pays per secret. Beside them, the floor:
// the same AES-256-GCM of a 32-byte secret with node:crypto and no key provider at all. The
// passphrase's scrypt derivation is paid once per process and reported on its own.
// Usage: node bench/kms/envelope.mjs [ITERATIONS]   (needs a build and `scripts/services start softhsm`)
import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {openEnvelope, sealEnvelope} from '../../dist/lib/secrets/envelope.js'
import {PassphraseKeyProvider} from '../../dist/lib/secrets/providers/passphrase.js'
import {Pkcs11KeyProvider} from '../../dist/lib/secrets/providers/pkcs11.js'
import {openTokenSession} from './token.mjs'

const iterations = Number(process.argv[2] ?? 5000)
const need = (name) => process.env[name] ?? (console.error(`${name} is not set: source "$(scripts/services env)" first`), process.exit(2))
const aad = {name: 'profile/prod@0123456789abcdef', purpose: 'profile-password', engine: 'mysql', target: 'db1:3306', account: 'app'}
const secret = randomBytes(32)
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9
const results = []

async function measure(label, provider) {
  let envelope = await sealEnvelope(provider, secret, aad)
  await openEnvelope(provider, envelope, aad, 'bench')
  let start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) envelope = await sealEnvelope(provider, secret, aad)
  results.push([label, 'seal', Math.round(iterations / seconds(start))])
  start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) (await openEnvelope(provider, envelope, aad, 'bench')).fill(0)
  results.push([label, 'open', Math.round(iterations / seconds(start))])
}

const token = {module: need('DBAKIT_TEST_PKCS11_MODULE'), token: need('DBAKIT_TEST_PKCS11_TOKEN'), pin: readFileSync(need('DBAKIT_TEST_PKCS11_PIN_FILE'), 'utf8').trim()}
const keyLabel = `dbakit-bench-envelope-${process.pid}`
const pkcs11 = new Pkcs11KeyProvider({...token, keyLabel, pin: async () => token.pin})
await pkcs11.createKey()
await measure('dbakit envelope, pkcs11 (SoftHSM2)', pkcs11)
await pkcs11.close()
const cleanup = openTokenSession(token)
for (const handle of cleanup.keysLabelled(keyLabel)) cleanup.library.C_DestroyObject(cleanup.session, handle)
cleanup.close()

const passphrase = new PassphraseKeyProvider({passphrase: async () => 'benchmark passphrase, long enough'})
await passphrase.createKey()
const keyed = new PassphraseKeyProvider({params: passphrase.keyParams, passphrase: async () => 'benchmark passphrase, long enough'})
let start = process.hrtime.bigint()
await keyed.currentKey()
await openEnvelope(keyed, await sealEnvelope(passphrase, secret, aad), aad, 'bench')
const derivation = seconds(start)
await measure('dbakit envelope, passphrase (after scrypt)', keyed)

const key = randomBytes(32)
const aadBytes = Buffer.from(JSON.stringify(aad))
start = process.hrtime.bigint()
let sealed
for (let i = 0; i < iterations; i++) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aadBytes)
  sealed = {iv, ciphertext: Buffer.concat([cipher.update(secret), cipher.final()]), tag: cipher.getAuthTag()}
}
results.push(['node:crypto AES-256-GCM, no provider', 'seal', Math.round(iterations / seconds(start))])
start = process.hrtime.bigint()
for (let i = 0; i < iterations; i++) {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv).setAAD(aadBytes)
  decipher.setAuthTag(sealed.tag)
  Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()])
}
results.push(['node:crypto AES-256-GCM, no provider', 'open', Math.round(iterations / seconds(start))])

console.log(`Node ${process.version}, ${iterations} iterations each; passphrase scrypt (N=${passphrase.keyParams.N}, r=${passphrase.keyParams.r}, p=${passphrase.keyParams.p}) derivation and first open: ${(derivation * 1000).toFixed(0)} ms\n`)
console.log('| run | operation | per second |\n|---|---|---|')
for (const [run, operation, rate] of results) console.log(`| ${run} | ${operation} | ${rate.toLocaleString('en-US')} |`)
await keyed.close()
await passphrase.close()
