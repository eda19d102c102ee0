import {BaseCommand} from '../../base-command.ts'
import {renderTable} from '../../lib/core/table.ts'
import type {SecretInfo} from '../../lib/secrets/index.ts'

export default class SecretList extends BaseCommand {
  static override summary = 'List the operator credentials dbakit keeps, and where.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq -r \'.secrets[].name\'']

  async run(): Promise<{secrets: SecretInfo[]}> {
    await this.parse(SecretList)
    const secrets = await this.withSecrets({}, (s) => s.list())
    if (secrets.length === 0) this.note('No secrets yet. Store one with: dbakit secret set NAME --stdin')
    else this.print(await renderTable(['NAME', 'BACKEND', 'KEY', 'CREATED'], secrets.map((s) => [s.name, s.backend, s.key ? `${s.key.provider} ${s.key.keyId} v${s.key.keyVersion}` : '', s.created ?? ''])))
    return {secrets}
  }
}
