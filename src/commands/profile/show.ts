import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {renderKeyValues} from '../../lib/core/table.ts'
import {describePasswordSource, getProfile, type Profile} from '../../lib/connect/profiles.ts'

export default class ProfileShow extends BaseCommand {
  static override summary = 'Show one profile: URL, where its password comes from, TLS and timeouts.'
  static override examples = ['<%= config.bin %> <%= command.id %> prod', '<%= config.bin %> <%= command.id %> prod --json']
  static override args = {name: Args.string({description: 'profile name', required: true, ignoreStdin: true})}

  async run(): Promise<Profile> {
    const {args} = await this.parse(ProfileShow)
    const profile = await getProfile(args.name)
    this.print(
      renderKeyValues([
        ['name', profile.name],
        ['engine', profile.engine],
        ['url', profile.url],
        ['password', describePasswordSource(profile.password)],
        ['tls', profile.tls ? [profile.tls.mode, profile.tls.ca && `ca=${profile.tls.ca}`, profile.tls.cert && `cert=${profile.tls.cert}`].filter(Boolean).join(' ') : 'disabled'],
        ['connect timeout', `${profile.connectTimeoutSeconds ?? 10}s`],
      ]),
    )
    return profile
  }
}
