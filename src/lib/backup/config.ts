import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'
import {ConfigFile} from '../core/config.ts'
import {configFilePath} from '../core/paths.ts'
import {usageError} from '../core/errors.ts'

/** The `backup:` section of the config: the repository commands use when --repo is not given. */
export interface BackupSettings {
  repo?: string
  s3Endpoint?: string
}

const FIELDS = ['repo', 's3Endpoint'] as const

export async function loadBackupSettings(configPath = configFilePath()): Promise<BackupSettings> {
  const file = await ConfigFile.load(configPath)
  const raw = file.get(['backup'])
  if (raw === undefined || raw === null) return {}
  const fix = 'backup.repo is a directory or s3://bucket/prefix; backup.s3Endpoint an http(s) URL'
  if (typeof raw !== 'object' || Array.isArray(raw)) throw file.invalid(['backup'], 'must be a mapping', fix)
  const settings: BackupSettings = {}
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw file.invalid(['backup', key], `unknown key; known: ${FIELDS.join(', ')}`, fix)
    if (typeof value !== 'string' || value.trim() === '') throw file.invalid(['backup', key], 'must be a non-empty string', fix)
    settings[key as (typeof FIELDS)[number]] = value
  }
  return settings
}

/**
 * The repository to use: --repo (or DBAKIT_REPO, which oclif folds into it), else backup.repo. A
 * relative directory in the config is relative to the config file, not to wherever dbakit runs.
 */
export async function resolveRepositoryLocation(flags: {repo?: string; s3Endpoint?: string}, configPath = configFilePath()): Promise<{location: string; s3Endpoint?: string}> {
  const settings = flags.repo !== undefined && flags.s3Endpoint !== undefined ? {} : await loadBackupSettings(configPath)
  const s3Endpoint = flags.s3Endpoint ?? settings.s3Endpoint
  const endpoint = s3Endpoint === undefined ? {} : {s3Endpoint}
  if (flags.repo !== undefined) return {location: flags.repo.startsWith('s3://') ? flags.repo : resolve(expandHome(flags.repo)), ...endpoint}
  if (settings.repo === undefined) {
    throw usageError('REPO_REQUIRED', 'no backup repository was named', {hint: `pass --repo DIR or s3://bucket/prefix, set DBAKIT_REPO, or set backup.repo in ${configPath}`})
  }
  const repo = expandHome(settings.repo)
  return {location: repo.startsWith('s3://') || isAbsolute(repo) ? repo : join(dirname(configPath), repo), ...endpoint}
}

const expandHome = (path: string) => (path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path)
