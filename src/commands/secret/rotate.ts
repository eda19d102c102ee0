import {Flags} from '@oclif/core'
import {DbakitError, ExitCode} from '../../lib/core/errors.ts'
import {parseDuration} from '../../lib/core/duration.ts'
import {renderKeyValues} from '../../lib/core/table.ts'
import {discardFlags, RotationCommand, rotationConnectionFlags} from '../../rotation-control.ts'
import type {RotationPlan, RotationReport} from '../../lib/rotation/index.ts'

export default class SecretRotate extends RotationCommand {
  static override summary = 'Rotate a database account\'s password with no failed logins, on every node.'
  static override description = `The new password is generated (CSPRNG; letters, digits and - _ . only, so it survives URLs, shells and config files), kept only as a KMS envelope under --secret, and never printed: applications and runbooks read it with \`dbakit secret get NAME\`. The server's own overlap keeps both passwords valid until every node accepts the new one: MariaDB 10.4+ joins two mysql_native_password entries with OR, MySQL 8.0.14+ uses RETAIN CURRENT PASSWORD, Redis 6+ holds two ACL passwords on every node (ACLs are not replicated; ACL SAVE where an aclfile is configured). Each step is journaled before the server is changed:

  pending    the new password is sealed; nothing changed
  set        the server accepts both passwords
  verified   the new one logged in on every node (replicas waited for) and the privileges are unchanged; \`secret get\` returns it from here
  discarded  after --grace, and once sessions connected before the switch are gone (waited for up to --discard-after), the old password is removed
  done       the old password is kept as an envelope for --retain, so \`secret rollback ID\` can restore it

A rotation stopped by kill -9 or a lost connection goes on with \`secret resume ID\` (or by running the same rotate again). When --secret does not exist yet, the old password stays valid through its stored hash and rollback restores it the same way.

Exit status: 0 when done, 1 when sessions from before the switch kept the old password in use (both still work: resume later) or the privileges changed meanwhile, 2 for an unknown account, a rotation already running, a replica as target, or no confirmation, 3 when a server, a grant or the KMS is missing (nothing changed before the journal says so).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> -p prod --user app_rw --dry-run',
    '<%= config.bin %> <%= command.id %> -p prod --user app_rw --host \'10.0.%\' --yes',
    '<%= config.bin %> <%= command.id %> -p cache --user app --secret cache/app --discard-after 5m --yes',
  ]
  static override flags = {
    user: Flags.string({summary: 'The account whose password is rotated.', required: true}),
    host: Flags.string({summary: 'MySQL/MariaDB: the account\'s host part, when the user has several (e.g. \'%\', \'10.0.%\').'}),
    secret: Flags.string({summary: 'Where the password is kept (default <profile or host:port>/<user>@<host>): a KMS envelope that `secret get` reads.'}),
    'password-length': Flags.integer({summary: 'Length of the generated password.', default: 32}),
    grace: Flags.string({summary: 'Keep the old password at least this long after `secret get` returns the new one, for clients that read it just before.', default: '1s'}),
    ...discardFlags,
    retain: Flags.string({summary: 'How long after done the old password stays restorable by `secret rollback`.', default: '7d'}),
    'dry-run': Flags.boolean({summary: 'Find the account and every node, say what would happen; store and change nothing.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (required without a terminal).'}),
    ...rotationConnectionFlags,
  }

  async run(): Promise<RotationReport | (RotationPlan & {dryRun: true})> {
    const {flags} = await this.parse(SecretRotate)
    const {rotate, checkPasswordLength} = await import('../../lib/rotation/index.ts')
    checkPasswordLength(flags['password-length'])
    const discardAfterMs = parseDuration(flags['discard-after'], '--discard-after')
    const retainMs = parseDuration(flags.retain, '--retain')
    if (!flags['dry-run']) await this.requireKms()
    const connection = await this.connection(flags)
    const result = await this.withRotation(flags, (context) =>
      rotate(
        {
          ...connection,
          user: flags.user,
          ...(flags.host === undefined ? {} : {host: flags.host}),
          ...(flags.secret === undefined ? {} : {secret: flags.secret}),
          passwordLength: flags['password-length'],
          graceMs: parseDuration(flags.grace, '--grace'),
          discardAfterMs,
          forceDiscard: flags['force-discard'],
          retainMs,
          dryRun: flags['dry-run'],
          confirm: (plan) => this.confirmAction(`Rotate the password of ${plan.account} on ${plan.nodes.length} node(s) into secret ${plan.secret}?`, flags.yes),
        },
        context,
      ),
    )
    if ('dryRun' in result) {
      for (const warning of result.warnings) this.logger.warn(warning)
      this.print(
        renderKeyValues([
          ['account', `${result.account} (${result.engine})`],
          ['secret', `${result.secret}${result.secretExisted ? ' (holds the current password)' : ' (new)'}`],
          ['nodes', result.nodes.map((node) => `${node.address} ${node.role}${node.role === 'primary' ? '' : ` (${node.foundBy})`}`).join(', ')],
          ...result.steps.map((step, index): [string, string] => [`step ${index + 1}`, step]),
        ]),
      )
      this.note('Dry run: nothing was stored or changed.')
      return result
    }
    await this.render(result)
    return result
  }

  private async requireKms(): Promise<void> {
    const [{kmsConfigured}, {configFilePath}] = await Promise.all([import('../../lib/secrets/index.ts'), import('../../lib/core/paths.ts')])
    if (!(await kmsConfigured(configFilePath()))) {
      throw new DbakitError(ExitCode.usage, 'KMS_NOT_CONFIGURED', 'a rotated password is kept only as a KMS envelope, and no KMS is set up', {hint: 'run `dbakit kms init` first (see `dbakit kms init --help`)'})
    }
  }
}
