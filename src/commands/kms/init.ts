import {Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import type {KeyRef, ProviderKind} from '../../lib/secrets/index.ts'

/** Which flags each provider takes; any other provider's flag is a mistake worth naming. */
const PROVIDER_FLAGS: Record<ProviderKind, string[]> = {
  pkcs11: ['module', 'token', 'slot', 'key', 'pin-file'],
  'vault-transit': ['address', 'key', 'mount', 'namespace', 'token-file'],
  'aws-kms': ['key', 'region', 'endpoint'],
  passphrase: ['passphrase-file'],
}
const ALL_PROVIDER_FLAGS = [...new Set(Object.values(PROVIDER_FLAGS).flat())]

export default class KmsInit extends BaseCommand {
  static override summary = 'Create or select the key that wraps every secret dbakit keeps, and make it the provider for new ones.'
  static override description = `Data is encrypted locally with AES-256-GCM under a fresh data key per secret; the provider only wraps that key: a non-extractable AES key on a PKCS#11 token (an HSM, SoftHSM2), a Vault or OpenBao transit key, an AWS KMS key, or (on a laptop, not a KMS) a key derived from a passphrase with scrypt. An existing key is selected, a missing one created (AWS keys are not: create them in AWS), and a wrap and an unwrap prove it works before the config records it. Providers configured before stay, so their envelopes open until \`dbakit kms rewrap\` moves them.

The PKCS#11 PIN, the Vault token and the passphrase never come from argv: DBAKIT_PKCS11_PIN, VAULT_TOKEN or DBAKIT_KMS_PASSPHRASE, a file (--pin-file, --token-file, --passphrase-file), the OS keychain (--remember stores what was used), or a prompt on a terminal.`
  static override examples = [
    {description: 'A key on a PKCS#11 token', command: 'DBAKIT_PKCS11_PIN=… <%= config.bin %> <%= command.id %> --provider pkcs11 --module /usr/lib/softhsm/libsofthsm2.so --token dbakit --yes'},
    {description: 'A Vault transit key', command: 'VAULT_TOKEN=… <%= config.bin %> <%= command.id %> --provider vault-transit --address https://vault.example:8200 --key dbakit --yes'},
    {description: 'An AWS KMS key', command: '<%= config.bin %> <%= command.id %> --provider aws-kms --key alias/dbakit --region eu-west-1 --yes'},
    {description: 'A laptop without a KMS', command: '<%= config.bin %> <%= command.id %> --provider passphrase --remember'},
  ]
  static override flags = {
    provider: Flags.option({options: ['pkcs11', 'vault-transit', 'aws-kms', 'passphrase'] as const, summary: 'The key provider.', required: true})(),
    key: Flags.string({summary: 'The key: PKCS#11 label (default dbakit-kek), transit key name (default dbakit), or AWS key ARN, id or alias (required).', helpGroup: 'PROVIDER'}),
    module: Flags.string({summary: 'pkcs11: path of the PKCS#11 module (.so).', env: 'DBAKIT_PKCS11_MODULE', helpGroup: 'PROVIDER'}),
    token: Flags.string({summary: 'pkcs11: label of the token.', env: 'DBAKIT_PKCS11_TOKEN', exclusive: ['slot'], helpGroup: 'PROVIDER'}),
    slot: Flags.integer({summary: 'pkcs11: slot id, for a token without a useful label.', min: 0, helpGroup: 'PROVIDER'}),
    'pin-file': Flags.string({summary: 'pkcs11: a file holding the user PIN (0600).', helpGroup: 'PROVIDER'}),
    address: Flags.string({summary: 'vault-transit: Vault or OpenBao address.', env: 'VAULT_ADDR', helpGroup: 'PROVIDER'}),
    mount: Flags.string({summary: 'vault-transit: mount path of the transit engine (default transit).', helpGroup: 'PROVIDER'}),
    namespace: Flags.string({summary: 'vault-transit: Vault Enterprise namespace.', env: 'VAULT_NAMESPACE', helpGroup: 'PROVIDER'}),
    'token-file': Flags.string({summary: 'vault-transit: a file holding the Vault token.', helpGroup: 'PROVIDER'}),
    region: Flags.string({summary: 'aws-kms: AWS region (default: the usual AWS configuration).', helpGroup: 'PROVIDER'}),
    endpoint: Flags.string({summary: 'aws-kms: endpoint of a KMS-compatible service.', helpGroup: 'PROVIDER'}),
    'passphrase-file': Flags.string({summary: 'passphrase: a file holding the passphrase.', helpGroup: 'PROVIDER'}),
    remember: Flags.boolean({summary: 'Keep the PIN, token or passphrase used in the OS keychain, so later commands need not ask.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...auditStoreFlags,
  }

  async run(): Promise<{provider: ProviderKind; key: KeyRef; created: boolean; remembered: string[]}> {
    const {flags, metadata} = await this.parse(KmsInit)
    const kind = flags.provider
    const given = ALL_PROVIDER_FLAGS.filter((name) => (flags as Record<string, unknown>)[name] !== undefined && !metadata.flags[name]?.setFromDefault && this.argv.some((word) => word === `--${name}` || word.startsWith(`--${name}=`)))
    const foreign = given.filter((name) => !PROVIDER_FLAGS[kind].includes(name))
    if (foreign.length > 0) {
      throw usageError('KMS_FLAG_FOREIGN', `${foreign.map((name) => `--${name}`).join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not for --provider ${kind}`, {hint: `--provider ${kind} takes ${PROVIDER_FLAGS[kind].map((name) => `--${name}`).join(', ')}`})
    }
    const section = this.section(kind, flags)
    const where = kind === 'passphrase' ? 'a passphrase key' : `key ${String(section.key)} (${kind}${section.address ? ` at ${String(section.address)}` : ''}${section.token ? ` on token ${String(section.token)}` : ''})`
    if (!(await this.confirmAction(`Use ${where} for new secrets, creating it if it does not exist?`, flags.yes))) {
      throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    }
    const result = await this.withSecrets(flags, (secrets) => secrets.init(kind, section, {remember: flags.remember}))
    this.note(`${result.created ? 'Created' : 'Selected'} ${result.key.provider} key ${result.key.keyId} (version ${result.key.keyVersion}); new secrets are wrapped with it.`)
    if (result.remembered.length > 0) this.note('The credential used is kept in the OS keychain.')
    return result
  }

  private section(kind: ProviderKind, flags: Record<string, unknown>): Record<string, unknown> {
    const pick = (entries: Array<[string, unknown]>) => Object.fromEntries(entries.filter(([, value]) => value !== undefined))
    switch (kind) {
      case 'pkcs11':
        if (!flags.module) throw usageError('KMS_FLAG_MISSING', '--provider pkcs11 needs --module, the path of the PKCS#11 library', {hint: 'e.g. --module /usr/lib/softhsm/libsofthsm2.so, or set DBAKIT_PKCS11_MODULE'})
        return pick([['module', flags.module], ['token', flags.token], ['slot', flags.slot], ['key', flags.key ?? 'dbakit-kek'], ['pinFile', flags['pin-file']]])
      case 'vault-transit':
        if (!flags.address) throw usageError('KMS_FLAG_MISSING', '--provider vault-transit needs --address (or VAULT_ADDR)', {hint: 'e.g. --address https://vault.example:8200'})
        return pick([['address', flags.address], ['key', flags.key ?? 'dbakit'], ['mount', flags.mount], ['namespace', flags.namespace], ['tokenFile', flags['token-file']]])
      case 'aws-kms':
        if (!flags.key) throw usageError('KMS_FLAG_MISSING', '--provider aws-kms needs --key, the key\'s ARN, id or alias', {hint: 'e.g. --key alias/dbakit'})
        return pick([['key', flags.key], ['region', flags.region], ['endpoint', flags.endpoint]])
      case 'passphrase':
        return pick([['file', flags['passphrase-file']]])
    }
  }
}
