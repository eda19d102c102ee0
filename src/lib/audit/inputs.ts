import {execFile} from 'node:child_process'
import {glob, readdir, readFile, stat} from 'node:fs/promises'
import {isAbsolute, join, matchesGlob, relative, resolve} from 'node:path'
import {promisify, TextDecoder} from 'node:util'
import {usageError} from '../core/errors.ts'

export interface SqlSource {
  /** As shown in reports: relative to the working directory, forward slashes; `<stdin>` for `-`. */
  name: string
  text: string
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', 'vendor'])
const hasGlob = (pattern: string) => /[*?[\]{}]/.test(pattern)

/**
 * Expands FILES|DIRS|GLOBS|- into SQL sources. Directories contribute their *.sql files, recursively.
 * Anything unreadable or binary stops the run with a usage error naming it: an audit that silently
 * skipped a file would pass a migration nobody reviewed.
 */
export async function collectSources(options: {inputs: string[]; cwd: string; ignore: string[]; readStdin: () => Promise<Buffer>; changedSince?: string; encoding?: string}): Promise<SqlSource[]> {
  const decode = textDecoder(options.encoding)
  const files = new Set<string>()
  const sources: SqlSource[] = []
  for (const input of options.inputs) {
    if (input === '-') {
      sources.push({name: '<stdin>', text: decode(await options.readStdin(), '<stdin>')})
      continue
    }
    const absolute = isAbsolute(input) ? input : resolve(options.cwd, input)
    const info = await stat(absolute).catch(() => undefined)
    if (info?.isDirectory()) {
      const found = await sqlFilesUnder(absolute)
      // A wrong directory would otherwise pass the gate having audited nothing.
      if (found.length === 0) throw usageError('INPUT_NO_SQL', `${input} holds no .sql files`, {hint: 'name the directory with the migrations, or the files themselves (any extension) or a glob'})
      for (const file of found) files.add(file)
    } else if (info?.isFile()) files.add(absolute)
    else if (hasGlob(input)) {
      let matched = 0
      for await (const file of glob(input, {cwd: options.cwd})) {
        const path = resolve(options.cwd, file)
        if ((await stat(path)).isFile()) {
          files.add(path)
          matched++
        }
      }
      if (matched === 0) throw usageError('INPUT_NO_MATCH', `no files match ${input}`, {hint: 'check the pattern; quote it so the shell does not expand it first'})
    } else {
      throw usageError('INPUT_NOT_FOUND', `cannot read ${input}: no such file or directory`, {hint: 'give SQL files, directories, globs, or - for stdin'})
    }
  }
  let selected = [...files]
  if (options.changedSince) {
    const changed = await changedFiles(options.changedSince, options.cwd)
    selected = selected.filter((file) => changed.has(file))
  }
  // Paths under the working directory are shown relative (as CI annotations need); others in full.
  const display = (file: string) => {
    const shown = relative(options.cwd, file)
    return shown === '' || shown.startsWith('..') ? file : shown.split('\\').join('/')
  }
  selected = selected.filter((file) => !options.ignore.some((pattern) => matchesGlob(display(file), pattern)))
  selected.sort()
  for (const file of selected) sources.push({name: display(file), text: decode(await readSqlFile(file, display(file)), display(file))})
  return sources
}

async function sqlFilesUnder(directory: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(directory, {withFileTypes: true})) {
    const path = join(directory, entry.name)
    if (entry.isDirectory() && !SKIPPED_DIRECTORIES.has(entry.name)) found.push(...(await sqlFilesUnder(path)))
    else if (entry.isFile() && entry.name.toLowerCase().endsWith('.sql')) found.push(path)
  }
  return found
}

async function readSqlFile(path: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    throw usageError('INPUT_UNREADABLE', `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'check the file\'s permissions'})
  }
}

const ENCODING_HINT = 'if the file is in a legacy encoding, name it: --encoding latin1 (or encoding: latin1 in .dbakit.yaml)'

/**
 * How SQL bytes become text. Without an encoding: UTF-8, or UTF-16 when a byte order mark says so;
 * bytes that are not UTF-8 stop the run with their line, since replacing them would audit (and
 * show) text that is not in the file. With one (any WHATWG label: latin1, cp1251, gbk, ...),
 * every file is read in it.
 */
export function textDecoder(encoding?: string): (bytes: Buffer, name: string) => string {
  if (encoding !== undefined) {
    let decoder: TextDecoder
    try {
      decoder = new TextDecoder(encoding)
    } catch {
      throw usageError('ENCODING_UNKNOWN', `unknown encoding ${encoding}`, {hint: 'name one such as utf-8, latin1 (windows-1252), cp1251, gbk, shift_jis or utf-16le'})
    }
    return (bytes, name) => {
      const text = decoder.decode(bytes)
      if (!decoder.encoding.startsWith('utf-16') && text.includes('\0')) throw binaryInput(name)
      return text
    }
  }
  return (bytes, name) => {
    const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined
    if (utf16) return new TextDecoder(utf16).decode(bytes)
    if (bytes.includes(0)) throw binaryInput(name)
    try {
      return new TextDecoder('utf-8', {fatal: true}).decode(bytes)
    } catch {
      const at = firstInvalidUtf8(bytes)
      let line = 1
      for (let i = bytes.indexOf(10); i !== -1 && i < at; i = bytes.indexOf(10, i + 1)) line++
      throw usageError('INPUT_NOT_UTF8', `${name} is not valid UTF-8: line ${line} has the byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}, which UTF-8 does not allow there`, {hint: ENCODING_HINT})
    }
  }
}

const binaryInput = (name: string) => usageError('INPUT_BINARY', `${name} is not a text file (it contains NUL bytes)`, {hint: 'audit SQL text files only; a compressed dump must be decompressed first'})

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i]!
    if (lead < 0x80) {
      i++
      continue
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0
    if (length === 0) return i
    // The second byte's range excludes overlong forms, surrogates and code points above U+10FFFF.
    const second = bytes[i + 1] ?? 0
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf
    if (second < low || second > high) return i
    for (let k = 2; k < length; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i
    i += length
  }
  return -1
}

/**
 * Files a pull request onto REV would add or change: those changed since the merge base of REV and
 * HEAD (what `git diff REV...` shows, as CI tools compare), including uncommitted edits, plus
 * untracked ones. Files changed only on REV's side are not the change under review.
 */
async function changedFiles(revision: string, cwd: string): Promise<Set<string>> {
  const run = promisify(execFile)
  const git = async (args: string[], where = cwd) => (await run('git', args, {cwd: where, maxBuffer: 256 * 1024 * 1024})).stdout
  const gitMessage = (error: unknown) => ((error as {stderr?: string}).stderr || (error as Error).message).trim().split('\n')[0]
  // A revision that git would read as an option (--output=FILE writes a file) is never passed on.
  if (revision === '' || revision.startsWith('-')) {
    throw usageError('REVISION_INVALID', `--changed-since ${revision}: not a git revision`, {hint: 'name a branch, tag or commit, e.g. --changed-since origin/main'})
  }
  let root: string
  try {
    root = (await git(['rev-parse', '--show-toplevel'])).trim()
  } catch (error) {
    throw usageError('GIT_FAILED', `--changed-since needs a git checkout: ${gitMessage(error)}`, {hint: 'run dbakit audit inside the repository'})
  }
  let target: string
  try {
    target = (await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`])).trim()
  } catch {
    throw usageError('REVISION_NOT_FOUND', `--changed-since ${revision}: no such revision in this repository`, {
      hint: 'name a branch, tag or commit that exists here; in CI, fetch it first (e.g. git fetch origin main, or a checkout with fetch-depth: 0)',
    })
  }
  let base: string
  try {
    base = (await git(['merge-base', target, 'HEAD'])).trim()
  } catch {
    throw usageError('REVISION_UNRELATED', `--changed-since ${revision}: it has no common ancestor with HEAD`, {
      hint: 'name the branch this one was made from; in a shallow clone, fetch more history (fetch-depth: 0)',
    })
  }
  try {
    const diff = await git(['diff', '--name-only', '-z', '--no-renames', '--diff-filter=ACMRT', base, '--'], root)
    const untracked = await git(['ls-files', '-z', '--others', '--exclude-standard', '--full-name', '--'], root)
    return new Set(`${diff}\0${untracked}`.split('\0').filter(Boolean).map((file) => resolve(root, file)))
  } catch (error) {
    throw usageError('GIT_FAILED', `--changed-since ${revision}: ${gitMessage(error)}`, {hint: 'check that the repository is readable'})
  }
}
