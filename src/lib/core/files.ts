import {randomBytes} from 'node:crypto'
import {mkdir, open, rename, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

/**
 * Writes a file so that readers see the old content or the new, never a torn one: temp file in the
 * same directory, fsync, rename. Mode defaults to 0600 because dbakit's files describe servers and
 * credentials' whereabouts.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', mode)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temporary, {force: true})
    throw error
  }
  await handle.close()
  await rename(temporary, path)
}
