import {Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {renderTable} from '../../lib/core/table.ts'
import type {AuditReading, AuditVerification} from '../../lib/secrets/audit-log.ts'

export default class SecretAudit extends BaseCommand {
  static override summary = 'Show the secret audit log, or verify its hash chain.'
  static override description = `Every secret read, write, rotation and rewrap appends one entry (who, host, action, target, key id and version, outcome; never a secret) to a hash-chained log: a JSON Lines file in the state directory, or a MySQL table shared by a team with --store. --verify walks the chain and names the first changed, removed, reordered or torn entry. A chain cannot show that entries were cut off its end or that the whole log was rewritten: keep the head that --verify prints somewhere else and pass it back with --expect-head. Format: docs/secret-audit-log.md.

Exit status: 0 when the log is intact (or empty), 1 when --verify finds a bad entry, 2 for bad flags, 3 when the log or its server cannot be read.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --limit 20',
    {description: 'Check the chain, and that it still reaches a head recorded earlier', command: '<%= config.bin %> <%= command.id %> --verify --expect-head 42:3f0c9e…'},
    {description: 'The log a team shares in MySQL', command: 'DBAKIT_PASSWORD=… <%= config.bin %> <%= command.id %> --verify --store mysql://dbakit@db1:3306/dbakit_state'},
  ]
  static override flags = {
    verify: Flags.boolean({summary: 'Walk the hash chain and exit 1 naming the first bad entry.'}),
    'expect-head': Flags.string({summary: 'With --verify: SEQ:HASH printed by an earlier --verify; fails when the log no longer reaches it.', dependsOn: ['verify']}),
    ...auditStoreFlags,
    'password-stdin': Flags.boolean({summary: 'Read the --store password from standard input (overrides DBAKIT_PASSWORD).', dependsOn: ['store']}),
    limit: Flags.integer({summary: 'Show only the last N entries.', min: 1}),
  }

  async run(): Promise<AuditVerification | AuditReading> {
    const {flags} = await this.parse(SecretAudit)
    const {openAuditLog, parseHead, formatHead} = await import('../../lib/secrets/audit-log.ts')
    const expectHead = flags['expect-head'] === undefined ? undefined : parseHead(flags['expect-head'])
    const log = await openAuditLog({
      ...(flags.store === undefined ? {} : {store: flags.store}),
      resolveStore: (url) => this.server({url, 'password-stdin': flags['password-stdin']}),
    })
    try {
      if (flags.verify) {
        const result = await log.verify(expectHead ? {expectHead} : {})
        if (!result.intact) {
          throw new DbakitError(ExitCode.findings, 'AUDIT_LOG_TAMPERED', `${result.location}: ${result.problem!.message}`, {
            hint: 'keep the log as evidence; entries before the one named are intact',
            data: {...result},
          })
        }
        this.print(result.head ? `intact: ${result.entries} ${result.entries === 1 ? 'entry' : 'entries'} in ${result.location}, head ${formatHead(result.head)}` : `no entries in ${result.location}`)
        return result
      }
      const reading = await log.read()
      if (reading.unreadable.length > 0) {
        this.logger.warn(`${reading.unreadable.length} ${reading.unreadable.length === 1 ? 'entry is' : 'entries are'} unreadable (first at ${reading.location.startsWith('mysql://') ? 'row' : 'line'} ${reading.unreadable[0]}): run with --verify`)
      }
      const entries = flags.limit === undefined ? reading.entries : reading.entries.slice(-flags.limit)
      if (entries.length === 0) {
        this.note(`No entries in ${reading.location}.`)
      } else {
        const rows = entries.map((e) => [
          e.seq,
          e.time,
          `${e.user}@${e.host}`,
          e.action,
          e.target,
          e.provider === null ? '' : [e.provider, e.keyId, e.keyVersion === null ? null : `v${e.keyVersion}`].filter(Boolean).join(' '),
          e.code === null ? e.outcome : `${e.outcome} ${e.code}`,
        ])
        this.print(await renderTable(['SEQ', 'TIME', 'WHO', 'ACTION', 'TARGET', 'KEY', 'OUTCOME'], rows))
      }
      return {...reading, entries}
    } finally {
      await log.close()
    }
  }
}
