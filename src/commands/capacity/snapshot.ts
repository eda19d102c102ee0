import {CapacityHistoryCommand, historyStoreFlags} from '../../capacity-history.ts'
import {formatBytes} from '../../lib/core/text.ts'
import type {Snapshot} from '../../lib/capacity/index.ts'
import {reportFlags, reportOptions} from './report.ts'

export default class CapacitySnapshot extends CapacityHistoryCommand {
  static override summary = 'Take a capacity report and keep it in the history that `capacity forecast` reads.'
  static override description = 'Run it on a schedule (cron, a systemd timer): a forecast needs 3 snapshots, exponential smoothing 10. The history is the state directory\'s capacity/history.jsonl, or a shared MySQL table with --store. Kept per snapshot: the size and use of what runs out (the disk; for Redis, memory against maxmemory), and the size of the 500 biggest tables or namespaces. Exit status: 0, 2 for bad input, 3 when the server or the store cannot be reached.'
  static override examples = ['<%= config.bin %> <%= command.id %> -p prod', '<%= config.bin %> <%= command.id %> -p prod --store mysql://dba@ops-db:3306/dbakit_state']
  static override flags = {...reportFlags, ...historyStoreFlags}

  async run(): Promise<Snapshot & {store: string}> {
    const {flags} = await this.parse(CapacitySnapshot)
    const options = reportOptions(flags)
    const {capacityReport, snapshotOf} = await import('../../lib/capacity/index.ts')
    const report = await capacityReport(await this.server(flags), options)
    for (const warning of report.warnings) this.logger.warn(warning)
    const snapshot = snapshotOf(report)
    return this.withHistory(flags, async (history) => {
      await history.append(snapshot)
      this.note(`Snapshot of ${snapshot.instance} at ${snapshot.takenAt} kept in ${history.location}${snapshot.usage.used === null ? '' : `: ${formatBytes(snapshot.usage.used)} of ${snapshot.usage.of} used${snapshot.usage.total === null ? '' : ` of ${formatBytes(snapshot.usage.total)}`}`}.`)
      return {...snapshot, store: history.location}
    })
  }
}
