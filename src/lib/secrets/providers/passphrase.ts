import {createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual} from 'node:crypto'
import {DbakitError, ExitCode, environmentError, usageError} from '../../core/errors.ts'
import type {KeyProvider, KeyRef, WrappedKey} from './types.ts'

/** What `kms init --provider passphrase` records: the KDF parameters and a check value, never the passphrase. */
export interface PassphraseKeyParams {
  salt: string
  N: number
  r: number
  p: number
  /** HMAC of a fixed label under the derived key: tells a wrong passphrase from a changed envelope. */
  check: string
}

export interface PassphraseProviderOptions {
  /** The key `kms init` made; absent only while createKey() makes it. */
  params?: PassphraseKeyParams
  /** Asked once per process, when a key is first derived (keychain, DBAKIT_KMS_PASSPHRASE, file or prompt). */
  passphrase: () => Promise<string>
}

export const PASSPHRASE_KEY_ID = 'passphrase'
/** OWASP's scrypt minimum for interactive use: 128 MiB and about half a second per derivation. */
const DEFAULT_COST = {N: 2 ** 17, r: 8, p: 1}
const MAX_MEMORY = 512 * 1024 * 1024
const IV_BYTES = 12
const TAG_BYTES = 16
const MIN_PASSPHRASE_LENGTH = 12

/**
 * A key derived from a passphrase with scrypt, for a laptop without a KMS. Each envelope records
 * the salt and costs it was wrapped with, so it opens with the passphrase alone. It is not a KMS:
 * whoever has the files and the passphrase (or time to guess it) has the secrets.
 */
export class PassphraseKeyProvider implements KeyProvider {
  readonly kind = 'passphrase' as const
  private readonly options: PassphraseProviderOptions
  private params: PassphraseKeyParams | undefined
  private readonly derived = new Map<string, Promise<{wrapKey: Buffer; check: Buffer}>>()
  private passphrase: Promise<string> | undefined

  constructor(options: PassphraseProviderOptions) {
    this.options = options
    this.params = options.params
  }

  /** The parameters to record in the config after createKey(). */
  get keyParams(): PassphraseKeyParams | undefined {
    return this.params
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const params = this.requireParams()
    const {wrapKey} = await this.derive(params)
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', wrapKey, iv, {authTagLength: TAG_BYTES})
    cipher.setAAD(aad)
    const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final(), cipher.getAuthTag()])
    return {key: await this.currentKey(), wrapped: wrapped.toString('base64'), params: {kdf: 'scrypt', ...params, iv: iv.toString('base64')}}
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const params = paramsOf(wrapped)
    const iv = typeof wrapped.params?.iv === 'string' ? Buffer.from(wrapped.params.iv, 'base64') : undefined
    if (!params || iv?.length !== IV_BYTES) throw tampered('the wrapped data key\'s scrypt parameters or IV are missing or malformed')
    const {wrapKey} = await this.derive(params)
    const bytes = Buffer.from(wrapped.wrapped, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', wrapKey, iv, {authTagLength: TAG_BYTES})
    decipher.setAAD(aad)
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
    try {
      return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]))
    } catch {
      throw tampered('the wrapped data key did not authenticate under the passphrase key: it was changed, or moved to another purpose or account')
    }
  }

  async currentKey(): Promise<KeyRef> {
    this.requireParams()
    return {provider: 'passphrase', keyId: PASSPHRASE_KEY_ID, keyVersion: 1}
  }

  /** A fresh salt and check value for the passphrase; an existing key is never replaced. */
  async createKey(): Promise<KeyRef> {
    if (this.params) {
      throw usageError('PASSPHRASE_KEY_EXISTS', 'passphrase: a passphrase key is configured already; it was left as it is', {
        hint: 'move its secrets to a KMS with `dbakit kms init --provider pkcs11 ...` then `dbakit kms rewrap`',
      })
    }
    const passphrase = await this.askPassphrase()
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      throw usageError('PASSPHRASE_TOO_SHORT', `passphrase: a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters`, {hint: 'choose a longer one: several words are easier to type than symbols'})
    }
    const params = {salt: randomBytes(16).toString('base64'), ...DEFAULT_COST, check: ''}
    params.check = (await this.derive(params)).check.toString('base64')
    this.params = params
    return this.currentKey()
  }

  async close(): Promise<void> {
    for (const pending of this.derived.values()) (await pending.catch(() => undefined))?.wrapKey.fill(0)
    this.derived.clear()
    this.passphrase = undefined
  }

  private requireParams(): PassphraseKeyParams {
    if (!this.params) {
      throw usageError('PASSPHRASE_KEY_MISSING', 'passphrase: no passphrase key is configured', {hint: 'create one with `dbakit kms init --provider passphrase`'})
    }
    return this.params
  }

  private askPassphrase(): Promise<string> {
    this.passphrase ??= this.options.passphrase().catch((error: unknown) => {
      this.passphrase = undefined
      throw error
    })
    return this.passphrase
  }

  /** scrypt once per salt and cost per process: it is meant to be slow. */
  private derive(params: Omit<PassphraseKeyParams, 'check'> & {check: string}): Promise<{wrapKey: Buffer; check: Buffer}> {
    const id = `${params.salt}:${params.N}:${params.r}:${params.p}`
    let pending = this.derived.get(id)
    if (!pending) {
      pending = this.askPassphrase().then(async (passphrase) => {
        const master = await new Promise<Buffer>((resolve, reject) =>
          scrypt(passphrase.normalize('NFC'), Buffer.from(params.salt, 'base64'), 32, {N: params.N, r: params.r, p: params.p, maxmem: MAX_MEMORY}, (error, key) => (error ? reject(error) : resolve(key))),
        )
        const wrapKey = createHmac('sha256', master).update('dbakit passphrase wrap key').digest()
        const check = createHmac('sha256', master).update('dbakit passphrase check').digest().subarray(0, 16)
        master.fill(0)
        if (params.check !== '' && !safeEqual(check, Buffer.from(params.check, 'base64'))) {
          wrapKey.fill(0)
          throw environmentError('PASSPHRASE_WRONG', 'passphrase: the passphrase is wrong for this key', {hint: 'check DBAKIT_KMS_PASSPHRASE, the passphrase file or the keychain entry; nothing was changed'})
        }
        return {wrapKey, check}
      })
      pending.catch(() => this.derived.delete(id))
      this.derived.set(id, pending)
    }
    return pending
  }
}

function paramsOf(wrapped: WrappedKey): PassphraseKeyParams | undefined {
  const p = wrapped.params
  if (!p || p.kdf !== 'scrypt' || typeof p.salt !== 'string' || typeof p.check !== 'string') return undefined
  const cost = {N: p.N, r: p.r, p: p.p}
  // Costs from a file are bounded before scrypt sees them: a huge N is a way to exhaust memory.
  const [N, r, parallel] = [cost.N, cost.r, cost.p] as number[]
  if (![N, r, parallel].every((v) => Number.isInteger(v) && v! > 0) || N! < 2 ** 14 || 128 * N! * r! > MAX_MEMORY || parallel! > 16) return undefined
  return {salt: p.salt, check: p.check, N: N!, r: r!, p: parallel!}
}

const safeEqual = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b)

function tampered(message: string): DbakitError {
  return new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `passphrase: ${message}`, {hint: 'restore the secret from a backup, or set it again'})
}
