import {Flags} from '@oclif/core'
import {CapacityHistoryCommand, historyStoreFlags} from '../../capacity-history.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import {csvLine, formatBytes} from '../../lib/core/text.ts'
import type {Forecast, Snapshot} from '../../lib/capacity/index.ts'

const days = (value: number | null) => (value === null ? 'never' : value < 1 ? '<1' : String(Math.round(value)))

export default class CapacityForecast extends CapacityHistoryCommand {
  static override summary = 'Days until a disk (Redis: maxmemory) passes a threshold (default 88%), with a 95% interval, per instance, from the snapshot history.'
  static override description = `Growth is fitted two ways, a straight line and compound growth (a line through the logarithms); the one that better foretold the history's own last quarter leads, the other follows, and with 10 snapshots or more exponential smoothing (augurs' AutoETS) gives a third opinion. The interval comes from the fit's uncertainty; "never" means the usage does not grow towards the threshold. The objects that grow fastest are named. Without --instance, every instance in the history, soonest first.

Exit status: 0, 1 when an instance reaches the threshold within --fail-within days, 2 for bad input or a history too short, 3 when the store cannot be read.`
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --instance prod --threshold 80 --json', '<%= config.bin %> <%= command.id %> --fail-within 30']
  static override flags = {
    instance: Flags.string({summary: 'The instance (profile name, or user@host:port) to forecast; default every one in the history.'}),
    threshold: Flags.integer({summary: 'The usage to forecast, in percent of the disk (Redis: of maxmemory).', default: 88, min: 1, max: 100}),
    'fail-within': Flags.integer({summary: 'Exit 1 when an instance reaches the threshold within this many days.', min: 0}),
    format: Flags.option({options: ['table', 'json', 'csv', 'html'] as const, default: 'table', summary: 'Output format (--json is the same as --format json); html is one self-contained file with a chart of each instance\'s history and forecast.'})(),
    ...historyStoreFlags,
  }

  async run(): Promise<{forecasts: Forecast[]; failed: Array<{instance: string; message: string}>}> {
    const {flags} = await this.parse(CapacityForecast)
    const {forecastHtml, forecastInstance} = await import('../../lib/capacity/index.ts')
    const format = this.jsonEnabled() ? 'json' : flags.format
    const histories = new Map<string, Snapshot[]>()
    const {forecasts, failed} = await this.withHistory(flags, async (history) => {
      const snapshots = await history.read(flags.instance)
      if (snapshots.length === 0) {
        throw usageError('HISTORY_EMPTY', flags.instance ? `${history.location} has no snapshot of ${flags.instance}` : `${history.location} has no snapshots`, {hint: 'take one a day with `dbakit capacity snapshot -p PROFILE` (3 are needed for a forecast, 10 for exponential smoothing)'})
      }
      const instances = [...new Set(snapshots.map((snapshot) => snapshot.instance))]
      for (const instance of instances) histories.set(instance, snapshots.filter((snapshot) => snapshot.instance === instance))
      const forecasts: Forecast[] = []
      const failed: Array<{instance: string; message: string}> = []
      for (const instance of instances) {
        try {
          forecasts.push(await forecastInstance(snapshots.filter((snapshot) => snapshot.instance === instance), flags.threshold))
        } catch (error) {
          // One instance's short history does not hide the others' forecasts.
          if (instances.length === 1 || !(error instanceof DbakitError)) throw error
          failed.push({instance, message: error.message})
        }
      }
      return {forecasts: forecasts.sort((a, b) => (a.crossings[0]?.days ?? Infinity) - (b.crossings[0]?.days ?? Infinity)), failed}
    })
    for (const failure of failed) this.logger.warn(failure.message)
    if (format === 'html') this.print(forecastHtml(forecasts, histories))
    else if (format === 'csv') {
      this.print(['instance,of,used_percent,days,earliest,latest,reaches_at,method', ...forecasts.map((f) => csvLine([f.instance, f.of, f.usedPercent.toFixed(2), f.crossings[0]!.days?.toFixed(1), f.crossings[0]!.earliest?.toFixed(1), f.crossings[0]!.latest?.toFixed(1), f.reachesAt, f.crossings[0]!.method]))].join('\n'))
    } else if (format === 'table') this.print(
      await renderTable(
        ['INSTANCE', 'USED', `DAYS TO ${flags.threshold}%`, '95% INTERVAL', 'REACHES', 'GROWTH/DAY', 'METHOD', 'SNAPSHOTS', 'FASTEST GROWING'],
        forecasts.map((f) => {
          const best = f.crossings[0]!
          return [f.instance, `${f.usedPercent.toFixed(1)}% of ${formatBytes(f.total)} ${f.of}`, days(best.days), `${days(best.earliest)}–${days(best.latest)}`, f.reachesAt ?? '', formatBytes(Math.max(0, best.perDay)), best.method, f.snapshots, f.drivers.slice(0, 2).map((d) => `${d.object} +${formatBytes(d.perDay)}/day`).join(', ')]
        }),
      ),
    )
    if (flags['fail-within'] !== undefined) {
      const soon = forecasts.filter((f) => f.crossings[0]?.days !== null && f.crossings[0]!.days! <= flags['fail-within']!)
      if (soon.length > 0) {
        throw new DbakitError(ExitCode.findings, 'THRESHOLD_WITHIN', `${soon.map((f) => `${f.instance} reaches ${flags.threshold}% in ${days(f.crossings[0]!.days)} days (${f.reachesAt})`).join('; ')}: within --fail-within ${flags['fail-within']}`, {data: {instances: soon.map((f) => f.instance)}})
      }
    }
    return {forecasts, failed}
  }
}
