import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {isDbakitError, usageError} from '../../lib/core/errors.ts'
import {askSecret, readSecretFromStdin} from '../../lib/core/prompts.ts'
import {isInteractive} from '../../lib/core/terminal.ts'
import {addProfile, checkProfileInput, describePasswordSource, getProfile, passwordBinding, profileExists, TLS_MODES, type PasswordSource, type Profile} from '../../lib/connect/profiles.ts'
import {parseConnectionUrl} from '../../lib/connect/url.ts'

const SOURCES = ['password-stdin', 'password-env', 'defaults-file', 'ask-password', 'no-password']
const exclusiveSource = (self: string) => SOURCES.filter((name) => name !== self)

export default class ProfileAdd extends BaseCommand {
  static override summary = 'Save a named connection; its password goes to the OS keychain, never the config file.'
  static override description = `The profile records the URL and where the password comes from. With --password-stdin (or when asked on a terminal) the password is kept in the OS keychain under the service "dbakit"; with --password-kms, or on a host without a keychain once \`dbakit kms init\` has set up a key, it is kept as an envelope encrypted under that key, bound to the server and user of the URL. A profile can also point at an environment variable (--password-env) or a MySQL option file (--defaults-file).`
  static override examples = [
    {description: 'A MariaDB primary, password piped from a secret store into the keychain', command: 'pass show db/prod | <%= config.bin %> <%= command.id %> prod --url mysql://dba@db1.example.com:3306 --password-stdin'},
    {description: 'A Redis replica whose password is in an environment variable at run time', command: '<%= config.bin %> <%= command.id %> cache-replica --url redis://ops@cache2:6379/0 --password-env REDIS_OPS_PASSWORD'},
    {description: 'Use the password from ~/.my.cnf, over TLS that checks the host name', command: '<%= config.bin %> <%= command.id %> reporting --url mysql://report@db3:3306 --defaults-file ~/.my.cnf --tls-mode verify-identity --tls-ca /etc/ssl/db-ca.pem'},
  ]

  static override args = {name: Args.string({description: 'profile name (letters, digits, . _ -)', required: true, ignoreStdin: true})}
  static override flags = {
    url: Flags.string({summary: 'Connection URL without a password, e.g. mysql://user@host:3306/db.', required: true}),
    'password-stdin': Flags.boolean({summary: 'Read the password from stdin and keep it in the OS keychain (a KMS envelope on a host without one).', exclusive: exclusiveSource('password-stdin')}),
    'password-kms': Flags.boolean({summary: 'Keep the password (from --password-stdin or the prompt) as an envelope under the KMS key of `dbakit kms init`, not in the keychain.', exclusive: ['password-env', 'defaults-file', 'ask-password', 'no-password']}),
    'password-env': Flags.string({summary: 'Take the password from this environment variable each time.', exclusive: exclusiveSource('password-env')}),
    'defaults-file': Flags.string({summary: 'Take the password from this MySQL option file ([client] password=...) each time.', exclusive: exclusiveSource('defaults-file')}),
    'ask-password': Flags.boolean({summary: 'Ask for the password on the terminal each time; store nothing.', exclusive: exclusiveSource('ask-password')}),
    'no-password': Flags.boolean({summary: 'The server needs no password.', exclusive: exclusiveSource('no-password')}),
    'tls-mode': Flags.option({options: TLS_MODES, summary: 'TLS: disabled, required (encrypt only), verify-ca, verify-identity.'})(),
    'tls-ca': Flags.file({summary: 'CA certificate file for verify-ca / verify-identity.'}),
    'tls-cert': Flags.file({summary: 'Client certificate file.'}),
    'tls-key': Flags.file({summary: 'Client private key file.'}),
    'connect-timeout': Flags.integer({summary: 'Seconds to wait when connecting (default 10).', min: 1}),
    force: Flags.boolean({summary: 'Replace a profile of the same name.'}),
  }

  async run(): Promise<Profile> {
    const {args, flags} = await this.parse(ProfileAdd)
    // Everything that can be wrong with the flags is reported before a password is read or asked for.
    const checked = await checkProfileInput({
      url: flags.url,
      ...(flags['tls-mode'] ? {tlsMode: flags['tls-mode']} : {}),
      tlsFiles: {ca: flags['tls-ca'], cert: flags['tls-cert'], key: flags['tls-key']},
      ...(flags['defaults-file'] === undefined ? {} : {defaultsFile: flags['defaults-file']}),
    })
    let source: PasswordSource
    let secret: string | undefined
    if (flags['password-stdin']) {
      source = {kind: 'keychain'}
      secret = await readSecretFromStdin()
    } else if (flags['password-env']) source = {kind: 'env', variable: flags['password-env']}
    else if (checked.defaultsFile) source = {kind: 'defaults-file', path: checked.defaultsFile}
    else if (flags['ask-password']) source = {kind: 'prompt'}
    else if (flags['no-password']) source = {kind: 'none'}
    else if (isInteractive()) {
      secret = (await askSecret(`Password for ${flags.url} (empty for none)`, '--password-stdin')) || undefined
      source = secret === undefined ? {kind: 'none'} : {kind: 'keychain'}
    } else {
      throw usageError('PASSWORD_SOURCE_MISSING', 'say where the password comes from: there is no terminal to ask on', {
        hint: 'pass --password-stdin (kept in the keychain), --password-env VAR, --defaults-file FILE, --ask-password or --no-password',
      })
    }
    this.logger.protect(secret)
    if (flags['password-kms']) {
      if (secret === undefined) throw usageError('KMS_NEEDS_SECRET', '--password-kms keeps a password, and none was given', {hint: 'pass it with --password-stdin, or type it when asked on a terminal'})
      source = {kind: 'kms'}
    }
    const {tls} = checked
    const input = {
      name: args.name,
      url: flags.url,
      ...(tls ? {tls} : {}),
      ...(flags['connect-timeout'] === undefined ? {} : {connectTimeoutSeconds: flags['connect-timeout']}),
      replace: flags.force,
    }
    const previous = await getProfile(args.name).catch(() => undefined)
    // Before an envelope is written over the existing profile's.
    if (previous && !flags.force) throw profileExists(previous)
    let profile: Profile
    try {
      profile = source.kind === 'kms' ? await this.addWithEnvelope(input, secret!) : await addProfile({...input, password: source, ...(secret === undefined ? {} : {secret})})
    } catch (error) {
      // A host without a keychain keeps the password under the KMS, when one is set up.
      if (!(source.kind === 'keychain' && isDbakitError(error) && error.code === 'KEYCHAIN_UNAVAILABLE' && (await this.kmsConfigured()))) throw error
      this.logger.warn('no OS keychain here: the password is kept as a KMS envelope instead')
      profile = await this.addWithEnvelope(input, secret!)
    }
    if (previous?.password.kind === 'kms' && profile.password.kind !== 'kms') await this.withSecrets({}, (secrets) => secrets.removeProfilePassword(args.name))
    this.note(`Saved profile ${profile.name} (${profile.url}; password: ${describePasswordSource(profile.password)}).`)
    this.note(`Check it with: dbakit profile test ${profile.name}`)
    return profile
  }

  /** The envelope first, then the config: a profile never points at a password that is not there. */
  private async addWithEnvelope(input: Omit<Parameters<typeof addProfile>[0], 'password'>, secret: string): Promise<Profile> {
    await this.withSecrets({}, (secrets) => secrets.sealProfilePassword(input.name, passwordBinding(parseConnectionUrl(input.url)), secret))
    return addProfile({...input, password: {kind: 'kms'}})
  }

  private async kmsConfigured(): Promise<boolean> {
    const [{kmsConfigured}, {configFilePath}] = await Promise.all([import('../../lib/secrets/index.ts'), import('../../lib/core/paths.ts')])
    return kmsConfigured(configFilePath())
  }
}
