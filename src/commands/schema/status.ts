import {Args} from '@oclif/core'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {renderKeyValues, renderTable} from '../../lib/core/table.ts'

export default class SchemaStatus extends BaseCommand {
  static override summary = 'Show the schema changes on a server, or one change with its progress and every state it went through.'
  static override examples = ['<%= config.bin %> <%= command.id %> -p prod', '<%= config.bin %> <%= command.id %> 12 -p prod --json | jq .changes[0].progress']
  static override args = {id: Args.integer({description: 'change id (from schema change)', ignoreStdin: true})}
  static override flags = {...serverFlags}

  async run() {
    const {args, flags} = await this.parse(SchemaStatus)
    const {changeStatus} = await import('../../lib/osc/index.ts')
    const status = await changeStatus(await this.server(flags), args.id)
    if (status.changes.length === 0) {
      this.note('No schema changes recorded on this server.')
      return status
    }
    if (args.id === undefined) {
      this.print(await renderTable(['ID', 'TABLE', 'STATE', 'METHOD', 'ALTER', 'UPDATED'], status.changes.map((c) => [c.id, `${c.database}.${c.table}`, c.state, c.method, c.alter.slice(0, 60), c.updatedAt])))
      return status
    }
    const [change] = status.changes
    const p = change!.progress as {copied?: number; estimate?: number; rowsPerSecond?: number; etaSeconds?: number; throttled?: string | null}
    this.print(
      renderKeyValues([
        ['change', `${change!.id}: ${change!.database}.${change!.table} ${change!.alter}`],
        ['state', `${change!.state}${status.running ? ' (a dbakit process is running it)' : ''}`],
        ['method', change!.method],
        ['copied', p.copied === undefined ? undefined : `${p.copied.toLocaleString('en-US')} of about ${(p.estimate ?? 0).toLocaleString('en-US')} rows${p.rowsPerSecond ? `, ${p.rowsPerSecond.toLocaleString('en-US')} rows/s` : ''}${p.etaSeconds !== undefined ? `, ETA ${p.etaSeconds} s` : ''}`],
        ['throttled', p.throttled ?? undefined],
        ['revert window until', change!.revertUntil ?? undefined],
        ['request', change!.request ?? undefined],
        ['error', change!.error ?? undefined],
      ]),
    )
    for (const event of status.events ?? []) this.print(`${event.at}  ${event.state.padEnd(13)} ${event.message}`)
    return status
  }
}
