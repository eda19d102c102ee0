import {Args} from '@oclif/core'
import {BaseCommand, confirmationFlags, repositoryFlags} from '../../base-command.ts'
import {DbakitError, ExitCode, isDbakitError} from '../../lib/core/errors.ts'
import {formatBytes} from '../../lib/core/text.ts'
import type {BackupSummary} from '../../lib/backup/index.ts'

export default class BackupDelete extends BaseCommand {
  static override summary = 'Delete one backup from a repository.'
  static override description = `The backup disappears from listings at once (its directory is renamed away, or its S3 manifest deleted first), then its chunks are removed; an interrupted deletion is finished by \`dbakit backup cleanup\`. A backup whose manifest is damaged can still be deleted.

Exit status: 0 when deleted (or, with --dry-run, when it exists), 2 for an unknown id or no confirmation, 3 when the repository cannot be changed.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo /backups --dry-run', '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo /backups --yes']
  static override args = {id: Args.string({description: 'backup id (see `dbakit backup list`)', required: true, ignoreStdin: true})}
  static override flags = {
    ...confirmationFlags('Say what would be deleted; delete nothing.'),
    ...repositoryFlags,
  }

  async run(): Promise<{id: string; repo: string; dryRun: boolean; deleted: boolean; backup?: BackupSummary}> {
    const {args, flags} = await this.parse(BackupDelete)
    return this.withRepository(flags, async (repository) => {
      const {summariseManifest} = await import('../../lib/backup/index.ts')
      let backup: BackupSummary | undefined
      try {
        backup = summariseManifest(await repository.manifest(args.id))
      } catch (error) {
        if (!isDbakitError(error) || error.code !== 'MANIFEST_INVALID') throw error
        this.logger.warn(error.message)
      }
      const what = backup ? `backup ${args.id} (${backup.engine} from ${backup.host}, ${backup.chunks} chunks, ${formatBytes(backup.storedBytes)})` : `backup ${args.id}`
      const result = {id: args.id, repo: repository.location, ...(backup ? {backup} : {})}
      if (flags['dry-run']) {
        this.note(`Would delete ${what}.`)
        return {...result, dryRun: true, deleted: false}
      }
      if (!(await this.confirmAction(`Delete ${what}?`, flags.yes))) throw new DbakitError(ExitCode.stopped, 'DECLINED', `backup ${args.id} was kept: not confirmed`)
      await repository.delete(args.id)
      this.note(`Deleted ${what}.`)
      return {...result, dryRun: false, deleted: true}
    })
  }
}
