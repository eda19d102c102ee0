import {Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import type {RewrapResult} from '../../lib/secrets/index.ts'

export default class KmsRewrap extends BaseCommand {
  static override summary = 'Re-wrap every envelope under the current key version, or from one provider to another.'
  static override description = `Only the data keys are re-wrapped (inside Vault or AWS KMS where they can; in memory otherwise): the secrets are never decrypted and no plaintext touches disk. Each envelope file is replaced atomically, so an interrupted run leaves every envelope openable; run it again to finish. To move from one provider to another, \`dbakit kms init\` the new one (the old stays configured), then rewrap.

Exit status: 0 when every envelope is under the current key, 1 when some could not be moved (changed or refused; named), 2 for bad flags or no confirmation, 3 when a KMS cannot be reached.`
  static override examples = ['<%= config.bin %> <%= command.id %> --dry-run', '<%= config.bin %> <%= command.id %> --yes']
  static override flags = {
    'dry-run': Flags.boolean({summary: 'List the envelopes that would be re-wrapped; change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...auditStoreFlags,
  }

  async run(): Promise<RewrapResult> {
    const {flags} = await this.parse(KmsRewrap)
    const result = await this.withSecrets(flags, async (secrets) => {
      const plan = await secrets.rewrap({dryRun: true})
      if (flags['dry-run'] || plan.rewrapped.length === 0) return plan
      const to = `${plan.to.provider} key ${plan.to.keyId} version ${plan.to.keyVersion}`
      if (!(await this.confirmAction(`Re-wrap ${plan.rewrapped.length} envelope${plan.rewrapped.length === 1 ? '' : 's'} under ${to}?`, flags.yes))) {
        throw new DbakitError(ExitCode.stopped, 'DECLINED', 'nothing re-wrapped: not confirmed')
      }
      const progress = this.progress()
      try {
        return await secrets.rewrap({dryRun: false, onProgress: (done, total) => progress.listener({message: 're-wrapping envelopes', done, total})})
      } finally {
        progress.stop()
      }
    })
    const verb = result.dryRun ? 'Would re-wrap' : 'Re-wrapped'
    for (const moved of result.rewrapped) this.print(`${result.dryRun ? 'would re-wrap' : 're-wrapped'} ${moved.name}: ${moved.from.provider} ${moved.from.keyId} v${moved.from.keyVersion} -> ${result.to.provider} ${result.to.keyId} v${result.to.keyVersion}`)
    this.note(`${verb} ${result.rewrapped.length}, ${result.upToDate} already under the current key${result.failed.length > 0 ? `, ${result.failed.length} refused` : ''}.`)
    if (result.failed.length > 0) {
      for (const failed of result.failed) this.logger.warn(failed.message)
      throw new DbakitError(ExitCode.findings, 'REWRAP_INCOMPLETE', `${result.failed.length} envelope${result.failed.length === 1 ? ' was' : 's were'} not re-wrapped: ${result.failed.map((f) => f.name).join(', ')}`, {
        hint: 'restore those files from a backup or set the secrets again; the others are done',
        data: {...result},
      })
    }
    return result
  }
}
