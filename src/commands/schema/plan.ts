import {Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {renderKeyValues} from '../../lib/core/table.ts'
import {shellQuote, shellWord} from '../../lib/core/text.ts'
import type {ChangePlan} from '../../lib/osc/index.ts'

export const changeFlags = {
  table: Flags.string({summary: 'The table to change, as DATABASE.TABLE.', required: true}),
  alter: Flags.string({summary: 'The ALTER TABLE clauses, e.g. "MODIFY k BIGINT NOT NULL" (no ALTER TABLE, ALGORITHM= or LOCK=).', required: true}),
}

export default class SchemaPlan extends BaseCommand {
  static override summary = 'Say how the server would run an ALTER, what it costs and risks, and the command that runs it online.'
  static override description = `Read-only. The server itself is asked: the ALTER runs on a scratch copy of the table (its definition and a few rows, in dbakit_state) under ALGORITHM=INSTANT, then NOCOPY/INPLACE with LOCK=NONE, then COPY. INSTANT and in-place changes run natively; a COPY (a column type change, a VARCHAR crossing 255 bytes) goes through dbakit's copy path: a shadow table kept in sync by triggers, copied in chunks, checksummed and swapped in atomically. Risks are listed (unique keys added over duplicates, foreign keys, existing triggers, replica lag from in-place changes, what a rollback would lose).

Exit status: 0, 2 when the ALTER or the table is wrong (or a risk blocks the copy path), 3 when the server cannot be reached or a grant is missing.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --profile prod --table shop.orders --alter "MODIFY k BIGINT NOT NULL"',
    '<%= config.bin %> <%= command.id %> -p prod --table shop.orders --alter "ADD COLUMN note VARCHAR(200)" --json',
  ]
  static override flags = {
    ...changeFlags,
    'revert-window': Flags.string({summary: 'Plan for a change kept reversible for this long after cut-over (always the copy path).'}),
    ...serverFlags,
  }

  async run(): Promise<ChangePlan> {
    const {flags} = await this.parse(SchemaPlan)
    const {parseTableName, planChange} = await import('../../lib/osc/index.ts')
    const {database, table} = parseTableName(flags.table)
    const target = await this.server(flags)
    const connection = flags.profile ? `--profile ${flags.profile}` : `--url ${target.url.display}`
    const command = `dbakit schema change ${connection} --table ${shellWord(`${database}.${table}`)} --alter ${shellQuote(flags.alter)}${flags['revert-window'] ? ` --revert-window ${flags['revert-window']}` : ''}`
    const plan = await planChange(target, {database, table, alter: flags.alter, ...(flags['revert-window'] ? {revertWindow: true} : {}), command})
    const method = {instant: 'INSTANT (metadata only, done in moments)', inplace: 'in place without blocking (INPLACE/NOCOPY, LOCK=NONE)', 'online-copy': "the server's online copy (ALGORITHM=COPY, LOCK=NONE)", copy: 'copy through a shadow table (triggers, chunked copy, atomic swap)'}[plan.method]
    this.print(
      renderKeyValues([
        ['table', `${plan.database}.${plan.table} (about ${plan.rows.toLocaleString('en-US')} rows, ${mib(plan.tableBytes)})`],
        ['server', `${plan.server.flavor} ${plan.server.version}`],
        ['method', method],
        ['server said', plan.tried.map((t) => `${t.algorithm} ${t.accepted ? 'yes' : 'no'}`).join(', ')],
        ['estimated time', plan.method === 'instant' ? 'under a second' : `about ${plan.estimatedSeconds} s`],
        ['disk needed', plan.diskBytes > 0 ? `about ${mib(plan.diskBytes)} free in the data directory` : 'none'],
        ['run', plan.command],
      ]),
    )
    for (const risk of plan.risks) this.print(`${risk.blocking ? 'blocks' : 'risk'}: ${risk.message}`)
    for (const loss of plan.lossyRollback) this.print(`rollback: ${loss}`)
    return plan
  }
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`
