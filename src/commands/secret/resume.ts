import {Args} from '@oclif/core'
import {parseDuration} from '../../lib/core/duration.ts'
import {discardFlags, RotationCommand, rotationConnectionFlags} from '../../rotation-control.ts'
import type {RotationReport} from '../../lib/rotation/index.ts'

export default class SecretResume extends RotationCommand {
  static override summary = 'Finish a rotation that stopped (kill -9, a lost connection, a replica behind, sessions on the old password).'
  static override description = `Goes on from the state the journal records, repeating the step it was in (every step is idempotent), with the connection the rotation was started with unless --profile/--url is given. A rotation that was rolling back is rolled back.

Exit status: 0 when done (or rolled back), 1 when sessions from before the switch still keep the old password in use, 2 for an unknown id, a finished rotation or one another process is running, 3 when a server or the KMS cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d', '<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --force-discard']
  static override args = {id: Args.string({description: 'rotation id (see `dbakit secret status`)', required: true, ignoreStdin: true})}
  static override flags = {
    'discard-after': {...discardFlags['discard-after'], default: undefined},
    'force-discard': discardFlags['force-discard'],
    ...rotationConnectionFlags,
  }

  async run(): Promise<RotationReport> {
    const {args, flags} = await this.parse(SecretResume)
    const {resume, status} = await import('../../lib/rotation/index.ts')
    const report = await this.withRotation(flags, async (context) => {
      const [record] = await status(context, args.id)
      return resume(args.id, await this.connection(flags, record), context, {
        ...(flags['force-discard'] ? {forceDiscard: true} : {}),
        ...(flags['discard-after'] === undefined ? {} : {discardAfterMs: parseDuration(flags['discard-after'], '--discard-after')}),
      })
    })
    await this.render(report)
    return report
  }
}
