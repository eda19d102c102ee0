import {Args, Flags} from '@oclif/core'
import {appendFile} from 'node:fs/promises'
import {BaseCommand, serverFlags} from '../../base-command.ts'
import {ExitCode, usageError} from '../../lib/core/errors.ts'
import {readAllStdin} from '../../lib/core/prompts.ts'
import {FORMATS} from '../../lib/audit/reporters/formats.ts'
import {colorEnabled} from '../../lib/core/style.ts'

export default class Audit extends BaseCommand {
  static override summary = 'Review SQL and migration files before they run: offline, against a schema snapshot, or against a live server.'
  static override description = `Splits files like the mysql client (DELIMITER included), parses each statement, and runs the rule catalog (\`dbakit audit rules\`). Statements the parser cannot read are still audited by the token rules. Settings come from the nearest .dbakit.yaml above the files: rules (id: error|warning|notice|off), thresholds, ignore (path globs), target (flavor, version), failOn, encoding. Suppress one finding inline with \`-- dbakit-ignore RULE-ID: reason\` on the statement or its line; the reason is required and shown in the report.

Exit status: 1 when a finding reaches --fail-on (default error), 0 otherwise, 2 for unreadable input or bad configuration, 3 when a server given with --profile/--url cannot be reached.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> migrations/',
    {description: 'CI gate with annotations on the pull request', command: '<%= config.bin %> <%= command.id %> migrations/ --changed-since origin/main --format github --fail-on warning'},
    {description: 'Schema- and size-aware rules without production credentials', command: '<%= config.bin %> <%= command.id %> V42__add_index.sql --schema schema.json'},
    {description: 'Against the live schema (read-only, bounded probes)', command: '<%= config.bin %> <%= command.id %> change.sql --profile prod-replica'},
    {description: 'Adopt on an old codebase: record today\'s findings, fail only on new ones', command: '<%= config.bin %> <%= command.id %> db/ --write-baseline .dbakit-baseline.json && <%= config.bin %> <%= command.id %> db/ --baseline .dbakit-baseline.json'},
    'cat change.sql | <%= config.bin %> <%= command.id %> - --format sarif > audit.sarif',
  ]
  static override args = {files: Args.string({description: 'SQL files, directories (*.sql inside), globs, or - for stdin', ignoreStdin: true})}
  static override strict = false
  static override flags = {
    format: Flags.option({options: FORMATS, summary: 'Output format (--json is the same as --format json, and refuses any other).', default: 'text', env: 'DBAKIT_FORMAT'})(),
    'fail-on': Flags.option({options: ['error', 'warning', 'notice', 'never'] as const, summary: 'Exit 1 when a finding is at or above this level (default error, or failOn in .dbakit.yaml).', env: 'DBAKIT_FAIL_ON'})(),
    flavor: Flags.option({options: ['mysql', 'mariadb'] as const, summary: 'Target server flavor when no server is given.', env: 'DBAKIT_FLAVOR'})(),
    'server-version': Flags.string({summary: 'Target server version when no server is given, e.g. 8.0.36 or 10.11.', env: 'DBAKIT_SERVER_VERSION'}),
    schema: Flags.file({summary: 'Schema snapshot made by `dbakit audit snapshot`, for schema- and size-aware rules.', exclusive: ['profile', 'url']}),
    'changed-since': Flags.string({summary: 'Audit only the files changed since this branch left REV (compared with the merge base, as `git diff REV...`), uncommitted and untracked ones included.'}),
    baseline: Flags.file({summary: 'Ignore findings recorded in this baseline file.'}),
    'write-baseline': Flags.string({summary: 'Record the current findings in this file (they stop failing when used with --baseline).'}),
    encoding: Flags.string({summary: 'Read the SQL files in this encoding, e.g. latin1 for legacy dumps (default UTF-8, or encoding in .dbakit.yaml).', env: 'DBAKIT_ENCODING'}),
    'offline-fallback': Flags.boolean({summary: 'When the server given with --profile/--url cannot be reached, audit offline instead of exiting 3.'}),
    ...serverFlags,
  }

  async run(): Promise<void> {
    const {argv, flags, metadata} = await this.parse(Audit)
    const inputs = argv as string[]
    if (this.jsonEnabled() && flags.format !== 'json' && !metadata.flags.format?.setFromDefault) {
      const given = this.argv.some((word) => word === '--format' || word.startsWith('--format=')) ? `--format ${flags.format}` : `DBAKIT_FORMAT=${flags.format}`
      throw usageError('FORMAT_CONFLICT', `--json and ${given} ask for two different reports`, {hint: `drop --json to get ${flags.format}, or use --format json (the same as --json)`})
    }
    if (inputs.length === 0) {
      throw usageError('AUDIT_NO_INPUT', 'no SQL to audit', {hint: 'give files, directories or globs, or - to read stdin (e.g. `dbakit audit migrations/`)'})
    }
    if (flags['server-version'] && !/^\d+\.\d+(\.\d+)?$/.test(flags['server-version'])) {
      throw usageError('VERSION_INVALID', `--server-version ${flags['server-version']} is not a version`, {hint: 'write it like 8.0.36, 8.4 or 10.11'})
    }
    if (inputs.includes('-') && flags['password-stdin']) {
      throw usageError('STDIN_TWICE', 'stdin cannot carry both the SQL (-) and the password (--password-stdin)', {hint: 'name the SQL files, or pass the password in DBAKIT_PASSWORD or a profile'})
    }
    const [{runAudit, catalog}, {createWriter}] = await Promise.all([import('../../lib/audit/run.ts'), import('../../lib/audit/reporters/index.ts')])
    let server
    if (flags.profile || flags.url) server = await this.server(flags)
    const progress = this.progress()
    const request = {
      inputs,
      cwd: process.cwd(),
      readStdin: readAllStdin,
      ...(flags.encoding ? {encoding: flags.encoding} : {}),
      ...(flags['fail-on'] ? {failOn: flags['fail-on']} : {}),
      ...(flags.flavor ? {flavor: flags.flavor} : {}),
      ...(flags['server-version'] ? {version: flags['server-version']} : {}),
      ...(flags['changed-since'] ? {changedSince: flags['changed-since']} : {}),
      ...(flags.baseline ? {baseline: flags.baseline} : {}),
      ...(flags['write-baseline'] ? {writeBaseline: flags['write-baseline']} : {}),
      ...(flags.schema ? {schemaFile: flags.schema} : {}),
      offlineFallback: flags['offline-fallback'],
      onWarning: (message: string) => this.logger.warn(message),
      onProgress: progress.listener,
    }
    // The report is written while the audit runs, so that its size never has to fit in memory;
    // --json is the json format.
    const writer = createWriter(this.jsonEnabled() ? 'json' : flags.format, (text) => process.stdout.write(text), {rules: catalog(), color: colorEnabled(process.stdout), toolVersion: this.config.version})
    let outcome
    try {
      outcome = await runAudit({...request, ...(server ? {server} : {})}, writer)
    } finally {
      progress.stop()
    }
    const {summaryMarkdown} = writer.end(outcome)
    if (summaryMarkdown && process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, summaryMarkdown)
    if (outcome.failed) process.exitCode = ExitCode.findings
  }
}
