import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {afterEach, before, describe, it} from 'node:test'
import {ExitCode} from '../../src/lib/core/errors.ts'
import {AwsKmsKeyProvider, kmsEncryptionContext, type AwsKmsProviderOptions} from '../../src/lib/secrets/providers/aws-kms.ts'
import {closeReplayServers, everythingShown, otherAad, recorded, refusingAddress, rejection, replayServer, sampleAad, type Turn} from '../helpers/kms.ts'

afterEach(closeReplayServers)

const accessKey = 'AKIAIOSFODNN7EXAMPLE'
const secretKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
before(() => {
  // The SDK's default credential chain finds these first; no profile, SSO or instance role is asked.
  process.env.AWS_ACCESS_KEY_ID = accessKey
  process.env.AWS_SECRET_ACCESS_KEY = secretKey
  delete process.env.AWS_SESSION_TOKEN
  delete process.env.AWS_PROFILE
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config'
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials'
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
})

const arn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
const answer = (name: string) => recorded(name).body as Record<string, string>
/** The data key the recorded Decrypt answers with: the one a round trip must start from. */
const dataKey = Buffer.from(answer('aws-kms-decrypt').Plaintext!, 'base64')
const wrappedBlob = answer('aws-kms-encrypt').CiphertextBlob!
const wrappedKey = {key: {provider: 'aws-kms' as const, keyId: arn, keyVersion: 1}, wrapped: wrappedBlob}

async function kms(turns: Turn[], options: Partial<AwsKmsProviderOptions> = {}) {
  const server = await replayServer(turns)
  const provider = new AwsKmsKeyProvider({keyId: 'alias/dbakit', region: 'eu-west-1', endpoint: server.url, ...options})
  return {server, provider}
}

describe('aws-kms provider against recorded AWS KMS answers', () => {
  it('wraps under the key ARN KMS resolves the alias to, and unwraps with the same encryption context', async () => {
    const {server, provider} = await kms([recorded('aws-kms-encrypt'), recorded('aws-kms-decrypt')])
    const wrapped = await provider.wrap(dataKey, sampleAad)
    assert.deepEqual(wrapped, {key: {provider: 'aws-kms', keyId: arn, keyVersion: 1}, wrapped: wrappedBlob})
    assert.deepEqual(Buffer.from(await provider.unwrap(wrapped, sampleAad)), dataKey)
    server.done()
    const [encrypt, decrypt] = server.received
    assert.equal(encrypt!.body?.KeyId, 'alias/dbakit')
    assert.equal(encrypt!.body?.Plaintext, dataKey.toString('base64'))
    assert.deepEqual(encrypt!.body?.EncryptionContext, kmsEncryptionContext(sampleAad))
    assert.deepEqual(decrypt!.body, {CiphertextBlob: wrappedBlob, EncryptionContext: kmsEncryptionContext(sampleAad), KeyId: arn})
    for (const request of server.received) {
      assert.equal(request.headers['content-type'], 'application/x-amz-json-1.1')
      assert.match(String(request.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${accessKey}/\\d{8}/eu-west-1/kms/aws4_request`))
    }
    await provider.close()
  })

  it('binds the whole AAD: a different AAD is a different encryption context, and the digest names nothing', () => {
    const context = kmsEncryptionContext(sampleAad)
    // An auditor matches a CloudTrail entry to a secret by hashing the secret's AAD.
    assert.deepEqual(context, {'dbakit-aad-sha256': createHash('sha256').update(sampleAad).digest('base64url')})
    assert.notDeepEqual(kmsEncryptionContext(otherAad), context)
    assert.notDeepEqual(kmsEncryptionContext(Buffer.concat([sampleAad, Buffer.from(' ')])), context)
    assert.ok(!JSON.stringify(context).includes('db1'))
  })

  it('refuses a wrapped key KMS will not decrypt under this context as tampered (exit 1)', async () => {
    const {server, provider} = await kms([recorded('aws-kms-invalid-ciphertext')])
    const error = await rejection(provider.unwrap(wrappedKey, otherAad))
    assert.equal(error.code, 'ENVELOPE_TAMPERED')
    assert.equal(error.exitCode, ExitCode.findings)
    assert.match(error.message, /InvalidCiphertextException/)
    server.done()
    assert.deepEqual(server.received[0]!.body?.EncryptionContext, kmsEncryptionContext(otherAad))
  })

  it('refuses, without asking KMS, a wrapped key of another provider or without a key ARN', async () => {
    const {server, provider} = await kms([])
    const otherProvider = await rejection(provider.unwrap({...wrappedKey, key: {...wrappedKey.key, provider: 'vault-transit'}}, sampleAad))
    assert.equal(otherProvider.code, 'ENVELOPE_TAMPERED')
    const alias = await rejection(provider.unwrap({...wrappedKey, key: {...wrappedKey.key, keyId: 'alias/dbakit'}}, sampleAad))
    assert.equal(alias.code, 'ENVELOPE_TAMPERED')
    server.done()
  })

  it('reports the current key by ARN from DescribeKey, once per provider', async () => {
    const {server, provider} = await kms([recorded('aws-kms-describe-key')])
    assert.deepEqual(await provider.currentKey(), {provider: 'aws-kms', keyId: arn, keyVersion: 1})
    assert.deepEqual(await provider.currentKey(), {provider: 'aws-kms', keyId: arn, keyVersion: 1})
    server.done()
    assert.deepEqual(server.received[0]!.body, {KeyId: 'alias/dbakit'})
  })

  it('rewraps with ReEncrypt, the data key never leaving KMS', async () => {
    const {server, provider} = await kms([recorded('aws-kms-re-encrypt')])
    const rewrapped = await provider.rewrap(wrappedKey, sampleAad)
    assert.deepEqual(rewrapped, {key: {provider: 'aws-kms', keyId: arn, keyVersion: 1}, wrapped: answer('aws-kms-re-encrypt').CiphertextBlob})
    server.done()
    const context = kmsEncryptionContext(sampleAad)
    assert.deepEqual(server.received[0]!.body, {
      CiphertextBlob: wrappedBlob,
      DestinationEncryptionContext: context,
      DestinationKeyId: 'alias/dbakit',
      SourceEncryptionContext: context,
      SourceKeyId: arn,
    })
  })

  it('reports access denied as an environment error (exit 3) naming key, region and endpoint, without the credentials', async () => {
    const {server, provider} = await kms([recorded('aws-kms-access-denied')])
    const error = await rejection(provider.unwrap(wrappedKey, sampleAad))
    assert.equal(error.code, 'AWS_KMS_ACCESS_DENIED')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.ok(error.message.includes(`key "${arn}" in eu-west-1 (endpoint ${server.url})`), error.message)
    assert.match(error.hint ?? '', /kms:Decrypt/)
    assert.ok(!everythingShown(error).includes(secretKey), 'the secret key appears in the error')
    server.done()
  })

  it('checks, never creates, the key for kms init: an enabled key is adopted; a missing or disabled one is exit 3', async () => {
    const present = await kms([recorded('aws-kms-describe-key')])
    assert.deepEqual(await present.provider.createKey(), {provider: 'aws-kms', keyId: arn, keyVersion: 1})
    present.server.done()

    const missing = await kms([recorded('aws-kms-not-found')])
    const notFound = await rejection(missing.provider.createKey())
    assert.equal(notFound.code, 'AWS_KMS_KEY_NOT_FOUND')
    assert.equal(notFound.exitCode, ExitCode.environment)
    assert.match(notFound.hint ?? '', /does not create/)
    missing.server.done()

    const disabled = await kms([recorded('aws-kms-describe-key-disabled')])
    const off = await rejection(disabled.provider.createKey())
    assert.equal(off.code, 'AWS_KMS_KEY_DISABLED')
    assert.equal(off.exitCode, ExitCode.environment)
    assert.match(off.message, /is Disabled/)
    disabled.server.done()
  })

  it('rotates on demand by ARN; the key ref stays the same', async () => {
    const {server, provider} = await kms([recorded('aws-kms-describe-key'), recorded('aws-kms-rotate-key-on-demand')])
    assert.deepEqual(await provider.rotateKey(), {provider: 'aws-kms', keyId: arn, keyVersion: 1})
    server.done()
    assert.deepEqual(server.received[1]!.body, {KeyId: arn})
  })

  it('reports an endpoint where nothing listens as unreachable (exit 3)', async () => {
    const endpoint = await refusingAddress()
    const provider = new AwsKmsKeyProvider({keyId: 'alias/dbakit', region: 'eu-west-1', endpoint})
    const error = await rejection(provider.currentKey())
    assert.equal(error.code, 'AWS_KMS_UNREACHABLE')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.ok(error.message.includes(`endpoint ${endpoint}`), error.message)
    await provider.close()
  })

  it('gives up on a KMS that never answers after timeoutMs (exit 3)', {timeout: 30_000}, async () => {
    const {provider} = await kms(['hang', 'hang', 'hang'], {timeoutMs: 150})
    const error = await rejection(provider.currentKey())
    assert.equal(error.code, 'AWS_KMS_TIMEOUT')
    assert.equal(error.exitCode, ExitCode.environment)
    assert.match(error.message, /within 150 ms/)
    await provider.close()
  })

  it('loads the AWS SDK only when the key is first used', async () => {
    const endpoint = await refusingAddress()
    const script = `
      import {registerHooks} from 'node:module'
      const resolved = []
      registerHooks({resolve: (specifier, context, next) => (resolved.push(specifier), next(specifier, context))})
      const {AwsKmsKeyProvider} = await import(${JSON.stringify(new URL('../../src/lib/secrets/providers/aws-kms.ts', import.meta.url).href)})
      const provider = new AwsKmsKeyProvider({keyId: 'alias/dbakit', region: 'eu-west-1', endpoint: ${JSON.stringify(endpoint)}, timeoutMs: 500})
      const sdk = () => resolved.filter((specifier) => specifier.startsWith('@aws-sdk/'))
      const before = sdk()
      await provider.currentKey().catch(() => {})
      console.log(JSON.stringify({before, after: sdk()}))`
    const output = execFileSync(process.execPath, ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script], {encoding: 'utf8'})
    const {before: atStart, after} = JSON.parse(output) as {before: string[]; after: string[]}
    assert.deepEqual(atStart, [])
    assert.ok(after.includes('@aws-sdk/client-kms'), `the SDK was not seen loading: ${JSON.stringify(after)}`)
  })
})
