import {createCipheriv, createDecipheriv, randomBytes} from 'node:crypto'
import {DbakitError, ExitCode} from '../core/errors.ts'
import {parseWrittenJson} from '../core/text.ts'
import type {KeyProvider, KeyRef, ProviderKind, WrappedKey} from './providers/types.ts'

/**
 * What an envelope's secret is for. Bound to the wrapped data key and to the data's GCM tag, so a
 * ciphertext copied to another name, account or purpose fails to open instead of handing over a
 * password for the wrong thing.
 */
export interface EnvelopeAad {
  /** Where dbakit keeps the envelope: `secret/NAME`, `profile/NAME@CONFIG`; the file's identity. */
  name: string
  /** operator-secret, profile-password, backup-key, ... */
  purpose: string
  engine?: string
  /** host:port, for secrets that belong to a server. */
  target?: string
  account?: string
}

export const ENVELOPE_FORMAT = 'dbakit-envelope'
export const ENVELOPE_VERSION = 1
const PROVIDERS: readonly ProviderKind[] = ['pkcs11', 'vault-transit', 'aws-kms', 'passphrase']
const AAD_FIELDS = ['name', 'purpose', 'engine', 'target', 'account'] as const
const DATA_KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16

export interface Envelope {
  format: typeof ENVELOPE_FORMAT
  v: typeof ENVELOPE_VERSION
  alg: 'A256GCM'
  key: KeyRef
  /** The data key as the provider wrapped it, base64. */
  wrapped: string
  params?: Record<string, string | number>
  iv: string
  ciphertext: string
  tag: string
  aad: EnvelopeAad
  created: string
}

/**
 * The AAD as bytes: a JSON array of the fields in a fixed order, absent ones null. An array leaves
 * no question of key order or whitespace for another implementation to get wrong (docs/secrets-envelope.md).
 */
export function canonicalAad(aad: EnvelopeAad): Buffer {
  return Buffer.from(JSON.stringify(['dbakit-aad-v1', ...AAD_FIELDS.map((field) => aad[field] ?? null)]), 'utf8')
}

/** Encrypts `plaintext` under a fresh data key that only `provider` can unwrap. */
export async function sealEnvelope(provider: KeyProvider, plaintext: Uint8Array, aad: EnvelopeAad, now = new Date()): Promise<Envelope> {
  const aadBytes = canonicalAad(aad)
  const dataKey = randomBytes(DATA_KEY_BYTES)
  try {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv, {authTagLength: TAG_BYTES})
    cipher.setAAD(aadBytes)
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
    const wrapped = await provider.wrap(dataKey, aadBytes)
    return {
      format: ENVELOPE_FORMAT,
      v: ENVELOPE_VERSION,
      alg: 'A256GCM',
      key: wrapped.key,
      wrapped: wrapped.wrapped,
      ...(wrapped.params ? {params: wrapped.params} : {}),
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      aad: pickAad(aad),
      created: now.toISOString(),
    }
  } finally {
    dataKey.fill(0)
  }
}

/**
 * The plaintext of an envelope that must be the one `expected` describes. The caller zeroes the
 * returned buffer when done with it.
 */
export async function openEnvelope(provider: KeyProvider, envelope: Envelope, expected: EnvelopeAad, file: string): Promise<Buffer> {
  checkAad(envelope, expected, file)
  const aadBytes = canonicalAad(expected)
  const dataKey = Buffer.from(await unwrapFor(provider, envelope, aadBytes, file))
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, Buffer.from(envelope.iv, 'base64'), {authTagLength: TAG_BYTES})
    decipher.setAAD(aadBytes)
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'))
    try {
      return Buffer.concat([decipher.update(Buffer.from(envelope.ciphertext, 'base64')), decipher.final()])
    } catch {
      throw envelopeTampered(file, 'its ciphertext or tag does not authenticate: it was changed after it was written')
    }
  } finally {
    dataKey.fill(0)
  }
}

/**
 * The same envelope with its data key wrapped by `to`'s current key: inside the KMS when `from`
 * and `to` are one provider that can, else unwrapped in memory and wrapped again. The ciphertext
 * is untouched and the secret itself is never decrypted.
 */
export async function rewrapEnvelope(from: KeyProvider, to: KeyProvider, envelope: Envelope, file: string): Promise<Envelope> {
  const aadBytes = canonicalAad(envelope.aad)
  let wrapped: WrappedKey
  if (from === to && to.rewrap) {
    wrapped = await translate(file, () => to.rewrap!(wrappedKeyOf(envelope), aadBytes))
  } else {
    const dataKey = await unwrapFor(from, envelope, aadBytes, file)
    try {
      wrapped = await to.wrap(dataKey, aadBytes)
    } finally {
      dataKey.fill(0)
    }
  }
  const {params: _dropped, ...rest} = envelope
  return {...rest, key: wrapped.key, wrapped: wrapped.wrapped, ...(wrapped.params ? {params: wrapped.params} : {})}
}

/** Reads an envelope file's text; anything that is not a complete envelope is refused (exit 1), naming the file. */
export function parseEnvelope(text: string, file: string): Envelope {
  const value = parseWrittenJson(text, (why) => envelopeTampered(file, why))
  const problem = envelopeProblem(value)
  if (problem) throw envelopeTampered(file, problem)
  return value as Envelope
}

export const serialiseEnvelope = (envelope: Envelope) => `${JSON.stringify(envelope, null, 2)}\n`

function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not an envelope object'
  const e = value as Record<string, unknown>
  if (e.format !== ENVELOPE_FORMAT) return `its format is not ${ENVELOPE_FORMAT}`
  if (e.v !== ENVELOPE_VERSION) return `its version ${String(e.v)} is not one this dbakit reads (${ENVELOPE_VERSION}); a newer dbakit may have written it`
  if (e.alg !== 'A256GCM') return `its algorithm ${String(e.alg)} is not A256GCM`
  const key = e.key as Record<string, unknown> | undefined
  if (typeof key !== 'object' || key === null) return 'it names no key'
  if (!PROVIDERS.includes(key.provider as ProviderKind)) return `its provider ${String(key.provider)} is not one of ${PROVIDERS.join(', ')}`
  if (typeof key.keyId !== 'string' || key.keyId === '') return 'its key id is missing'
  if (!Number.isInteger(key.keyVersion) || (key.keyVersion as number) < 1) return 'its key version is not a positive integer'
  for (const field of ['wrapped', 'iv', 'ciphertext', 'tag'] as const) {
    if (typeof e[field] !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(e[field] as string)) return `its ${field} is not base64`
  }
  if (Buffer.from(e.iv as string, 'base64').length !== IV_BYTES) return `its IV is not ${IV_BYTES} bytes`
  if (Buffer.from(e.tag as string, 'base64').length !== TAG_BYTES) return `its tag is not ${TAG_BYTES} bytes`
  if (e.params !== undefined && (typeof e.params !== 'object' || e.params === null || Object.values(e.params).some((v) => typeof v !== 'string' && typeof v !== 'number'))) return 'its provider parameters are malformed'
  const aad = e.aad as Record<string, unknown> | undefined
  if (typeof aad !== 'object' || aad === null || typeof aad.name !== 'string' || typeof aad.purpose !== 'string') return 'its AAD lacks name or purpose'
  for (const [field, v] of Object.entries(aad)) {
    if (!(AAD_FIELDS as readonly string[]).includes(field) || typeof v !== 'string') return `its AAD field ${field} is not one dbakit writes`
  }
  if (typeof e.created !== 'string') return 'its creation time is missing'
  return undefined
}

/** Refuses an envelope made for something else before any key is asked for. */
function checkAad(envelope: Envelope, expected: EnvelopeAad, file: string): void {
  for (const field of AAD_FIELDS) {
    if ((envelope.aad[field] ?? null) !== (expected[field] ?? null)) {
      throw envelopeTampered(file, `it was made for ${field} ${JSON.stringify(envelope.aad[field] ?? null)}, not ${JSON.stringify(expected[field] ?? null)}: it was copied or moved here`)
    }
  }
}

async function unwrapFor(provider: KeyProvider, envelope: Envelope, aadBytes: Buffer, file: string): Promise<Uint8Array> {
  if (provider.kind !== envelope.key.provider) {
    throw envelopeTampered(file, `it was wrapped by ${envelope.key.provider}, and ${provider.kind} was asked to open it`)
  }
  return translate(file, () => provider.unwrap(wrappedKeyOf(envelope), aadBytes))
}

/** A provider's refusal names its key; the user also needs to know which file it refused. */
async function translate<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof DbakitError && error.code === 'ENVELOPE_TAMPERED') {
      throw new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `${file}: ${error.message}`, {...(error.hint ? {hint: error.hint} : {}), data: {file}})
    }
    throw error
  }
}

const wrappedKeyOf = (envelope: Envelope): WrappedKey => ({key: envelope.key, wrapped: envelope.wrapped, ...(envelope.params ? {params: envelope.params} : {})})

const pickAad = (aad: EnvelopeAad): EnvelopeAad => Object.fromEntries(AAD_FIELDS.filter((field) => aad[field] !== undefined).map((field) => [field, aad[field]])) as unknown as EnvelopeAad

export function envelopeTampered(file: string, why: string): DbakitError {
  return new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `${file}: refused: ${why}`, {
    hint: 'nothing was decrypted; restore the file from a backup, or set the secret again',
    data: {file},
  })
}
