import {Args, Flags} from '@oclif/core'
import {BaseCommand, confirmationFlags, repositoryFlags, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import {formatBytes, formatCount, formatRate} from '../../lib/core/text.ts'
import type {RestoreResult} from '../../lib/backup/index.ts'
import {DEFAULT_THREADS, selectionFlags} from './create.ts'

export default class BackupRestore extends BaseCommand {
  static override summary = 'Restore a MySQL/MariaDB backup into a server, in parallel, and check it against the manifest.'
  static override description = `Databases are created (with --rename-db, under another name) and tables created without their secondary keys; rows load in parallel with LOAD DATA LOCAL, one transaction per chunk; then the keys are built, foreign keys added, and sequences, routines, views, triggers and events created (users and grants with --include-users). Every chunk is authenticated as it is read; a damaged chunk stops the restore and what it created is dropped. Last, the server hashes every restored table and the result is compared with the digest the backup took inside its snapshot. The restore's sessions write nothing to the binlog unless --binlog, so replicas are not flooded (and do not get the data). A database that already holds objects of the backup's names is refused unless --force, which drops and replaces them.

Exit status: 0 when restored and every table matches; 1 when the backup is damaged or a restored table does not match its checksum (it is left for inspection); 2 for a wrong flag, an unknown id, database or table, a target that is not empty, or no confirmation; 3 when the server, repository or KMS cannot be reached or a grant is missing.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --profile staging --repo /backups',
    {description: 'One table, into a copy of its database', command: '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d -p staging --tables shop.orders --rename-db shop:shop_restored'},
    {description: 'Replace what is there, without asking', command: '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d -p staging --force --yes'},
  ]
  static override args = {id: Args.string({description: 'backup id (see `dbakit backup list`)', required: true, ignoreStdin: true})}
  static override flags = {
    ...selectionFlags,
    'rename-db': Flags.string({summary: 'Restore database FROM as TO (repeatable).', multiple: true, helpValue: 'FROM:TO'}),
    threads: Flags.integer({summary: 'Connections that load at once.', default: DEFAULT_THREADS, min: 1, max: 64}),
    force: Flags.boolean({summary: 'Drop and replace objects of the same names in the target databases.'}),
    binlog: Flags.boolean({summary: 'Write the restore to the binlog, so that replicas replay it.'}),
    'include-users': Flags.boolean({summary: "Also create the backup's accounts and grants (when it has them)."}),
    ...confirmationFlags('Say what would be restored and replaced; change nothing.'),
    ...serverFlags,
    ...repositoryFlags,
  }

  async run(): Promise<RestoreResult> {
    const {args, flags} = await this.parse(BackupRestore)
    const renames = parseRenames(flags['rename-db'] ?? [])
    const target = await this.server(flags)
    const result = await this.withRepository(flags, async (repository) => {
      const {restoreMysql} = await import('../../lib/backup/index.ts')
      const reader = await repository.open(args.id)
      const progress = this.progress()
      try {
        return await restoreMysql({
          target,
          reader,
          ...(flags.databases ? {databases: flags.databases} : {}),
          ...(flags.tables ? {tables: flags.tables} : {}),
          renames,
          threads: flags.threads,
          force: flags.force,
          binlog: flags.binlog,
          includeUsers: flags['include-users'],
          dryRun: flags['dry-run'],
          signal: this.abortSignal,
          onInterrupt: (cleanup) => this.onInterrupt(cleanup),
          confirmReplace: (targets) => this.confirmAction(`Replace ${targets.map((d) => `${d.replaces.length} object${d.replaces.length === 1 ? '' : 's'} in ${d.to}`).join(', ')} with backup ${args.id}?`, flags.yes),
          onProgress: (event) => progress.listener({message: `${event.message}: ${formatCount(event.rows)} rows, ${formatBytes(event.bytes)}${formatRate(event.bytesPerSecond, event.etaSeconds)}`, done: event.bytes, total: event.totalBytes}),
        })
      } finally {
        progress.stop()
        reader.close()
      }
    })
    const rows = result.databases.map((d) => [d.from, d.to, d.exists ? (d.replaces.length > 0 ? `replace ${d.replaces.length}` : 'exists') : 'create', formatCount(d.tables)])
    this.print(await renderTable(['FROM', 'TO', 'TARGET', 'TABLES'], rows))
    for (const warning of result.warnings) this.logger.warn(warning)
    if (result.dryRun) this.note(`Would restore ${formatCount(result.tables)} tables, ${formatCount(result.rows)} rows (${formatBytes(result.bytes)}) from ${result.id}; nothing changed.`)
    else if (result.checksums.mismatched.length > 0) {
      const {mismatched} = result.checksums
      throw new DbakitError(ExitCode.findings, 'RESTORE_CHECKSUM_MISMATCH', `${mismatched.length} restored table${mismatched.length === 1 ? ' does' : 's do'} not match the backup's checksums: ${mismatched.slice(0, 5).join(', ')}`, {
        hint: 'the restored data is left in place for inspection; compare it with `dbakit backup verify` and report the table',
        data: {...result},
      })
    } else this.note(`Restored ${formatCount(result.tables)} tables, ${formatCount(result.rows)} rows (${formatBytes(result.bytes)}) from ${result.id} in ${(result.durationMs / 1000).toFixed(1)} s; ${formatCount(result.checksums.checked)} table checksums match the backup.`)
    return result
  }
}

function parseRenames(values: string[]): Map<string, string> {
  const renames = new Map<string, string>()
  for (const value of values) {
    const match = /^([^:]+):([^:]+)$/.exec(value)
    if (!match) throw usageError('RENAME_INVALID', `--rename-db ${value}: expected FROM:TO`, {hint: 'e.g. --rename-db shop:shop_restored'})
    if (renames.has(match[1]!)) throw usageError('RENAME_INVALID', `--rename-db names ${match[1]} twice`)
    renames.set(match[1]!, match[2]!)
  }
  if (new Set(renames.values()).size < renames.size) throw usageError('RENAME_INVALID', '--rename-db restores two databases into one name', {hint: 'give each its own target'})
  return renames
}
