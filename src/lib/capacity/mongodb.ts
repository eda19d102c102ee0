import {openMongo} from '../connect/drivers/mongo.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import type {Figure, InstanceCapacity, TableCapacity} from './report.ts'

const exact = (value: number | null, source: string): Figure => ({value, exact: true, source})
const estimate = (value: number | null, source: string): Figure => ({value, exact: false, source})
const SYSTEM = new Set(['admin', 'config', 'local'])

/**
 * MongoDB: each collection's storage from $collStats (WiredTiger's own counters: the file's size and
 * its free blocks), documents as the collection's count, and the filesystem from dbStats. One
 * dbStats per database and one $collStats per collection: MongoDB has no single view of every
 * collection's size.
 */
export async function mongoCapacity(target: ConnectionTarget): Promise<InstanceCapacity> {
  const session = await openMongo(target)
  const warnings: string[] = []
  try {
    const {databases} = (await session.admin({listDatabases: 1, nameOnly: true})) as {databases: Array<{name: string}>}
    const tables: TableCapacity[] = []
    let fs: {total: number; used: number} | undefined
    for (const {name} of databases.filter((database) => !SYSTEM.has(database.name))) {
      const db = session.client.db(name)
      const stats = (await db.command({dbStats: 1, freeStorage: 1})) as Record<string, number>
      if (stats.fsTotalSize) fs = {total: stats.fsTotalSize, used: stats.fsUsedSize ?? 0}
      for (const collection of await db.listCollections({type: 'collection'}, {nameOnly: true}).toArray()) {
        try {
          const [stat] = (await db.collection(collection.name).aggregate([{$collStats: {storageStats: {}}}]).toArray()) as Array<{storageStats: Record<string, number>}>
          const storage = stat?.storageStats ?? {}
          tables.push({
            database: name,
            table: collection.name,
            engine: 'wiredTiger',
            onDisk: exact((storage.storageSize ?? 0) + (storage.totalIndexSize ?? 0), '$collStats storageSize+totalIndexSize'),
            data: exact(storage.size ?? 0, '$collStats size (uncompressed)'),
            indexes: exact(storage.totalIndexSize ?? 0, '$collStats totalIndexSize'),
            rows: estimate(storage.count ?? 0, '$collStats count (the collection\'s metadata)'),
            reclaimable: exact(storage.freeStorageSize ?? 0, '$collStats freeStorageSize (what compact frees)'),
          })
        } catch (error) {
          warnings.push(`${name}.${collection.name}: ${(error as Error).message.split('\n')[0]}`)
        }
      }
    }
    tables.sort((a, b) => (b.onDisk.value ?? 0) - (a.onDisk.value ?? 0))
    if (!fs) warnings.push('the filesystem size is unknown: dbStats reported no fsTotalSize')
    return {
      instance: target.profile ?? target.label,
      engine: 'mongodb',
      version: session.identity.version,
      takenAt: new Date().toISOString(),
      disk: fs ? {total: exact(fs.total, 'dbStats fsTotalSize'), used: exact(fs.used, 'dbStats fsUsedSize'), path: 'dbPath'} : null,
      binlogs: exact(null, 'not a MySQL server'),
      tables,
      warnings,
    }
  } finally {
    await session.close()
  }
}
