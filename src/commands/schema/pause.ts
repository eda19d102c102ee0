import {SchemaControlCommand} from '../../schema-control.ts'

export default class SchemaPause extends SchemaControlCommand {
  static override args = SchemaControlCommand.args
  static override flags = SchemaControlCommand.flags
  static override summary = "Pause a running change's copy; its triggers keep the shadow table in sync meanwhile."
  protected readonly verb = 'pause' as const
}
