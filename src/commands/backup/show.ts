import {Args, Flags} from '@oclif/core'
import {BaseCommand, repositoryFlags} from '../../base-command.ts'
import {renderKeyValues, renderTable} from '../../lib/core/table.ts'
import {formatBytes, formatCount} from '../../lib/core/text.ts'
import type {Manifest} from '../../lib/backup/index.ts'
import {serverLabel, took} from './list.ts'

export default class BackupShow extends BaseCommand {
  static override summary = "Show a backup's manifest: where it came from, when, its key and its chunks."
  static override description = `Reads the manifest only: no key is needed and nothing is decrypted (\`dbakit backup verify\` checks the chunks). --json prints the whole manifest, as docs/backup-repository.md describes it.

Exit status: 0 on success, 1 when the manifest is damaged, 2 for an unknown id (the closest ones are named), 3 when the repository cannot be read.`
  static override examples = ['<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --repo /backups', '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --chunks', '<%= config.bin %> <%= command.id %> 20261202T154500Z-mysql-1a2b3c4d --json | jq .body']
  static override args = {id: Args.string({description: 'backup id (see `dbakit backup list`)', required: true, ignoreStdin: true})}
  static override flags = {
    chunks: Flags.boolean({summary: 'Also list every chunk with its sizes, rows and hash.'}),
    ...repositoryFlags,
  }

  async run(): Promise<Manifest> {
    const {args, flags} = await this.parse(BackupShow)
    return this.withRepository(flags, async (repository) => {
      const {summariseManifest} = await import('../../lib/backup/index.ts')
      const manifest = await repository.manifest(args.id)
      const summary = summariseManifest(manifest)
      const {key} = manifest.key
      this.print(
        renderKeyValues([
          ['id', manifest.id],
          ['engine', manifest.engine],
          ['server', serverLabel(manifest.server) || '-'],
          ['host', manifest.host],
          ['created', manifest.createdAt],
          ['completed', `${manifest.completedAt} (took ${took(manifest)})`],
          ['chunks', formatCount(summary.chunks)],
          ['rows', summary.rows === null ? undefined : formatCount(summary.rows)],
          ['size', `${formatBytes(summary.bytes)} (${formatBytes(summary.storedBytes)} stored)`],
          ['key', `${key.provider} ${key.keyId} version ${key.keyVersion}`],
        ]),
      )
      if (flags.chunks && manifest.chunks.length > 0) {
        const rows = manifest.chunks.map((c) => [c.name, formatBytes(c.bytes), formatBytes(c.storedBytes), c.rows === undefined ? '' : formatCount(c.rows), c.sha256.slice(0, 16)])
        this.print(`\n${await renderTable(['CHUNK', 'SIZE', 'STORED', 'ROWS', 'SHA-256'], rows)}`)
      }
      return manifest
    })
  }
}
