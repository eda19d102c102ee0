import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'


export default class SchemaAbort extends BaseCommand {
  static override summary = 'Abort a change before its cut-over: triggers and shadow table are dropped, the original is untouched.'
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --yes']
  static override args = {id: Args.integer({description: 'change id', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would happen; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    
    ...serverFlags,
  }

  async run() {
    const {args, flags} = await this.parse(SchemaAbort)
    const {controlChange} = await import('../../lib/osc/index.ts')
    const target = await this.server(flags)
    if (flags['dry-run']) {
      const outcome = await controlChange(target, args.id, 'abort', {dryRun: true})
      this.note(outcome.applied)
      return outcome
    }
    if (!(await this.confirmAction('Abort schema change ' + args.id + '?', flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    const outcome = await controlChange(target, args.id, 'abort')
    this.note(`Change ${args.id}: ${outcome.applied}.`)
    return outcome
  }
}
