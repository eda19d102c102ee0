import {readFile} from 'node:fs/promises'
import {ConfigFile} from '../core/config.ts'
import {isDbakitError, usageError} from '../core/errors.ts'
import {configFilePath} from '../core/paths.ts'
import {askSecret} from '../core/prompts.ts'
import {isInteractive} from '../core/terminal.ts'
import {keychain} from '../connect/keychain.ts'
import {realConfigPath} from '../connect/profiles.ts'
import type {PassphraseKeyParams} from './providers/passphrase.ts'
import type {KeyProvider, ProviderKind} from './providers/types.ts'

export const PROVIDER_KINDS: readonly ProviderKind[] = ['pkcs11', 'vault-transit', 'aws-kms', 'passphrase']

export interface Pkcs11Settings {
  module: string
  token?: string
  slot?: number
  key: string
  /** A file holding the user PIN (0600), for hosts where nobody types it. */
  pinFile?: string
}
export interface VaultTransitSettings {
  address: string
  key: string
  mount?: string
  namespace?: string
  tokenFile?: string
}
export interface AwsKmsSettings {
  key: string
  region?: string
  endpoint?: string
}
export interface PassphraseSettings extends PassphraseKeyParams {
  file?: string
}

/**
 * The `kms:` section of the config: which provider wraps new envelopes, and how to reach each one
 * that has wrapped some. Several stay listed while `kms rewrap` moves envelopes between them.
 */
export interface KmsSettings {
  provider?: ProviderKind
  pkcs11?: Pkcs11Settings
  'vault-transit'?: VaultTransitSettings
  'aws-kms'?: AwsKmsSettings
  passphrase?: PassphraseSettings
}

const FIELDS: Record<ProviderKind, Record<string, 'string' | 'integer'>> = {
  pkcs11: {module: 'string', token: 'string', slot: 'integer', key: 'string', pinFile: 'string'},
  'vault-transit': {address: 'string', key: 'string', mount: 'string', namespace: 'string', tokenFile: 'string'},
  'aws-kms': {key: 'string', region: 'string', endpoint: 'string'},
  passphrase: {salt: 'string', N: 'integer', r: 'integer', p: 'integer', check: 'string', file: 'string'},
}
const REQUIRED: Record<ProviderKind, string[]> = {pkcs11: ['module', 'key'], 'vault-transit': ['address', 'key'], 'aws-kms': ['key'], passphrase: ['salt', 'N', 'r', 'p', 'check']}

/** Reads and checks the `kms:` section; mistakes are usage errors at their line. */
export async function loadKmsSettings(configPath = configFilePath()): Promise<{file: ConfigFile; settings: KmsSettings}> {
  const file = await ConfigFile.load(configPath)
  const raw = file.get(['kms'])
  const settings: KmsSettings = {}
  if (raw === undefined || raw === null) return {file, settings}
  const fix = 'see `dbakit kms init --help`; `kms init` writes this section'
  if (typeof raw !== 'object' || Array.isArray(raw)) throw file.invalid(['kms'], 'must be a mapping', fix)
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'provider') {
      if (!PROVIDER_KINDS.includes(value as ProviderKind)) throw file.invalid(['kms', 'provider'], `must be one of ${PROVIDER_KINDS.join(', ')}`, fix)
      settings.provider = value as ProviderKind
      continue
    }
    if (!PROVIDER_KINDS.includes(key as ProviderKind)) throw file.invalid(['kms', key], `unknown key; known: provider, ${PROVIDER_KINDS.join(', ')}`, fix)
    const kind = key as ProviderKind
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw file.invalid(['kms', kind], 'must be a mapping', fix)
    for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
      const type = FIELDS[kind][field]
      if (!type) throw file.invalid(['kms', kind, field], `unknown key; known: ${Object.keys(FIELDS[kind]).join(', ')}`, fix)
      if (type === 'string' ? typeof v !== 'string' || v === '' : !Number.isInteger(v)) throw file.invalid(['kms', kind, field], `must be ${type === 'string' ? 'a non-empty string' : 'an integer'}`, fix)
    }
    for (const field of REQUIRED[kind]) if ((value as Record<string, unknown>)[field] === undefined) throw file.invalid(['kms', kind], `lacks ${field}`, fix)
    ;(settings as Record<string, unknown>)[kind] = value
  }
  if (settings.provider && !settings[settings.provider]) throw file.invalid(['kms', 'provider'], `names ${settings.provider}, which has no section of its own`, 'run `dbakit kms init` again for it')
  return {file, settings}
}

export interface KmsContext {
  configPath: string
  env: NodeJS.ProcessEnv
  /** Told once when the passphrase provider is used: it is not a KMS. */
  warn: (message: string) => void
}

/**
 * One process's providers, opened on first use and closed together: a PKCS#11 login or a scrypt
 * derivation is paid once however many envelopes are opened.
 */
export class KmsProviders {
  readonly settings: KmsSettings
  private readonly context: KmsContext
  private readonly opened = new Map<ProviderKind, KeyProvider>()
  /** Credentials this process obtained, by keychain account, for `kms init --remember`. */
  private readonly obtained = new Map<string, string>()
  private warned = false

  constructor(settings: KmsSettings, context: KmsContext) {
    this.settings = settings
    this.context = context
  }

  /** The provider new envelopes are wrapped with. */
  async current(): Promise<KeyProvider> {
    if (!this.settings.provider) {
      throw usageError('KMS_NOT_CONFIGURED', 'no key provider is configured, so there is no key to encrypt secrets with', {
        hint: 'set one up with `dbakit kms init --provider pkcs11|vault-transit|aws-kms|passphrase ...`',
      })
    }
    return this.get(this.settings.provider)
  }

  async get(kind: ProviderKind): Promise<KeyProvider> {
    const open = this.opened.get(kind)
    if (open) return open
    const made = await this.make(kind)
    this.opened.set(kind, made)
    return made
  }

  /** Replaces a provider (kms init made its key), keeping the one already open closed properly. */
  adopt(kind: ProviderKind, provider: KeyProvider): void {
    this.opened.set(kind, provider)
  }

  async close(): Promise<void> {
    const providers = [...this.opened.values()]
    this.opened.clear()
    for (const provider of providers) await provider.close().catch(() => {})
  }

  /** Builds a provider from its settings; `settings` may be new ones `kms init` is about to record. */
  async make(kind: ProviderKind, settings: KmsSettings = this.settings): Promise<KeyProvider> {
    const {env} = this.context
    const notConfigured = () =>
      usageError('KMS_PROVIDER_NOT_CONFIGURED', `an envelope needs the ${kind} provider, which this config does not set up`, {
        hint: `set it up with \`dbakit kms init --provider ${kind} ...\` (the settings it was made with), or use the config it was made under`,
      })
    switch (kind) {
      case 'pkcs11': {
        const s = settings.pkcs11
        if (!s) throw notConfigured()
        const {Pkcs11KeyProvider} = await import('./providers/pkcs11.ts')
        return new Pkcs11KeyProvider({
          module: s.module,
          ...(s.token === undefined ? {} : {token: s.token}),
          ...(s.slot === undefined ? {} : {slot: s.slot}),
          keyLabel: s.key,
          pin: () => this.credential({what: `the PIN of PKCS#11 token ${s.token ?? `in slot ${s.slot ?? 0}`}`, variable: 'DBAKIT_PKCS11_PIN', ...(s.pinFile ? {file: s.pinFile} : {}), account: 'pkcs11-pin'}),
        })
      }
      case 'vault-transit': {
        const s = settings['vault-transit']
        if (!s) throw notConfigured()
        const {VaultTransitKeyProvider} = await import('./providers/vault-transit.ts')
        const namespace = s.namespace ?? env.VAULT_NAMESPACE
        return new VaultTransitKeyProvider({
          address: s.address,
          key: s.key,
          ...(s.mount === undefined ? {} : {mount: s.mount}),
          ...(namespace ? {namespace} : {}),
          token: () => this.credential({what: `a Vault token for ${s.address}`, variable: 'VAULT_TOKEN', ...(s.tokenFile ? {file: s.tokenFile} : {}), account: 'vault-token'}),
        })
      }
      case 'aws-kms': {
        const s = settings['aws-kms']
        if (!s) throw notConfigured()
        const {AwsKmsKeyProvider} = await import('./providers/aws-kms.ts')
        return new AwsKmsKeyProvider({keyId: s.key, ...(s.region === undefined ? {} : {region: s.region}), ...(s.endpoint === undefined ? {} : {endpoint: s.endpoint})})
      }
      case 'passphrase': {
        const s = settings.passphrase
        if (!this.warned) {
          this.warned = true
          this.context.warn('the passphrase provider is not a KMS: anyone with these files and the passphrase has the secrets; use pkcs11, vault-transit or aws-kms on servers')
        }
        const {PassphraseKeyProvider} = await import('./providers/passphrase.ts')
        // `kms init` passes the section before its key exists: a file, no salt yet.
        const exists = s?.salt !== undefined
        return new PassphraseKeyProvider({
          ...(exists ? {params: {salt: s!.salt, N: s!.N, r: s!.r, p: s!.p, check: s!.check}} : {}),
          // A new passphrase typed with a typo would lock its secrets away: it is typed twice.
          passphrase: () => this.credential({what: exists ? 'the dbakit passphrase' : 'a new dbakit passphrase', variable: 'DBAKIT_KMS_PASSPHRASE', ...(s?.file ? {file: s.file} : {}), account: 'kms-passphrase', ...(exists ? {} : {typedTwice: true})}),
        })
      }
    }
  }

  /**
   * A provider credential, never from argv: its environment variable, the file the settings name,
   * the OS keychain (account `kms:NAME@CONFIG`), or a prompt on a terminal, in that order.
   */
  private async credential(spec: CredentialSpec): Promise<string> {
    const value = await this.findCredential(spec)
    this.obtained.set(kmsKeychainAccount(spec.account, this.context.configPath), value)
    return value
  }

  /** Keeps the credentials used so far in the OS keychain, so that later runs need not ask; returns their accounts. */
  async remember(): Promise<string[]> {
    for (const [account, value] of this.obtained) await keychain.set(account, value)
    return [...this.obtained.keys()]
  }

  private async findCredential(spec: CredentialSpec): Promise<string> {
    const fromEnv = this.context.env[spec.variable]
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv
    if (spec.file) {
      try {
        return (await readFile(spec.file, 'utf8')).replace(/\r?\n$/, '')
      } catch (error) {
        throw usageError('KMS_CREDENTIAL_FILE', `cannot read ${spec.what} from ${spec.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'fix the file or its permissions, or set ' + spec.variable})
      }
    }
    try {
      const stored = await keychain.get(kmsKeychainAccount(spec.account, this.context.configPath))
      if (stored !== null) return stored
    } catch (error) {
      // No keychain on this host: the other sources remain.
      if (!isDbakitError(error) || error.code !== 'KEYCHAIN_UNAVAILABLE') throw error
    }
    if (isInteractive()) {
      const question = `${spec.what[0]!.toUpperCase()}${spec.what.slice(1)}:`
      const value = await askSecret(question, spec.variable)
      if (spec.typedTwice && (await askSecret(`${question.slice(0, -1)} again:`, spec.variable)) !== value) {
        throw usageError('KMS_CREDENTIAL_MISMATCH', 'the two entries differ; nothing was created', {hint: 'run the command again'})
      }
      return value
    }
    throw usageError('KMS_CREDENTIAL_MISSING', `dbakit needs ${spec.what}, and there is no terminal to ask on`, {
      hint: `set ${spec.variable}${spec.file ? '' : ', name a file in the kms section of the config'}, or keep it in the OS keychain (\`dbakit kms init ... --remember\`)`,
    })
  }
}

interface CredentialSpec {
  what: string
  variable: string
  file?: string
  /** The keychain account's name, before the config path is added. */
  account: string
  typedTwice?: boolean
}

/** The keychain account of a provider credential, per config file like profile passwords. */
export const kmsKeychainAccount = (name: string, configPath: string) => `kms:${name}@${realConfigPath(configPath)}`
