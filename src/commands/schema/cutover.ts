import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {throttleFlags} from './change.ts'

export default class SchemaCutover extends BaseCommand {
  static override summary = 'Cut over a change that was started with --postpone-cutover, or retry one whose cut-over gave up.'
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --yes']
  static override args = {id: Args.integer({description: 'change id', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would happen; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...throttleFlags,
    ...serverFlags,
  }

  async run() {
    const {args, flags} = await this.parse(SchemaCutover)
    const {controlChange, resumeChange} = await import('../../lib/osc/index.ts')
    const target = await this.server(flags)
    if (flags['dry-run']) {
      const outcome = await controlChange(target, args.id, 'cutover', {dryRun: true})
      this.note(outcome.applied)
      return outcome
    }
    if (!(await this.confirmAction('Cutover schema change ' + args.id + '?', flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    try {
      const outcome = await controlChange(target, args.id, 'cutover')
      this.note(`Change ${args.id}: ${outcome.applied}.`)
      return outcome
    } catch (error) {
      // Nobody is running it: this process takes it over from where the journal says.
      if (!(error instanceof DbakitError) || error.code !== 'CHANGE_NOT_RUNNING') throw error
    }
    const progress = this.progress()
    try {
      const result = await resumeChange({
        target,
        id: args.id,
        maxThreadsRunning: flags['max-threads-running'],
        threads: flags.threads,
        chunkTimeMs: (await import('../../lib/core/duration.ts')).parseDuration(flags['chunk-time'], '--chunk-time'),
        cutoverTimeoutMs: (await import('../../lib/core/duration.ts')).parseDuration(flags['cutover-timeout'], '--cutover-timeout'),
        signal: this.abortSignal,
        onProgress: (event) => progress.listener({message: event.message, ...(event.copied === undefined ? {} : {done: Math.min(event.copied, event.estimate ?? event.copied), total: event.estimate ?? event.copied})}),
      })
      this.note(`Change ${result.id} is ${result.state}.`)
      return result
    } finally {
      progress.stop()
    }
  }
}
