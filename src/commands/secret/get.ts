import {Args, Flags} from '@oclif/core'
import {auditStoreFlags, BaseCommand} from '../../base-command.ts'
import {usageError} from '../../lib/core/errors.ts'
import {writeFileAtomic} from '../../lib/core/files.ts'
import type {SecretInfo} from '../../lib/secrets/index.ts'

export default class SecretGet extends BaseCommand {
  static override summary = 'Print an operator credential to a pipe, or write it to a 0600 file.'
  static override description = `On a terminal the value is printed only with --reveal, so it does not land in scrollback by accident. --json prints where the secret is kept and under which key, never the value. Every read is recorded in the audit log (\`dbakit secret audit\`).

Exit status: 0, 1 when the envelope was changed or moved (refused), 2 for an unknown name (the closest are suggested), 3 when the keychain or KMS cannot be reached.`
  static override examples = [
    'MYSQL_PWD=$(<%= config.bin %> <%= command.id %> app-rw) mysql -u app_rw -h db1',
    '<%= config.bin %> <%= command.id %> backup-s3-key --out /run/dbakit/s3.key',
  ]
  static override args = {name: Args.string({description: 'secret name', required: true, ignoreStdin: true})}
  static override flags = {
    out: Flags.string({summary: 'Write the value to this file (created 0600; an existing file is replaced).'}),
    reveal: Flags.boolean({summary: 'Print the value even when stdout is a terminal.'}),
    ...auditStoreFlags,
  }

  async run(): Promise<SecretInfo & {out?: string}> {
    const {args, flags} = await this.parse(SecretGet)
    if (!flags.out && !this.jsonEnabled() && process.stdout.isTTY && !flags.reveal) {
      throw usageError('SECRET_ON_TERMINAL', `not printing ${args.name} on a terminal`, {hint: 'pass --reveal to show it, pipe it into the program that needs it, or write it to a file with --out FILE'})
    }
    return this.withSecrets(flags, async (secrets) => {
      const {info, value} = await secrets.get(args.name)
      try {
        if (flags.out) {
          await writeFileAtomic(flags.out, value, 0o600)
          this.note(`Wrote ${args.name} to ${flags.out} (0600).`)
          return {...info, out: flags.out}
        }
        // A copy: the write may still be queued when the original is zeroed.
        if (!this.jsonEnabled()) process.stdout.write(Buffer.from(value))
        return info
      } finally {
        value.fill(0)
      }
    })
  }
}
