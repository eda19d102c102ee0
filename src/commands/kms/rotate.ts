import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import type {KeyRef} from '../../lib/secrets/index.ts'

export default class KmsRotate extends BaseCommand {
  static override summary = 'Make a new version of the current key the one new secrets are wrapped with.'
  static override description = `The older versions stay on the token or in the KMS and still unwrap what they wrapped; \`dbakit kms rewrap\` then moves every envelope to the new version, and \`dbakit kms status\` shows when none is left on the old one. A passphrase key has no versions: move to a KMS instead.`
  static override examples = ['<%= config.bin %> kms rotate && <%= config.bin %> kms rewrap --yes']
  static override flags = {...auditStoreFlags}

  async run(): Promise<{from: KeyRef; to: KeyRef}> {
    const {flags} = await this.parse(KmsRotate)
    const result = await this.withSecrets(flags, (secrets) => secrets.rotate())
    this.note(`${result.to.provider} key ${result.to.keyId}: version ${result.to.keyVersion} is current (was ${result.from.keyVersion}); run \`dbakit kms rewrap\` to move the envelopes.`)
    return result
  }
}
