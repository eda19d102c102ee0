import {Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {usageError} from '../../lib/core/errors.ts'
import {writeFileAtomic} from '../../lib/core/files.ts'
import type {SchemaSnapshot} from '../../lib/audit/snapshot.ts'

export interface SnapshotResult {
  file: string
  database: string
  tables: number
  server: {flavor: string; version: string}
}

export default class AuditSnapshot extends BaseCommand {
  static override summary = 'Save a database\'s schema and table sizes to a file, so CI can run schema- and size-aware audit rules without credentials.'
  static override description = 'Reads information_schema only (tables, columns, indexes, the server\'s row and size estimates): no COUNT(*), every query bounded by a 10 s server-side timeout. Run it against a replica.'
  static override examples = ['<%= config.bin %> <%= command.id %> --profile prod-replica --database shop --out schema.json', '<%= config.bin %> <%= command.id %> --url mysql://ro@db2:3306/shop --password-stdin --out - < pw.txt']
  static override flags = {
    ...serverFlags,
    database: Flags.string({summary: 'Database to read (default: the one in the URL).'}),
    out: Flags.string({summary: 'File to write, or - for stdout.', required: true}),
  }

  async run(): Promise<SnapshotResult | SchemaSnapshot> {
    const {flags} = await this.parse(AuditSnapshot)
    if (!flags.profile && !flags.url) throw usageError('TARGET_MISSING', 'no server given', {hint: 'pass --profile NAME or --url URL'})
    const {takeSnapshot} = await import('../../lib/audit/snapshot.ts')
    const target = await this.server(flags)
    if (!flags.database && !target.url.database) throw usageError('SNAPSHOT_NO_DATABASE', 'no database to read the schema of', {hint: 'pass --database DB, or name it in the URL\'s path, as in mysql://user@host:3306/DB'})
    const snapshot = await takeSnapshot(target, flags.database)
    // With --out - the snapshot is the data: under --json it is the one JSON document printed.
    if (flags.out === '-') {
      this.print(JSON.stringify(snapshot, null, 2))
      return snapshot
    }
    await writeFileAtomic(flags.out, `${JSON.stringify(snapshot, null, 2)}\n`)
    this.note(`Wrote ${snapshot.tables.length} tables of ${snapshot.database} to ${flags.out}.`)
    return {file: flags.out, database: snapshot.database, tables: snapshot.tables.length, server: snapshot.server}
  }
}
