import {Args, Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import type {SecretBackend} from '../../lib/secrets/index.ts'

export default class SecretDelete extends BaseCommand {
  static override summary = 'Delete an operator credential from the keychain or its envelope.'
  static override examples = ['<%= config.bin %> <%= command.id %> old-key --dry-run', '<%= config.bin %> <%= command.id %> old-key --yes']
  static override args = {name: Args.string({description: 'secret name', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would be deleted; delete nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...auditStoreFlags,
  }

  async run(): Promise<{name: string; backend: SecretBackend; dryRun: boolean}> {
    const {args, flags} = await this.parse(SecretDelete)
    return this.withSecrets(flags, async (secrets) => {
      const backend = await secrets.locate(args.name)
      if (!backend) throw await secrets.notFound(args.name)
      const where = backend === 'kms' ? 'its KMS envelope' : 'the OS keychain'
      if (flags['dry-run']) {
        this.note(`Would delete ${args.name} from ${where}.`)
        return {name: args.name, backend, dryRun: true}
      }
      if (!(await this.confirmAction(`Delete ${args.name} from ${where}?`, flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', `${args.name} was kept: not confirmed`)
      const deleted = await secrets.delete(args.name)
      this.note(`Deleted ${args.name} from ${where}.`)
      return {...deleted, dryRun: false}
    })
  }
}
