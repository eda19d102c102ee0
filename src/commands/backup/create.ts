import {availableParallelism} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand, repositoryFlags, serverFlags} from '../../base-command.ts'
import {formatBytes, formatCount, formatRate} from '../../lib/core/text.ts'
import type {BackupResult} from '../../lib/backup/index.ts'

export const DEFAULT_THREADS = Math.max(2, Math.min(4, availableParallelism()))

export const selectionFlags = {
  databases: Flags.string({summary: 'Only these databases (comma-separated or repeated).', multiple: true, delimiter: ','}),
  tables: Flags.string({summary: 'Only these tables, as DB.TABLE (comma-separated or repeated).', multiple: true, delimiter: ','}),
}

export default class BackupCreate extends BaseCommand {
  static override summary = 'Back up a MySQL/MariaDB server into a repository: parallel, consistent, compressed, encrypted and checksummed.'
  static override description = `A logical backup, consistent across --threads connections: a global lock (MariaDB BACKUP STAGE BLOCK_COMMIT, else FLUSH TABLES WITH READ LOCK) is held only while every connection starts its snapshot and the binlog coordinates are read; the lock time is reported. Big tables are split by primary-key ranges so that workers share them, and rows stream into chunks (zstd, AES-256-GCM under a data key sealed by the KMS, SHA-256), so memory stays flat. Every value is kept as the bytes the server holds (FLOAT and DOUBLE exactly), and the server's float-safe digest of every table, computed inside the snapshot, goes into the manifest for restore to check. The backup becomes visible only when every chunk and the manifest are durable. Non-transactional tables (MyISAM, Aria) are refused unless --allow-non-transactional, which dumps them under the lock. How it works: docs/backup-mysql.md.

Exit status: 0 with the backup id on stdout; 2 for a wrong flag, an unknown database or table, or non-transactional tables; 3 when the server, the repository or the KMS cannot be reached, or a grant is missing; 4 when a table was altered during the backup (nothing is kept).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --profile prod --repo /backups',
    '<%= config.bin %> <%= command.id %> --profile prod --repo s3://backups/prod --databases shop,billing --threads 8 --json',
    '<%= config.bin %> <%= command.id %> --url mysql://backup@db1:3306 --repo /backups --tables shop.orders,shop.customers',
  ]
  static override flags = {
    ...selectionFlags,
    exclude: Flags.string({summary: 'Leave out these databases or DB.TABLE names; * matches anything (comma-separated or repeated).', multiple: true, delimiter: ','}),
    threads: Flags.integer({summary: 'Connections that read at once.', default: DEFAULT_THREADS, min: 1, max: 64}),
    'include-users': Flags.boolean({summary: 'Also keep the accounts and their grants (CREATE USER and GRANT statements).'}),
    'allow-non-transactional': Flags.boolean({summary: 'Back up MyISAM/Aria tables too, holding the global read lock (writes wait) while they are read.'}),
    ...serverFlags,
    ...repositoryFlags,
  }

  async run(): Promise<BackupResult> {
    const {flags} = await this.parse(BackupCreate)
    const target = await this.server(flags)
    const result = await this.withRepository(flags, async (repository) => {
      const {backupMysql} = await import('../../lib/backup/index.ts')
      const progress = this.progress()
      try {
        return await backupMysql({
          target,
          repository,
          selection: {
            ...(flags.databases ? {databases: flags.databases} : {}),
            ...(flags.tables ? {tables: flags.tables} : {}),
            ...(flags.exclude ? {exclude: flags.exclude} : {}),
          },
          threads: flags.threads,
          includeUsers: flags['include-users'],
          allowNonTransactional: flags['allow-non-transactional'],
          signal: this.abortSignal,
            onInterrupt: (cleanup) => this.onInterrupt(cleanup),
          onProgress: (event) => {
            const done = Math.min(event.bytes, event.totalBytes)
            progress.listener({message: `${event.message}: ${formatCount(event.rows)} rows, ${formatBytes(event.bytes)}${formatRate(event.bytesPerSecond, event.etaSeconds)}`, ...(event.totalBytes > 0 ? {done, total: event.totalBytes} : {})})
          },
        })
      } finally {
        progress.stop()
      }
    })
    this.print(result.id)
    this.note(
      `Backup ${result.id}: ${formatCount(result.tables)} tables, ${formatCount(result.rows)} rows, ${formatBytes(result.bytes)} (${formatBytes(result.storedBytes)} stored) in ${(result.durationMs / 1000).toFixed(1)} s; ${result.lock.method} held ${result.lock.milliseconds} ms.`,
    )
    for (const note of result.notes) this.logger.warn(note)
    return result
  }
}
