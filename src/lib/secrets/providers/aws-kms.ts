import {createHash} from 'node:crypto'
import {DbakitError, ExitCode, environmentError} from '../../core/errors.ts'
import {firstLine, socketCode, tamperedKey} from './failures.ts'
import type {KeyProvider, KeyRef, WrappedKey} from './types.ts'

type KmsModule = typeof import('@aws-sdk/client-kms')
type KmsClient = InstanceType<KmsModule['KMSClient']>
interface Connection {
  kms: KmsModule
  client: KmsClient
  region: string
}

export interface AwsKmsProviderOptions {
  /** The KMS key: its ARN, key id or alias (`alias/dbakit`); envelopes record the ARN it resolves to. */
  keyId: string
  /** The AWS region; by default the SDK's (AWS_REGION, the profile's region). */
  region?: string
  /** A KMS-compatible endpoint instead of AWS's (LocalStack, a VPC endpoint's private DNS name). */
  endpoint?: string
  /** How long one attempt may wait to connect or for an answer; default 10000 ms. */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 10_000
/** Attempts per call, the first included; the SDK retries throttling and transient errors. */
const MAX_ATTEMPTS = 3
const DATA_KEY_BYTES = 32
/** The one encryption-context entry dbakit sends; see the class comment. */
const CONTEXT_KEY = 'dbakit-aad-sha256'
const KEY_ARN = /^arn:[\w-]+:kms:[\w-]*:\d*:key\/[\w-]+$/

let loadedModule: Promise<KmsModule> | undefined

/** The AWS SDK loads only when an AWS KMS key is actually used, so that other commands start fast. */
async function loadKms(): Promise<KmsModule> {
  loadedModule ??= import('@aws-sdk/client-kms').then(
    (module) => module,
    (error: unknown) => {
      loadedModule = undefined
      throw environmentError('AWS_KMS_UNAVAILABLE', `aws-kms: the AWS SDK could not load: ${firstLine(error)}`, {
        hint: 'reinstall dbakit: its @aws-sdk/client-kms dependency is missing or broken',
      })
    },
  )
  return loadedModule
}

/**
 * The envelope's AAD as KMS's encryption context: one entry, the SHA-256 of the AAD's exact bytes.
 * KMS binds the context to the ciphertext and refuses (InvalidCiphertextException) a Decrypt or
 * ReEncrypt with any other, so a wrapped key moved to another purpose or account fails. A digest
 * rather than the AAD's fields because the context is a string map that KMS orders itself, while
 * the AAD is bytes whose every one must count, whatever its format; and because CloudTrail logs
 * the context of every call in clear, where a digest names no host or account yet still lets an
 * auditor match a call to a secret by hashing its AAD.
 */
export function kmsEncryptionContext(aad: Uint8Array): Record<string, string> {
  return {[CONTEXT_KEY]: createHash('sha256').update(aad).digest('base64url')}
}

/**
 * Wraps data keys with a symmetric AWS KMS key (or a KMS-compatible service's), which never
 * leaves KMS: Encrypt, Decrypt and ReEncrypt with the envelope's AAD as encryption context (see
 * kmsEncryptionContext). Credentials come from the SDK's usual chain (environment, profile, SSO,
 * container or instance role).
 *
 * The key id recorded in envelopes is the key's ARN as KMS resolved it, never an alias, so that
 * re-pointing an alias leaves existing secrets readable. The key version is always 1: KMS keeps
 * every key material a rotation leaves behind, picks the right one from the ciphertext, and shows
 * no version number for it; ListKeyRotations could be counted, but not for a key of another
 * account, and nothing in a ciphertext could be checked against the count. After `kms rotate`,
 * ReEncrypt (rewrap) moves a wrapped key to the new material.
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly kind = 'aws-kms' as const
  private readonly options: AwsKmsProviderOptions
  private readonly timeoutMs: number
  private opened: Promise<Connection> | undefined
  /** Found once per provider: an alias re-pointed meanwhile is picked up by the next provider. */
  private current: KeyRef | undefined

  constructor(options: AwsKmsProviderOptions) {
    if (options.keyId.trim() === '') {
      throw new DbakitError(ExitCode.usage, 'AWS_KMS_NO_KEY', 'aws-kms: name the KMS key (its ARN, key id or alias/NAME)')
    }
    if (options.endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(options.endpoint)) {
      throw new DbakitError(ExitCode.usage, 'AWS_KMS_BAD_ENDPOINT', `aws-kms: "${options.endpoint}" is not an endpoint URL`, {
        hint: 'give it as https://HOST[:PORT]',
      })
    }
    this.options = options
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  }

  private where(keyId: string, region: string | undefined): string {
    const place = region === undefined ? '' : ` in ${region}`
    return `key "${keyId}"${place}${this.options.endpoint === undefined ? '' : ` (endpoint ${this.options.endpoint})`}`
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const {kms, client, region} = await this.open()
    const requested = this.current?.keyId ?? this.options.keyId
    const answer = await this.call(region, requested, 'Encrypt', () =>
      client.send(new kms.EncryptCommand({KeyId: requested, Plaintext: dataKey, EncryptionContext: kmsEncryptionContext(aad)})),
    )
    const key = this.resolved(answer.KeyId, requested, region)
    if (answer.CiphertextBlob === undefined || answer.CiphertextBlob.length === 0) {
      throw this.badAnswer('Encrypt', requested, region)
    }
    this.current ??= key
    return {key, wrapped: Buffer.from(answer.CiphertextBlob).toString('base64')}
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const {kms, client, region} = await this.open()
    const keyId = recordedKey(wrapped, this.where(wrapped.key.keyId, region))
    const answer = await this.call(region, keyId, 'Decrypt', () =>
      client.send(
        new kms.DecryptCommand({
          CiphertextBlob: Buffer.from(wrapped.wrapped, 'base64'),
          EncryptionContext: kmsEncryptionContext(aad),
          KeyId: keyId,
        }),
      ),
    )
    const dataKey = answer.Plaintext
    if (answer.KeyId !== keyId) {
      throw tampered(`KMS unwrapped it with key "${answer.KeyId}", not the ${this.where(keyId, region)} its envelope records`)
    }
    if (dataKey?.length !== DATA_KEY_BYTES) {
      throw tampered(`the wrapped data key unwrapped to ${dataKey?.length ?? 0} bytes, not ${DATA_KEY_BYTES} (${this.where(keyId, region)})`)
    }
    return new Uint8Array(dataKey)
  }

  async currentKey(): Promise<KeyRef> {
    if (this.current !== undefined) return this.current
    const {kms, client, region} = await this.open()
    const {keyId} = this.options
    const answer = await this.call(region, keyId, 'DescribeKey', () => client.send(new kms.DescribeKeyCommand({KeyId: keyId})))
    const metadata = answer.KeyMetadata
    const key = this.resolved(metadata?.Arn, keyId, region)
    if (metadata?.KeyState !== 'Enabled') {
      throw environmentError('AWS_KMS_KEY_DISABLED', `aws-kms: ${this.where(key.keyId, region)} is ${metadata?.KeyState ?? 'not enabled'}`, {
        hint: metadata?.KeyState === 'PendingDeletion' ? 'cancel its deletion (`aws kms cancel-key-deletion`), then enable it' : 'enable it (`aws kms enable-key`), or name another key',
        data: this.data(key.keyId, region, metadata?.KeyState),
      })
    }
    // Some KMS-compatible services leave out what AWS always sends; Encrypt then decides.
    const usage = metadata.KeyUsage ?? 'ENCRYPT_DECRYPT'
    const spec = metadata.KeySpec ?? 'SYMMETRIC_DEFAULT'
    if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT') {
      throw environmentError('AWS_KMS_KEY_UNSUITABLE', `aws-kms: ${this.where(key.keyId, region)} is a ${spec} ${usage} key, not a symmetric encryption key`, {
        hint: 'name a symmetric encryption key (key spec SYMMETRIC_DEFAULT, usage ENCRYPT_DECRYPT)',
        data: this.data(key.keyId, region),
      })
    }
    this.current = key
    return this.current
  }

  /** ReEncrypt inside KMS, so the data key never leaves it; moves the wrap to the key's current material, or to the key this provider now names. */
  async rewrap(wrapped: WrappedKey, aad: Uint8Array): Promise<WrappedKey> {
    const {kms, client, region} = await this.open()
    const source = recordedKey(wrapped, this.where(wrapped.key.keyId, region))
    const destination = this.current?.keyId ?? this.options.keyId
    const context = kmsEncryptionContext(aad)
    const answer = await this.call(region, source, 'ReEncrypt', () =>
      client.send(
        new kms.ReEncryptCommand({
          CiphertextBlob: Buffer.from(wrapped.wrapped, 'base64'),
          SourceKeyId: source,
          SourceEncryptionContext: context,
          DestinationKeyId: destination,
          DestinationEncryptionContext: context,
        }),
      ),
    )
    const key = this.resolved(answer.KeyId, destination, region)
    if (answer.CiphertextBlob === undefined || answer.CiphertextBlob.length === 0) {
      throw this.badAnswer('ReEncrypt', destination, region)
    }
    return {key, wrapped: Buffer.from(answer.CiphertextBlob).toString('base64')}
  }

  /**
   * For `kms init`: AWS keys are made in AWS (their key policy, administrators and region are an
   * account decision), so this only checks that the named key exists, is enabled and can encrypt.
   */
  async createKey(): Promise<KeyRef> {
    this.current = undefined
    try {
      return await this.currentKey()
    } catch (error) {
      if (error instanceof DbakitError && error.code === 'AWS_KMS_KEY_NOT_FOUND') {
        throw environmentError(error.code, error.message, {
          hint: 'dbakit does not create AWS KMS keys: create a symmetric key (`aws kms create-key`), then name it by ARN, key id or alias',
          data: error.data,
        })
      }
      throw error
    }
  }

  /**
   * RotateKeyOnDemand: new encryptions use new key material, and every older material still
   * decrypts. The key id and version stay the same (see the class comment).
   */
  async rotateKey(): Promise<KeyRef> {
    const current = await this.currentKey()
    const {kms, client, region} = await this.open()
    await this.call(region, current.keyId, 'RotateKeyOnDemand', () => client.send(new kms.RotateKeyOnDemandCommand({KeyId: current.keyId})))
    return current
  }

  async close(): Promise<void> {
    const opened = this.opened
    this.opened = undefined
    this.current = undefined
    if (opened === undefined) return
    try {
      const {client} = await opened
      client.destroy()
    } catch {
      // A client that never opened has nothing to release.
    }
  }

  private open(): Promise<Connection> {
    this.opened ??= this.connect().catch((error: unknown) => {
      this.opened = undefined
      throw error
    })
    return this.opened
  }

  private async connect(): Promise<Connection> {
    const kms = await loadKms()
    const client = new kms.KMSClient({
      ...(this.options.region === undefined ? {} : {region: this.options.region}),
      ...(this.options.endpoint === undefined ? {} : {endpoint: this.options.endpoint}),
      maxAttempts: MAX_ATTEMPTS,
      // Without throwOnRequestTimeout the SDK only logs a warning and goes on waiting.
      requestHandler: {connectionTimeout: this.timeoutMs, requestTimeout: this.timeoutMs, throwOnRequestTimeout: true},
    })
    let region: string
    try {
      region = await client.config.region()
    } catch (error) {
      client.destroy()
      throw environmentError('AWS_KMS_NO_REGION', `aws-kms: no AWS region is set for ${this.where(this.options.keyId, undefined)}: ${firstLine(error)}`, {
        hint: 'give the region, or set AWS_REGION (or the region of the AWS_PROFILE)',
        data: this.data(this.options.keyId, undefined),
      })
    }
    return {kms, client, region}
  }

  private async call<T>(region: string, keyId: string, operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw this.kmsError(error, region, keyId, operation)
    }
  }

  /** The ARN KMS answered with; an alias or bare key id is never recorded. */
  private resolved(arn: string | undefined, requested: string, region: string): KeyRef {
    if (arn === undefined || !KEY_ARN.test(arn)) throw this.badAnswer('the key ARN', requested, region)
    return {provider: 'aws-kms', keyId: arn, keyVersion: 1}
  }

  private badAnswer(what: string, keyId: string, region: string): DbakitError {
    return environmentError('AWS_KMS_BAD_ANSWER', `aws-kms: KMS answered without ${what} for ${this.where(keyId, region)}`, {
      hint: this.options.endpoint === undefined ? undefined : 'check that the endpoint is a KMS-compatible service',
      data: this.data(keyId, region),
    })
  }

  private kmsError(error: unknown, region: string, keyId: string, operation: string): DbakitError {
    if (error instanceof DbakitError) return error
    const name = error instanceof Error ? error.name : undefined
    const code = socketCode(error)
    const said = firstLine(error)
    const where = this.where(keyId, region)
    const data = this.data(keyId, region, name ?? code)
    if ((operation === 'Decrypt' || operation === 'ReEncrypt') && (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException')) {
      return tampered(`KMS refused the wrapped data key under ${where} (${name}): it was changed, or moved to another purpose or account`, error)
    }
    switch (name) {
      case 'AccessDeniedException':
        return environmentError('AWS_KMS_ACCESS_DENIED', `aws-kms: ${operation} on ${where} was denied: ${said}`, {
          hint: `check that the key policy and IAM policies allow kms:${operation} on this key for these credentials (AWS_PROFILE, the role)`,
          data,
        })
      case 'NotFoundException':
        return environmentError('AWS_KMS_KEY_NOT_FOUND', `aws-kms: there is no ${where}`, {
          hint: 'check the key ARN, id or alias and the region',
          data,
        })
      case 'DisabledException':
      case 'KMSInvalidStateException':
        return environmentError('AWS_KMS_KEY_DISABLED', `aws-kms: ${where} cannot be used now: ${said}`, {
          hint: 'it is disabled or pending deletion: enable it (`aws kms enable-key`, `aws kms cancel-key-deletion`)',
          data,
        })
      case 'UnrecognizedClientException':
      case 'InvalidSignatureException':
      case 'ExpiredTokenException':
      case 'CredentialsProviderError':
        return environmentError('AWS_KMS_CREDENTIALS', `aws-kms: the AWS credentials were not accepted for ${where}: ${said}`, {
          hint: 'check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and renew an expired session (`aws sso login`)',
          data,
        })
    }
    if (name === 'TimeoutError' || name === 'AbortError' || code === 'ETIMEDOUT') {
      return environmentError('AWS_KMS_TIMEOUT', `aws-kms: KMS did not answer ${operation} within ${this.timeoutMs} ms (${where})`, {
        hint: 'check the network path to KMS (a proxy, a VPC endpoint); the timeout is the provider\'s timeoutMs',
        data,
      })
    }
    if (code !== undefined && !hasServiceAnswer(error)) {
      return environmentError('AWS_KMS_UNREACHABLE', `aws-kms: cannot reach KMS (${code}) for ${where}`, {
        hint: this.options.endpoint === undefined ? 'check the region and that this machine may connect to KMS (proxy, VPC endpoint)' : 'check the endpoint and that the service is running',
        data,
      })
    }
    return environmentError('AWS_KMS_ERROR', `aws-kms: ${operation} on ${where} failed: ${name === undefined || said.startsWith(name) ? said : `${name}: ${said}`}`, {
      hint: name === 'LimitExceededException' && operation === 'RotateKeyOnDemand' ? 'the key has used up its on-demand rotations; turn on automatic rotation instead' : undefined,
      data,
    })
  }

  private data(keyId: string, region: string | undefined, reason?: string): Record<string, unknown> {
    return {provider: 'aws-kms', key: keyId, region: region ?? null, endpoint: this.options.endpoint ?? null, reason: reason ?? null}
  }
}

/** The ARN a wrapped key's envelope records; a provider or key id that KMS could not have written is tampering. */
function recordedKey(wrapped: WrappedKey, where: string): string {
  if (wrapped.key.provider !== 'aws-kms') {
    throw tampered(`the wrapped data key names provider ${wrapped.key.provider}, not aws-kms (${where})`)
  }
  if (!KEY_ARN.test(wrapped.key.keyId)) {
    throw tampered(`the wrapped data key's key id "${wrapped.key.keyId}" is not a KMS key ARN`)
  }
  return wrapped.key.keyId
}

/** The SDK gives service errors an HTTP status; socket errors have none. */
function hasServiceAnswer(error: unknown): boolean {
  return typeof (error as {$metadata?: {httpStatusCode?: unknown}}).$metadata?.httpStatusCode === 'number'
}

const tampered = (message: string, cause?: unknown) => tamperedKey('aws-kms', message, cause)
