import {Args} from '@oclif/core'
import {renderKeyValues, renderTable} from '../../lib/core/table.ts'
import {RotationCommand, rotationStoreFlags} from '../../rotation-control.ts'
import type {RotationRecord} from '../../lib/rotation/index.ts'

export default class SecretStatus extends RotationCommand {
  static override summary = 'Show password rotations: where each is, and what happened when.'
  static override description = 'Without an id, every rotation in the journal; with one, its nodes and every transition with its time. Reads the journal only: no server is contacted. Exit status: 0, 2 for an unknown id.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> 20261204T101500Z-1a2b3c4d --json']
  static override args = {id: Args.string({description: 'rotation id', ignoreStdin: true})}
  static override flags = {...rotationStoreFlags}

  async run(): Promise<{rotations: RotationRecord[]}> {
    const {args, flags} = await this.parse(SecretStatus)
    const {status} = await import('../../lib/rotation/index.ts')
    const rotations = await this.withRotation(flags, (context) => status(context, args.id))
    if (args.id === undefined) {
      if (rotations.length === 0) this.note('No rotations yet. Start one with: dbakit secret rotate --profile P --user NAME')
      else this.print(await renderTable(['ID', 'ACCOUNT', 'ENGINE', 'SECRET', 'STATE', 'UPDATED'], rotations.map((r) => [r.id, r.account, r.engine, r.secret, r.state, r.updatedAt])))
      return {rotations}
    }
    const [record] = rotations
    this.print(
      renderKeyValues([
        ['id', record!.id],
        ['account', `${record!.account} (${record!.engine})`],
        ['secret', record!.secret],
        ['state', record!.state],
        ['nodes', record!.nodes.map((node) => `${node.address} ${node.role}`).join(', ')],
        ['rollback until', record!.retainUntil],
        ...record!.history.map((step): [string, string] => [step.at, `${step.state}${step.note ? `: ${step.note}` : ''}`]),
        ...record!.warnings.map((warning): [string, string] => ['warning', warning]),
      ]),
    )
    return {rotations}
  }
}
