import {Args} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {renderKeyValues} from '../../lib/core/table.ts'
import {usageError} from '../../lib/core/errors.ts'
import type {ServerReport} from '../../lib/connect/probe.ts'

export default class ProfileTest extends BaseCommand {
  static override summary = 'Connect and report flavor, version, role (primary or replica, with lag) and round-trip latency.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> prod',
    {description: 'A server with no profile; the password comes from stdin', command: 'echo "$PW" | <%= config.bin %> <%= command.id %> --url mysql://dba@10.0.0.5:3306 --password-stdin'},
    {description: 'In a script: is this a replica, and how far behind?', command: '<%= config.bin %> <%= command.id %> replica1 --json | jq \'.role, .replicaLagSeconds\''},
    {description: 'A Redis replica: bytes of the replication stream not yet applied', command: '<%= config.bin %> <%= command.id %> cache-replica --json | jq \'.replicaLagBytes\''},
  ]
  static override args = {name: Args.string({description: 'profile name (same as --profile)', ignoreStdin: true})}
  static override flags = {...serverFlags}

  async run(): Promise<ServerReport> {
    const {args, flags} = await this.parse(ProfileTest)
    if (args.name && (flags.profile || flags.url)) {
      throw usageError('TARGET_AMBIGUOUS', 'a profile name was given together with --profile or --url', {hint: 'pass one of them'})
    }
    const {probeServer} = await import('../../lib/connect/probe.ts')
    const target = await this.server({...flags, ...(args.name ? {profile: args.name} : {})})
    this.logger.debug(`connecting to ${target.label} (${target.engine}, connect timeout ${target.connectTimeoutMs} ms)`)
    const report = await probeServer(target)
    const lastIo = report.replication?.lastIoSecondsAgo
    this.print(
      renderKeyValues([
        ['endpoint', report.endpoint],
        ['flavor', displayFlavor(report.flavor)],
        ['version', report.version],
        ['role', report.role],
        ['replica lag', report.role === 'replica' ? describeLag(report) : undefined],
        ['replicating from', report.replication ? `${report.replication.source ?? '?'} (${report.replication.state})` : undefined],
        ['last heard from source', lastIo === undefined || lastIo === null ? undefined : `${lastIo}s ago`],
        ['latency', `${report.latencyMs} ms`],
      ]),
    )
    for (const note of report.notes) this.note(`note: ${note}`)
    return report
  }
}

/** Seconds where the server measures time, bytes of the replication stream for Redis, which does not. */
function describeLag(report: ServerReport): string {
  if (report.replicaLagSeconds !== null) return `${report.replicaLagSeconds}s`
  if (report.replicaLagBytes !== null) return report.replicaLagBytes === 0 ? 'none (0 bytes behind)' : `${report.replicaLagBytes} bytes behind`
  return report.replication?.running === false ? 'unknown (replication stopped)' : 'unknown'
}

function displayFlavor(flavor: ServerReport['flavor']): string {
  return {mysql: 'MySQL', mariadb: 'MariaDB', redis: 'Redis', valkey: 'Valkey', mongodb: 'MongoDB'}[flavor]
}
