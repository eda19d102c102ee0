// Begins a backup in LOCATION, writes one chunk, prints "ready ID" and waits to be killed.
import {join} from 'node:path'
import {openRepository} from '../../src/lib/backup/index.ts'
import {withSecrets} from '../../src/lib/secrets/index.ts'

const location = process.argv[2]!
await withSecrets({configPath: join(process.env.DBAKIT_HOME!, 'config.yaml'), env: process.env, warn: () => {}}, async (secrets) => {
  const repository = await openRepository(location, {secrets, ...(process.env.DBAKIT_S3_ENDPOINT ? {s3Endpoint: process.env.DBAKIT_S3_ENDPOINT} : {}), env: process.env})
  const writer = await repository.begin({engine: 'mysql', server: {version: 'killed'}})
  await writer.writeChunk('db.t.00001', ['a row\n'.repeat(1000)], {rows: 1000})
  process.stdout.write(`ready ${writer.id}\n`)
  await new Promise(() => setInterval(() => {}, 1000))
})
