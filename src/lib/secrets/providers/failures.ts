import {DbakitError, ExitCode} from '../../core/errors.ts'
import type {ProviderKind} from './types.ts'

/**
 * A wrapped key that did not authenticate, or whose envelope does not hang together: like a failed
 * check, exit 1, never a wrong key handed on.
 */
export function tamperedKey(provider: ProviderKind, message: string, cause?: unknown): DbakitError {
  return new DbakitError(ExitCode.findings, 'ENVELOPE_TAMPERED', `${provider}: ${message}`, {
    hint: 'restore the secret from a backup, or set it again',
    cause,
  })
}

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
