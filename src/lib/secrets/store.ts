import {createHash} from 'node:crypto'
import {readdir, readFile, rm} from 'node:fs/promises'
import {join, relative, sep} from 'node:path'
import {usageError} from '../core/errors.ts'
import {writeFileAtomic} from '../core/files.ts'
import {stateDirPath} from '../core/paths.ts'
import {realConfigPath} from '../connect/profiles.ts'
import {parseEnvelope, serialiseEnvelope, type Envelope} from './envelope.ts'

/**
 * Envelope files: one per secret, `<state>/envelopes/<name>.json`, 0600, written atomically. The
 * name is also in the envelope's AAD, so a file copied over another's name does not open.
 */
export const envelopesDir = (env: NodeJS.ProcessEnv = process.env) => join(stateDirPath(env), 'envelopes')

/**
 * A name is one or more `/`-separated parts, so a rotation's default name (`prod/app@%`,
 * `db1:3306/app@10.0.0.%`) is a valid one; no part may climb out of the directory.
 */
const PART = /^[A-Za-z0-9%][A-Za-z0-9._@:%-]*$/

/** Refuses names that could not be a file name of their own (or could climb out of the directory). */
export function checkSecretName(name: string): string {
  const parts = name.split('/')
  if (name.length > 200 || !parts.every((part) => PART.test(part) && part.length <= 128)) {
    throw usageError('SECRET_NAME_INVALID', `"${name}" is not a secret name`, {
      hint: 'use letters, digits and . - _ @ : %, each /-separated part starting with a letter, digit or %, e.g. backup-s3-key or prod/app@%',
    })
  }
  return name
}

/** The envelope name of an operator secret. */
export const operatorEnvelopeName = (name: string) => `secret/${checkSecretName(name)}`

/**
 * The envelope name of a profile's password: the profile and its config file, as keychain entries
 * are keyed, so two configs with a profile of one name keep two passwords.
 */
export const profileEnvelopeName = (profile: string, configPath: string) => `profile/${profile}@${createHash('sha256').update(realConfigPath(configPath)).digest('hex').slice(0, 16)}`

export const envelopeFile = (name: string, env: NodeJS.ProcessEnv = process.env) => join(envelopesDir(env), `${name}.json`)

/** The envelope at `file`, or undefined when there is none. */
export async function readEnvelopeFile(file: string): Promise<Envelope | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw usageError('ENVELOPE_UNREADABLE', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'check the file\'s owner and permissions (0600, the user who wrote it)'})
  }
  return parseEnvelope(text, file)
}

export const writeEnvelopeFile = (file: string, envelope: Envelope) => writeFileAtomic(file, serialiseEnvelope(envelope), 0o600)

export const removeEnvelopeFile = (file: string) => rm(file, {force: true})

export interface StoredEnvelope {
  /** The envelope name, from the file's place in the directory (`secret/x`). */
  name: string
  file: string
}

/** Every envelope file under the directory, by name; the temporary files of an unfinished write are skipped. */
export async function listEnvelopeFiles(env: NodeJS.ProcessEnv = process.env): Promise<StoredEnvelope[]> {
  const root = envelopesDir(env)
  const found: StoredEnvelope[] = []
  const walk = async (directory: string) => {
    let entries
    try {
      entries = await readdir(directory, {withFileTypes: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    for (const entry of entries) {
      const path = join(directory, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile() && entry.name.endsWith('.json')) found.push({name: relative(root, path).slice(0, -'.json'.length).split(sep).join('/'), file: path})
    }
  }
  await walk(root)
  return found.sort((a, b) => a.name.localeCompare(b.name))
}
