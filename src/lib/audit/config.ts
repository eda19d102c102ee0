import {existsSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {ConfigFile} from '../core/config.ts'
import {closestMatch} from '../core/text.ts'
import {DEFAULT_THRESHOLDS, LEVELS, type Level, type Thresholds} from './types.ts'
import type {SqlFlavor} from '../sql/parser.ts'

export const PROJECT_CONFIG_NAME = '.dbakit.yaml'

/** The audit settings a project keeps next to its migrations. */
export interface AuditProjectConfig {
  path?: string
  levels: Record<string, Level | 'off'>
  thresholds: Thresholds
  ignore: string[]
  target?: {flavor?: SqlFlavor; version?: string}
  failOn?: Level | 'never'
  /** How the project's SQL files are encoded, when not UTF-8 (--encoding wins). */
  encoding?: string
}

const KEYS = ['rules', 'thresholds', 'ignore', 'target', 'failOn', 'encoding'] as const

/** Nearest .dbakit.yaml in `start` or a directory above it. */
export function findProjectConfig(start: string): string | undefined {
  let directory = resolve(start)
  for (;;) {
    const candidate = join(directory, PROJECT_CONFIG_NAME)
    if (existsSync(candidate)) return candidate
    const parent = dirname(directory)
    if (parent === directory) return undefined
    directory = parent
  }
}

/**
 * Where the search for .dbakit.yaml starts for one input: in the directory itself when the input
 * is a directory (`dbakit audit migrations` uses migrations/.dbakit.yaml), otherwise in the
 * directory that holds the file or the fixed part of the glob.
 */
export function configSearchStart(input: string, cwd: string): string {
  const absolute = resolve(cwd, input)
  return statSync(absolute, {throwIfNoEntry: false})?.isDirectory() ? absolute : dirname(absolute)
}

/**
 * One audit has one configuration: the .dbakit.yaml nearest the first path given (the working
 * directory for stdin alone). Others that the later paths would have found are returned so the
 * caller can say they were not used, rather than let a user believe their rules applied.
 */
export function findAuditConfig(inputs: readonly string[], cwd: string): {path?: string; unused: Array<{input: string; config: string}>} {
  const paths = inputs.filter((input) => input !== '-')
  const nearest = paths.map((input) => ({input, config: findProjectConfig(configSearchStart(input, cwd))}))
  const path = paths.length === 0 ? findProjectConfig(cwd) : nearest[0]!.config
  const unused = new Map<string, string>()
  for (const {input, config} of nearest) if (config && config !== path && !unused.has(config)) unused.set(config, input)
  return {...(path ? {path} : {}), unused: [...unused].map(([config, input]) => ({input, config}))}
}

/** Reads and checks a .dbakit.yaml; every mistake is a usage error at its line, naming the key. */
export async function loadProjectConfig(path: string | undefined, knownRules: ReadonlySet<string>): Promise<AuditProjectConfig> {
  const config: AuditProjectConfig = {levels: {}, thresholds: {...DEFAULT_THRESHOLDS}, ignore: []}
  if (!path) return config
  config.path = path
  const file = await ConfigFile.load(path)
  const root = (file.get([]) ?? {}) as Record<string, unknown>
  const fix = 'see `dbakit audit --help` for the .dbakit.yaml keys'
  for (const key of Object.keys(root)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const near = closestMatch(key, KEYS)
      throw file.invalid([key], 'unknown key', near ? `did you mean "${near}"?` : `known keys: ${KEYS.join(', ')}`)
    }
  }
  const rules = root.rules
  if (rules !== undefined) {
    if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) throw file.invalid(['rules'], 'must map rule ids to error, warning, notice or off', fix)
    for (const [id, level] of Object.entries(rules as Record<string, unknown>)) {
      if (!knownRules.has(id)) {
        const near = closestMatch(id, knownRules)
        throw file.invalid(['rules', id], 'unknown rule', near ? `did you mean "${near}"? (\`dbakit audit rules\` lists them)` : '`dbakit audit rules` lists the rule ids')
      }
      if (level !== 'off' && !LEVELS.includes(level as Level)) throw file.invalid(['rules', id], `must be one of ${[...LEVELS, 'off'].join(', ')}`, fix)
      config.levels[id] = level as Level | 'off'
    }
  }
  const thresholds = root.thresholds
  if (thresholds !== undefined) {
    if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) throw file.invalid(['thresholds'], 'must be a mapping', fix)
    for (const [key, value] of Object.entries(thresholds as Record<string, unknown>)) {
      if (!(key in DEFAULT_THRESHOLDS)) {
        const near = closestMatch(key, Object.keys(DEFAULT_THRESHOLDS))
        throw file.invalid(['thresholds', key], 'unknown threshold', near ? `did you mean "${near}"?` : `known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')}`)
      }
      if (typeof value !== 'number' || !(value > 0)) throw file.invalid(['thresholds', key], 'must be a positive number', fix)
      config.thresholds[key as keyof Thresholds] = value
    }
  }
  if (root.ignore !== undefined) {
    if (!Array.isArray(root.ignore) || root.ignore.some((entry) => typeof entry !== 'string')) throw file.invalid(['ignore'], 'must be a list of path globs', fix)
    config.ignore = root.ignore as string[]
  }
  if (root.target !== undefined) {
    const target = root.target as Record<string, unknown>
    if (typeof target !== 'object' || target === null || Array.isArray(target)) throw file.invalid(['target'], 'must have flavor and version', fix)
    for (const key of Object.keys(target)) if (key !== 'flavor' && key !== 'version') throw file.invalid(['target', key], 'unknown key', 'use flavor and version')
    if (target.flavor !== undefined && target.flavor !== 'mysql' && target.flavor !== 'mariadb') throw file.invalid(['target', 'flavor'], 'must be mysql or mariadb', fix)
    if (target.version !== undefined && !/^\d+\.\d+(\.\d+)?$/.test(String(target.version))) throw file.invalid(['target', 'version'], 'must be a version like 8.0.36 or 10.11', fix)
    config.target = {...(target.flavor ? {flavor: target.flavor as SqlFlavor} : {}), ...(target.version !== undefined ? {version: String(target.version)} : {})}
  }
  if (root.failOn !== undefined) {
    if (root.failOn !== 'never' && !LEVELS.includes(root.failOn as Level)) throw file.invalid(['failOn'], 'must be error, warning, notice or never', fix)
    config.failOn = root.failOn as Level | 'never'
  }
  if (root.encoding !== undefined) {
    if (typeof root.encoding !== 'string' || !isEncoding(root.encoding)) throw file.invalid(['encoding'], 'must name a text encoding', 'e.g. encoding: latin1 (also windows-1252, cp1251, gbk, shift_jis, utf-16le)')
    config.encoding = root.encoding
  }
  return config
}

function isEncoding(label: string): boolean {
  try {
    new TextDecoder(label)
    return true
  } catch {
    return false
  }
}
