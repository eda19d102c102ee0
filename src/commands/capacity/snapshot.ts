import {CapacityHistoryCommand, historyStoreFlags} from '../../capacity-history.ts'
import {formatBytes} from '../../lib/core/text.ts'
import type {Snapshot} from '../../lib/capacity/index.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {fleetMembers, reportFlags, reportOptions} from './report.ts'

export default class CapacitySnapshot extends CapacityHistoryCommand {
  static override summary = 'Take a capacity report and keep it in the history that `capacity forecast` reads.'
  static override description = 'Run it on a schedule (cron, a systemd timer): a forecast needs 3 snapshots, exponential smoothing 10. The history is the state directory\'s capacity/history.jsonl, or a shared MySQL table with --store. Kept per snapshot: the size and use of what runs out (the disk; for Redis, memory against maxmemory), and the size of the 500 biggest tables or namespaces. Exit status: 0, 2 for bad input, 3 when the server or the store cannot be reached.'
  static override examples = ['<%= config.bin %> <%= command.id %> -p prod', '<%= config.bin %> <%= command.id %> -p prod --store mysql://dba@ops-db:3306/dbakit_state']
  static override flags = {...reportFlags, ...historyStoreFlags}

  async run(): Promise<(Snapshot & {store: string}) | {store: string; snapshots: Snapshot[]; failed: Array<{instance: string; message: string}>}> {
    const {flags} = await this.parse(CapacitySnapshot)
    const options = reportOptions(flags)
    const {capacityFleet, capacityReport, snapshotOf} = await import('../../lib/capacity/index.ts')
    if (flags.all || flags.inventory !== undefined) {
      const entries = await capacityFleet(await fleetMembers({server: (each) => this.server(each)}, flags), options, flags.concurrency)
      return this.withHistory(flags, async (history) => {
        const snapshots = entries.filter((entry) => entry.report).map((entry) => snapshotOf(entry.report!))
        for (const snapshot of snapshots) await history.append(snapshot)
        const failed = entries.filter((entry) => entry.error).map((entry) => ({instance: entry.instance, message: entry.error!.message}))
        for (const failure of failed) this.logger.warn(`${failure.instance}: ${failure.message}`)
        if (snapshots.length === 0) throw new DbakitError(ExitCode.environment, 'FLEET_UNREADABLE', `none of the ${entries.length} instances could be read; nothing was kept`, {hint: failed[0]?.message})
        this.note(`Kept ${snapshots.length} snapshot(s) in ${history.location}${failed.length > 0 ? `; ${failed.length} instance(s) failed` : ''}.`)
        return {store: history.location, snapshots, failed}
      })
    }
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
