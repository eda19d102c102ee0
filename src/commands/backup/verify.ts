import {Args, Flags} from '@oclif/core'
import {BaseCommand, repositoryFlags, serverFlags} from '../../base-command.ts'
import {DbakitError, ExitCode, usageError} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import {formatCount} from '../../lib/core/text.ts'
import type {BackupReader, RestoreResult, VerifyResult} from '../../lib/backup/index.ts'
import type {ConnectionTarget} from '../../lib/connect/target.ts'
import {DEFAULT_THREADS} from './create.ts'

type RestoreTest = Pick<RestoreResult, 'tables' | 'rows' | 'checksums'> & {server: string}

export default class BackupVerify extends BaseCommand {
  static override summary = 'Check every chunk of a backup: hash, decryption, decompression, content hash and row count.'
  static override description = `Each chunk is read whole and checked against the manifest: the SHA-256 of its stored bytes, the AES-GCM tag under the backup's data key (so the KMS key that sealed it must be reachable), zstd decompression, the SHA-256 and size of the plain bytes, and the row count where the manifest records one and the engine can count it. The manifest's own MAC is checked first. Nothing is written to the repository.

With --restore-test (MySQL backups) the backup is also restored into scratch databases on the --profile/--url server (dbakit_verify_<random>_<name>, binlog off), the server's digest of every restored table is compared with the one the backup took in its snapshot, and the scratch databases are dropped whatever happens.

Exit status: 0 when every chunk passes, 1 when some do not (each is named with why) or the manifest was changed, 2 for an unknown id, 3 when the repository or the key cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo /backups', '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo s3://bucket/db --json']
  static override args = {id: Args.string({description: 'backup id (see `dbakit backup list`)', required: true, ignoreStdin: true})}
  static override flags = {
    'restore-test': Flags.boolean({summary: 'Also restore into scratch databases on --profile/--url and compare the checksums (dropped after).'}),
    threads: Flags.integer({summary: 'Connections that load at once, with --restore-test.', default: DEFAULT_THREADS, min: 1, max: 64}),
    ...serverFlags,
    ...repositoryFlags,
  }

  async run(): Promise<VerifyResult & {id: string; restoreTest?: RestoreTest}> {
    const {args, flags} = await this.parse(BackupVerify)
    if (flags['restore-test'] && flags.profile === undefined && flags.url === undefined) throw usageError('RESTORE_TEST_NEEDS_SERVER', '--restore-test needs a scratch server to restore into', {hint: 'name it with --profile or --url'})
    const target = flags['restore-test'] ? await this.server(flags) : undefined
    const result = await this.withRepository(flags, async (repository) => {
      const reader = await repository.open(args.id)
      try {
        if (target && reader.manifest.engine !== 'mysql') throw usageError('RESTORE_TEST_UNSUPPORTED', `--restore-test restores MySQL backups; ${reader.manifest.id} is a ${reader.manifest.engine} backup`)
        const progress = this.progress()
        let verified: VerifyResult
        try {
          verified = await reader.verify((done, total) => progress.listener({message: `verifying ${reader.manifest.id}`, done, total}))
        } finally {
          progress.stop()
        }
        // A backup whose chunks fail is not restored: the chunks already say what is wrong.
        const restoreTest = target && verified.ok ? await this.restoreTest(reader, target, flags.threads) : undefined
        return {id: reader.manifest.id, ...verified, ...(restoreTest ? {restoreTest} : {})}
      } finally {
        reader.close()
      }
    })
    if (!result.ok) {
      this.print(await renderTable(['CHUNK', 'PROBLEM'], result.bad.map((b) => [b.chunk, b.problem])))
      const names = result.bad.map((b) => b.chunk)
      throw new DbakitError(ExitCode.findings, 'BACKUP_CORRUPT', `backup ${result.id}: ${names.length} of ${result.chunks} chunk${result.chunks === 1 ? '' : 's'} failed verification: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`, {
        hint: 'this backup cannot be restored whole; restore from another one that passes verify',
        data: {...result},
      })
    }
    this.note(`Backup ${result.id}: ${formatCount(result.chunks)} chunk${result.chunks === 1 ? '' : 's'} verified${result.rowsChecked > 0 ? `, row counts checked in ${formatCount(result.rowsChecked)}` : ''}.`)
    const test = result.restoreTest
    if (test) {
      if (test.checksums.mismatched.length > 0) {
        throw new DbakitError(ExitCode.findings, 'RESTORE_TEST_FAILED', `backup ${result.id}: ${test.checksums.mismatched.length} of ${test.checksums.checked} tables restored on ${test.server} do not match the backup's checksums: ${test.checksums.mismatched.slice(0, 5).join(', ')}`, {
          hint: 'the chunks are intact but their rows do not load back the same on this server: restore onto the source version, and report it',
          data: {...result},
        })
      }
      this.note(`Restore test on ${test.server}: ${formatCount(test.tables)} tables, ${formatCount(test.rows)} rows restored; ${formatCount(test.checksums.checked)} table checksums match the backup. The scratch databases were dropped.`)
    }
    return result
  }

  private async restoreTest(reader: BackupReader, target: ConnectionTarget, threads: number): Promise<RestoreTest> {
    const {restoreTestMysql} = await import('../../lib/backup/index.ts')
    const progress = this.progress()
    try {
      const tested = await restoreTestMysql({
        target,
        reader,
        threads,
        signal: this.abortSignal,
        onInterrupt: (cleanup) => this.onInterrupt(cleanup),
        onProgress: (event) => progress.listener({message: `restore test: ${event.message}`, done: event.bytes, total: event.totalBytes}),
      })
      return {server: target.label, ...tested}
    } finally {
      progress.stop()
    }
  }
}
