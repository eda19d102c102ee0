import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {renderTable} from '../../lib/core/table.ts'
import type {KmsStatus} from '../../lib/secrets/index.ts'

export default class KmsStatusCommand extends BaseCommand {
  static override summary = 'Show the key new secrets are wrapped with, and every envelope by provider, key and version.'
  static override description = `Envelopes under an older key version or another provider open as before; \`dbakit kms rewrap\` moves them to the current key, after which the old one can be retired. An envelope that cannot be read is listed with the reason.

Exit status: 0, 2 for a bad config, 3 when the KMS cannot be reached (use --offline to list the envelopes without it).`
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --offline --json']
  static override flags = {
    offline: Flags.boolean({summary: 'Do not ask the KMS which key version is current; list what is on disk.'}),
  }

  async run(): Promise<KmsStatus> {
    const {flags} = await this.parse(KmsStatusCommand)
    const status = await this.withSecrets({}, (secrets) => secrets.status({offline: flags.offline}))
    if (!status.provider) this.note('No key provider is configured yet: `dbakit kms init --provider ...` sets one up.')
    else if (status.current) this.note(`New secrets are wrapped with ${status.current.provider} key ${status.current.keyId}, version ${status.current.keyVersion}.`)
    else this.note(`New secrets are wrapped with the ${status.provider} provider (its current key version was not asked for: --offline).`)
    if (status.keys.length > 0) {
      this.print(await renderTable(['PROVIDER', 'KEY', 'VERSION', 'ENVELOPES', 'CURRENT'], status.keys.map((k) => [k.provider, k.keyId, k.keyVersion, k.envelopes, status.current ? (k.current ? 'yes' : 'no: kms rewrap') : '?'])))
    } else if (status.envelopes.length === 0) this.note('No envelopes yet.')
    for (const bad of status.envelopes.filter((e) => e.problem)) this.logger.warn(bad.problem!)
    return status
  }
}
