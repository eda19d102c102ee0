import {Command, Errors, Flags} from '@oclif/core'
import {DbakitError, ExitCode, isDbakitError, usageError} from './lib/core/errors.ts'
import {createLogger, type Logger} from './lib/core/log.ts'
import {createProgressReporter, type ProgressReporter} from './lib/core/progress.ts'
import {askConfirmation, askSecret, readSecretFromStdin} from './lib/core/prompts.ts'
import {colorEnabled, createStyler, type Styler} from './lib/core/style.ts'
import {isInteractive} from './lib/core/terminal.ts'
import {closestMatch} from './lib/core/text.ts'
import type {TargetRequest} from './lib/connect/target.ts'

/** Flags for commands that talk to a server. */
export const serverFlags = {
  profile: Flags.string({char: 'p', summary: 'Connection profile to use (see `dbakit profile list`).', env: 'DBAKIT_PROFILE', exclusive: ['url'], helpGroup: 'CONNECTION'}),
  url: Flags.string({
    summary: 'Connection URL without a password: mysql://user@host:port/db, redis://user@host:port/0, mongodb://user@host/db.',
    env: 'DBAKIT_URL',
    exclusive: ['profile'],
    helpGroup: 'CONNECTION',
  }),
  'password-stdin': Flags.boolean({summary: 'Read the password from standard input (overrides DBAKIT_PASSWORD and the profile).', helpGroup: 'CONNECTION'}),
  'connect-timeout': Flags.integer({summary: 'Seconds to wait for the server to answer when connecting.', min: 1, env: 'DBAKIT_CONNECT_TIMEOUT', helpGroup: 'CONNECTION'}),
}

/** Where the secret audit log goes: the local state file by default, or a team's MySQL table. */
export const auditStoreFlags = {
  store: Flags.string({summary: 'Keep the secret audit log in MySQL instead of the local state file: mysql://user@host:port/database (default database dbakit_state).', env: 'DBAKIT_STORE'}),
}

/** Where backups are: every backup command takes these. */
export const repositoryFlags = {
  repo: Flags.string({summary: 'Backup repository: a directory or s3://bucket/prefix (default: backup.repo in the config).', env: 'DBAKIT_REPO', helpGroup: 'REPOSITORY'}),
  's3-endpoint': Flags.string({summary: 'An S3-compatible endpoint URL (MinIO, Ceph...), addressed path-style; default AWS S3. Credentials come from the AWS chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, a role).', env: 'DBAKIT_S3_ENDPOINT', helpGroup: 'REPOSITORY'}),
}

/** --dry-run and --yes, for commands that remove things; `dryRun` says what the dry run shows. */
export const confirmationFlags = (dryRun: string) => ({
  'dry-run': Flags.boolean({summary: dryRun}),
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
})

interface ErrorReport {
  exitCode: number
  code: string
  message: string
  hint?: string
  data?: Record<string, unknown>
}

/**
 * What every dbakit command shares: --json, --verbose and colour flags, exit codes, error rendering,
 * signals, prompts and progress. Commands parse, call one library function and render its result.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    verbose: Flags.boolean({summary: 'Show debug output on stderr, and stack traces for internal errors.', env: 'DBAKIT_VERBOSE', helpGroup: 'GLOBAL'}),
    color: Flags.boolean({summary: 'Colour the output (default: only on a terminal; NO_COLOR and FORCE_COLOR are honoured).', allowNo: true, helpGroup: 'GLOBAL'}),
  }

  protected readonly abortController = new AbortController()
  private interruptCleanups: Array<() => Promise<void>> = []
  private interrupted = false
  private cachedLogger?: Logger

  /** Aborted on SIGINT/SIGTERM; pass it to library work that can stop early. */
  protected get abortSignal(): AbortSignal {
    return this.abortController.signal
  }

  protected get verbose(): boolean {
    return this.argv.includes('--verbose') || ['1', 'true'].includes(process.env.DBAKIT_VERBOSE ?? '')
  }

  protected get logger(): Logger {
    this.cachedLogger ??= createLogger({verbose: this.verbose})
    return this.cachedLogger
  }

  override async init(): Promise<void> {
    if (this.argv.includes('--no-color')) process.env.NO_COLOR = '1'
    else if (this.argv.includes('--color')) process.env.FORCE_COLOR = '1'
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void this.onSignal(signal))
    await super.init()
  }

  /** Registers work to finish before exiting on a signal, e.g. leaving a journal resumable. */
  protected onInterrupt(cleanup: () => Promise<void>): void {
    this.interruptCleanups.push(cleanup)
  }

  private async onSignal(signal: string): Promise<void> {
    if (this.interrupted) process.exit(ExitCode.interrupted)
    this.interrupted = true
    const error = new DbakitError(ExitCode.interrupted, 'INTERRUPTED', `interrupted by ${signal}`, {
      hint: this.interruptCleanups.length > 0 ? 'work in progress was left in a resumable state' : undefined,
    })
    this.abortController.abort(error)
    for (const cleanup of this.interruptCleanups) await cleanup().catch(() => {})
    this.report(this.describe(error))
    process.exit(ExitCode.interrupted)
  }

  /** Data for stdout; nothing is printed under --json, where the command's return value is the output. */
  protected print(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** Status lines for people: stderr, so they never mix with data. */
  protected note(text: string): void {
    process.stderr.write(`${text}\n`)
  }

  protected get style(): Styler {
    return createStyler(colorEnabled(process.stdout))
  }

  protected progress(): ProgressReporter {
    return createProgressReporter({enabled: !this.jsonEnabled()})
  }

  /**
   * Destructive actions: --yes proceeds, a terminal is asked, anything else is refused with the flag
   * to pass. Returns false when the person declined.
   */
  protected async confirmAction(question: string, yes: boolean): Promise<boolean> {
    if (yes) return true
    if (!isInteractive()) {
      throw usageError('CONFIRMATION_REQUIRED', `${question.replace(/\?$/, '')}: confirmation needed, and there is no terminal to ask on`, {
        hint: 'pass --yes to proceed, or --dry-run to see what would happen',
      })
    }
    return askConfirmation(question)
  }

  /** Builds the connection request from --profile/--url and the password options. */
  protected async targetRequest(flags: {profile?: string; url?: string; 'password-stdin'?: boolean; 'connect-timeout'?: number}): Promise<TargetRequest> {
    // A wrong URL is the first thing to say: reading stdin first would complain about that instead.
    if (flags.url !== undefined) {
      const {assertNoPasswordInUrl, parseConnectionUrl} = await import('./lib/connect/url.ts')
      assertNoPasswordInUrl(parseConnectionUrl(flags.url))
    }
    const password = flags['password-stdin'] ? await readSecretFromStdin() : undefined
    this.logger.protect(password)
    return {
      ...(flags.profile === undefined ? {} : {profile: flags.profile}),
      ...(flags.url === undefined ? {} : {url: flags.url}),
      ...(password === undefined ? {} : {password}),
      ...(flags['connect-timeout'] === undefined ? {} : {connectTimeoutSeconds: flags['connect-timeout']}),
      ...(isInteractive() ? {ask: (question: string) => askSecret(question, '--password-stdin or DBAKIT_PASSWORD')} : {}),
      kmsPassword: async (profile, binding) => {
        const secret = await this.withSecrets({}, (secrets) => secrets.openProfilePassword(profile, binding))
        this.logger.protect(secret)
        return secret
      },
    }
  }

  /** The server --profile/--url name, its password resolved and kept out of every log line. */
  protected async server(flags: {profile?: string; url?: string; 'password-stdin'?: boolean; 'connect-timeout'?: number}): Promise<import('./lib/connect/target.ts').ConnectionTarget> {
    const {resolveTarget} = await import('./lib/connect/target.ts')
    const target = await resolveTarget(await this.targetRequest(flags))
    this.logger.protect(target.password)
    return target
  }

  /**
   * Runs work on dbakit's secrets (KMS providers, envelopes, keychain, audit log), closing what it
   * opened. The audit log's store password comes from DBAKIT_PASSWORD or an option file.
   */
  protected async withSecrets<T>(flags: {store?: string}, work: (secrets: import('./lib/secrets/index.ts').Secrets) => Promise<T>): Promise<T> {
    const [{withSecrets}, {configFilePath}] = await Promise.all([import('./lib/secrets/index.ts'), import('./lib/core/paths.ts')])
    return withSecrets(
      {
        configPath: configFilePath(),
        env: process.env,
        warn: (message) => this.logger.warn(message),
        ...(flags.store === undefined
          ? {}
          : {
              store: flags.store,
              resolveStore: (url: string) => this.server({url}),
            }),
      },
      work,
    )
  }

  /**
   * Runs work on the backup repository --repo names (else backup.repo in the config), with the KMS
   * at hand for the backups' data keys; closes both after.
   */
  protected async withRepository<T>(flags: {repo?: string; 's3-endpoint'?: string}, work: (repository: import('./lib/backup/index.ts').Repository) => Promise<T>): Promise<T> {
    const [{openRepository, resolveRepositoryLocation}, {configFilePath}] = await Promise.all([import('./lib/backup/index.ts'), import('./lib/core/paths.ts')])
    const {location, s3Endpoint} = await resolveRepositoryLocation({...(flags.repo === undefined ? {} : {repo: flags.repo}), ...(flags['s3-endpoint'] === undefined ? {} : {s3Endpoint: flags['s3-endpoint']})}, configFilePath())
    return this.withSecrets({}, async (secrets) => {
      const repository = await openRepository(location, {secrets, ...(s3Endpoint === undefined ? {} : {s3Endpoint}), env: process.env, warn: (message) => this.logger.warn(message)})
      try {
        return await work(repository)
      } finally {
        await repository.close()
      }
    })
  }

  override async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<never> {
    if (error instanceof Errors.ExitError) throw error
    // Once a signal is being handled, failures are its cleanup's doing (connections destroyed under a
    // statement); the signal handler reports the interruption and exits 130.
    if (this.interrupted) return new Promise<never>(() => {})
    const report = this.describe(error)
    if (report.exitCode === ExitCode.bug && this.verbose && error.stack) process.stderr.write(`${error.stack}\n`)
    this.report(report)
    throw new Errors.ExitError(report.exitCode)
  }

  private report(report: ErrorReport): void {
    if (this.jsonEnabled()) {
      const {exitCode, code, message, hint, data} = report
      process.stdout.write(`${JSON.stringify({error: {code, message, exitCode, ...(hint ? {hint} : {}), ...(data ? {data} : {})}}, null, 2)}\n`)
      return
    }
    const style = createStyler(colorEnabled(process.stderr))
    process.stderr.write(`${style('red', 'Error:')} ${report.message}\n`)
    if (report.hint) process.stderr.write(`${style('dim', 'Hint:')} ${report.hint}\n`)
  }

  private describe(error: Error & {oclif?: {exit?: number}; code?: string}): ErrorReport {
    if (isDbakitError(error)) {
      return {exitCode: error.exitCode, code: error.code, message: error.message, ...(error.hint ? {hint: error.hint} : {}), ...(error.data ? {data: error.data} : {})}
    }
    if (error instanceof Errors.CLIError && error.oclif?.exit !== undefined) {
      return this.describeUsageError(error)
    }
    return {
      exitCode: ExitCode.bug,
      code: 'INTERNAL',
      message: `internal error: ${error.message.split('\n')[0]}`,
      hint: `this is a bug in dbakit ${this.config.version}; re-run with --verbose and report the output to the dbakit maintainers`,
    }
  }

  /** oclif's parse errors, with the nearest real flag suggested for a typo. */
  private describeUsageError(error: Errors.CLIError & {flags?: string[]}): ErrorReport {
    const commandHelp = `dbakit ${(this.id ?? '').replaceAll(':', ' ')} --help`.replace('  ', ' ')
    if (error.constructor.name === 'NonExistentFlagsError' && error.flags?.[0]) {
      const typed = error.flags[0].replace(/^-+/, '').split('=')[0] ?? ''
      const known = Object.keys({...this.ctor.flags, ...this.ctor.baseFlags, json: true})
      const near = closestMatch(typed, known)
      return {exitCode: ExitCode.usage, code: 'UNKNOWN_FLAG', message: `unknown flag ${error.flags.join(', ')}`, hint: near ? `did you mean --${near}? (see \`${commandHelp}\`)` : `see \`${commandHelp}\``}
    }
    const fromEnvironment = this.flagsFromEnvironment(detailOf(error.message))
    return {
      exitCode: error.oclif?.exit === ExitCode.usage ? ExitCode.usage : (error.oclif?.exit ?? ExitCode.usage),
      code: 'USAGE',
      message: fromEnvironment.message,
      hint:
        fromEnvironment.variables.length > 0
          ? `${fromEnvironment.variables.map(({env, name}) => `${env} stands for --${name}`).join(', ')} when the flag is not given: correct or unset ${fromEnvironment.variables.length === 1 ? 'it' : 'them'} (see \`${commandHelp}\`)`
          : `see \`${commandHelp}\``,
    }
  }

  /**
   * oclif words a bad value as if it had been typed (`--format=xml`) even when it came from the
   * environment; a person who never typed --format looks for it in vain. Flags in `message` that
   * were not typed but whose DBAKIT_* variable is set are named by that variable instead.
   */
  private flagsFromEnvironment(message: string): {message: string; variables: Array<{env: string; name: string}>} {
    const flags: Record<string, {env?: string; char?: string}> = {...this.ctor.baseFlags, ...this.ctor.flags}
    const variables: Array<{env: string; name: string}> = []
    const renamed = message.replaceAll(/--([a-z][a-z0-9-]*)(=\S*)?/g, (written, name: string, value: string | undefined) => {
      const env = flags[name]?.env
      if (!env || process.env[env] === undefined || this.typed(name, flags[name]!.char)) return written
      if (!variables.some((variable) => variable.env === env)) variables.push({env, name})
      return value ? `${env}${value}` : env
    })
    // oclif echoes a rejected --url whole: a password written into it stays out of the message.
    return {message: renamed.replaceAll(/(\/\/[^/:@\s]*):[^@\s]*@/g, '$1:***@'), variables}
  }

  private typed(name: string, char: string | undefined): boolean {
    return this.argv.some((word) => word === `--${name}` || word.startsWith(`--${name}=`) || word === `--no-${name}` || (char !== undefined && word.startsWith(`-${char}`) && !word.startsWith('--')))
  }
}

/**
 * The one line worth showing of an oclif parse error: the reason, not the "following error
 * occurred" heading, the tab-indented detail, or the pointer to --help that the hint replaces.
 */
function detailOf(message: string): string {
  // oclif dims the reasons on a colour terminal; the styler decides colour here.
  const plain = message.replaceAll(/\u001B\[[0-9;]*m/g, '').replace(/\nSee more help with --help$/, '')
  const parsing = /^Parsing (--[a-z0-9-]+) *\n\s*(.+)/.exec(plain)
  if (parsing) return `${parsing[1]}: ${parsing[2]}`
  const listed = /^The following errors? occurred:\n\s*([\s\S]+)/.exec(plain)
  if (listed) return listed[1]!.split('\n').map((line) => line.trim()).filter(Boolean).join('; ')
  return plain.split('\n')[0] ?? plain
}
