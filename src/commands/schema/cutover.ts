import {SchemaControlCommand} from '../../schema-control.ts'

export default class SchemaCutover extends SchemaControlCommand {
  static override args = SchemaControlCommand.args
  static override summary = 'Cut over a change that was started with --postpone-cutover, or retry one whose cut-over gave up.'
  static override flags = SchemaControlCommand.takeOverFlags
  protected readonly verb = 'cutover' as const
  protected override readonly takesOver = true
}
