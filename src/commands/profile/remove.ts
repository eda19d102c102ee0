import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {ExitCode, DbakitError} from '../../lib/core/errors.ts'
import {getProfile, removeProfile, type RemoveProfileResult} from '../../lib/connect/profiles.ts'

export default class ProfileRemove extends BaseCommand {
  static override summary = 'Remove a profile and the password it keeps in the OS keychain.'
  static override examples = ['<%= config.bin %> <%= command.id %> old-replica --dry-run', '<%= config.bin %> <%= command.id %> old-replica --yes']
  static override args = {name: Args.string({description: 'profile name', required: true, ignoreStdin: true})}
  static override flags = {
    'dry-run': Flags.boolean({summary: 'Show what would be removed, change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
  }

  async run(): Promise<RemoveProfileResult> {
    const {args, flags} = await this.parse(ProfileRemove)
    const profile = await getProfile(args.name)
    const what = `profile ${profile.name} (${profile.url})${profile.password.kind === 'keychain' ? ' and its keychain password' : profile.password.kind === 'kms' ? ' and its KMS envelope' : ''}`
    if (flags['dry-run']) {
      this.note(`Would remove ${what}.`)
      return removeProfile(args.name, {dryRun: true})
    }
    if (!(await this.confirmAction(`Remove ${what}?`, flags.yes))) {
      throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing removed: not confirmed')
    }
    const result = await removeProfile(args.name, {dryRun: false})
    if (profile.password.kind === 'kms') await this.withSecrets({}, (secrets) => secrets.removeProfilePassword(args.name))
    this.note(`Removed ${what}.`)
    return result
  }
}
