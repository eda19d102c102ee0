import {BaseCommand, repositoryFlags} from '../../base-command.ts'
import {renderTable} from '../../lib/core/table.ts'
import {formatBytes, formatCount} from '../../lib/core/text.ts'
import type {BackupSummary} from '../../lib/backup/index.ts'

/** How long a backup took, for a person: 4 s, 12 min, 3.5 h. */
export function took(summary: {createdAt: string; completedAt: string}): string {
  const seconds = Math.max(0, (Date.parse(summary.completedAt) - Date.parse(summary.createdAt)) / 1000)
  return seconds < 120 ? `${Math.round(seconds)} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`
}

/** The server a backup came from, in a few words: whatever the engine recorded of its name and version. */
export const serverLabel = (server: Record<string, unknown>) => [server.host ?? server.address, server.flavor, server.version].filter((part) => part !== undefined && part !== null && part !== '').join(' ')

export default class BackupList extends BaseCommand {
  static override summary = 'List the complete backups in a repository, newest first.'
  static override description = `The list is read from the backups' own manifests: there is no index to go stale, and backups written by several hosts at once all appear. A backup still being written, or whose writer was killed, is not listed (see \`dbakit backup cleanup\`).

Exit status: 0 on success, 2 when the repository does not exist or is not named, 3 when it cannot be read.`
  static override examples = ['<%= config.bin %> <%= command.id %> --repo /backups', '<%= config.bin %> <%= command.id %> --repo s3://bucket/db --json | jq -r \'.backups[0].id\'']
  static override flags = {...repositoryFlags}

  async run(): Promise<{repo: string; backups: BackupSummary[]}> {
    const {flags} = await this.parse(BackupList)
    return this.withRepository(flags, async (repository) => {
      const {summariseManifest} = await import('../../lib/backup/index.ts')
      const backups = (await repository.list()).map(summariseManifest)
      if (backups.length === 0) this.note(`No complete backups in ${repository.location}.`)
      else {
        const rows = backups.map((b) => [b.id, b.engine, b.host, serverLabel(b.server), b.completedAt.replace(/\.\d+Z$/, 'Z'), took(b), formatCount(b.chunks), b.rows === null ? '' : formatCount(b.rows), formatBytes(b.storedBytes)])
        this.print(await renderTable(['ID', 'ENGINE', 'HOST', 'SERVER', 'COMPLETED', 'TOOK', 'CHUNKS', 'ROWS', 'STORED'], rows))
      }
      return {repo: repository.location, backups}
    })
  }
}
