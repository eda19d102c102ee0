import {Args, Flags} from '@oclif/core'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {RotationCommand, rotationConnectionFlags} from '../../rotation-control.ts'
import type {RotationRecord, RotationReport} from '../../lib/rotation/index.ts'

export default class SecretRollback extends RotationCommand {
  static override summary = 'Restore the old password of a rotation, with no moment in which neither works.'
  static override description = `The old password is added back next to the new one, the secret returns to the old one, then the new one is removed on every node. Works at any state, and after done until the rotation's --retain ends. When dbakit never knew the old password (the secret was new), the old stored hash is restored and the secret, which held only the new password, is removed.

Exit status: 0 when rolled back, 2 for an unknown id, one already rolled back or past its retention, or no confirmation, 3 when a server or the KMS cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --yes']
  static override args = {id: Args.string({description: 'rotation id (see `dbakit secret status`)', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would be restored; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...rotationConnectionFlags,
  }

  async run(): Promise<RotationReport | (RotationRecord & {dryRun: true})> {
    const {args, flags} = await this.parse(SecretRollback)
    const {rollback, status} = await import('../../lib/rotation/index.ts')
    const report = await this.withRotation(flags, async (context) => {
      const [record] = await status(context, args.id)
      if (flags['dry-run']) {
        this.note(`Would restore the old password of ${record!.account} (rotation ${record!.id}, at ${record!.state}) and point ${record!.secret} back at it.`)
        return {...record!, dryRun: true as const}
      }
      if (!(await this.confirmAction(`Restore the old password of ${record!.account} (rotation ${record!.id}, at ${record!.state})?`, flags.yes))) {
        throw new DbakitError(ExitCode.stopped, 'DECLINED', `rotation ${args.id} was left as it was: not confirmed`)
      }
      return rollback(args.id, await this.connection(flags, record), context)
    })
    if ('dryRun' in report) return report
    await this.render(report)
    return report
  }
}
