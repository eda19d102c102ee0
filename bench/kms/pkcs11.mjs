// PKCS#11 provider wraps and unwraps per second against a real token, next to the same CKM_AES_GCM
// calls made directly through pkcs11js on the same key and session kind (the floor: what the
// token costs). Reads the module, token and PIN file from the scripts/services env variables;
// creates a key of its own and deletes it afterwards.
// Usage: node bench/kms/pkcs11.mjs [ITERATIONS]   (needs a build and `scripts/services start softhsm`)
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {Pkcs11KeyProvider} from '../../dist/lib/secrets/providers/pkcs11.js'
import {openTokenSession, pkcs11} from './token.mjs'

const iterations = Number(process.argv[2] ?? 20000)
const need = (name) => process.env[name] ?? (console.error(`${name} is not set: source "$(scripts/services env)" first`), process.exit(2))
const module = need('DBAKIT_TEST_PKCS11_MODULE')
const token = need('DBAKIT_TEST_PKCS11_TOKEN')
const pin = readFileSync(need('DBAKIT_TEST_PKCS11_PIN_FILE'), 'utf8').trim()
const keyLabel = `dbakit-bench-${process.pid}`
const aad = Buffer.from('{"account":"app","engine":"mysql","purpose":"profile-password","target":"db1"}')
const perSecond = (count, start) => Math.round(count / (Number(process.hrtime.bigint() - start) / 1e9))

const results = []
const provider = new Pkcs11KeyProvider({module, token, keyLabel, pin: async () => pin})
await provider.createKey()
const dataKey = randomBytes(32)
let wrapped = await provider.wrap(dataKey, aad)
await provider.unwrap(wrapped, aad)
let start = process.hrtime.bigint()
for (let i = 0; i < iterations; i++) wrapped = await provider.wrap(dataKey, aad)
results.push(['dbakit pkcs11 provider', 'wrap', perSecond(iterations, start)])
start = process.hrtime.bigint()
for (let i = 0; i < iterations; i++) await provider.unwrap(wrapped, aad)
results.push(['dbakit pkcs11 provider', 'unwrap', perSecond(iterations, start)])
await provider.close()

const {library, session, keysLabelled, close} = openTokenSession({module, token, pin})
const [key] = keysLabelled(keyLabel)
const gcm = (iv) => ({mechanism: pkcs11.CKM_AES_GCM, parameter: {type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: 96, aad, tagBits: 128}})
const iv = Buffer.from(wrapped.params.iv, 'base64')
const ciphertext = Buffer.from(wrapped.wrapped, 'base64')
start = process.hrtime.bigint()
for (let i = 0; i < iterations; i++) {
  library.C_EncryptInit(session, gcm(randomBytes(12)), key)
  library.C_Encrypt(session, dataKey, Buffer.alloc(48))
}
results.push(['pkcs11js direct', 'wrap', perSecond(iterations, start)])
start = process.hrtime.bigint()
for (let i = 0; i < iterations; i++) {
  library.C_DecryptInit(session, gcm(iv), key)
  library.C_Decrypt(session, ciphertext, Buffer.alloc(48))
}
results.push(['pkcs11js direct', 'unwrap', perSecond(iterations, start)])
library.C_DestroyObject(session, key)
close()

console.log(`Node ${process.version}, ${iterations} iterations each, token "${token}" (${module})\n`)
console.log('| run | operation | per second |\n|---|---|---|')
for (const [run, operation, rate] of results) console.log(`| ${run} | ${operation} | ${rate.toLocaleString('en-US')} |`)
