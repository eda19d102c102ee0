import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {usageError} from '../../lib/core/errors.ts'
import {askSecret, readSecretFromStdin} from '../../lib/core/prompts.ts'
import {isInteractive} from '../../lib/core/terminal.ts'
import {addProfile, checkProfileInput, describePasswordSource, TLS_MODES, type PasswordSource, type Profile} from '../../lib/connect/profiles.ts'

const SOURCES = ['password-stdin', 'password-env', 'defaults-file', 'ask-password', 'no-password']
const exclusiveSource = (self: string) => SOURCES.filter((name) => name !== self)

export default class ProfileAdd extends BaseCommand {
  static override summary = 'Save a named connection; its password goes to the OS keychain, never the config file.'
  static override description = `The profile records the URL and where the password comes from. With --password-stdin (or when asked on a terminal) the password is kept in the OS keychain under the service "dbakit". On a host without a keychain, point the profile at an environment variable (--password-env) or a MySQL option file (--defaults-file) instead.`
  static override examples = [
    {description: 'A MariaDB primary, password piped from a secret store into the keychain', command: 'pass show db/prod | <%= config.bin %> <%= command.id %> prod --url mysql://dba@db1.example.com:3306 --password-stdin'},
    {description: 'A Redis replica whose password is in an environment variable at run time', command: '<%= config.bin %> <%= command.id %> cache-replica --url redis://ops@cache2:6379/0 --password-env REDIS_OPS_PASSWORD'},
    {description: 'Use the password from ~/.my.cnf, over TLS that checks the host name', command: '<%= config.bin %> <%= command.id %> reporting --url mysql://report@db3:3306 --defaults-file ~/.my.cnf --tls-mode verify-identity --tls-ca /etc/ssl/db-ca.pem'},
  ]

  static override args = {name: Args.string({description: 'profile name (letters, digits, . _ -)', required: true, ignoreStdin: true})}
  static override flags = {
    url: Flags.string({summary: 'Connection URL without a password, e.g. mysql://user@host:3306/db.', required: true}),
    'password-stdin': Flags.boolean({summary: 'Read the password from stdin and keep it in the OS keychain.', exclusive: exclusiveSource('password-stdin')}),
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
    const {tls} = checked
    const profile = await addProfile({
      name: args.name,
      url: flags.url,
      password: source,
      ...(secret === undefined ? {} : {secret}),
      ...(tls ? {tls} : {}),
      ...(flags['connect-timeout'] === undefined ? {} : {connectTimeoutSeconds: flags['connect-timeout']}),
      replace: flags.force,
    })
    this.note(`Saved profile ${profile.name} (${profile.url}; password: ${describePasswordSource(profile.password)}).`)
    this.note(`Check it with: dbakit profile test ${profile.name}`)
    return profile
  }
}
