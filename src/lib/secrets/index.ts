import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {DbakitError, ExitCode, isDbakitError, usageError} from '../core/errors.ts'
import {closestMatch} from '../core/text.ts'
import {keychain} from '../connect/keychain.ts'
import {realConfigPath} from '../connect/profiles.ts'
import {openAuditLog, type AuditAction, type AuditLog} from './audit-log.ts'
import {canonicalAad, openEnvelope, rewrapEnvelope, sealEnvelope, type Envelope, type EnvelopeAad} from './envelope.ts'
import {KmsProviders, loadKmsSettings, type KmsSettings} from './kms.ts'
import type {PassphraseKeyProvider} from './providers/passphrase.ts'
import type {KeyRef, ProviderKind} from './providers/types.ts'
import {checkSecretName, envelopeFile, listEnvelopeFiles, operatorEnvelopeName, profileEnvelopeName, readEnvelopeFile, removeEnvelopeFile, writeEnvelopeFile} from './store.ts'

export type {KeyRef, ProviderKind} from './providers/types.ts'
export {PROVIDER_KINDS, type KmsSettings} from './kms.ts'
export {checkSecretName} from './store.ts'

export interface SecretsContext {
  configPath: string
  env: NodeJS.ProcessEnv
  warn: (message: string) => void
  /** The audit log: the local file by default, a MySQL table for mysql:// (see `secret audit`). */
  store?: string
  resolveStore?: (url: string) => Promise<import('../connect/target.ts').ConnectionTarget>
}

/** Where an operator secret lives: the OS keychain, or an envelope file under the KMS. */
export type SecretBackend = 'keychain' | 'kms'

export interface SecretInfo {
  name: string
  backend: SecretBackend
  /** For envelopes: the key that wraps it, and when it was written. */
  key?: KeyRef
  created?: string
}

export interface EnvelopeStatus {
  name: string
  file: string
  key?: KeyRef
  /** True when the key is the one new envelopes get (false: `kms rewrap` would move it). */
  current?: boolean
  /** Why the file could not be read as an envelope. */
  problem?: string
}

export interface KmsStatus {
  provider: ProviderKind | null
  current: KeyRef | null
  envelopes: EnvelopeStatus[]
  /** Envelopes by provider, key and version. */
  keys: Array<KeyRef & {envelopes: number; current: boolean}>
}

export interface RewrapResult {
  to: KeyRef
  dryRun: boolean
  rewrapped: Array<{name: string; from: KeyRef}>
  upToDate: number
  failed: Array<{name: string; file: string; code: string; message: string}>
}

/**
 * A unit of work on dbakit's secrets: the providers it opens and the audit log it appends to are
 * closed when it ends. Every read, write, deletion, rotation and rewrap is logged, refused ones too.
 */
export async function withSecrets<T>(context: SecretsContext, work: (secrets: Secrets) => Promise<T>): Promise<T> {
  const {settings} = await loadKmsSettings(context.configPath)
  const secrets = new Secrets(context, settings)
  try {
    return await work(secrets)
  } finally {
    await secrets.close()
  }
}

/** Whether `kms init` has set up a provider for new envelopes in this config. */
export async function kmsConfigured(configPath: string): Promise<boolean> {
  return (await loadKmsSettings(configPath)).settings.provider !== undefined
}

const secretAccount = (name: string, configPath: string) => `secret:${name}@${realConfigPath(configPath)}`

export class Secrets {
  private readonly context: SecretsContext
  private settings: KmsSettings
  private providers: KmsProviders
  private log: Promise<AuditLog> | undefined

  constructor(context: SecretsContext, settings: KmsSettings) {
    this.context = context
    this.settings = settings
    this.providers = new KmsProviders(settings, context)
  }

  async close(): Promise<void> {
    await this.providers.close()
    if (this.log) await (await this.log.catch(() => undefined))?.close()
  }

  // ---- the key hierarchy ----

  /**
   * Selects the provider's key, creating it when it does not exist, proves it with a wrap and an
   * unwrap, and records it in the config as the provider for new envelopes. Providers already
   * configured stay, so their envelopes still open until `kms rewrap` has moved them.
   */
  async init(kind: ProviderKind, section: Record<string, unknown>, options: {remember?: boolean} = {}): Promise<{provider: ProviderKind; key: KeyRef; created: boolean; remembered: string[]}> {
    const {file} = await loadKmsSettings(this.context.configPath)
    const existing = this.settings[kind] as Record<string, unknown> | undefined
    const proposed: KmsSettings = {...this.settings, [kind]: {...(kind === 'passphrase' ? existing : {}), ...section}}
    const provider = await this.providers.make(kind, proposed)
    let created = false
    let key: KeyRef
    try {
      key = await this.audited('init', kind, {provider: kind}, async () => {
        let found: KeyRef | undefined
        if (kind !== 'passphrase' || existing) {
          try {
            found = await provider.currentKey()
          } catch (error) {
            if (!isDbakitError(error) || !/KEY_NOT_FOUND|KEY_MISSING/.test(error.code)) throw error
          }
        }
        if (!found) {
          if (!provider.createKey) throw usageError('KMS_KEY_NOT_FOUND', `${kind}: the key does not exist, and dbakit does not create ${kind} keys`, {hint: 'create it in the KMS first, then run kms init again'})
          found = await provider.createKey()
          created = true
        }
        // A key that cannot wrap and unwrap (wrong PIN, no permission) is found out now, not at the first secret.
        const probe = randomBytes(32)
        const aad = canonicalAad({name: 'kms-init-probe', purpose: 'probe'})
        const unwrapped = await provider.unwrap(await provider.wrap(probe, aad), aad)
        if (!Buffer.from(unwrapped).equals(probe)) throw new DbakitError(ExitCode.environment, 'KMS_PROBE_FAILED', `${kind}: a data key wrapped and unwrapped came back different`, {hint: 'check the provider; nothing was recorded'})
        return found
      })
    } catch (error) {
      await provider.close().catch(() => {})
      throw error
    }
    const recorded = kind === 'passphrase' ? {...(proposed.passphrase ?? {}), ...(provider as PassphraseKeyProvider).keyParams} : proposed[kind]
    file.set(['kms', 'provider'], kind)
    file.set(['kms', kind], recorded)
    await file.save()
    this.settings = {...proposed, provider: kind, [kind]: recorded}
    await this.providers.close()
    this.providers = new KmsProviders(this.settings, this.context)
    this.providers.adopt(kind, provider)
    const remembered = options.remember ? await this.providers.remember() : []
    return {provider: kind, key, created, remembered}
  }

  /** A new version of the current key; envelopes keep opening under the old one until rewrapped. */
  async rotate(): Promise<{from: KeyRef; to: KeyRef}> {
    const provider = await this.providers.current()
    if (!provider.rotateKey) {
      throw usageError('KMS_ROTATE_UNSUPPORTED', `${provider.kind} keys have no versions to rotate`, {hint: 'move to a KMS with `dbakit kms init --provider pkcs11|vault-transit|aws-kms` and `dbakit kms rewrap`'})
    }
    const from = await provider.currentKey()
    const to = await this.audited('rotate', from.keyId, {provider: from.provider, keyId: from.keyId}, () => provider.rotateKey!())
    return {from, to}
  }

  async status(options: {offline?: boolean} = {}): Promise<KmsStatus> {
    const provider = this.settings.provider ?? null
    const current = provider && !options.offline ? await (await this.providers.current()).currentKey() : null
    const envelopes: EnvelopeStatus[] = []
    for (const stored of await listEnvelopeFiles(this.context.env)) {
      try {
        const envelope = await readEnvelopeFile(stored.file)
        if (envelope) envelopes.push({...stored, key: envelope.key, ...(current ? {current: sameKey(envelope.key, current)} : {})})
      } catch (error) {
        if (!isDbakitError(error)) throw error
        envelopes.push({...stored, problem: error.message})
      }
    }
    const keys = new Map<string, KeyRef & {envelopes: number; current: boolean}>()
    for (const {key} of envelopes) {
      if (!key) continue
      const id = JSON.stringify([key.provider, key.keyId, key.keyVersion])
      const entry = keys.get(id) ?? {...key, envelopes: 0, current: current ? sameKey(key, current) : false}
      entry.envelopes++
      keys.set(id, entry)
    }
    return {provider, current, envelopes, keys: [...keys.values()]}
  }

  /**
   * Re-wraps the data key of every envelope not under the current key: the secrets themselves are
   * never decrypted, and each file is replaced atomically, so an interrupted run leaves every
   * envelope openable. One that cannot be moved (changed, or its provider refuses) is reported and
   * the rest go on; an unreachable KMS stops the run.
   */
  async rewrap(options: {dryRun: boolean; onProgress?: (done: number, total: number) => void}): Promise<RewrapResult> {
    const to = await this.providers.current()
    const target = await to.currentKey()
    const result: RewrapResult = {to: target, dryRun: options.dryRun, rewrapped: [], upToDate: 0, failed: []}
    const stored = await listEnvelopeFiles(this.context.env)
    for (const [index, {name, file}] of stored.entries()) {
      options.onProgress?.(index, stored.length)
      let envelope: Envelope | undefined
      try {
        envelope = await readEnvelopeFile(file)
        if (!envelope) continue
        if (envelope.aad.name !== name) throw new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `${file}: refused: it was made for ${envelope.aad.name}: it was copied or moved here`)
      } catch (error) {
        if (!isDbakitError(error)) throw error
        result.failed.push({name, file, code: error.code, message: error.message})
        continue
      }
      if (sameKey(envelope.key, target)) {
        result.upToDate++
        continue
      }
      if (options.dryRun) {
        result.rewrapped.push({name, from: envelope.key})
        continue
      }
      const from = await this.providers.get(envelope.key.provider)
      try {
        await this.audited('rewrap', name, {}, async () => {
          const next = await rewrapEnvelope(from, to, envelope, file)
          await writeEnvelopeFile(file, next)
          return next.key
        })
        result.rewrapped.push({name, from: envelope.key})
      } catch (error) {
        if (!isDbakitError(error) || error.exitCode !== ExitCode.findings) throw error
        result.failed.push({name, file, code: error.code, message: error.message})
      }
    }
    options.onProgress?.(stored.length, stored.length)
    return result
  }

  // ---- operator secrets ----

  /** Which backend holds NAME now, if any. */
  async locate(name: string): Promise<SecretBackend | undefined> {
    checkSecretName(name)
    if (await readEnvelopeFile(envelopeFile(operatorEnvelopeName(name), this.context.env))) return 'kms'
    const fromKeychain = await this.keychainGet(name)
    return fromKeychain === null || fromKeychain === undefined ? undefined : 'keychain'
  }

  /**
   * Stores NAME: in the OS keychain where there is one (unless `kms` is asked for), else as an
   * envelope under the current key. A copy in the other backend is removed, so a name has one value.
   */
  async set(name: string, value: Uint8Array, backend: SecretBackend | 'auto'): Promise<SecretInfo> {
    checkSecretName(name)
    if (value.length === 0) throw usageError('SECRET_EMPTY', `the value for ${name} is empty`, {hint: 'pipe the value in with --stdin, or type it when asked'})
    const target = operatorEnvelopeName(name)
    return this.audited('write', target, {}, async () => {
      let chosen: SecretBackend = backend === 'auto' ? 'keychain' : backend
      if (chosen === 'keychain') {
        try {
          await keychain.set(secretAccount(name, this.context.configPath), Buffer.from(value).toString('utf8'))
        } catch (error) {
          if (backend === 'keychain' || !isDbakitError(error) || error.code !== 'KEYCHAIN_UNAVAILABLE') throw error
          chosen = 'kms'
        }
      }
      if (chosen === 'kms') {
        const envelope = await this.seal(value, {name: target, purpose: 'operator-secret'})
        await writeEnvelopeFile(envelopeFile(target, this.context.env), envelope)
        await this.keychainDelete(name)
        return {name, backend: 'kms' as const, key: envelope.key, created: envelope.created}
      }
      await removeEnvelopeFile(envelopeFile(target, this.context.env))
      return {name, backend: 'keychain' as const}
    })
  }

  /** NAME's value; the caller zeroes it when done. Unknown names are a usage error with the closest ones. */
  async get(name: string): Promise<{info: SecretInfo; value: Buffer}> {
    checkSecretName(name)
    const target = operatorEnvelopeName(name)
    return this.audited('read', target, {}, async () => {
      const file = envelopeFile(target, this.context.env)
      const envelope = await readEnvelopeFile(file)
      if (envelope) {
        const value = await openEnvelope(await this.providers.get(envelope.key.provider), envelope, {name: target, purpose: 'operator-secret'}, file)
        return {info: {name, backend: 'kms' as const, key: envelope.key, created: envelope.created}, value}
      }
      const stored = await this.keychainGet(name)
      if (stored === null || stored === undefined) throw await this.notFound(name)
      return {info: {name, backend: 'keychain' as const}, value: Buffer.from(stored, 'utf8')}
    })
  }

  async list(): Promise<SecretInfo[]> {
    const found = new Map<string, SecretInfo>()
    for (const name of await this.keychainNames()) found.set(name, {name, backend: 'keychain'})
    for (const stored of await listEnvelopeFiles(this.context.env)) {
      if (!stored.name.startsWith('secret/')) continue
      const name = stored.name.slice('secret/'.length)
      try {
        const envelope = await readEnvelopeFile(stored.file)
        if (envelope) found.set(name, {name, backend: 'kms', key: envelope.key, created: envelope.created})
      } catch (error) {
        if (!isDbakitError(error)) throw error
        this.context.warn(error.message)
      }
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  async delete(name: string): Promise<SecretInfo> {
    checkSecretName(name)
    const target = operatorEnvelopeName(name)
    return this.audited('delete', target, {}, async () => {
      const backend = await this.locate(name)
      if (!backend) throw await this.notFound(name)
      await removeEnvelopeFile(envelopeFile(target, this.context.env))
      await this.keychainDelete(name)
      return {name, backend}
    })
  }

  // ---- profile passwords kept as envelopes ----

  async sealProfilePassword(profile: string, binding: ProfileBinding, password: string): Promise<KeyRef> {
    const name = profileEnvelopeName(profile, this.context.configPath)
    return this.audited('write', `profile/${profile}`, {}, async () => {
      const envelope = await this.seal(Buffer.from(password, 'utf8'), profileAad(name, binding))
      await writeEnvelopeFile(envelopeFile(name, this.context.env), envelope)
      return envelope.key
    })
  }

  async openProfilePassword(profile: string, binding: ProfileBinding): Promise<string> {
    const name = profileEnvelopeName(profile, this.context.configPath)
    const file = envelopeFile(name, this.context.env)
    return this.audited('read', `profile/${profile}`, {}, async () => {
      const envelope = await readEnvelopeFile(file)
      if (!envelope) {
        throw new DbakitError(ExitCode.environment, 'KMS_ENVELOPE_MISSING', `profile "${profile}" keeps its password in ${file}, which does not exist`, {
          hint: `store it again: \`dbakit profile add ${profile} --url URL --force --password-kms --password-stdin\``,
        })
      }
      const value = await openEnvelope(await this.providers.get(envelope.key.provider), envelope, profileAad(name, binding), file)
      try {
        return value.toString('utf8')
      } finally {
        value.fill(0)
      }
    })
  }

  /** Removes a profile's envelope, changed or not; false when there was none. */
  async removeProfilePassword(profile: string): Promise<boolean> {
    const file = envelopeFile(profileEnvelopeName(profile, this.context.configPath), this.context.env)
    if (!existsSync(file)) return false
    await this.audited('delete', `profile/${profile}`, {}, () => removeEnvelopeFile(file))
    return true
  }

  // ---- password rotation ----

  /**
   * Keeps one part of a rotation (the new password, or what makes the old one work) as an envelope
   * bound to the rotation's id and the part's name, so it opens for that rotation only.
   */
  async sealRotationPart(rotationId: string, part: RotationPart, value: Uint8Array): Promise<void> {
    const aad = rotationAad(rotationId, part)
    await this.audited('write', aad.name, {}, async () => {
      const envelope = await this.seal(value, aad)
      await writeEnvelopeFile(envelopeFile(aad.name, this.context.env), envelope)
      return envelope.key
    })
  }

  /** The part's value (the caller zeroes it), or undefined when it was never stored or is removed. */
  async openRotationPart(rotationId: string, part: RotationPart): Promise<Buffer | undefined> {
    const aad = rotationAad(rotationId, part)
    const file = envelopeFile(aad.name, this.context.env)
    const envelope = await readEnvelopeFile(file)
    if (!envelope) return undefined
    return this.audited('read', aad.name, {provider: envelope.key.provider, keyId: envelope.key.keyId, keyVersion: envelope.key.keyVersion}, async () =>
      openEnvelope(await this.providers.get(envelope.key.provider), envelope, aad, file),
    )
  }

  async removeRotationPart(rotationId: string, part: RotationPart): Promise<void> {
    const aad = rotationAad(rotationId, part)
    const file = envelopeFile(aad.name, this.context.env)
    if (existsSync(file)) await this.audited('delete', aad.name, {}, () => removeEnvelopeFile(file))
  }

  // ---- backup data keys ----

  /**
   * Seals a backup's data key under the current provider. The envelope travels in the backup's
   * manifest, and its AAD names the backup, so it cannot open another backup's chunks.
   */
  async sealBackupKey(backupId: string, key: Uint8Array): Promise<Envelope> {
    return this.audited('write', backupKeyAad(backupId).name, {}, () => this.seal(key, backupKeyAad(backupId)))
  }

  /** The data key of backup `backupId`; the caller zeroes it when done. `where` names the manifest in errors. */
  async openBackupKey(backupId: string, envelope: Envelope, where = `backup ${backupId}`): Promise<Buffer> {
    return this.audited('read', backupKeyAad(backupId).name, {provider: envelope.key.provider, keyId: envelope.key.keyId, keyVersion: envelope.key.keyVersion}, async () =>
      openEnvelope(await this.providers.get(envelope.key.provider), envelope, backupKeyAad(backupId), where),
    )
  }

  // ---- internals ----

  private async seal(value: Uint8Array, aad: EnvelopeAad): Promise<Envelope> {
    return sealEnvelope(await this.providers.current(), value, aad)
  }

  private auditLog(): Promise<AuditLog> {
    this.log ??= openAuditLog({...(this.context.store ? {store: this.context.store} : {}), ...(this.context.resolveStore ? {resolveStore: this.context.resolveStore} : {}), env: this.context.env})
    return this.log
  }

  /** Runs `work` and logs its outcome: ok with the key it used, or the error code it failed with. */
  private async audited<T>(action: AuditAction, target: string, key: {provider?: string; keyId?: string; keyVersion?: number}, work: () => Promise<T>): Promise<T> {
    const log = await this.auditLog()
    let result: T
    try {
      result = await work()
    } catch (error) {
      const code = isDbakitError(error) ? error.code : 'INTERNAL'
      const outcome = isDbakitError(error) && (error.exitCode === ExitCode.findings || /DENIED|WRONG|PIN/.test(error.code)) ? 'denied' : 'error'
      await log.append({action, target, provider: key.provider ?? null, keyId: key.keyId ?? null, keyVersion: key.keyVersion ?? null, outcome, code}).catch(() => {})
      throw error
    }
    const used = usedKey(result) ?? key
    await log.append({action, target, provider: used.provider ?? null, keyId: used.keyId ?? null, keyVersion: used.keyVersion ?? null, outcome: 'ok'})
    return result
  }

  /** The error for a name nobody stored, with the closest names there are. */
  async notFound(name: string): Promise<DbakitError> {
    const names = (await this.list()).map((info) => info.name)
    const near = closestMatch(name, names)
    return usageError('SECRET_NOT_FOUND', `there is no secret named ${name}`, {
      hint: near ? `did you mean ${near}? (\`dbakit secret list\` shows them all)` : names.length > 0 ? `\`dbakit secret list\` shows the ${names.length} there are` : 'there are none yet: `dbakit secret set NAME --stdin` stores one',
    })
  }

  /** The keychain's value, null when it has none, undefined when this host has no keychain. */
  private async keychainGet(name: string): Promise<string | null | undefined> {
    try {
      return await keychain.get(secretAccount(name, this.context.configPath))
    } catch (error) {
      if (isDbakitError(error) && error.code === 'KEYCHAIN_UNAVAILABLE') return undefined
      throw error
    }
  }

  private async keychainDelete(name: string): Promise<void> {
    try {
      await keychain.delete(secretAccount(name, this.context.configPath))
    } catch (error) {
      if (!isDbakitError(error) || error.code !== 'KEYCHAIN_UNAVAILABLE') throw error
    }
  }

  private async keychainNames(): Promise<string[]> {
    const suffix = `@${realConfigPath(this.context.configPath)}`
    let accounts: string[]
    try {
      accounts = await keychain.accounts()
    } catch (error) {
      if (isDbakitError(error) && error.code === 'KEYCHAIN_UNAVAILABLE') return []
      throw error
    }
    return accounts.filter((account) => account.startsWith('secret:') && account.endsWith(suffix)).map((account) => account.slice('secret:'.length, -suffix.length))
  }
}

/** What a profile password is bound to: the server and account it opens. */
export interface ProfileBinding {
  engine: string
  target: string
  account: string
}

/** `new`: the generated password; `previous`: the old password (when known) and the server's stored credentials. */
export type RotationPart = 'new' | 'previous'

const rotationAad = (rotationId: string, part: RotationPart): EnvelopeAad => ({name: `rotation/${rotationId}/${part}`, purpose: 'rotation'})

const backupKeyAad = (backupId: string): EnvelopeAad => ({name: `backup/${backupId}`, purpose: 'backup-key'})

const profileAad = (name: string, binding: ProfileBinding): EnvelopeAad => ({name, purpose: 'profile-password', engine: binding.engine, target: binding.target, account: binding.account})

const sameKey = (a: KeyRef, b: KeyRef) => a.provider === b.provider && a.keyId === b.keyId && a.keyVersion === b.keyVersion

/** The key an operation used, from what it returned: a KeyRef, a SecretInfo, or {info}; the keychain counts as a provider. */
function usedKey(result: unknown): {provider?: string; keyId?: string; keyVersion?: number} | undefined {
  if (typeof result !== 'object' || result === null) return undefined
  const info = ('info' in result ? (result as {info: SecretInfo}).info : result) as Partial<SecretInfo> & Partial<KeyRef>
  const key = info.key ?? (typeof info.provider === 'string' ? (info as KeyRef) : undefined)
  if (key) return {provider: key.provider, keyId: key.keyId, keyVersion: key.keyVersion}
  return info.backend === 'keychain' ? {provider: 'keychain'} : undefined
}
