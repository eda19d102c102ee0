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

export {firstLine, socketCode} from '../../core/errors.ts'
