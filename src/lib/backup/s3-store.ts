import {PassThrough} from 'node:stream'
import {DbakitError, environmentError, firstLine, socketCode, usageError} from '../core/errors.ts'
import {isBackupId} from './manifest.ts'
import {inParallel, MANIFEST_FILE, OWNER_FILE, parseOwner, type ChunkSink, type Leftover, type Owner, type StagedBackup, type Store} from './store.ts'

type S3Module = typeof import('@aws-sdk/client-s3')
type S3Client = InstanceType<S3Module['S3Client']>

export interface S3StoreOptions {
  /** An S3-compatible endpoint (MinIO, Ceph, s3rver); requests are then path-style. */
  endpoint?: string
  env: NodeJS.ProcessEnv
}

/** 5 MiB is S3's smallest part; 4 in flight keeps a chunk's upload under 20 MiB of memory. */
const PART_SIZE = 5 * 1024 * 1024
const QUEUE_SIZE = 4
const PARALLEL_REQUESTS = 8
const TIMEOUT_MS = 120_000

export function parseS3Location(location: string): {bucket: string; prefix: string} {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location)
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1]!)) {
    throw usageError('REPO_INVALID', `${location} is not an S3 location`, {hint: 'write it as s3://bucket or s3://bucket/prefix'})
  }
  const prefix = match[2]!.replace(/^\/+|\/+$/g, '')
  return {bucket: match[1]!, prefix: prefix === '' ? '' : `${prefix}/`}
}

/**
 * A repository under an S3 prefix. S3 has no rename, so a backup is visible once its
 * `manifest.json` exists, and that object is written only after every chunk upload completed; a
 * listing never shows a backup whose chunks are not all there.
 */
export class S3Store implements Store {
  readonly location: string
  private readonly bucket: string
  private readonly base: string
  private readonly options: S3StoreOptions
  private opened: Promise<{s3: S3Module; client: S3Client}> | undefined

  constructor(location: string, options: S3StoreOptions) {
    const {bucket, prefix} = parseS3Location(location)
    this.location = `s3://${bucket}${prefix === '' ? '' : `/${prefix.slice(0, -1)}`}`
    this.bucket = bucket
    this.base = `${prefix}backups/`
    this.options = options
  }

  /** Every backup's prefix, complete or not: readManifest tells them apart. */
  candidateIds(): Promise<string[]> {
    return this.prefixes()
  }

  async readManifest(id: string): Promise<string | undefined> {
    return this.getText(`${this.base}${id}/${MANIFEST_FILE}`)
  }

  async leftovers(): Promise<Leftover[]> {
    const found = await inParallel(await this.prefixes(), PARALLEL_REQUESTS, async (id): Promise<Leftover | undefined> => {
      if (await this.exists(`${this.base}${id}/${MANIFEST_FILE}`)) return undefined
      const objects = await this.objects(`${this.base}${id}/`)
      if (objects.length === 0) return undefined
      const ownerObject = objects.find((o) => o.key.endsWith(`/${OWNER_FILE}`))
      const owner = ownerObject ? parseOwner(await this.getText(ownerObject.key)) : undefined
      // The owner object is rewritten as a heartbeat; without one, the newest write dates it.
      const lastActivity = ownerObject?.modified ?? new Date(Math.max(...objects.map((o) => o.modified.getTime())))
      return {id, kind: 'incomplete', ...(owner ? {owner} : {}), lastActivity}
    })
    return found.filter((leftover): leftover is Leftover => leftover !== undefined)
  }

  async removeLeftover(leftover: Leftover): Promise<void> {
    await this.removeAll(`${this.base}${leftover.id}/`)
  }

  async create(id: string, owner: Owner): Promise<StagedBackup | false> {
    const prefix = `${this.base}${id}/`
    if ((await this.objects(prefix, 1)).length > 0) return false
    await this.put(`${prefix}${OWNER_FILE}`, JSON.stringify(owner))
    return new S3Staged(this, prefix, JSON.stringify(owner))
  }

  async remove(id: string): Promise<void> {
    // Without its manifest the backup is no longer listed; the chunks go after.
    await this.delete([`${this.base}${id}/${MANIFEST_FILE}`])
    await this.removeAll(`${this.base}${id}/`)
  }

  async *chunk(id: string, file: string): AsyncIterable<Buffer> {
    const {s3, client} = await this.open()
    const key = `${this.base}${id}/chunks/${file}`
    let body: AsyncIterable<Buffer>
    try {
      body = (await client.send(new s3.GetObjectCommand({Bucket: this.bucket, Key: key}))).Body as unknown as AsyncIterable<Buffer>
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') throw Object.assign(new Error(`${key} does not exist`), {code: 'ENOENT'})
      throw this.failure(error, 'GetObject', key)
    }
    try {
      yield* body
    } catch (error) {
      throw this.failure(error, 'GetObject', key)
    }
  }

  async close(): Promise<void> {
    const opened = await this.opened?.catch(() => undefined)
    opened?.client.destroy()
  }

  // ---- S3 calls, each error said in dbakit's terms ----

  async upload(key: string): Promise<ChunkSink> {
    const [{s3, client}, {Upload}] = await Promise.all([this.open(), import('@aws-sdk/lib-storage')])
    const stream = new PassThrough()
    const upload = new Upload({client, params: {Bucket: this.bucket, Key: key, Body: stream}, partSize: PART_SIZE, queueSize: QUEUE_SIZE})
    // A failed upload stops reading its body; the pipeline writing into it must fail, not wait.
    const done = upload.done().then(
      () => undefined,
      (error: unknown) => {
        const failure = this.failure(error, 'Upload', key)
        stream.destroy(failure)
        throw failure
      },
    )
    done.catch(() => {})
    return {
      stream,
      finish: () => done,
      discard: async () => {
        await upload.abort().catch(() => {})
        await client.send(new s3.DeleteObjectCommand({Bucket: this.bucket, Key: key})).catch(() => {})
      },
    }
  }

  async put(key: string, text: string): Promise<void> {
    const {s3, client} = await this.open()
    await this.call('PutObject', key, () => client.send(new s3.PutObjectCommand({Bucket: this.bucket, Key: key, Body: text, ContentType: 'application/json'})))
  }

  async delete(keys: string[]): Promise<void> {
    const {s3, client} = await this.open()
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000)
      const answer = await this.call('DeleteObjects', batch[0]!, () => client.send(new s3.DeleteObjectsCommand({Bucket: this.bucket, Delete: {Objects: batch.map((Key) => ({Key})), Quiet: true}})))
      const [failed] = answer.Errors ?? []
      if (failed) throw environmentError('S3_ERROR', `S3 did not delete s3://${this.bucket}/${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim(), {hint: 'check that these credentials may s3:DeleteObject here, then run the command again'})
    }
  }

  async removeAll(prefix: string): Promise<void> {
    await this.delete((await this.objects(prefix)).map((o) => o.key))
    await this.abortUploads(prefix)
  }

  private async prefixes(): Promise<string[]> {
    const {s3, client} = await this.open()
    const ids: string[] = []
    let token: string | undefined
    do {
      const page = await this.call('ListObjectsV2', this.base, () => client.send(new s3.ListObjectsV2Command({Bucket: this.bucket, Prefix: this.base, Delimiter: '/', ...(token ? {ContinuationToken: token} : {})})))
      for (const {Prefix} of page.CommonPrefixes ?? []) {
        const id = Prefix?.slice(this.base.length, -1)
        if (id && isBackupId(id)) ids.push(id)
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return ids
  }

  private async objects(prefix: string, limit?: number): Promise<Array<{key: string; modified: Date}>> {
    const {s3, client} = await this.open()
    const found: Array<{key: string; modified: Date}> = []
    let token: string | undefined
    do {
      const page = await this.call('ListObjectsV2', prefix, () => client.send(new s3.ListObjectsV2Command({Bucket: this.bucket, Prefix: prefix, ...(limit ? {MaxKeys: limit} : {}), ...(token ? {ContinuationToken: token} : {})})))
      for (const object of page.Contents ?? []) if (object.Key) found.push({key: object.Key, modified: object.LastModified ?? new Date(0)})
      token = page.IsTruncated && (limit === undefined || found.length < limit) ? page.NextContinuationToken : undefined
    } while (token)
    return found
  }

  /** Parts of uploads a killed writer never completed are invisible but kept (and billed) until aborted. */
  private async abortUploads(prefix: string): Promise<void> {
    const {s3, client} = await this.open()
    let uploads
    try {
      uploads = (await client.send(new s3.ListMultipartUploadsCommand({Bucket: this.bucket, Prefix: prefix}))).Uploads ?? []
    } catch {
      // Some S3-compatible servers do not list uploads; a bucket lifecycle rule can reap them there.
      return
    }
    for (const upload of uploads) {
      await client.send(new s3.AbortMultipartUploadCommand({Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId})).catch(() => {})
    }
  }

  private async exists(key: string): Promise<boolean> {
    const {s3, client} = await this.open()
    try {
      await client.send(new s3.HeadObjectCommand({Bucket: this.bucket, Key: key}))
      return true
    } catch (error) {
      if ((error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return false
      throw this.failure(error, 'HeadObject', key)
    }
  }

  private async getText(key: string): Promise<string | undefined> {
    const {s3, client} = await this.open()
    try {
      const answer = await client.send(new s3.GetObjectCommand({Bucket: this.bucket, Key: key}))
      return await answer.Body!.transformToString('utf8')
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined
      throw this.failure(error, 'GetObject', key)
    }
  }

  private async call<T>(operation: string, key: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw this.failure(error, operation, key)
    }
  }

  /** The SDK loads only for an S3 repository, so that other commands start fast. */
  private open(): Promise<{s3: S3Module; client: S3Client}> {
    this.opened ??= import('@aws-sdk/client-s3').then((s3) => {
      const {env, endpoint} = this.options
      const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? {accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? {sessionToken: env.AWS_SESSION_TOKEN} : {})} : undefined
      const client = new s3.S3Client({
        region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
        followRegionRedirects: true,
        maxAttempts: 3,
        requestHandler: {connectionTimeout: 10_000, requestTimeout: TIMEOUT_MS, throwOnRequestTimeout: true},
        ...(credentials ? {credentials} : {}),
        // S3-compatible servers want bucket-in-path URLs, and many reject the streaming checksum
        // trailers AWS accepts; the chunks' own SHA-256 is checked on every read anyway.
        ...(endpoint ? {endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const} : {}),
      })
      return {s3, client}
    })
    return this.opened
  }

  failure(error: unknown, operation: string, key: string): DbakitError {
    if (error instanceof DbakitError) return error
    const name = error instanceof Error ? error.name : undefined
    const where = `s3://${this.bucket}/${key}`
    const said = firstLine(error)
    const data = {location: this.location, operation, ...(name ? {name} : {})}
    switch (name) {
      case 'NoSuchBucket':
        return usageError('S3_BUCKET_NOT_FOUND', `there is no bucket ${this.bucket}${this.options.endpoint ? ` at ${this.options.endpoint}` : ''}`, {hint: 'check the repository location (--repo) and --s3-endpoint', data})
      case 'AccessDenied':
      case 'Forbidden':
      case 'AllAccessDisabled':
        return environmentError('S3_ACCESS_DENIED', `S3 denied ${operation} on ${where}: ${said}`, {hint: 'check that the bucket policy and IAM policies allow it for these credentials', data})
      case 'InvalidAccessKeyId':
      case 'SignatureDoesNotMatch':
      case 'ExpiredToken':
      case 'CredentialsProviderError':
        return environmentError('S3_CREDENTIALS', `S3 did not accept the credentials for ${where}: ${said}`, {hint: 'check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and renew an expired session', data})
      case 'TimeoutError':
        return environmentError('S3_TIMEOUT', `S3 did not answer ${operation} on ${where} in time`, {hint: 'check the network path to the endpoint', data})
    }
    const code = socketCode(error)
    if (code !== undefined && typeof (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode !== 'number') {
      return environmentError('S3_UNREACHABLE', `cannot reach S3 for ${where} (${code})`, {hint: this.options.endpoint ? 'check --s3-endpoint and that the service is running' : 'check that this machine may connect to S3 (proxy, VPC endpoint)', data})
    }
    return environmentError('S3_ERROR', `S3 ${operation} on ${where} failed: ${name && !said.startsWith(name) ? `${name}: ` : ''}${said}`, {data})
  }
}

class S3Staged implements StagedBackup {
  private readonly store: S3Store
  private readonly prefix: string
  private readonly owner: string

  constructor(store: S3Store, prefix: string, owner: string) {
    this.store = store
    this.prefix = prefix
    this.owner = owner
  }

  chunkSink(file: string): Promise<ChunkSink> {
    return this.store.upload(`${this.prefix}chunks/${file}`)
  }

  heartbeat(): Promise<void> {
    return this.store.put(`${this.prefix}${OWNER_FILE}`, this.owner)
  }

  async commit(manifestText: string): Promise<void> {
    await this.store.put(`${this.prefix}${MANIFEST_FILE}`, manifestText)
    // Left behind, it is ignored beside a manifest; the next delete takes it along.
    await this.store.delete([`${this.prefix}${OWNER_FILE}`]).catch(() => {})
  }

  discard(): Promise<void> {
    return this.store.removeAll(this.prefix)
  }
}
