import {Flags} from '@oclif/core'
import {BaseCommand, serverFlags} from './base-command.ts'
import {parseDuration} from './lib/core/duration.ts'
import {renderTable} from './lib/core/table.ts'
import type {Connection, RotationContext, RotationRecord, RotationReport} from './lib/rotation/index.ts'

type ConnectionFlags = {profile?: string; url?: string; 'password-stdin'?: boolean; 'connect-timeout'?: number; replica?: string[]; 'replica-timeout': string; store?: string}

/** The journal and the audit log together: a rotation's state is shared state. */
export const rotationStoreFlags = {
  store: Flags.string({summary: 'Keep the rotation journal and the secret audit log in MySQL instead of the state directory, so other hosts see, lock and resume rotations: mysql://user@host:port/database (default database dbakit_state).', env: 'DBAKIT_STORE'}),
}

export const rotationConnectionFlags = {
  ...serverFlags,
  replica: Flags.string({summary: 'A replica profile to verify the login on, besides those the primary lists (repeatable).', multiple: true, helpGroup: 'CONNECTION'}),
  'replica-timeout': Flags.string({summary: 'How long to wait for a replica to apply the change before stopping (resumable).', default: '30s'}),
  ...rotationStoreFlags,
}

export const discardFlags = {
  'discard-after': Flags.string({summary: 'Wait this long for sessions connected before the switch to go before removing the old password (e.g. 10s, 5m).', default: '10s'}),
  'force-discard': Flags.boolean({summary: 'Remove the old password even while such sessions are connected.'}),
}

/** What `secret rotate|resume|rollback|status` share: the journal, the KMS, the connection, the report. */
export abstract class RotationCommand extends BaseCommand {
  protected async withRotation<T>(flags: {store?: string}, work: (context: RotationContext) => Promise<T>): Promise<T> {
    const {openRotationJournal} = await import('./lib/rotation/index.ts')
    const journal = await openRotationJournal({...(flags.store === undefined ? {} : {store: await this.server({url: flags.store})}), env: process.env})
    // Every transition is journaled before the server changes: an interrupted rotation is resumable as it is.
    this.onInterrupt(() => journal.close())
    const progress = this.progress()
    try {
      return await this.withSecrets(flags, (secrets) =>
        work({
          secrets,
          journal,
          signal: this.abortSignal,
          onState: (record, note) => progress.listener({message: `${record.account}: ${record.state}: ${note}`}),
        }),
      )
    } finally {
      progress.stop()
      await journal.close()
    }
  }

  /** The admin connection: the flags, else the profile or URL the rotation was started with. */
  protected async connection(flags: ConnectionFlags, record?: RotationRecord): Promise<Connection> {
    const given = flags.profile !== undefined || flags.url !== undefined
    const target = await this.server(given || !record ? flags : {...flags, ...(record.profile ? {profile: record.profile} : {url: record.url!})})
    const replicas = []
    for (const profile of flags.replica ?? []) replicas.push({profile, target: await this.server({profile})})
    return {target, replicas, resolveProfile: (profile) => this.server({profile}), replicaTimeoutMs: parseDuration(flags['replica-timeout'], '--replica-timeout')}
  }

  protected async render(report: RotationReport): Promise<void> {
    for (const warning of report.warnings) this.logger.warn(warning)
    if (report.checks.length > 0) {
      this.print(await renderTable(['NODE', 'ROLE', 'PROOF', 'NOTE'], report.checks.map((check) => [check.address, check.role, check.proof, check.note ?? ''])))
    }
    const outcome: Record<string, string> = {
      done: `The password of ${report.account} is rotated; \`dbakit secret get ${report.secret}\` returns the new one. \`dbakit secret rollback ${report.id}\` restores the old one until ${report.retainUntil}.`,
      'rolled-back': `Rotation ${report.id} is rolled back: ${report.account} has its old password again.`,
    }
    this.note(outcome[report.state] ?? `Rotation ${report.id} of ${report.account} is ${report.state}.`)
  }
}
