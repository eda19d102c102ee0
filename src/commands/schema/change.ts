import {Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {parseDuration} from '../../lib/core/duration.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import type {ChangeResult} from '../../lib/osc/index.ts'
import {changeFlags} from './plan.ts'

export const throttleFlags = {
  'max-threads-running': Flags.integer({summary: 'Pause the copy while the server has more running threads than this.', default: 25, min: 1}),
  'max-lag': Flags.string({summary: 'Pause the copy while a --replica is further behind than this (e.g. 2s).', dependsOn: ['replica']}),
  replica: Flags.string({summary: 'A replica profile whose lag throttles the copy (repeatable).', multiple: true}),
  'chunk-time': Flags.string({summary: 'Size each copy chunk to take about this long.', default: '500ms'}),
  'max-p99': Flags.string({summary: 'Pause the copy while a probe read by key on the table takes longer than this at p99 over 10 s (e.g. 20ms).'}),
  threads: Flags.integer({summary: 'Copy this many chunks at once, each on a connection of its own (helps where the server has cores and I/O to spare).', default: 1, min: 1, max: 16}),
  'cutover-timeout': Flags.string({summary: 'Give the cut-over this long to take its locks (NOWAIT, retried) before leaving the change copied.', default: '15s'}),
}

export default class SchemaChange extends BaseCommand {
  static override summary = 'Change a table without blocking reads or writes, and keep it reversible for a while if asked.'
  static override description = `Natively when the server can do it without blocking (INSTANT, or INPLACE/NOCOPY with LOCK=NONE), with every metadata lock taken NOWAIT and retried so that no application query queues behind it. Otherwise, and always with --revert-window, through a shadow table: triggers keep it in sync, rows are copied in key order in chunks sized to --chunk-time (throttled on Threads_running and replica lag), the copy is checksummed against the original in one snapshot, and one atomic RENAME ... NOWAIT swaps it in. With --revert-window the original stays in sync after the swap, so \`schema rollback ID\` is another instant swap with every write kept; \`schema cleanup ID\` ends the window. State is journaled in dbakit_state on the server: \`schema status\`, \`pause\`, \`resume\`, \`cutover\` and \`abort\` work from another terminal, and \`schema resume ID\` continues a change whose process died. How it works and why: docs/schema-change.md.

Exit status: 0, 2 for a wrong ALTER or table or a change the copy path refuses (nothing changed), 3 when the server cannot be reached or a grant is missing, 4 when it stopped safely (not confirmed, aborted, or the cut-over could not take its locks: the change stays copied).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --profile prod --table shop.orders --alter "MODIFY k BIGINT NOT NULL" --revert-window 30m',
    {description: 'Copy now, cut over later from another terminal', command: '<%= config.bin %> <%= command.id %> -p prod --table shop.orders --alter "MODIFY note TEXT" --postpone-cutover --yes'},
  ]
  static override flags = {
    ...changeFlags,
    'revert-window': Flags.string({summary: 'Keep the original in sync after cut-over for this long (e.g. 30m), so rollback loses nothing.'}),
    'postpone-cutover': Flags.boolean({summary: 'Copy and stay in sync, then wait for `dbakit schema cutover ID`.'}),
    ...throttleFlags,
    'dry-run': Flags.boolean({summary: 'Show the plan (`schema plan`); change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...serverFlags,
  }

  async run(): Promise<ChangeResult | import('../../lib/osc/index.ts').ChangePlan> {
    const {flags} = await this.parse(SchemaChange)
    const {parseTableName, planChange, runChange} = await import('../../lib/osc/index.ts')
    const {database, table} = parseTableName(flags.table)
    const revertWindowMs = flags['revert-window'] === undefined ? undefined : parseDuration(flags['revert-window'], '--revert-window')
    const throttle = await this.throttleOptions(flags)
    const target = await this.server(flags)
    if (flags['dry-run']) return planChange(target, {database, table, alter: flags.alter, ...(revertWindowMs ? {revertWindow: true} : {}), command: this.argv.filter((word) => word !== '--dry-run').join(' ')})
    if (!(await this.confirmAction(`Change ${database}.${table}: ${flags.alter}?`, flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing changed: not confirmed')
    const progress = this.progress()
    let result: ChangeResult
    try {
      result = await runChange({
        target,
        database,
        table,
        alter: flags.alter,
        ...(revertWindowMs ? {revertWindowMs} : {}),
        postponeCutover: flags['postpone-cutover'],
        ...throttle,
        signal: this.abortSignal,
        onProgress: (event) => {
          const eta = event.etaSeconds === undefined ? '' : `, ETA ${event.etaSeconds} s`
          const rate = event.rowsPerSecond === undefined ? '' : `, ${event.rowsPerSecond.toLocaleString('en-US')} rows/s`
          progress.listener({message: `${event.message}${rate}${eta}${event.throttled ? ` (${event.throttled})` : ''}`, ...(event.copied === undefined ? {} : {done: Math.min(event.copied, event.estimate ?? event.copied), total: event.estimate ?? event.copied})})
          if (event.phase === 'postponed' || event.phase === 'throttled') this.logger.debug(event.message)
        },
      })
    } finally {
      progress.stop()
    }
    if (result.state === 'aborted') throw new DbakitError(ExitCode.stopped, 'CHANGE_ABORTED', `change ${result.id} was aborted by request; ${database}.${table} is untouched`, {data: {...result}})
    const how = result.method === 'copy' ? `copied ${result.rowsCopied ?? 0} rows, cut over in ${result.cutover?.milliseconds ?? 0} ms (${result.cutover?.attempts ?? 0} attempts)` : `ran natively (${result.method})`
    this.note(`Change ${result.id} on ${database}.${table}: ${how}, ${result.seconds.toFixed(1)} s in all.`)
    if (result.state === 'revert-window') this.note(`Revert window open until ${result.revertUntil}: \`dbakit schema rollback ${result.id}\` undoes it, \`dbakit schema cleanup ${result.id}\` ends it.`)
    return result
  }

  private async throttleOptions(flags: {'max-threads-running': number; 'max-lag'?: string; 'max-p99'?: string; replica?: string[]; 'chunk-time': string; 'cutover-timeout': string; threads: number}) {
    const replicas = []
    for (const profile of flags.replica ?? []) replicas.push(await this.server({profile}))
    return {
      maxThreadsRunning: flags['max-threads-running'],
      threads: flags.threads,
      ...(flags['max-p99'] === undefined ? {} : {maxP99Ms: parseDuration(flags['max-p99'], '--max-p99')}),
      chunkTimeMs: parseDuration(flags['chunk-time'], '--chunk-time'),
      cutoverTimeoutMs: parseDuration(flags['cutover-timeout'], '--cutover-timeout'),
      ...(flags['max-lag'] === undefined ? {} : {maxLagSeconds: parseDuration(flags['max-lag'], '--max-lag') / 1000, replicas}),
    }
  }
}
