import {Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import {renderKeyValues, renderTable} from '../../lib/core/table.ts'
import {parseDuration} from '../../lib/core/duration.ts'
import {csvLine, formatBytes, formatCount, parseBytes} from '../../lib/core/text.ts'
import type {FleetEntry, InstanceCapacity} from '../../lib/capacity/index.ts'

/** `72/100: usage 40 (91.0% of the disk used), ...`: the lowest components, with why. */
const healthLine = (report: InstanceCapacity) => {
  const health = report.health
  if (!health) return '?'
  const low = health.components.filter((component) => component.score < 100).sort((a, b) => a.score - b.score)
  return `${health.score}/100${low.length > 0 ? `: ${low.map((component) => `${component.name} ${component.score} (${component.why})`).join('; ')}` : ''}`
}

/** What decides how a report is taken: `report` and `snapshot` share them. */
export const reportFlags = {
  'sample-tables': Flags.integer({summary: 'How many of the biggest InnoDB tables get a sampled estimate of their reclaimable space.', default: 20, min: 0}),
  'sample-rows': Flags.integer({summary: 'Rows read from each sampled table.', default: 5000, min: 1}),
  analyze: Flags.boolean({summary: 'Refresh the sampled tables\' statistics first (ANALYZE NO_WRITE_TO_BINLOG TABLE).'}),
  'disk-size': Flags.string({summary: 'The data directory\'s disk size, where the server cannot say (a remote host without the DISKS plugin), e.g. 500G.'}),
  'sample-keys': Flags.integer({summary: 'Redis: keys sampled per database (RANDOMKEY) for the namespace totals; 0 measures every key (SCAN).', default: 10_000, min: 0}),
  delimiter: Flags.string({summary: 'Redis: what separates a key\'s namespace from the rest.', default: ':'}),
  'prefix-depth': Flags.integer({summary: 'Redis: namespace parts to group by (user:42:x at depth 1 is user).', default: 1, min: 1}),
  pause: Flags.string({summary: 'Redis: pause after each batch of 500 keys, so a busy server is not crowded (e.g. 2ms, 0).', default: '2ms'}),
  all: Flags.boolean({summary: 'Every profile in the config, --concurrency at a time; one that fails is reported in its row.', exclusive: ['profile', 'url', 'inventory']}),
  inventory: Flags.string({summary: 'A fleet file (YAML or JSON list of {profile, tags}) to run over, like --all.', exclusive: ['profile', 'url']}),
  tag: Flags.string({summary: 'With --inventory: only the members with this tag (repeatable: all of them).', multiple: true, dependsOn: ['inventory']}),
  concurrency: Flags.integer({summary: 'With --all or --inventory: instances read at once.', default: 4, min: 1}),
  ...serverFlags,
}

/**
 * The members of a fleet run: the inventory's (with every --tag), else every profile; each is
 * resolved (password and all) when its turn comes, so one that cannot be fails in its own row.
 */
export async function fleetMembers(command: {server: (flags: {profile: string}) => Promise<import('../../lib/connect/target.ts').ConnectionTarget>}, flags: {inventory?: string; tag?: string[]}) {
  let names: string[]
  if (flags.inventory !== undefined) {
    const {readInventory, withTags} = await import('../../lib/connect/inventory.ts')
    names = withTags(await readInventory(flags.inventory), flags.tag ?? []).map((member) => member.profile)
  } else {
    const [{listProfiles}, {configFilePath}] = await Promise.all([import('../../lib/connect/profiles.ts'), import('../../lib/core/paths.ts')])
    names = (await listProfiles(configFilePath())).map((profile) => profile.name)
    if (names.length === 0) throw usageError('NO_PROFILES', '--all found no profiles in the config', {hint: 'add them with `dbakit profile add NAME --url URL`'})
  }
  return names.map((name) => ({name, target: () => command.server({profile: name})}))
}

export const reportOptions = (flags: {'sample-tables': number; 'sample-rows': number; analyze: boolean; 'disk-size'?: string; 'sample-keys': number; delimiter: string; 'prefix-depth': number; pause: string}) => ({
  sampleTables: flags['sample-tables'],
  sampleRows: flags['sample-rows'],
  sampleKeys: flags['sample-keys'],
  delimiter: flags.delimiter,
  depth: flags['prefix-depth'],
  batch: 500,
  pauseMs: parseDuration(flags.pause, '--pause'),
  ...(flags.analyze ? {analyze: true} : {}),
  ...(flags['disk-size'] === undefined ? {} : {diskBytes: parseBytes(flags['disk-size'], '--disk-size')}),
})

export default class CapacityReport extends BaseCommand {
  static override summary = 'Sizes you can trust: on-disk truth and estimates marked, reclaimable space, headroom; Redis memory by namespace.'
  static override description = `MySQL/MariaDB: every table's size on disk from the tablespace views (exact), information_schema's data, index and row figures (estimates, marked ~), and the space OPTIMIZE TABLE would free. For the --sample-tables biggest tables that is the file size less a rebuild sized from a sample of their rows (information_schema's DATA_FREE, used for the others, misses the half-empty pages a mass delete leaves). A bounded number of queries, not one per table, plus one sample query per sampled table. --analyze refreshes those tables' statistics first (ANALYZE NO_WRITE_TO_BINLOG TABLE), for row counts that lag a mass delete.

Redis: used_memory against maxmemory, keys per database, and memory by namespace (the key up to --delimiter, --prefix-depth parts) and held by keys with a TTL, from --sample-keys keys drawn uniformly with RANDOMKEY and measured with MEMORY USAGE, extrapolated to each database's key count (--sample-keys 0 measures every key with SCAN, exactly); the biggest keys measured.

Exit status: 0, 1 when --fail-on-usage is reached, 2 for bad input, 3 when the server cannot be reached or read.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> -p prod',
    '<%= config.bin %> <%= command.id %> -p prod --format csv > sizes.csv',
    '<%= config.bin %> <%= command.id %> -p prod --fail-on-usage 88 --json',
  ]
  static override flags = {
    format: Flags.option({options: ['table', 'json', 'csv', 'html'] as const, default: 'table', summary: 'Output format (--json is the same as --format json); html is one self-contained file with a chart.'})(),
    top: Flags.integer({summary: 'Tables listed in the table format (biggest first; json and csv list all).', default: 20, min: 1}),
    'fail-on-usage': Flags.integer({summary: 'Exit 1 when the disk (Redis: memory against maxmemory) is at least this full (percent).', min: 1, max: 100}),
    ...reportFlags,
  }

  async run(): Promise<(InstanceCapacity & {diskUsedPercent: number | null}) | {instances: FleetEntry[]}> {
    const {flags} = await this.parse(CapacityReport)
    const format = this.jsonEnabled() ? 'json' : flags.format
    const options = reportOptions(flags)
    if (flags.all || flags.inventory !== undefined) return this.fleet(await fleetMembers({server: (each) => this.server(each)}, flags), options, flags.concurrency, format, flags['fail-on-usage'])
    const {capacityReport, formatFigure, totals, usedPercent} = await import('../../lib/capacity/index.ts')
    const report = await capacityReport(await this.server(flags), options)
    const used = usedPercent(report)
    for (const warning of report.warnings) this.logger.warn(warning)
    const result = {...report, diskUsedPercent: used}
    if (format === 'json') {
      if (!this.jsonEnabled()) this.print(JSON.stringify(result, null, 2))
    } else if (format === 'html') {
      const {reportHtml} = await import('../../lib/capacity/index.ts')
      this.print(reportHtml(report, flags.top))
    } else if (format === 'csv') {
      this.print(
        [
          ['database', 'table', 'engine', 'on_disk_bytes', 'on_disk_exact', 'data_bytes', 'index_bytes', 'rows', 'reclaimable_bytes', 'reclaimable_source', 'auto_increment_used_percent'].join(','),
          ...report.tables.map((t) => csvLine([t.database, t.table, t.engine, t.onDisk.value, t.onDisk.exact, t.data.value, t.indexes.value, t.rows.value, t.reclaimable.value, t.reclaimable.source, t.autoIncrement ? t.autoIncrement.usedPercent.toFixed(4) : ''])),
        ].join('\n'),
      )
    } else if (report.keyspaces) {
      this.print(
        renderKeyValues([
          ['instance', `${report.instance} (${report.engine} ${report.version})`],
          ['memory', `${formatFigure(report.memory!.used)} used of ${formatFigure(report.memory!.limit)}${used === null ? '' : ` (${used.toFixed(1)}%)`}, fragmentation ${report.memory!.fragmentation}`],
          ['health', healthLine(report)],
          ...report.keyspaces.map((space): [string, string] => [`db${space.db}`, `${formatFigure(space.keys, formatCount)} keys, ${formatFigure(space.bytes)}, ${formatFigure(space.freedByTtl)} in keys with a TTL (${formatCount(space.sampled)} measured)`]),
        ]),
      )
      const rows = report.keyspaces.flatMap((space) => space.prefixes.slice(0, flags.top).map((group) => [`db${space.db}`, group.prefix, formatFigure(group.keys, formatCount), formatFigure(group.bytes), formatFigure(group.freedByTtl), group.types.join(' ')]))
      if (rows.length > 0) this.print(await renderTable(['DB', 'NAMESPACE', 'KEYS', 'MEMORY', 'WITH TTL', 'TYPES'], rows))
      const biggest = report.keyspaces.flatMap((space) => space.biggest.map((key) => ({db: space.db, ...key}))).sort((a, b) => (b.bytes.value ?? 0) - (a.bytes.value ?? 0)).slice(0, Math.min(10, flags.top))
      if (biggest.length > 0) this.print(await renderTable(['DB', 'BIGGEST KEY MEASURED', 'MEMORY', 'TYPE'], biggest.map((key) => [`db${key.db}`, key.key, formatFigure(key.bytes), key.type])))
      this.note('~ marks an estimate: namespace totals are extrapolated from the keys measured to the database\'s key count.')
    } else {
      const sums = totals(report)
      this.print(
        renderKeyValues([
          ['instance', `${report.instance} (${report.engine} ${report.version})`],
          ['disk', report.disk ? `${formatFigure(report.disk.used)} used of ${formatFigure(report.disk.total)}${used === null ? '' : ` (${used.toFixed(1)}%)`} under ${report.disk.path}` : 'unknown (pass --disk-size)'],
          ['tables on disk', `${formatFigure(sums.onDisk)} in ${formatCount(report.tables.length)} tables`],
          ['reclaimable', `${formatFigure(sums.reclaimable)} (what OPTIMIZE TABLE would free)`],
          ['binlogs', formatFigure(report.binlogs)],
          ['health', healthLine(report)],
        ]),
      )
      if (report.tables.length > 0) {
        this.print(
          await renderTable(
            ['TABLE', 'ON DISK', 'ROWS', 'DATA', 'INDEXES', 'RECLAIMABLE', 'AUTO-INC'],
            report.tables.slice(0, flags.top).map((t) => [`${t.database}.${t.table}`, formatFigure(t.onDisk), formatFigure(t.rows, formatCount), formatFigure(t.data), formatFigure(t.indexes), formatFigure(t.reclaimable), t.autoIncrement ? `${t.autoIncrement.usedPercent.toFixed(1)}%` : '']),
          ),
        )
        this.note('~ marks an estimate (information_schema statistics, or a sample); the rest is read from the files or the server\'s counters.')
      }
    }
    if (flags['fail-on-usage'] !== undefined) {
      if (used === null) throw usageError('DISK_SIZE_UNKNOWN', `--fail-on-usage needs the disk's size, which ${report.instance} does not report`, {hint: 'pass --disk-size, or load MariaDB\'s DISKS plugin'})
      if (used >= flags['fail-on-usage']) {
        const [what, pair] = report.memory ? ['memory', {used: report.memory.used, total: report.memory.limit}] : ['disk', report.disk!]
        throw new DbakitError(ExitCode.findings, 'USAGE_THRESHOLD', `${report.instance}: the ${what} is ${used.toFixed(1)}% full, at or above --fail-on-usage ${flags['fail-on-usage']}% (${formatBytes(pair.used.value!)} of ${formatBytes(pair.total.value!)})`, {data: {usedPercent: used}})
      }
    }
    return result
  }

  private async fleet(members: Awaited<ReturnType<typeof fleetMembers>>, options: ReturnType<typeof reportOptions>, concurrency: number, format: string, failOn: number | undefined): Promise<{instances: FleetEntry[]}> {
    const {capacityFleet, formatFigure, totals} = await import('../../lib/capacity/index.ts')
    const instances = await capacityFleet(members, options, concurrency)
    const rows = instances.map((entry) => {
      const report = entry.report
      const what = report?.memory ? 'memory' : 'disk'
      const size = report ? (report.memory ? formatFigure(report.memory.used) : formatFigure(totals(report).onDisk)) : ''
      return {entry, cells: [entry.instance, report ? `${report.engine} ${report.version}` : '', report?.health ? String(report.health.score) : '', entry.usedPercent === null || entry.usedPercent === undefined ? (report ? '?' : '') : `${entry.usedPercent.toFixed(1)}% of ${what}`, size, report && !report.memory ? formatFigure(totals(report).reclaimable) : '', entry.error ? `error: ${entry.error.message}` : 'ok']}
    })
    if (format === 'csv') this.print(['instance,engine,used_percent,error', ...instances.map((entry) => csvLine([entry.instance, entry.report?.engine, entry.usedPercent?.toFixed(2), entry.error?.message]))].join('\n'))
    else if (format !== 'json') this.print(await renderTable(['INSTANCE', 'SERVER', 'HEALTH', 'USED', 'DATA / MEMORY', 'RECLAIMABLE', 'STATUS'], rows.map((row) => row.cells)))
    if (instances.every((entry) => entry.error)) {
      throw new DbakitError(Math.max(...instances.map((entry) => entry.error!.exitCode)) === ExitCode.usage ? ExitCode.usage : ExitCode.environment, 'FLEET_UNREADABLE', `none of the ${instances.length} instances could be read`, {hint: instances[0]!.error!.message})
    }
    const full = failOn === undefined ? [] : instances.filter((entry) => (entry.usedPercent ?? -1) >= failOn)
    if (full.length > 0) {
      throw new DbakitError(ExitCode.findings, 'USAGE_THRESHOLD', `${full.map((entry) => `${entry.instance} at ${entry.usedPercent!.toFixed(1)}%`).join(', ')}: at or above --fail-on-usage ${failOn}%`, {data: {instances: full.map((entry) => entry.instance)}})
    }
    return {instances}
  }
}
