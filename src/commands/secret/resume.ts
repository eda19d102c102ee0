import {Args, Flags} from '@oclif/core'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {parseDuration} from '../../lib/core/duration.ts'
import {discardFlags, RotationCommand, rotationConnectionFlags} from '../../rotation-control.ts'
import type {RotationRecord, RotationReport} from '../../lib/rotation/index.ts'

export default class SecretResume extends RotationCommand {
  static override summary = 'Finish a rotation that stopped (kill -9, a lost connection, a replica behind, sessions on the old password).'
  static override description = `Goes on from the state the journal records, repeating the step it was in (every step is idempotent), with the connection the rotation was started with unless --profile/--url is given. A rotation that was rolling back is rolled back.

Exit status: 0 when done (or rolled back), 1 when sessions from before the switch still keep the old password in use, 2 for an unknown id, a finished rotation or one another process is running, 3 when a server or the KMS cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --dry-run', '<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --yes', '<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --force-discard --yes']
  static override args = {id: Args.string({description: 'rotation id (see `dbakit secret status`)', required: true, ignoreStdin: true})}
  static override flags = {
    'discard-after': {...discardFlags['discard-after'], default: undefined},
    'force-discard': discardFlags['force-discard'],
    'dry-run': Flags.boolean({summary: 'Say where the rotation stopped and what comes next; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...rotationConnectionFlags,
  }

  async run(): Promise<RotationReport | (RotationRecord & {dryRun: true})> {
    const {args, flags} = await this.parse(SecretResume)
    const {resume, status} = await import('../../lib/rotation/index.ts')
    const report = await this.withRotation(flags, async (context) => {
      const [record] = await status(context, args.id)
      const next = record!.state === 'rolling-back' ? 'finish rolling it back' : 'go on to done (the old password is removed at the end)'
      if (flags['dry-run']) {
        this.note(`Rotation ${record!.id} of ${record!.account} stopped at ${record!.state}: resuming would ${next}.`)
        return {...record!, dryRun: true as const}
      }
      if (!(await this.confirmAction(`Resume rotation ${record!.id} of ${record!.account} from ${record!.state} and ${next}?`, flags.yes))) {
        throw new DbakitError(ExitCode.stopped, 'DECLINED', `rotation ${args.id} was left at ${record!.state}: not confirmed`)
      }
      return resume(args.id, await this.connection(flags, record), context, {
        ...(flags['force-discard'] ? {forceDiscard: true} : {}),
        ...(flags['discard-after'] === undefined ? {} : {discardAfterMs: parseDuration(flags['discard-after'], '--discard-after')}),
      })
    })
    if ('dryRun' in report) return report
    await this.render(report)
    return report
  }
}
