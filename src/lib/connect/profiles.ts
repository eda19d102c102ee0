import {constants, realpathSync} from 'node:fs'
import {access, stat} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {ConfigFile} from '../core/config.ts'
import {usageError} from '../core/errors.ts'
import {configFilePath} from '../core/paths.ts'
import {closestMatch} from '../core/text.ts'
import {keychain} from './keychain.ts'
import {assertNoPasswordInUrl, parseConnectionUrl, type Engine, type ParsedUrl} from './url.ts'

/**
 * Where a profile's password comes from. The config file names the source, never the secret:
 * `keychain`, `kms` (an envelope under dbakit's key hierarchy), `env:VAR`, `defaults-file:PATH`,
 * `prompt` or `none`.
 */
export type PasswordSource =
  | {kind: 'keychain'}
  | {kind: 'kms'}
  | {kind: 'env'; variable: string}
  | {kind: 'defaults-file'; path: string}
  | {kind: 'prompt'}
  | {kind: 'none'}

export const TLS_MODES = ['disabled', 'required', 'verify-ca', 'verify-identity'] as const
export type TlsMode = (typeof TLS_MODES)[number]

export interface TlsSettings {
  mode: TlsMode
  ca?: string
  cert?: string
  key?: string
}

export interface Profile {
  name: string
  engine: Engine
  url: string
  password: PasswordSource
  tls?: TlsSettings
  connectTimeoutSeconds?: number
}

const PROFILE_KEYS = new Set(['url', 'password', 'tls', 'connectTimeoutSeconds'])
const TLS_KEYS = new Set(['mode', 'ca', 'cert', 'key'])
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/**
 * The keychain account holding a profile's password: the profile name and the real path of the
 * config file that defines it, e.g. `profile:prod@/home/ana/.config/dbakit/config.yaml`. Keyed by
 * the file's location rather than by an id stored inside it, because a config file is copied
 * (another DBAKIT_HOME, a dotfiles checkout, a backup restored elsewhere) far more often than it is
 * moved: a copied id would make two configs share one secret again, and `profile remove` in one would
 * delete the other's password. A moved config fails loudly instead (KEYCHAIN_SECRET_MISSING) and
 * its passwords are stored again with `profile add --force`.
 */
export const keychainAccountFor = (profileName: string, configPath: string) => `profile:${profileName}@${realConfigPath(configPath)}`

/** Before accounts named their config file, every config's profile NAME shared this one. */
const legacyKeychainAccountFor = (profileName: string) => `profile:${profileName}`

/**
 * The config path with symlinks resolved, also for a file not created yet, so that every way of
 * naming one config file (a symlinked DBAKIT_HOME, a relative DBAKIT_CONFIG) finds the same
 * keychain entries, and saving writes through a symlinked config file instead of replacing it.
 */
export function realConfigPath(path: string): string {
  const absolute = resolve(path)
  try {
    return realpathSync(absolute)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(absolute) === absolute) return absolute
    return join(realConfigPath(dirname(absolute)), basename(absolute))
  }
}

/**
 * A keychain profile's password. An entry from before accounts named their config file is moved to
 * this config's account the first time it is needed: the profile that reads it is the one that
 * used it, and leaving it behind would hand the same password to the next config with a profile of
 * that name. A second config with that name then finds no password and is told to store it again.
 */
export async function readKeychainSecret(profileName: string, configPath = configFilePath()): Promise<string | null> {
  const account = keychainAccountFor(profileName, configPath)
  const secret = await keychain.get(account)
  if (secret !== null) return secret
  const legacy = legacyKeychainAccountFor(profileName)
  const shared = await keychain.get(legacy)
  if (shared === null) return null
  await keychain.set(account, shared)
  await keychain.delete(legacy)
  return shared
}

export function formatPasswordSource(source: PasswordSource): string {
  switch (source.kind) {
    case 'env':
      return `env:${source.variable}`
    case 'defaults-file':
      return `defaults-file:${source.path}`
    default:
      return source.kind
  }
}

/** The source in words, for people; formatPasswordSource gives the config spelling. */
export function describePasswordSource(source: PasswordSource): string {
  switch (source.kind) {
    case 'keychain':
      return 'OS keychain'
    case 'kms':
      return 'KMS envelope'
    case 'env':
      return `environment variable ${source.variable}`
    case 'defaults-file':
      return `option file ${source.path}`
    case 'prompt':
      return 'asked each time'
    case 'none':
      return 'none'
  }
}

export function parsePasswordSource(text: string): PasswordSource | undefined {
  if (text === 'keychain' || text === 'kms' || text === 'prompt' || text === 'none') return {kind: text}
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(text)
  if (env) return {kind: 'env', variable: env[1]!}
  const file = /^defaults-file:(.+)$/.exec(text)
  if (file) return {kind: 'defaults-file', path: file[1]!}
  return undefined
}

export function validateProfileName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw usageError('PROFILE_NAME_INVALID', `"${name}" is not a valid profile name`, {
      hint: 'use letters, digits, dot, dash and underscore, starting with a letter or digit (at most 63 characters)',
    })
  }
}

export interface ProfileInput {
  url: string
  tlsMode?: TlsMode
  tlsFiles?: {ca?: string; cert?: string; key?: string}
  defaultsFile?: string
}

export interface CheckedProfileInput {
  url: ParsedUrl
  tls?: TlsSettings
  /** Absolute, so the profile works from any working directory. */
  defaultsFile?: string
}

/**
 * What `profile add` was given, checked before a password is read or asked for: the URL first (a
 * password in it is the mistake to report, whatever else is wrong), then each file it names.
 */
export async function checkProfileInput(input: ProfileInput): Promise<CheckedProfileInput> {
  const url = parseConnectionUrl(input.url)
  assertNoPasswordInUrl(url)
  const files = Object.entries(input.tlsFiles ?? {}).filter((entry): entry is ['ca' | 'cert' | 'key', string] => entry[1] !== undefined)
  if (!input.tlsMode && files.length > 0) {
    throw usageError('TLS_MODE_MISSING', 'TLS files were given without --tls-mode', {hint: 'add --tls-mode verify-identity (or verify-ca, required)'})
  }
  const checked: CheckedProfileInput = {url}
  if (input.tlsMode) {
    const tls: TlsSettings = {mode: input.tlsMode}
    for (const [key, path] of files) tls[key] = await readableFile(path, `--tls-${key}`, 'TLS_FILE_UNREADABLE')
    checked.tls = tls
  }
  if (input.defaultsFile !== undefined) checked.defaultsFile = await readableFile(input.defaultsFile, '--defaults-file', 'OPTION_FILE_UNREADABLE')
  return checked
}

const FILE_PROBLEMS: Record<string, string> = {ENOENT: 'no such file', ENOTDIR: 'no such file', EACCES: 'permission denied'}

/** The file's absolute path, once it is known to be a regular file this user can read. */
async function readableFile(path: string, flag: string, code: string): Promise<string> {
  const absolute = resolve(path)
  let problem: string | undefined
  try {
    // stat before access: opening a FIFO to test it would block.
    const stats = await stat(absolute)
    if (stats.isDirectory()) problem = 'is a directory'
    else if (!stats.isFile()) problem = 'is not a regular file'
    else await access(absolute, constants.R_OK)
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? ''
    problem = FILE_PROBLEMS[errno] ?? errno
  }
  if (problem) throw usageError(code, `cannot read ${absolute} (given with ${flag}): ${problem}`, {hint: `check the path given with ${flag}`})
  return absolute
}

/** Reads and checks every profile; a bad entry is reported at its line in the config file. */
function readProfiles(config: ConfigFile): Profile[] {
  const raw = config.get(['profiles'])
  if (raw === undefined || raw === null) return []
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw config.invalid(['profiles'], 'must be a mapping of profile names to settings', 'see `dbakit profile add --help`')
  }
  return Object.entries(raw as Record<string, unknown>).map(([name, value]) => readProfile(config, name, value))
}

function readProfile(config: ConfigFile, name: string, value: unknown): Profile {
  const at = (...keys: string[]) => ['profiles', name, ...keys]
  const fix = `edit the file, or re-create the profile with \`dbakit profile add ${name} --force\``
  if (!NAME_PATTERN.test(name)) throw config.invalid(at(), 'is not a valid profile name', fix)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw config.invalid(at(), 'must be a mapping', fix)
  const entry = value as Record<string, unknown>
  for (const key of Object.keys(entry)) {
    if (!PROFILE_KEYS.has(key)) {
      const near = closestMatch(key, PROFILE_KEYS)
      throw config.invalid(at(key), 'unknown key', near ? `did you mean "${near}"?` : `known keys: ${[...PROFILE_KEYS].join(', ')}`)
    }
  }
  if (typeof entry.url !== 'string') throw config.invalid(at('url'), 'is required and must be a connection URL', fix)
  let parsed
  try {
    parsed = parseConnectionUrl(entry.url)
    assertNoPasswordInUrl(parsed, 'the profile URL')
  } catch (error) {
    throw config.invalid(at('url'), (error as Error).message, fix)
  }
  const password = typeof entry.password === 'string' ? parsePasswordSource(entry.password) : entry.password === undefined ? {kind: 'none' as const} : undefined
  if (!password) {
    throw config.invalid(at('password'), 'must be keychain, kms, env:VAR, defaults-file:PATH, prompt or none', fix)
  }
  const profile: Profile = {name, engine: parsed.engine, url: parsed.display, password}
  if (entry.tls !== undefined) profile.tls = readTls(config, at('tls'), entry.tls, fix)
  if (entry.connectTimeoutSeconds !== undefined) {
    const seconds = entry.connectTimeoutSeconds
    if (typeof seconds !== 'number' || !(seconds > 0)) throw config.invalid(at('connectTimeoutSeconds'), 'must be a positive number of seconds', fix)
    profile.connectTimeoutSeconds = seconds
  }
  return profile
}

function readTls(config: ConfigFile, path: string[], value: unknown, fix: string): TlsSettings {
  if (typeof value !== 'object' || value === null) throw config.invalid(path, 'must be a mapping with mode, ca, cert, key', fix)
  const entry = value as Record<string, unknown>
  for (const key of Object.keys(entry)) {
    if (!TLS_KEYS.has(key)) throw config.invalid([...path, key], 'unknown key', `known keys: ${[...TLS_KEYS].join(', ')}`)
  }
  if (!TLS_MODES.includes(entry.mode as TlsMode)) throw config.invalid([...path, 'mode'], `must be one of ${TLS_MODES.join(', ')}`, fix)
  const tls: TlsSettings = {mode: entry.mode as TlsMode}
  for (const key of ['ca', 'cert', 'key'] as const) {
    if (entry[key] === undefined) continue
    if (typeof entry[key] !== 'string') throw config.invalid([...path, key], 'must be a file path', fix)
    tls[key] = entry[key] as string
  }
  return tls
}

function profileNotFound(name: string, known: Profile[], path: string) {
  const near = closestMatch(name, known.map((p) => p.name))
  return usageError('PROFILE_NOT_FOUND', `no profile named "${name}" in ${path}`, {
    hint: near ? `did you mean "${near}"? (\`dbakit profile list\` shows them all)` : `create it with \`dbakit profile add ${name} --url URL\``,
  })
}

export async function listProfiles(configPath = configFilePath()): Promise<Profile[]> {
  return readProfiles(await ConfigFile.load(realConfigPath(configPath)))
}

export async function getProfile(name: string, configPath = configFilePath()): Promise<Profile> {
  const profiles = await listProfiles(configPath)
  const found = profiles.find((profile) => profile.name === name)
  if (!found) throw profileNotFound(name, profiles, configPath)
  return found
}

export interface AddProfileInput {
  name: string
  url: string
  password: PasswordSource
  /** The secret to keep in the keychain when `password` is `keychain`. */
  secret?: string
  tls?: TlsSettings
  connectTimeoutSeconds?: number
  replace?: boolean
  configPath?: string
}

/**
 * Adds (or with `replace`, replaces) a profile. A keychain secret is stored before the config is
 * written, so a profile never points at a secret that is not there.
 */
export async function addProfile(input: AddProfileInput): Promise<Profile> {
  const configPath = realConfigPath(input.configPath ?? configFilePath())
  validateProfileName(input.name)
  const parsed = parseConnectionUrl(input.url)
  assertNoPasswordInUrl(parsed)
  if (input.password.kind === 'keychain' && input.secret === undefined) {
    throw usageError('KEYCHAIN_NEEDS_SECRET', 'the keychain source needs a password to store', {
      hint: 'pass it with --password-stdin, or choose another source (--password-env, --defaults-file, --no-password)',
    })
  }
  const config = await ConfigFile.load(configPath)
  const existing = readProfiles(config)
  const previous = existing.find((profile) => profile.name === input.name)
  if (previous && !input.replace) throw profileExists(previous)
  // Only this config's own account is touched: a legacy entry may belong to another config's profile of the same name.
  if (input.password.kind === 'keychain') await keychain.set(keychainAccountFor(input.name, configPath), input.secret!)
  else if (previous?.password.kind === 'keychain') await keychain.delete(keychainAccountFor(input.name, configPath))

  const entry: Record<string, unknown> = {url: parsed.display, password: formatPasswordSource(input.password)}
  if (input.tls) entry.tls = input.tls
  if (input.connectTimeoutSeconds !== undefined) entry.connectTimeoutSeconds = input.connectTimeoutSeconds
  config.set(['profiles', input.name], config.document.createNode(entry))
  await config.save()
  return readProfile(config, input.name, entry)
}

/**
 * What a password kept as an envelope is bound to (its AAD): the engine, the server and the
 * account, so an envelope copied to a profile for another server or user does not open.
 */
export function passwordBinding(url: ParsedUrl): {engine: string; target: string; account: string} {
  return {engine: url.engine, target: url.hosts.map((h) => `${h.host}:${h.port}`).join(',') || (url.params.socket ?? 'localhost'), account: url.user ?? ''}
}

/** Replacing a profile is asked for with --force, never done by surprise. */
export function profileExists(previous: Profile) {
  return usageError('PROFILE_EXISTS', `profile "${previous.name}" already exists (${previous.url})`, {
    hint: `pass --force to replace it, or remove it first with \`dbakit profile remove ${previous.name}\``,
  })
}

export interface RemoveProfileResult {
  profile: Profile
  removedKeychainSecret: boolean
  dryRun: boolean
}

export async function removeProfile(name: string, options: {dryRun: boolean; configPath?: string}): Promise<RemoveProfileResult> {
  const configPath = realConfigPath(options.configPath ?? configFilePath())
  const config = await ConfigFile.load(configPath)
  const profiles = readProfiles(config)
  const profile = profiles.find((p) => p.name === name)
  if (!profile) throw profileNotFound(name, profiles, configPath)
  const holdsSecret = profile.password.kind === 'keychain'
  if (options.dryRun) return {profile, removedKeychainSecret: holdsSecret, dryRun: true}
  config.delete(['profiles', name])
  await config.save()
  const removedKeychainSecret = holdsSecret ? await keychain.delete(keychainAccountFor(name, configPath)) : false
  return {profile, removedKeychainSecret, dryRun: false}
}
