import {Args, Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import {askSecret, readSecretFromStdin} from '../../lib/core/prompts.ts'
import {isInteractive} from '../../lib/core/terminal.ts'
import type {SecretInfo} from '../../lib/secrets/index.ts'

export default class SecretSet extends BaseCommand {
  static override summary = 'Store an operator credential: in the OS keychain where there is one, else as a KMS envelope.'
  static override description = `The value comes from standard input (--stdin; one trailing newline is dropped) or a prompt on a terminal, never from argv. --backend kms keeps it as an envelope under the key of \`dbakit kms init\` even where a keychain exists (a file you can back up; the KMS decides who opens it). Replacing a secret that exists asks first.`
  static override examples = [
    'pass show s3/backup | <%= config.bin %> <%= command.id %> backup-s3-key --stdin',
    {description: 'As an envelope under the KMS key, replacing the old value', command: 'vault kv get -field=pw db/app | <%= config.bin %> <%= command.id %> app-rw --stdin --backend kms --yes'},
  ]
  static override args = {name: Args.string({description: 'secret name: letters, digits, . - _', required: true, ignoreStdin: true})}
  static override flags = {
    stdin: Flags.boolean({summary: 'Read the value from standard input.'}),
    backend: Flags.option({options: ['auto', 'keychain', 'kms'] as const, default: 'auto', summary: 'Where to keep it: auto (the keychain, else a KMS envelope), keychain, or kms.'})(),
    'dry-run': Flags.boolean({summary: 'Say what would be stored and replaced; store nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Replace an existing secret without asking (required without a terminal).'}),
    ...auditStoreFlags,
  }

  async run(): Promise<SecretInfo & {replaced: boolean; dryRun: boolean}> {
    const {args, flags} = await this.parse(SecretSet)
    if (!flags.stdin && !isInteractive()) {
      throw usageError('SECRET_VALUE_MISSING', `no value for ${args.name}: there is no terminal to ask on`, {hint: `pipe it in: \`... | dbakit secret set ${args.name} --stdin\``})
    }
    return this.withSecrets(flags, async (secrets) => {
      const existing = await secrets.locate(args.name)
      if (flags['dry-run']) {
        this.note(`Would store ${args.name}${existing ? `, replacing the value in the ${existing === 'kms' ? 'KMS envelope' : 'OS keychain'}` : ''}.`)
        return {name: args.name, backend: flags.backend === 'auto' ? existing ?? 'keychain' : flags.backend, replaced: existing !== undefined, dryRun: true}
      }
      if (existing && !(await this.confirmAction(`Replace the value of ${args.name}?`, flags.yes))) {
        throw new DbakitError(ExitCode.stopped, 'DECLINED', `${args.name} was left as it was: not confirmed`)
      }
      const value = flags.stdin ? await readSecretFromStdin('--stdin') : await this.typedTwice(args.name)
      this.logger.protect(value)
      const info = await secrets.set(args.name, Buffer.from(value, 'utf8'), flags.backend)
      this.note(`Stored ${args.name} in the ${info.backend === 'kms' ? `KMS envelope (${info.key!.provider} key ${info.key!.keyId} v${info.key!.keyVersion})` : 'OS keychain'}.`)
      return {...info, replaced: existing !== undefined, dryRun: false}
    })
  }

  private async typedTwice(name: string): Promise<string> {
    const first = await askSecret(`Value of ${name}:`, '--stdin')
    if ((await askSecret(`Value of ${name} again:`, '--stdin')) !== first) throw usageError('SECRET_MISMATCH', 'the two entries differ; nothing was stored', {hint: 'run the command again'})
    return first
  }
}
