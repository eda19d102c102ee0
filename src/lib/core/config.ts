import {readFile} from 'node:fs/promises'
import type {Document, LineCounter, Node} from 'yaml'
import {usageError} from './errors.ts'
import {writeFileAtomic} from './files.ts'

/**
 * The user's config file as a YAML document, so that edits made by dbakit keep the user's comments
 * and layout. Errors name the file and the line, because that is what the user has to open.
 */
export class ConfigFile {
  readonly path: string
  readonly document: Document
  private readonly lines: LineCounter
  private readonly yaml: typeof import('yaml')

  private constructor(path: string, document: Document, lines: LineCounter, yaml: typeof import('yaml')) {
    this.path = path
    this.document = document
    this.lines = lines
    this.yaml = yaml
  }

  static async load(path: string): Promise<ConfigFile> {
    let text = ''
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT') {
        throw usageError('CONFIG_UNREADABLE', `cannot read config file ${path}: ${(error as Error).message}`, {
          hint: 'fix its permissions, or point DBAKIT_CONFIG at another file',
        })
      }
    }
    // Loaded here, not at the top: commands that never read a config file skip its start-up cost.
    const yaml = await import('yaml')
    const lines = new yaml.LineCounter()
    const document = yaml.parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true})
    const [first] = document.errors
    if (first) {
      const line = lines.linePos(first.pos[0]).line
      throw usageError('CONFIG_INVALID', `${path}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`, {
        hint: 'fix the YAML at that line, or move the file aside to start afresh',
      })
    }
    const root = document.contents
    if (root !== null && !yaml.isMap(root)) {
      throw usageError('CONFIG_INVALID', `${path}:1: the config must be a mapping of keys to values`, {
        hint: 'see `dbakit profile add --help` for what a config file holds',
      })
    }
    return new ConfigFile(path, document, lines, yaml)
  }

  /** 1-based line of the node at `path`, for error messages about a particular key. */
  lineOf(path: ReadonlyArray<string>): number | undefined {
    // Point at the key itself: a value may start on a later line (a nested mapping).
    const parent = path.length <= 1 ? this.document.contents : this.document.getIn(path.slice(0, -1), true)
    const {isMap, isScalar} = this.yaml
    const pair = isMap(parent) ? parent.items.find((item) => isScalar(item.key) && String(item.key.value) === path.at(-1)) : undefined
    const node = (isScalar(pair?.key) ? pair.key : this.document.getIn(path, true)) as Node | undefined
    const offset = node?.range?.[0]
    return offset === undefined ? undefined : this.lines.linePos(offset).line
  }

  /** An error about the value at `path`, located at its line. */
  invalid(path: ReadonlyArray<string>, message: string, hint: string) {
    const line = this.lineOf(path)
    return usageError('CONFIG_INVALID', `${this.path}${line ? `:${line}` : ''}: ${path.join('.')}: ${message}`, {hint})
  }

  get(path: ReadonlyArray<string>): unknown {
    const value = this.document.getIn(path, false)
    return value instanceof Object && 'toJSON' in value ? (value as {toJSON(): unknown}).toJSON() : value
  }

  set(path: ReadonlyArray<string>, value: unknown): void {
    this.document.setIn(path, value)
  }

  delete(path: ReadonlyArray<string>): boolean {
    return this.document.deleteIn(path)
  }

  async save(): Promise<void> {
    await writeFileAtomic(this.path, this.document.toString())
  }
}
