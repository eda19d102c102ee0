import {createReadStream, createWriteStream} from 'node:fs'
import {mkdir, open, readdir, readFile, rename, rm, stat, utimes} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {isBackupId} from './manifest.ts'
import {MANIFEST_FILE, OWNER_FILE, parseOwner, type ChunkSink, type Leftover, type Owner, type StagedBackup, type Store} from './store.ts'

const INCOMPLETE = '.incomplete-'
const DELETING = '.deleting-'

/**
 * A repository in a directory: `backups/<id>/` appears only by renaming `backups/.incomplete-<id>/`
 * after its manifest and chunks are fsynced, one atomic step on a local or network file system.
 */
export class LocalStore implements Store {
  readonly location: string
  private readonly backups: string

  constructor(location: string) {
    this.location = location
    this.backups = join(location, 'backups')
  }

  /** Only a complete backup has a directory named by its bare id. */
  async candidateIds(): Promise<string[] | undefined> {
    return (await this.entries())?.filter(isBackupId)
  }

  async readManifest(id: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.backups, id, MANIFEST_FILE), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
      throw error
    }
  }

  async leftovers(): Promise<Leftover[]> {
    const found: Leftover[] = []
    for (const name of (await this.entries()) ?? []) {
      const kind = name.startsWith(INCOMPLETE) ? 'incomplete' : name.startsWith(DELETING) ? 'deleting' : undefined
      if (!kind) continue
      const id = name.slice(kind === 'incomplete' ? INCOMPLETE.length : DELETING.length)
      const dir = join(this.backups, name)
      const ownerText = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => undefined)
      const owner = parseOwner(ownerText)
      // The owner file's mtime is the heartbeat; a directory without one dates from its last change.
      const times = await stat(ownerText === undefined ? dir : join(dir, OWNER_FILE)).catch(() => undefined)
      if (!times) continue
      found.push({id, kind, ...(owner ? {owner} : {}), lastActivity: times.mtime})
    }
    return found
  }

  async removeLeftover(leftover: Leftover): Promise<void> {
    await rm(join(this.backups, `${leftover.kind === 'incomplete' ? INCOMPLETE : DELETING}${leftover.id}`), {recursive: true, force: true})
  }

  async create(id: string, owner: Owner): Promise<StagedBackup | false> {
    await mkdir(this.backups, {recursive: true, mode: 0o700})
    const dir = join(this.backups, `${INCOMPLETE}${id}`)
    try {
      await mkdir(dir, {mode: 0o700})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    }
    const final = join(this.backups, id)
    if (await stat(final).catch(() => undefined)) {
      await rm(dir, {recursive: true, force: true})
      return false
    }
    try {
      await writeDurable(join(dir, OWNER_FILE), JSON.stringify(owner))
      await mkdir(join(dir, 'chunks'), {mode: 0o700})
    } catch (error) {
      await rm(dir, {recursive: true, force: true})
      throw error
    }
    return new LocalStaged(dir)
  }

  async remove(id: string): Promise<void> {
    const doomed = join(this.backups, `${DELETING}${id}`)
    // After the rename nothing lists it; a crash before rm leaves a .deleting- entry cleanup finishes.
    await rename(join(this.backups, id), doomed)
    await syncDirectory(this.backups)
    await rm(doomed, {recursive: true, force: true})
  }

  chunk(id: string, file: string): AsyncIterable<Buffer> {
    return createReadStream(join(this.backups, id, 'chunks', file))
  }

  async close(): Promise<void> {}

  /** Names under backups/, or undefined when the repository directory does not exist. */
  private async entries(): Promise<string[] | undefined> {
    try {
      return await readdir(this.backups)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error
      return (await stat(this.location).catch(() => undefined))?.isDirectory() ? [] : undefined
    }
  }
}

/** A backup being written in `backups/.incomplete-<id>/`, to become `backups/<id>/`. */
class LocalStaged implements StagedBackup {
  private readonly dir: string

  constructor(dir: string) {
    this.dir = dir
  }

  private get backups(): string {
    return dirname(this.dir)
  }

  private get final(): string {
    return join(this.backups, basename(this.dir).slice(INCOMPLETE.length))
  }

  async chunkSink(file: string): Promise<ChunkSink> {
    const path = join(this.dir, 'chunks', file)
    // flush: the file is fsynced before it closes, and a pipeline into it ends only after the close.
    const stream = createWriteStream(path, {flags: 'wx', mode: 0o600, flush: true})
    return {
      stream,
      finish: async () => {},
      discard: async () => {
        stream.destroy()
        await rm(path, {force: true})
      },
    }
  }

  async heartbeat(): Promise<void> {
    const now = new Date()
    await utimes(join(this.dir, OWNER_FILE), now, now)
  }

  async commit(manifestText: string): Promise<void> {
    await writeDurable(join(this.dir, MANIFEST_FILE), manifestText)
    await rm(join(this.dir, OWNER_FILE), {force: true})
    await syncDirectory(join(this.dir, 'chunks'))
    await syncDirectory(this.dir)
    await rename(this.dir, this.final)
    await syncDirectory(this.backups)
  }

  async discard(): Promise<void> {
    await rm(this.dir, {recursive: true, force: true})
  }
}

async function writeDurable(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** A rename or a new file is durable only once its directory is: fsync the directory too. */
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
