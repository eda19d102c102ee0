import {Flags} from '@oclif/core'
import {BaseCommand, confirmationFlags, repositoryFlags} from '../../base-command.ts'
import {parseDuration} from '../../lib/core/duration.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import type {IncompleteBackup} from '../../lib/backup/index.ts'

export default class BackupCleanup extends BaseCommand {
  static override summary = 'Remove what killed backup runs and interrupted deletions left in a repository.'
  static override description = `A backup that never committed is not listed, but its chunks take space. On this host, dbakit knows whether its writer is still running: a dead writer's leftovers are removed, a live one's never. A writer on another host is judged by its heartbeat (renewed every 30 s): its leftovers are removed once it has been silent longer than --older-than, and never sooner than 5 minutes. Every backup run also does this first.

Exit status: 0 on success, 2 for bad flags or no confirmation, 3 when the repository cannot be changed.`
  static override examples = ['<%= config.bin %> <%= command.id %> --repo /backups --dry-run', '<%= config.bin %> <%= command.id %> --repo s3://bucket/db --older-than 6h --yes']
  static override flags = {
    'older-than': Flags.string({summary: "Remove another host's leftovers only after this long without a heartbeat: 30m, 6h, 2d.", default: '1h'}),
    ...confirmationFlags('List the leftovers and what would be done; remove nothing.'),
    ...repositoryFlags,
  }

  async run(): Promise<{repo: string; dryRun: boolean; leftovers: IncompleteBackup[]; removed: string[]}> {
    const {flags} = await this.parse(BackupCleanup)
    const olderThanMs = parseDuration(flags['older-than'], '--older-than')
    return this.withRepository(flags, async (repository) => {
      const leftovers = await repository.incomplete({olderThanMs})
      const removable = leftovers.filter((entry) => entry.removable)
      if (leftovers.length === 0) this.note(`Nothing to clean up in ${repository.location}.`)
      else {
        const rows = leftovers.map((entry) => [entry.id, entry.kind, entry.host ?? '', entry.pid ?? '', entry.removable ? (flags['dry-run'] ? 'would remove' : 'remove') : 'keep', entry.reason])
        this.print(await renderTable(['ID', 'STATE', 'HOST', 'PID', 'ACTION', 'WHY'], rows))
      }
      const result = {repo: repository.location, leftovers}
      if (flags['dry-run'] || removable.length === 0) return {...result, dryRun: flags['dry-run'], removed: []}
      if (!(await this.confirmAction(`Remove ${removable.length} incomplete backup${removable.length === 1 ? '' : 's'}?`, flags.yes))) {
        throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing removed: not confirmed')
      }
      const removed = await repository.cleanupIncomplete({olderThanMs})
      this.note(`Removed ${removed.length} incomplete backup${removed.length === 1 ? '' : 's'}.`)
      return {...result, dryRun: false, removed}
    })
  }
}
