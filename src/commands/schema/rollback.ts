import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'

export default class SchemaRollback extends BaseCommand {
  static override summary = 'Undo a change within its revert window: one atomic swap back, with every write made since the cut-over.'
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --yes']
  static override args = {id: Args.integer({description: 'change id', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would be swapped back; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...serverFlags,
  }

  async run() {
    const {args, flags} = await this.parse(SchemaRollback)
    const {rollbackChange} = await import('../../lib/osc/index.ts')
    const target = await this.server(flags)
    if (flags['dry-run']) {
      const {record} = await rollbackChange(target, args.id, {dryRun: true})
      this.note(`Would swap ${record.database}.${record.table} back to its definition before: ${record.alter}.`)
      return {record, dryRun: true}
    }
    if (!(await this.confirmAction(`Roll back schema change ${args.id}?`, flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    const outcome = await rollbackChange(target, args.id)
    this.note(`Change ${args.id} rolled back in ${outcome.milliseconds} ms (${outcome.attempts} attempts): ${outcome.record.database}.${outcome.record.table} has its old definition and every write made since.`)
    return outcome
  }
}
