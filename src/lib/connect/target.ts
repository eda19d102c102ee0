import {environmentError, usageError} from '../core/errors.ts'
import {defaultOptionFilePath, readClientOptions} from './option-file.ts'
import {existsSync} from 'node:fs'
import {configFilePath} from '../core/paths.ts'
import {getProfile, passwordBinding, readKeychainSecret, realConfigPath, type PasswordSource, type TlsSettings} from './profiles.ts'
import {assertNoPasswordInUrl, parseConnectionUrl, type ParsedUrl} from './url.ts'

/** Everything a driver factory needs to reach one server, the password already resolved. */
export interface ConnectionTarget {
  engine: ParsedUrl['engine']
  url: ParsedUrl
  tls: TlsSettings
  connectTimeoutMs: number
  commandTimeoutMs: number
  profile?: string
  user?: string
  password?: string
  /** `user@host:port`, for messages: says who tried to connect where, never with what. */
  label: string
}

export interface TargetRequest {
  profile?: string
  url?: string
  /** Already read from stdin by the caller when --password-stdin was given. */
  password?: string
  connectTimeoutSeconds?: number
  tls?: Partial<TlsSettings>
  configPath?: string
  env?: NodeJS.ProcessEnv
  /** Asks a person for the password; absent when nobody can be asked. */
  ask?: (question: string) => Promise<string>
  /** Opens the envelope of a profile whose password source is `kms` (the secrets area does). */
  kmsPassword?: (profile: string, binding: ReturnType<typeof passwordBinding>) => Promise<string>
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000

/**
 * Turns --profile / --url and the password options into a target. Precedence follows the
 * architecture: flag (--password-stdin) > env (DBAKIT_PASSWORD) > profile > prompt.
 */
export async function resolveTarget(request: TargetRequest): Promise<ConnectionTarget> {
  const env = request.env ?? process.env
  if (request.profile && request.url) {
    throw usageError('TARGET_AMBIGUOUS', '--profile and --url were both given', {hint: 'pass one of them'})
  }
  if (!request.profile && !request.url) {
    throw usageError('TARGET_MISSING', 'no server given', {hint: 'pass --profile NAME (see `dbakit profile list`) or --url URL'})
  }

  let url: ParsedUrl
  let source: PasswordSource | undefined
  let tls: TlsSettings = {mode: 'disabled'}
  let connectTimeoutSeconds = request.connectTimeoutSeconds
  const configPath = request.configPath ?? configFilePath(env)
  if (request.profile) {
    const profile = await getProfile(request.profile, configPath)
    url = parseConnectionUrl(profile.url)
    source = profile.password
    if (profile.tls) tls = profile.tls
    connectTimeoutSeconds ??= profile.connectTimeoutSeconds
  } else {
    url = parseConnectionUrl(request.url!)
    assertNoPasswordInUrl(url)
  }
  tls = {...tls, ...request.tls} as TlsSettings
  if (url.scheme === 'rediss' && tls.mode === 'disabled') tls = {...tls, mode: 'verify-identity'}
  const sslMode = url.params['ssl-mode'] ?? url.params.tls
  if (sslMode && tls.mode === 'disabled') tls = {...tls, mode: tlsModeFromParam(sslMode)}

  let user = url.user
  let password = request.password ?? (env.DBAKIT_PASSWORD || undefined)
  if (password === undefined && source) {
    const fromSource =
      source.kind === 'kms'
        ? {password: await kmsPassword(request, url)}
        : await passwordFromSource(source, request.profile!, configPath, env, request.ask)
    password = fromSource.password
    user ??= fromSource.user
  } else if (password === undefined && request.url && url.engine === 'mysql' && existsSync(defaultOptionFilePath())) {
    // Like the mysql client: ~/.my.cnf [client] answers for its own user (or any, when it names none).
    const options = await readClientOptions(defaultOptionFilePath())
    if (options.password !== undefined && (options.user === undefined || user === undefined || options.user === user)) {
      password = options.password
      user ??= options.user
    }
  }
  if (password === undefined && !source && request.url && request.ask) {
    password = (await request.ask(`Password for ${labelOf(url, user)}`)) || undefined
  }

  const timeoutSeconds = connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS
  return {
    engine: url.engine,
    url,
    tls,
    connectTimeoutMs: Math.round(timeoutSeconds * 1000),
    commandTimeoutMs: Math.max(DEFAULT_COMMAND_TIMEOUT_MS, Math.round(timeoutSeconds * 1000)),
    ...(request.profile ? {profile: request.profile} : {}),
    ...(user === undefined ? {} : {user}),
    ...(password === undefined ? {} : {password}),
    label: labelOf(url, user),
  }
}

async function kmsPassword(request: TargetRequest, url: ParsedUrl): Promise<string> {
  if (!request.kmsPassword) {
    throw usageError('KMS_PASSWORD_UNSUPPORTED', `profile "${request.profile}" keeps its password as a KMS envelope, which this command cannot open`, {hint: 'pass the password with --password-stdin or DBAKIT_PASSWORD'})
  }
  return request.kmsPassword(request.profile!, passwordBinding(url))
}

function labelOf(url: ParsedUrl, user: string | undefined): string {
  const where = url.hosts.length === 0 ? url.params.socket ?? 'localhost' : url.hosts.map((h) => `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`).join(',')
  return user ? `${user}@${where}` : where
}

function tlsModeFromParam(value: string): TlsSettings['mode'] {
  const normalized = value.toLowerCase().replace(/_/g, '-')
  if (normalized === 'true' || normalized === 'required' || normalized === 'preferred') return 'required'
  if (normalized === 'verify-ca' || normalized === 'verify-identity' || normalized === 'disabled') return normalized
  if (normalized === 'false') return 'disabled'
  throw usageError('URL_INVALID', `unknown ssl-mode "${value}" in the URL`, {hint: 'use disabled, required, verify-ca or verify-identity'})
}

async function passwordFromSource(
  source: Exclude<PasswordSource, {kind: 'kms'}>,
  profile: string,
  configPath: string,
  env: NodeJS.ProcessEnv,
  ask: TargetRequest['ask'],
): Promise<{password?: string; user?: string}> {
  switch (source.kind) {
    case 'none':
      return {}
    case 'keychain': {
      const secret = await readKeychainSecret(profile, configPath)
      if (secret === null) {
        throw environmentError('KEYCHAIN_SECRET_MISSING', `the OS keychain holds no password for profile "${profile}" of ${realConfigPath(configPath)}`, {
          hint:
            `store it again: \`dbakit profile add ${profile} --url URL --force --password-stdin\` ` +
            '(passwords are kept per config file, so a config file that moved needs them stored again)',
        })
      }
      return {password: secret}
    }
    case 'env': {
      const value = env[source.variable]
      if (value === undefined) {
        throw environmentError('PASSWORD_ENV_UNSET', `profile "${profile}" takes its password from $${source.variable}, which is not set`, {
          hint: `export ${source.variable}, or pass the password with --password-stdin`,
        })
      }
      return {password: value}
    }
    case 'defaults-file': {
      const options = await readClientOptions(source.path)
      if (options.password === undefined) {
        throw usageError('OPTION_FILE_NO_PASSWORD', `${source.path} has no password= line in its [client] section`, {
          hint: 'add one, or change the profile\'s password source',
        })
      }
      return {password: options.password, ...(options.user === undefined ? {} : {user: options.user})}
    }
    case 'prompt': {
      if (!ask) {
        throw usageError('PROMPT_NEEDS_TTY', `profile "${profile}" asks for its password, and there is no terminal to ask on`, {
          hint: 'pass --password-stdin or set DBAKIT_PASSWORD',
        })
      }
      return {password: await ask(`Password for profile ${profile}`)}
    }
  }
}
