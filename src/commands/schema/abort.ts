import {SchemaControlCommand} from '../../schema-control.ts'

export default class SchemaAbort extends SchemaControlCommand {
  static override args = SchemaControlCommand.args
  static override flags = SchemaControlCommand.flags
  static override summary = 'Abort a change before its cut-over: triggers and shadow table are dropped, the original is untouched.'
  protected readonly verb = 'abort' as const
}
