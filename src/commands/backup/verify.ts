import {Args} from '@oclif/core'
import {BaseCommand, repositoryFlags} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import {formatCount} from '../../lib/core/text.ts'
import type {VerifyResult} from '../../lib/backup/index.ts'

export default class BackupVerify extends BaseCommand {
  static override summary = 'Check every chunk of a backup: hash, decryption, decompression, content hash and row count.'
  static override description = `Each chunk is read whole and checked against the manifest: the SHA-256 of its stored bytes, the AES-GCM tag under the backup's data key (so the KMS key that sealed it must be reachable), zstd decompression, the SHA-256 and size of the plain bytes, and the row count where the manifest records one and the engine can count it. The manifest's own MAC is checked first. Nothing is written anywhere.

Exit status: 0 when every chunk passes, 1 when some do not (each is named with why) or the manifest was changed, 2 for an unknown id, 3 when the repository or the key cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo /backups', '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo s3://bucket/db --json']
  static override args = {id: Args.string({description: 'backup id (see `dbakit backup list`)', required: true, ignoreStdin: true})}
  static override flags = {...repositoryFlags}

  async run(): Promise<VerifyResult & {id: string}> {
    const {args, flags} = await this.parse(BackupVerify)
    const result = await this.withRepository(flags, async (repository) => {
      const reader = await repository.open(args.id)
      const progress = this.progress()
      try {
        return {id: reader.manifest.id, ...(await reader.verify((done, total) => progress.listener({message: `verifying ${reader.manifest.id}`, done, total})))}
      } finally {
        progress.stop()
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
    return result
  }
}
