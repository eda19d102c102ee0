import {Args, Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from './base-command.ts'
import {DbakitError, ExitCode} from './lib/core/errors.ts'
import {parseDuration} from './lib/core/duration.ts'
import {throttleFlags} from './commands/schema/change.ts'

type Verb = 'pause' | 'resume' | 'cutover' | 'abort'

/**
 * `schema pause|resume|cutover|abort ID`: a request to the process running the change. With
 * `takesOver`, a change nobody runs any more (its process died) is continued by this one.
 */
export abstract class SchemaControlCommand extends BaseCommand {
  static override examples = ['<%= config.bin %> <%= command.id %> 12 -p prod --yes']
  static override args = {id: Args.integer({description: 'change id', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Say what would happen; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...serverFlags,
  }

  /** Flags of commands that may take a dead change over and copy the rest themselves. */
  static readonly takeOverFlags = {...SchemaControlCommand.flags, ...throttleFlags}

  protected abstract readonly verb: Verb
  protected readonly takesOver: boolean = false

  async run() {
    const {args, flags} = await this.parse(this.ctor as typeof SchemaControlCommand)
    const {controlChange, resumeChange} = await import('./lib/osc/index.ts')
    const target = await this.server(flags)
    if (flags['dry-run']) {
      const outcome = await controlChange(target, args.id, this.verb, {dryRun: true})
      this.note(outcome.applied)
      return outcome
    }
    if (!(await this.confirmAction(`${this.verb[0]!.toUpperCase()}${this.verb.slice(1)} schema change ${args.id}?`, flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    try {
      const outcome = await controlChange(target, args.id, this.verb)
      this.note(`Change ${args.id}: ${outcome.applied}.`)
      return outcome
    } catch (error) {
      // Nobody is running it: this process takes it over from where the journal says.
      if (!this.takesOver || !(error instanceof DbakitError) || error.code !== 'CHANGE_NOT_RUNNING') throw error
    }
    const copy = flags as unknown as {'max-threads-running': number; threads: number; 'chunk-time': string; 'cutover-timeout': string}
    const progress = this.progress()
    try {
      const result = await resumeChange({
        target,
        id: args.id,
        maxThreadsRunning: copy['max-threads-running'],
        threads: copy.threads,
        chunkTimeMs: parseDuration(copy['chunk-time'], '--chunk-time'),
        cutoverTimeoutMs: parseDuration(copy['cutover-timeout'], '--cutover-timeout'),
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
