import {execFile} from 'node:child_process'
import {glob, readdir, readFile, stat} from 'node:fs/promises'
import {isAbsolute, join, matchesGlob, relative, resolve} from 'node:path'
import {promisify} from 'node:util'
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
export async function collectSources(options: {inputs: string[]; cwd: string; ignore: string[]; readStdin: () => Promise<string>; changedSince?: string}): Promise<SqlSource[]> {
  const files = new Set<string>()
  const sources: SqlSource[] = []
  for (const input of options.inputs) {
    if (input === '-') {
      sources.push({name: '<stdin>', text: await options.readStdin()})
      continue
    }
    const absolute = isAbsolute(input) ? input : resolve(options.cwd, input)
    const info = await stat(absolute).catch(() => undefined)
    if (info?.isDirectory()) for (const file of await sqlFilesUnder(absolute)) files.add(file)
    else if (info?.isFile()) files.add(absolute)
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
  for (const file of selected) sources.push({name: display(file), text: await readSqlFile(file, display(file))})
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

async function readSqlFile(path: string, name: string): Promise<string> {
  let buffer: Buffer
  try {
    buffer = await readFile(path)
  } catch (error) {
    throw usageError('INPUT_UNREADABLE', `cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {hint: 'check the file\'s permissions'})
  }
  if (buffer.includes(0)) throw usageError('INPUT_BINARY', `${name} is not a text file (it contains NUL bytes)`, {hint: 'audit SQL text files only; a compressed dump must be decompressed first'})
  return buffer.toString('utf8').replace(/^\uFEFF/, '')
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
