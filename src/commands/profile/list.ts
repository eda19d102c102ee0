import {BaseCommand} from '../../base-command.ts'
import {renderTable} from '../../lib/core/table.ts'
import {formatPasswordSource, listProfiles, type Profile} from '../../lib/connect/profiles.ts'

export default class ProfileList extends BaseCommand {
  static override summary = 'List saved connection profiles.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq -r \'.profiles[].name\'']

  async run(): Promise<{profiles: Profile[]}> {
    await this.parse(ProfileList)
    const profiles = await listProfiles()
    if (profiles.length === 0) {
      this.note('No profiles yet. Add one with: dbakit profile add NAME --url mysql://user@host:3306')
    } else {
      const rows = profiles.map((p) => [p.name, p.engine, p.url, formatPasswordSource(p.password), p.tls?.mode ?? 'disabled'])
      this.print(await renderTable(['NAME', 'ENGINE', 'URL', 'PASSWORD', 'TLS'], rows))
    }
    return {profiles}
  }
}
