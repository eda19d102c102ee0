/**
 * Exit codes are a contract with shell scripts and CI: they are documented in every command's help
 * and never reused for another meaning.
 */
export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  environment: 3,
  stopped: 4,
  bug: 70,
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

export const EXIT_CODE_HELP: ReadonlyArray<readonly [number, string]> = [
  [ExitCode.ok, 'success; nothing at or above --fail-on'],
  [ExitCode.findings, 'the check ran and found problems (audit findings, verify mismatch, threshold breached)'],
  [ExitCode.usage, 'usage or input error: bad flag, unreadable file, bad config; nothing was changed'],
  [ExitCode.environment, 'environment error: cannot connect, auth failed, permission missing, keychain or KMS unreachable'],
  [ExitCode.stopped, 'operation stopped safely: aborted or rolled back, data intact'],
  [ExitCode.bug, 'internal error: a bug in dbakit; please report it'],
  [ExitCode.interrupted, 'interrupted by SIGINT/SIGTERM'],
]

export interface DbakitErrorOptions {
  /** What the user should do next, one line. */
  hint?: string
  /** Machine-readable detail for --json; never secrets. */
  data?: Record<string, unknown>
  cause?: unknown
}

/**
 * The one error type the library throws on purpose. Anything else reaching the CLI is a bug.
 * `code` is a stable identifier for scripts (`--json` prints it); `exitCode` decides the process status.
 */
export class DbakitError extends Error {
  readonly code: string
  readonly exitCode: ExitCodeValue
  readonly hint?: string
  readonly data?: Record<string, unknown>

  constructor(exitCode: ExitCodeValue, code: string, message: string, options: DbakitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'DbakitError'
    this.exitCode = exitCode
    this.code = code
    if (options.hint !== undefined) this.hint = options.hint
    if (options.data !== undefined) this.data = options.data
  }
}

export const usageError = (code: string, message: string, options?: DbakitErrorOptions) =>
  new DbakitError(ExitCode.usage, code, message, options)

export const environmentError = (code: string, message: string, options?: DbakitErrorOptions) =>
  new DbakitError(ExitCode.environment, code, message, options)

export const isDbakitError = (error: unknown): error is DbakitError => error instanceof DbakitError

/**
 * The system error code (ECONNREFUSED, ECONNRESET, a TLS code) behind a failed request: fetch and
 * the AWS SDK wrap it in a cause, an AggregateError when several addresses were tried.
 */
export function socketCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const {code, errors, cause} = current as {code?: unknown; errors?: unknown[]; cause?: unknown}
    if (typeof code === 'string') return code
    current = cause ?? errors?.[0]
  }
  return undefined
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
