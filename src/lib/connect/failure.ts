import {DbakitError, environmentError} from '../core/errors.ts'
import {redactSecrets} from '../core/text.ts'
import type {ConnectionTarget} from './target.ts'

const REASONS: Array<{test: (code: string, message: string) => boolean; reason: string; hint: string; code: string}> = [
  {
    code: 'AUTH_FAILED',
    test: (code, message) =>
      ['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'WRONGPASS', 'NOAUTH', '18', 'AuthenticationFailed'].includes(code) ||
      /access denied|WRONGPASS|NOAUTH|authentication failed|invalid username-password/i.test(message),
    reason: 'authentication failed',
    hint: 'check the user name and where the password comes from (`dbakit profile show NAME`); pass it with --password-stdin or DBAKIT_PASSWORD',
  },
  {
    code: 'CONNECTION_REFUSED',
    test: (code) => code === 'ECONNREFUSED',
    reason: 'connection refused',
    hint: 'check that the server is running and listens on that host and port',
  },
  {
    code: 'HOST_NOT_FOUND',
    test: (code) => code === 'ENOTFOUND' || code === 'EAI_AGAIN',
    reason: 'host name not found',
    hint: 'check the host name in the URL or profile',
  },
  {
    code: 'CONNECT_TIMEOUT',
    test: (code, message) => code === 'ETIMEDOUT' || /timed? ?out|Server selection timed out/i.test(message),
    reason: 'no answer before the connect timeout',
    hint: 'check the host, port and firewall; raise --connect-timeout for a slow link',
  },
  {
    code: 'HOST_UNREACHABLE',
    test: (code) => code === 'EHOSTUNREACH' || code === 'ENETUNREACH',
    reason: 'host unreachable',
    hint: 'check the network route to the server',
  },
  {
    code: 'TLS_FAILED',
    test: (code, message) => /^ERR_TLS|^ERR_SSL|CERT|SELF_SIGNED/.test(code) || /certificate|TLS|SSL/.test(message),
    reason: 'TLS handshake failed',
    hint: 'check --tls-mode and the CA file; verify-identity needs the certificate to name the host you connect to',
  },
]

/**
 * Turns whatever a driver threw while connecting into an exit-3 error that names host:port and user,
 * with the password scrubbed from every string even if a driver echoed it.
 */
export function connectionFailure(target: ConnectionTarget, error: unknown): DbakitError {
  if (error instanceof DbakitError) return error
  const code = String((error as {code?: unknown})?.code ?? (error as {errno?: unknown})?.errno ?? '')
  const raw = error instanceof Error ? error.message : String(error)
  const detail = redactSecrets(raw, [target.password]).split('\n')[0] ?? ''
  const match = REASONS.find((entry) => entry.test(code, raw))
  const reason = match?.reason ?? (detail || 'unknown error')
  return environmentError(match?.code ?? 'CONNECT_FAILED', `cannot connect to ${target.label}: ${reason}`, {
    hint: match?.hint ?? 'run with --verbose for the driver\'s message',
    data: {endpoint: target.label, driverCode: code || undefined, driverMessage: detail},
  })
}
