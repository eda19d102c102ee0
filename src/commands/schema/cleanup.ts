import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'

export default class SchemaCleanup extends BaseCommand {
  static override summary = 'End a change\'s revert window now (the original table is dropped), or remove what a failed or aborted change left.'
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --dry-run', '<%= config.bin %> <%= command.id %> 12 -p prod --yes']
  static override args = {id: Args.integer({description: 'change id', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'List what would be dropped; drop nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...serverFlags,
  }

  async run() {
    const {args, flags} = await this.parse(SchemaCleanup)
    const {cleanupChange} = await import('../../lib/osc/index.ts')
    const target = await this.server(flags)
    const plan = await cleanupChange(target, args.id, {dryRun: true})
    if (flags['dry-run']) {
      this.note(plan.dropped.length > 0 ? `Would drop ${plan.dropped.join(', ')}${plan.record.state === 'revert-window' ? ', ending the revert window (no rollback after this)' : ''}.` : 'Nothing to drop.')
      return {...plan, dryRun: true}
    }
    if (plan.dropped.length > 0 && !(await this.confirmAction(`Drop ${plan.dropped.join(', ')}${plan.record.state === 'revert-window' ? ' and end the revert window' : ''}?`, flags.yes))) {
      throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing dropped: not confirmed')
    }
    const outcome = await cleanupChange(target, args.id)
    this.note(outcome.dropped.length > 0 ? `Dropped ${outcome.dropped.join(', ')}.` : 'Nothing was left to drop.')
    return outcome
  }
}
