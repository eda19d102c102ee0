import {randomBytes} from 'node:crypto'
import {DbakitError, ExitCode, environmentError} from '../../core/errors.ts'
import type {KeyProvider, KeyRef, WrappedKey} from './types.ts'

type Pkcs11Module = typeof import('pkcs11js')
type Pkcs11 = InstanceType<Pkcs11Module['PKCS11']>
type Handle = Buffer
interface Session {
  pkcs11: Pkcs11Module
  library: Pkcs11
  session: Handle
}

export interface Pkcs11ProviderOptions {
  /** Path of the PKCS#11 module (.so), e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string
  /** The token's label; the first token whose label matches is used. */
  token?: string
  /** The slot id instead of a token label, for tokens without a useful label. */
  slot?: number
  /** Label of the key-encryption key; version n > 1 lives on the token as `label#n`. */
  keyLabel: string
  /** The user PIN, asked for only when the session logs in (keychain, env, file or prompt). */
  pin: () => Promise<string>
}

const GCM_IV_BYTES = 12
const GCM_TAG_BITS = 128
const DATA_KEY_BYTES = 32
const VERSION_SEPARATOR = '#'

let loadedModule: Promise<Pkcs11Module> | undefined

/** The native addon loads only when a PKCS#11 key is actually used. */
async function loadPkcs11js(): Promise<Pkcs11Module> {
  loadedModule ??= import('pkcs11js').then(
    (module) => ((module as {default?: Pkcs11Module}).default ?? module) as Pkcs11Module,
    (error: unknown) => {
      loadedModule = undefined
      throw environmentError('PKCS11_UNAVAILABLE', `pkcs11: the pkcs11js native addon could not load: ${firstLine(error)}`, {
        hint: 'reinstall dbakit so that its native addons build for this Node (`npm rebuild pkcs11js`); that needs g++, make and python3',
      })
    },
  )
  return loadedModule
}

/**
 * A library may be initialised only once per process; providers sharing a module share it, and
 * the last one to close finalises it.
 */
const openLibraries = new Map<string, {library: Pkcs11; users: number}>()

/** The label a key version has on the token. Version 1 keeps the bare label so `kms init` output is what the user typed. */
export function pkcs11VersionLabel(keyLabel: string, version: number): string {
  return version === 1 ? keyLabel : `${keyLabel}${VERSION_SEPARATOR}${version}`
}

function versionOfLabel(keyLabel: string, label: string): number | undefined {
  if (label === keyLabel) return 1
  if (!label.startsWith(keyLabel + VERSION_SEPARATOR)) return undefined
  const suffix = label.slice(keyLabel.length + 1)
  return /^[1-9]\d*$/.test(suffix) && Number(suffix) > 1 ? Number(suffix) : undefined
}

/**
 * Wraps data keys with an AES-256 key that never leaves a PKCS#11 token (SoftHSM2, a YubiHSM, a
 * cloud HSM's module): CKM_AES_GCM on the token, a fresh 12-byte IV per wrap recorded in the
 * wrapped key's params, and the envelope's AAD as GCM's additional data, so the token itself
 * refuses a wrapped key that was changed or moved to another purpose or account.
 *
 * One session, logged in once, serves every wrap and unwrap until close(): a login per secret
 * would cost a PIN check on the token each time. PKCS#11 logs in the application, not a session,
 * so a second provider of this process on the same token finds it logged in already and its PIN
 * is not checked again.
 */
export class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = 'pkcs11' as const
  private readonly options: Pkcs11ProviderOptions
  private opened: Promise<Session> | undefined
  private openedSession: Session | undefined
  private readonly keyHandles = new Map<string, Handle>()
  /** Found once per session: a key rotated by another process is picked up by the next session. */
  private current: KeyRef | undefined

  constructor(options: Pkcs11ProviderOptions) {
    if (options.token === undefined && options.slot === undefined) {
      throw new DbakitError(ExitCode.usage, 'PKCS11_NO_TOKEN', 'pkcs11: name the token (its label) or the slot id')
    }
    this.options = options
  }

  private get tokenName(): string {
    return this.options.token === undefined ? `slot ${this.options.slot}` : `token "${this.options.token}"`
  }

  private where(keyLabel?: string): string {
    return `${keyLabel === undefined ? '' : `key "${keyLabel}" on `}${this.tokenName} (module ${this.options.module})`
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const {pkcs11, library, session} = await this.open()
    const current = await this.currentKey()
    const key = this.findKey(current.keyId, current.keyVersion)
    const iv = randomBytes(GCM_IV_BYTES)
    const wrapped = this.call(current.keyId, () => {
      library.C_EncryptInit(session, gcm(pkcs11, iv, aad), key)
      return library.C_Encrypt(session, Buffer.from(dataKey), Buffer.alloc(dataKey.length + GCM_TAG_BITS / 8))
    })
    return {key: current, wrapped: wrapped.toString('base64'), params: {mechanism: 'CKM_AES_GCM', iv: iv.toString('base64')}}
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const {pkcs11, library, session} = await this.open()
    const {keyId, keyVersion} = wrapped.key
    const where = this.where(pkcs11VersionLabel(keyId, keyVersion))
    if (wrapped.key.provider !== 'pkcs11') {
      throw tampered(`the wrapped data key names provider ${wrapped.key.provider}, not pkcs11 (${where})`)
    }
    const iv = typeof wrapped.params?.iv === 'string' ? Buffer.from(wrapped.params.iv, 'base64') : undefined
    if (wrapped.params?.mechanism !== 'CKM_AES_GCM' || iv?.length !== GCM_IV_BYTES) {
      throw tampered(`the wrapped data key's mechanism or IV is missing or malformed (${where})`)
    }
    const ciphertext = Buffer.from(wrapped.wrapped, 'base64')
    const key = this.findKey(keyId, keyVersion)
    let dataKey: Buffer
    try {
      library.C_DecryptInit(session, gcm(pkcs11, iv, aad), key)
    } catch (error) {
      throw this.tokenError(error, keyId)
    }
    try {
      dataKey = library.C_Decrypt(session, ciphertext, Buffer.alloc(ciphertext.length))
    } catch (error) {
      // A failed C_Decrypt ends the operation, so the session is ready for the next one.
      throw tampered(`the wrapped data key did not authenticate under ${where}: it was changed, or moved to another purpose or account`, error)
    }
    if (dataKey.length !== DATA_KEY_BYTES) {
      throw tampered(`the wrapped data key unwrapped to ${dataKey.length} bytes, not ${DATA_KEY_BYTES} (${where})`)
    }
    return new Uint8Array(dataKey)
  }

  async currentKey(): Promise<KeyRef> {
    if (this.current !== undefined) return this.current
    const versions = await this.versions()
    const latest = versions.at(-1)
    if (latest === undefined) {
      throw environmentError('PKCS11_KEY_NOT_FOUND', `pkcs11: there is no ${this.where(this.options.keyLabel)}`, {
        hint: 'create it with `dbakit kms init`, or check the key label and token',
        data: {provider: 'pkcs11', module: this.options.module, token: this.options.token ?? null, key: this.options.keyLabel},
      })
    }
    this.current = {provider: 'pkcs11', keyId: this.options.keyLabel, keyVersion: latest}
    return this.current
  }

  /** Creates version 1 of the key-encryption key, for `kms init`; an existing key of that label is never replaced. */
  async createKey(): Promise<KeyRef> {
    if ((await this.versions()).length > 0) {
      throw new DbakitError(ExitCode.usage, 'PKCS11_KEY_EXISTS', `pkcs11: ${this.where(this.options.keyLabel)} already exists; it was left as it is`, {
        hint: 'choose another key label, or use `dbakit kms rewrap` to move secrets to a new version of this key',
      })
    }
    await this.generate(1)
    this.current = {provider: 'pkcs11', keyId: this.options.keyLabel, keyVersion: 1}
    return this.current
  }

  /** Creates the next version (`label#n`); new wraps use it, and every older version still unwraps. */
  async rotateKey(): Promise<KeyRef> {
    const current = await this.currentKey()
    const next = current.keyVersion + 1
    await this.generate(next)
    this.current = {provider: 'pkcs11', keyId: this.options.keyLabel, keyVersion: next}
    return this.current
  }

  async close(): Promise<void> {
    const opened = this.opened
    this.opened = undefined
    this.openedSession = undefined
    this.current = undefined
    this.keyHandles.clear()
    if (opened === undefined) return
    let state
    try {
      state = await opened
    } catch {
      return
    }
    releaseLibrary(this.options.module, state.session)
  }

  private async generate(version: number): Promise<void> {
    const {pkcs11, library, session} = await this.open()
    const label = pkcs11VersionLabel(this.options.keyLabel, version)
    this.call(this.options.keyLabel, () =>
      library.C_GenerateKey(session, {mechanism: pkcs11.CKM_AES_KEY_GEN}, [
        {type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY},
        {type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES},
        {type: pkcs11.CKA_VALUE_LEN, value: 32},
        {type: pkcs11.CKA_LABEL, value: label},
        {type: pkcs11.CKA_ID, value: Buffer.from(label)},
        {type: pkcs11.CKA_TOKEN, value: true},
        {type: pkcs11.CKA_PRIVATE, value: true},
        {type: pkcs11.CKA_SENSITIVE, value: true},
        {type: pkcs11.CKA_EXTRACTABLE, value: false},
        {type: pkcs11.CKA_MODIFIABLE, value: false},
        {type: pkcs11.CKA_ENCRYPT, value: true},
        {type: pkcs11.CKA_DECRYPT, value: true},
        {type: pkcs11.CKA_WRAP, value: false},
        {type: pkcs11.CKA_UNWRAP, value: false},
        {type: pkcs11.CKA_SIGN, value: false},
        {type: pkcs11.CKA_VERIFY, value: false},
      ]),
    )
  }

  /** The versions of the key on the token, ascending. */
  private async versions(): Promise<number[]> {
    const {pkcs11, library, session} = await this.open()
    const labels = this.call(this.options.keyLabel, () => {
      library.C_FindObjectsInit(session, [
        {type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY},
        {type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES},
      ])
      const found: string[] = []
      try {
        for (let batch = library.C_FindObjects(session, 64); batch.length > 0; batch = library.C_FindObjects(session, 64)) {
          for (const handle of batch) {
            const [label] = library.C_GetAttributeValue(session, handle, [{type: pkcs11.CKA_LABEL}])
            if (label !== undefined) found.push(label.value.toString('utf8'))
          }
        }
      } finally {
        library.C_FindObjectsFinal(session)
      }
      return found
    })
    const versions = labels.map((label) => versionOfLabel(this.options.keyLabel, label)).filter((v) => v !== undefined)
    return [...new Set(versions)].sort((a, b) => a - b)
  }

  private findKey(keyLabel: string, version: number): Handle {
    const label = pkcs11VersionLabel(keyLabel, version)
    const cached = this.keyHandles.get(label)
    if (cached !== undefined) return cached
    const state = this.openedSession
    if (state === undefined) throw new Error('pkcs11: findKey before open')
    const {pkcs11, library, session} = state
    const handles = this.call(keyLabel, () => {
      library.C_FindObjectsInit(session, [
        {type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY},
        {type: pkcs11.CKA_LABEL, value: label},
      ])
      try {
        return library.C_FindObjects(session, 2)
      } finally {
        library.C_FindObjectsFinal(session)
      }
    })
    const [handle] = handles
    if (handle === undefined) {
      throw environmentError('PKCS11_KEY_NOT_FOUND', `pkcs11: there is no ${this.where(label)}`, {
        hint: version === 1 ? 'check the key label and token, or create the key with `dbakit kms init`' : 'an older key version was deleted from the token; secrets it wrapped cannot be unwrapped',
        data: {provider: 'pkcs11', module: this.options.module, token: this.options.token ?? null, key: label},
      })
    }
    if (handles.length > 1) {
      throw environmentError('PKCS11_KEY_AMBIGUOUS', `pkcs11: more than one ${this.where(label)}`, {
        hint: 'delete the duplicate with the token vendor\'s tool; dbakit will not guess which key wrapped your secrets',
      })
    }
    this.keyHandles.set(label, handle)
    return handle
  }

  private open(): Promise<Session> {
    this.opened ??= this.openSession().then(
      (state) => {
        this.openedSession = state
        return state
      },
      (error: unknown) => {
        this.opened = undefined
        throw error
      },
    )
    return this.opened
  }

  private async openSession(): Promise<Session> {
    const pkcs11 = await loadPkcs11js()
    const library = this.acquireLibrary(pkcs11)
    try {
      const slot = this.findSlot(library)
      const session = this.call(undefined, () => library.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION))
      const pin = await this.options.pin()
      try {
        library.C_Login(session, pkcs11.CKU_USER, pin)
      } catch (error) {
        if (pkcs11Code(error) !== 'CKR_USER_ALREADY_LOGGED_IN') {
          ignoreErrors(() => library.C_CloseSession(session))
          throw this.loginError(error)
        }
      }
      return {pkcs11, library, session}
    } catch (error) {
      releaseLibrary(this.options.module)
      throw error
    }
  }

  private acquireLibrary(pkcs11: Pkcs11Module): Pkcs11 {
    const shared = openLibraries.get(this.options.module)
    if (shared !== undefined) {
      shared.users++
      return shared.library
    }
    const library = new pkcs11.PKCS11()
    try {
      library.load(this.options.module)
    } catch (error) {
      throw environmentError('PKCS11_MODULE_UNAVAILABLE', `pkcs11: the module ${this.options.module} could not be loaded: ${firstLine(error)}`, {
        hint: 'check the module path (--module); for SoftHSM2 on Debian it is /usr/lib/softhsm/libsofthsm2.so',
        data: {provider: 'pkcs11', module: this.options.module},
      })
    }
    try {
      library.C_Initialize()
    } catch (error) {
      if (pkcs11Code(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        ignoreErrors(() => library.close())
        throw environmentError('PKCS11_MODULE_UNAVAILABLE', `pkcs11: the module ${this.options.module} failed to initialise: ${firstLine(error)}`, {
          hint: 'check the module\'s own configuration (for SoftHSM2, SOFTHSM2_CONF and its token directory)',
          data: {provider: 'pkcs11', module: this.options.module},
        })
      }
    }
    openLibraries.set(this.options.module, {library, users: 1})
    return library
  }

  private findSlot(library: Pkcs11): Handle {
    const slots = this.call(undefined, () => library.C_GetSlotList(true))
    const labels: string[] = []
    for (const slot of slots) {
      if (this.options.slot !== undefined) {
        if (slotId(slot) === this.options.slot) return slot
        continue
      }
      const info = this.call(undefined, () => library.C_GetTokenInfo(slot))
      const label = info.label.replace(/[\s\0]+$/, '')
      if (label === this.options.token) return slot
      labels.push(label)
    }
    throw environmentError('PKCS11_TOKEN_NOT_FOUND', `pkcs11: there is no ${this.tokenName} in module ${this.options.module}`, {
      hint: labels.length > 0 ? `tokens present: ${labels.map((l) => `"${l}"`).join(', ')}` : 'the module reports no token; initialise one with the vendor\'s tool (softhsm2-util --init-token)',
      data: {provider: 'pkcs11', module: this.options.module, token: this.options.token ?? null},
    })
  }

  private loginError(error: unknown): DbakitError {
    const code = pkcs11Code(error)
    const data = {provider: 'pkcs11', module: this.options.module, token: this.options.token ?? null, reason: code ?? null}
    if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_INVALID' || code === 'CKR_PIN_LEN_RANGE') {
      return environmentError('PKCS11_PIN_INCORRECT', `pkcs11: the PIN for ${this.where()} is wrong`, {
        hint: 'check DBAKIT_PKCS11_PIN, the PIN file or the keychain entry; repeated wrong PINs lock the token',
        data,
      })
    }
    if (code === 'CKR_PIN_LOCKED') {
      return environmentError('PKCS11_PIN_LOCKED', `pkcs11: the user PIN of ${this.where()} is locked`, {
        hint: 'the token\'s security officer must unlock it (softhsm2-util cannot; re-initialise a SoftHSM2 test token)',
        data,
      })
    }
    return environmentError('PKCS11_LOGIN_FAILED', `pkcs11: logging in to ${this.where()} failed: ${code ?? firstLine(error)}`, {data})
  }

  private tokenError(error: unknown, keyLabel: string | undefined): DbakitError {
    if (error instanceof DbakitError) return error
    const code = pkcs11Code(error)
    return environmentError('PKCS11_ERROR', `pkcs11: the token refused an operation on ${this.where(keyLabel)}: ${code ?? firstLine(error)}`, {
      hint: code === 'CKR_MECHANISM_INVALID' ? 'the token does not support CKM_AES_GCM, which dbakit needs to wrap keys' : undefined,
      data: {provider: 'pkcs11', module: this.options.module, token: this.options.token ?? null, key: keyLabel ?? null, reason: code ?? null},
    })
  }

  private call<T>(keyLabel: string | undefined, work: () => T): T {
    try {
      return work()
    } catch (error) {
      throw this.tokenError(error, keyLabel)
    }
  }
}

function gcm(pkcs11: Pkcs11Module, iv: Buffer, aad: Uint8Array) {
  return {
    mechanism: pkcs11.CKM_AES_GCM,
    parameter: {type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: iv.length * 8, aad: Buffer.from(aad), tagBits: GCM_TAG_BITS},
  }
}

function tampered(message: string, cause?: unknown): DbakitError {
  return new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `pkcs11: ${message}`, {
    hint: 'restore the secret from a backup, or set it again',
    cause,
  })
}

/**
 * Login state belongs to the application, not the session: logging out while another provider of
 * this process still uses the token would log that one out too, so only the last user logs out.
 */
function releaseLibrary(module: string, session?: Handle): void {
  const shared = openLibraries.get(module)
  if (shared === undefined) return
  const last = --shared.users === 0
  if (session !== undefined) {
    if (last) ignoreErrors(() => shared.library.C_Logout(session))
    ignoreErrors(() => shared.library.C_CloseSession(session))
  }
  if (!last) return
  openLibraries.delete(module)
  ignoreErrors(() => shared.library.C_Finalize())
  ignoreErrors(() => shared.library.close())
}

function slotId(slot: Handle): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0)
}

function pkcs11Code(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : String(error)
  return /CKR_[A-Z_]+/.exec(message)?.[0]
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}

function ignoreErrors(work: () => unknown): void {
  try {
    work()
  } catch {
    // Releasing a session or library that the token already dropped changes nothing for the caller.
  }
}
