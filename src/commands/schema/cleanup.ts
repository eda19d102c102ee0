import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'

export default class SchemaCleanup extends BaseCommand {
  static override summary = 'End a change\'s revert window now (the original table is dropped), or remove what a failed or aborted change left.'
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --dry-run', '<%= config.bin %> <%= command.id %> 12 -p prod --yes', {description: 'From cron: end every revert window that has passed', command: '<%= config.bin %> <%= command.id %> --expired -p prod --yes'}]
  static override args = {id: Args.integer({description: 'change id', ignoreStdin: true})}
  static override flags = {
    expired: Flags.boolean({summary: 'End every revert window whose time has passed, instead of one change.'}),
    'dry-run': Flags.boolean({summary: 'List what would be dropped; drop nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...serverFlags,
  }

  async run() {
    const {args, flags} = await this.parse(SchemaCleanup)
    const {cleanupChange, cleanupExpired} = await import('../../lib/osc/index.ts')
    if ((args.id === undefined) === !flags.expired) throw usageError('CLEANUP_WHICH', 'name one change, or pass --expired for every revert window that has passed', {hint: 'dbakit schema status lists the changes'})
    const target = await this.server(flags)
    if (flags.expired) {
      if (!flags['dry-run'] && !(await this.confirmAction('End every revert window that has passed?', flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing dropped: not confirmed')
      const ended = await cleanupExpired(target, {dryRun: flags['dry-run']})
      this.note(ended.length === 0 ? 'No revert window has passed.' : `${flags['dry-run'] ? 'Would end' : 'Ended'} the revert windows of ${ended.map((e) => e.record.id).join(', ')}.`)
      return {ended, dryRun: flags['dry-run']}
    }
    const plan = await cleanupChange(target, args.id!, {dryRun: true})
    if (flags['dry-run']) {
      this.note(plan.dropped.length > 0 ? `Would drop ${plan.dropped.join(', ')}${plan.record.state === 'revert-window' ? ', ending the revert window (no rollback after this)' : ''}.` : 'Nothing to drop.')
      return {...plan, dryRun: true}
    }
    if (plan.dropped.length > 0 && !(await this.confirmAction(`Drop ${plan.dropped.join(', ')}${plan.record.state === 'revert-window' ? ' and end the revert window' : ''}?`, flags.yes))) {
      throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing dropped: not confirmed')
    }
    const outcome = await cleanupChange(target, args.id!)
    this.note(outcome.dropped.length > 0 ? `Dropped ${outcome.dropped.join(', ')}.` : 'Nothing was left to drop.')
    return outcome
  }
}
