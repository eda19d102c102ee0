import {setTimeout as sleep} from 'node:timers/promises'
import {DbakitError, ExitCode, environmentError} from '../../core/errors.ts'
import {firstLine, socketCode, tamperedKey} from './failures.ts'
import type {KeyProvider, KeyRef, WrappedKey} from './types.ts'

export interface VaultTransitProviderOptions {
  /** Vault's (or OpenBao's) address, e.g. https://vault.example.com:8200; a path prefix behind a proxy is kept. */
  address: string
  /** The Vault token, asked for once per provider when the first request is made (keychain, VAULT_TOKEN, file or prompt). */
  token: () => Promise<string>
  /** Name of the transit key. */
  key: string
  /** Path the transit engine is mounted at; default `transit`. */
  mount?: string
  /** Vault Enterprise or OpenBao namespace, sent as X-Vault-Namespace. */
  namespace?: string
  /** How long one request may wait for Vault's answer; default 10000 ms. */
  timeoutMs?: number
}

const DEFAULT_MOUNT = 'transit'
const DEFAULT_TIMEOUT_MS = 10_000
const DATA_KEY_BYTES = 32
/** Attempts per request, the first included; a retry waits RETRY_DELAY_MS, then twice that. */
const MAX_ATTEMPTS = 3
const RETRY_DELAY_MS = 200
/** Vault's own rule for key names (framework.GenericNameRegex). */
const KEY_NAME = /^\w(?:[\w.@-]*\w)?$/
/** Vault transit ciphertext: `vault:v<key version>:<base64>`. */
const CIPHERTEXT = /^vault:v([1-9]\d*):[A-Za-z0-9+/]+={0,2}$/

/** What Vault answers: `data` on success, `errors` (and sometimes `warnings`) otherwise. */
interface VaultBody {
  data?: Record<string, unknown> | null
  errors?: string[]
  warnings?: string[] | null
}

interface Answer {
  status: number
  body: VaultBody | undefined
}

interface Call {
  method: 'GET' | 'POST'
  /** The API path after /v1/, e.g. `transit/encrypt/dbakit`. */
  path: string
  body?: Record<string, unknown>
  /**
   * Whether sending the request twice does no harm. A request whose answer was lost (connection
   * reset, 502 or 504 from a proxy) may have been carried out, so only these are sent again then;
   * a key rotation or creation is repeated only when Vault surely did not act on it.
   */
  idempotent: boolean
}

/** A wrapped key's transit key and version, as its envelope records them. */
interface Target {
  keyId: string
  mount: string
  name: string
}

/**
 * Wraps data keys with a Vault (or OpenBao) transit key, which never leaves Vault.
 *
 * The envelope's AAD is bound through key derivation: dbakit's key is created with `derived=true`
 * and every encrypt, decrypt and rewrap sends the AAD as the derivation `context`, so each AAD gets
 * an AES-256-GCM key of its own and Vault refuses ("cipher: message authentication failed") a
 * wrapped key presented with another AAD. Vault 1.13+ and OpenBao also take `associated_data` on
 * encrypt and decrypt, but not on rewrap (hashicorp/vault#29532): a key bound that way could only
 * be re-wrapped by decrypting it here. With `context`, which rewrap takes, `kms rewrap` never sees
 * the data key. A key that is not derived ignores the context and would bind nothing, so wraps
 * refuse it.
 *
 * The key id recorded in envelopes is the key's path in Vault, `<mount>/<name>` (e.g.
 * `transit/dbakit`); the version comes from the `vault:vN:` prefix of the ciphertext. Address and
 * namespace are connection settings, like a PKCS#11 token: a secret stays readable through another
 * node or load balancer of the same cluster.
 */
export class VaultTransitKeyProvider implements KeyProvider {
  readonly kind = 'vault-transit' as const
  private readonly address: string
  private readonly mount: string
  private readonly keyName: string
  private readonly keyId: string
  private readonly namespace: string | undefined
  private readonly timeoutMs: number
  private readonly tokenSource: () => Promise<string>
  private token: Promise<string> | undefined
  /** The token once known, only to make sure no message from Vault repeats it. */
  private knownToken: string | undefined
  /** Found once per provider: a key rotated by another process is picked up by the next provider. */
  private current: KeyRef | undefined

  constructor(options: VaultTransitProviderOptions) {
    let url: URL | undefined
    try {
      url = new URL(options.address)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
      throw new DbakitError(ExitCode.usage, 'VAULT_BAD_ADDRESS', `vault-transit: "${options.address}" is not a Vault address`, {
        hint: 'give it as https://HOST:8200 (VAULT_ADDR)',
      })
    }
    const mount = (options.mount ?? DEFAULT_MOUNT).replace(/^\/+|\/+$/g, '')
    if (mount === '' || mount.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw new DbakitError(ExitCode.usage, 'VAULT_BAD_MOUNT', `vault-transit: "${options.mount}" is not a mount path`, {
        hint: `the path the transit engine is enabled at, e.g. ${DEFAULT_MOUNT}`,
      })
    }
    if (!KEY_NAME.test(options.key)) {
      throw new DbakitError(ExitCode.usage, 'VAULT_BAD_KEY_NAME', `vault-transit: "${options.key}" is not a transit key name`, {
        hint: 'letters, digits and _ - . @, starting and ending with a letter, digit or _',
      })
    }
    this.address = url.href.replace(/\/+$/, '')
    this.mount = mount
    this.keyName = options.key
    this.keyId = `${mount}/${options.key}`
    this.namespace = options.namespace?.replace(/^\/+|\/+$/g, '') || undefined
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.tokenSource = options.token
  }

  private where(keyId: string = this.keyId): string {
    return `key "${keyId}" at ${this.address}${this.namespace === undefined ? '' : ` (namespace "${this.namespace}")`}`
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const current = await this.currentKey()
    const path = `${this.mount}/encrypt/${this.keyName}`
    const answer = await this.call({
      method: 'POST',
      path,
      body: {plaintext: Buffer.from(dataKey).toString('base64'), context: Buffer.from(aad).toString('base64')},
      idempotent: true,
    })
    if (answer.status !== 200) throw this.failure(answer, path, current.keyId)
    return this.wrappedFrom(answer, path)
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const target = parseWrapped(wrapped, this.where(wrapped.key.keyId))
    const answer = await this.withCiphertext('decrypt', target, wrapped, aad)
    const plaintext = answer.body?.data?.plaintext
    const dataKey = typeof plaintext === 'string' ? Buffer.from(plaintext, 'base64') : undefined
    if (dataKey?.length !== DATA_KEY_BYTES) {
      throw tampered(`the wrapped data key unwrapped to ${dataKey?.length ?? 0} bytes, not ${DATA_KEY_BYTES} (${this.where(target.keyId)})`)
    }
    return new Uint8Array(dataKey)
  }

  async currentKey(): Promise<KeyRef> {
    if (this.current !== undefined) return this.current
    const key = await this.readKey()
    if (key === undefined) {
      throw environmentError('VAULT_KEY_NOT_FOUND', `vault-transit: there is no ${this.where()}`, {
        hint: 'create it with `dbakit kms init`, or check the key name, mount and namespace',
        data: this.data(),
      })
    }
    if (key.supports_encryption !== true || key.supports_decryption !== true || key.soft_deleted === true) {
      throw environmentError('VAULT_KEY_UNSUITABLE', `vault-transit: ${this.where()} cannot encrypt and decrypt (type ${String(key.type)}${key.soft_deleted === true ? ', soft-deleted' : ''})`, {
        hint: 'use an aes256-gcm96 key created with `dbakit kms init`',
        data: this.data(),
      })
    }
    if (key.derived !== true) {
      throw environmentError('VAULT_KEY_NOT_DERIVED', `vault-transit: ${this.where()} is not a derived key, so it cannot bind a wrapped key to its purpose and account`, {
        hint: `create a key for dbakit with \`dbakit kms init\` (it sets derived=true), or \`vault write ${this.mount}/keys/NAME type=aes256-gcm96 derived=true\``,
        data: this.data(),
      })
    }
    this.current = {provider: 'vault-transit', keyId: this.keyId, keyVersion: latestVersion(key)}
    return this.current
  }

  /**
   * Re-wraps inside Vault with transit's rewrap, so the data key never leaves it. Rewrap stays
   * within one transit key: a wrapped key of another key (the provider now names a new one) is
   * unwrapped and wrapped again here instead.
   */
  async rewrap(wrapped: WrappedKey, aad: Uint8Array): Promise<WrappedKey> {
    const target = parseWrapped(wrapped, this.where(wrapped.key.keyId))
    if (target.keyId !== this.keyId) {
      const dataKey = await this.unwrap(wrapped, aad)
      try {
        return await this.wrap(dataKey, aad)
      } finally {
        dataKey.fill(0)
      }
    }
    return this.wrappedFrom(await this.withCiphertext('rewrap', target, wrapped, aad), `${this.mount}/rewrap/${this.keyName}`)
  }

  /**
   * Creates the key for `kms init`: aes256-gcm96, derived (see the class comment). An existing key
   * of that name is never adopted, even one made between the check and the creation: Vault then
   * answers with a warning, not an error.
   */
  async createKey(): Promise<KeyRef> {
    if ((await this.readKey()) !== undefined) {
      throw new DbakitError(ExitCode.usage, 'VAULT_KEY_EXISTS', `vault-transit: ${this.where()} already exists; it was left as it is`, {
        hint: 'choose another key name, or use `dbakit kms rewrap` to move secrets to a new version of this key',
        data: this.data(),
      })
    }
    const path = `${this.mount}/keys/${this.keyName}`
    const answer = await this.call({method: 'POST', path, body: {type: 'aes256-gcm96', derived: true}, idempotent: false})
    if (answer.status !== 200 && answer.status !== 204) throw this.failure(answer, path, this.keyId)
    if (answer.body?.warnings?.some((warning) => warning.includes('already existed'))) {
      throw new DbakitError(ExitCode.usage, 'VAULT_KEY_EXISTS', `vault-transit: ${this.where()} was created by someone else meanwhile; it was left as it is`, {
        hint: 'choose another key name',
        data: this.data(),
      })
    }
    this.current = {provider: 'vault-transit', keyId: this.keyId, keyVersion: 1}
    return this.current
  }

  /** Makes a new key version current (transit's rotate); every older version still unwraps until its min_decryption_version passes it. */
  async rotateKey(): Promise<KeyRef> {
    const path = `${this.mount}/keys/${this.keyName}/rotate`
    const answer = await this.call({method: 'POST', path, idempotent: false})
    if (answer.status !== 200 && answer.status !== 204) throw this.failure(answer, path, this.keyId)
    this.current = undefined
    // Vault 1.14 and later (and OpenBao) answer with the key; older ones with 204 and no body.
    const key = answer.body?.data
    if (key?.derived === true && typeof key.latest_version === 'number') {
      this.current = {provider: 'vault-transit', keyId: this.keyId, keyVersion: latestVersion(key)}
      return this.current
    }
    return this.currentKey()
  }

  async close(): Promise<void> {
    this.token = undefined
    this.knownToken = undefined
    this.current = undefined
  }

  /** Decrypts or rewraps a wrapped key with its AAD; a refusal that means the two do not belong together is tampering. */
  private async withCiphertext(operation: 'decrypt' | 'rewrap', target: Target, wrapped: WrappedKey, aad: Uint8Array): Promise<Answer> {
    const path = `${target.mount}/${operation}/${target.name}`
    const answer = await this.call({
      method: 'POST',
      path,
      body: {ciphertext: wrapped.wrapped, context: Buffer.from(aad).toString('base64')},
      idempotent: true,
    })
    if (answer.status !== 200) throw this.failure(answer, path, target.keyId, {refusalIsTampering: true})
    return answer
  }

  /** The key's description, or undefined when there is no key of that name (Vault: 404 with no errors). */
  private async readKey(): Promise<Record<string, unknown> | undefined> {
    const path = `${this.mount}/keys/${this.keyName}`
    const answer = await this.call({method: 'GET', path, idempotent: true})
    if (answer.status === 404 && (answer.body?.errors ?? []).length === 0) return undefined
    if (answer.status !== 200) throw this.failure(answer, path, this.keyId)
    const key = answer.body?.data
    if (key === undefined || key === null) throw this.failure(answer, path, this.keyId)
    return key
  }

  private wrappedFrom(answer: Answer, path: string): WrappedKey {
    const ciphertext = answer.body?.data?.ciphertext
    const version = typeof ciphertext === 'string' ? CIPHERTEXT.exec(ciphertext)?.[1] : undefined
    if (typeof ciphertext !== 'string' || version === undefined) {
      throw environmentError('VAULT_BAD_ANSWER', `vault-transit: ${path} at ${this.address} answered without a vault:vN: ciphertext`, {
        hint: 'check that the address is Vault or OpenBao and the mount is a transit engine',
        data: this.data(),
      })
    }
    return {key: {provider: 'vault-transit', keyId: this.keyId, keyVersion: Number(version)}, wrapped: ciphertext}
  }

  /** Sends one request, again after transient failures (see Call.idempotent); the answer may be any status. */
  private async call(call: Call): Promise<Answer> {
    const headers: Record<string, string> = {'X-Vault-Token': await this.getToken(), 'X-Vault-Request': 'true'}
    if (this.namespace !== undefined) headers['X-Vault-Namespace'] = this.namespace
    if (call.body !== undefined) headers['Content-Type'] = 'application/json'
    const url = `${this.address}/v1/${call.path.split('/').map(encodeURIComponent).join('/')}`
    for (let attempt = 1; ; attempt++) {
      let answer: Answer
      try {
        // A redirect would carry the token to wherever it points: Vault nodes forward to the
        // active node themselves, so a redirect is reported instead of followed.
        const response = await fetch(url, {
          method: call.method,
          headers,
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        })
        answer = {status: response.status, body: parseBody(await response.text())}
      } catch (error) {
        const code = socketCode(error)
        const sentAgain = code === 'ECONNREFUSED' || (call.idempotent && code !== undefined && RESET_CODES.has(code))
        if (sentAgain && attempt < MAX_ATTEMPTS) {
          await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1))
          continue
        }
        throw this.unreachable(error, code, call.path)
      }
      if (attempt < MAX_ATTEMPTS && transient(answer, call.idempotent)) {
        await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1))
        continue
      }
      return answer
    }
  }

  private async getToken(): Promise<string> {
    this.token ??= this.tokenSource().then(
      (token) => {
        if (token.trim() === '') {
          throw environmentError('VAULT_NO_TOKEN', `vault-transit: the Vault token for ${this.where()} is empty`, {
            hint: 'set VAULT_TOKEN, or store the token in the keychain or a token file',
            data: this.data(),
          })
        }
        this.knownToken = token.trim()
        return this.knownToken
      },
      (error: unknown) => {
        this.token = undefined
        throw error
      },
    )
    return this.token
  }

  private failure(answer: Answer, path: string, keyId: string, options: {refusalIsTampering?: boolean} = {}): DbakitError {
    const {status} = answer
    const reason = this.scrub((answer.body?.errors ?? []).join('; ').replace(/\s+/g, ' ').trim())
    const data = {...this.data(keyId), path, status, reason: reason || null}
    const said = reason === '' ? `HTTP ${status}` : `HTTP ${status}: ${reason}`
    if (status === 403) {
      return environmentError('VAULT_PERMISSION_DENIED', `vault-transit: permission denied on ${path} for ${this.where(keyId)}`, {
        hint: `check that the token is valid and not expired (VAULT_TOKEN, the token file or the keychain entry), and that its policy allows ${path}`,
        data,
      })
    }
    if (status === 503 && isSealed(answer)) {
      return environmentError('VAULT_SEALED', `vault-transit: Vault is sealed, so it cannot use ${this.where(keyId)}`, {
        hint: 'unseal it (`vault operator unseal`), or point the address at an unsealed node',
        data,
      })
    }
    if (status === 404 && /no handler for route/.test(reason)) {
      return environmentError('VAULT_MOUNT_NOT_FOUND', `vault-transit: no secrets engine is mounted at "${keyId.slice(0, keyId.lastIndexOf('/'))}" for ${this.where(keyId)}`, {
        hint: 'check the mount, or enable transit there (`vault secrets enable -path=MOUNT transit`)',
        data,
      })
    }
    if (status === 400 && /^(encryption key|key|policy) not found/.test(reason)) {
      return environmentError('VAULT_KEY_NOT_FOUND', `vault-transit: there is no ${this.where(keyId)}`, {
        hint: keyId === this.keyId ? 'create it with `dbakit kms init`, or check the key name, mount and namespace' : 'the key that wrapped this secret was deleted or is in another namespace; secrets it wrapped cannot be unwrapped without it',
        data,
      })
    }
    if (status === 400 && /disallowed by policy \(too old\)/.test(reason)) {
      return environmentError('VAULT_KEY_VERSION_RETIRED', `vault-transit: ${this.where(keyId)} no longer decrypts this key version: ${reason}`, {
        hint: `lower the key's min_decryption_version (\`vault write ${keyId.replace(/\/([^/]+)$/, '/keys/$1')}/config min_decryption_version=N\`), then run \`dbakit kms rewrap\``,
        data,
      })
    }
    if (status === 400 && options.refusalIsTampering && TAMPERED.test(reason)) {
      return tampered(`the wrapped data key did not authenticate under ${this.where(keyId)}: it was changed, or moved to another purpose or account (${reason})`)
    }
    if (status >= 300 && status < 400) {
      return environmentError('VAULT_REDIRECT', `vault-transit: ${this.address} redirected ${path} elsewhere (HTTP ${status}); dbakit does not send the token on`, {
        hint: 'point the address at the active node or at a load balancer in front of the cluster',
        data,
      })
    }
    return environmentError(status === 429 || status >= 500 ? 'VAULT_UNAVAILABLE' : 'VAULT_ERROR', `vault-transit: ${path} failed for ${this.where(keyId)}: ${said}`, {
      hint: status === 429 || status >= 500 ? 'Vault is overloaded or unavailable; try again later' : undefined,
      data,
    })
  }

  private unreachable(error: unknown, code: string | undefined, path: string): DbakitError {
    if (error instanceof DbakitError) return error
    const data = {...this.data(), path, reason: code ?? null}
    if (isTimeout(error)) {
      return environmentError('VAULT_TIMEOUT', `vault-transit: ${this.address} did not answer ${path} within ${this.timeoutMs} ms (${this.where()})`, {
        hint: 'check the network path to Vault and its load; the timeout is the provider\'s timeoutMs',
        data,
      })
    }
    if (code !== undefined && TLS_CODES.test(code)) {
      return environmentError('VAULT_TLS', `vault-transit: the TLS certificate of ${this.address} was not accepted (${code})`, {
        hint: 'if Vault\'s certificate comes from a private CA, name the CA file in NODE_EXTRA_CA_CERTS',
        data,
      })
    }
    return environmentError('VAULT_UNREACHABLE', `vault-transit: cannot reach ${this.address} (${code ?? this.scrub(firstLine(error))}) for ${this.where()}`, {
      hint: 'check the address (VAULT_ADDR), that Vault is running, and that this machine may connect to it',
      data,
    })
  }

  private data(keyId: string = this.keyId): Record<string, unknown> {
    return {provider: 'vault-transit', address: this.address, namespace: this.namespace ?? null, key: keyId}
  }

  /** Vault does not repeat tokens in its errors, but a proxy in front of it might. */
  private scrub(text: string): string {
    return this.knownToken === undefined ? text : text.split(this.knownToken).join('<token>')
  }
}

/** Reads the key and version from a wrapped key's envelope, refusing one that does not hang together. */
function parseWrapped(wrapped: WrappedKey, where: string): Target {
  if (wrapped.key.provider !== 'vault-transit') {
    throw tampered(`the wrapped data key names provider ${wrapped.key.provider}, not vault-transit (${where})`)
  }
  const slash = wrapped.key.keyId.lastIndexOf('/')
  const mount = wrapped.key.keyId.slice(0, slash)
  const name = wrapped.key.keyId.slice(slash + 1)
  if (slash <= 0 || !KEY_NAME.test(name)) {
    throw tampered(`the wrapped data key's key id "${wrapped.key.keyId}" is not a transit key path (mount/name)`)
  }
  const version = CIPHERTEXT.exec(wrapped.wrapped)?.[1]
  if (version === undefined) {
    throw tampered(`the wrapped data key is not a Vault transit ciphertext (${where})`)
  }
  if (Number(version) !== wrapped.key.keyVersion) {
    throw tampered(`the wrapped data key is of key version ${version}, but its envelope says ${wrapped.key.keyVersion} (${where})`)
  }
  return {keyId: wrapped.key.keyId, mount, name}
}

/** Decrypt and rewrap refusals that mean the ciphertext or its AAD is not what was wrapped. */
const TAMPERED = /message authentication failed|^invalid ciphertext|could not decode base64|illegal base64/

/** Socket errors after which the request may have reached Vault. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_)/

function latestVersion(key: Record<string, unknown>): number {
  if (typeof key.latest_version === 'number' && key.latest_version >= 1) return key.latest_version
  // Vault before 0.9 lists the versions only.
  const versions = Object.keys(key.keys ?? {}).map(Number).filter((v) => Number.isInteger(v) && v >= 1)
  return versions.length > 0 ? Math.max(...versions) : 1
}

/**
 * 429 (rate limit quota, standby) and a 503 that is not "sealed" mean Vault did not act on the
 * request; a 502 or 504 comes from a proxy that may have passed it on.
 */
function transient(answer: Answer, idempotent: boolean): boolean {
  if (answer.status === 429) return true
  if (answer.status === 503) return !isSealed(answer)
  return idempotent && (answer.status === 502 || answer.status === 504)
}

function isSealed(answer: Answer): boolean {
  return (answer.body?.errors ?? []).some((error) => /\bis sealed\b/.test(error))
}

function parseBody(text: string): VaultBody | undefined {
  if (text.trim() === '') return undefined
  try {
    const body: unknown = JSON.parse(text)
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as VaultBody) : undefined
  } catch {
    // A proxy's HTML error page: the status says enough.
    return undefined
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && error.cause instanceof Error && error.cause.name === 'TimeoutError'))
}

const tampered = (message: string, cause?: unknown) => tamperedKey('vault-transit', message, cause)
