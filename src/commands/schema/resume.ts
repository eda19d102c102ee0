import {SchemaControlCommand} from '../../schema-control.ts'

export default class SchemaResume extends SchemaControlCommand {
  static override args = SchemaControlCommand.args
  static override summary = 'Resume a paused change, or continue one whose process died (from the journal).'
  static override flags = SchemaControlCommand.takeOverFlags
  protected readonly verb = 'resume' as const
  protected override readonly takesOver = true
}
