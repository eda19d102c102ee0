import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, describe, it} from 'node:test'
import {ExitCode} from '../../src/lib/core/errors.ts'
import {AwsKmsKeyProvider} from '../../src/lib/secrets/providers/aws-kms.ts'
import {otherAad, rejection, sampleAad} from '../helpers/kms.ts'
import {awsKms, awsKmsRotateSkipReason, awsKmsSkipReason} from '../helpers/services.ts'

if (awsKmsSkipReason) console.log(`# ${awsKmsSkipReason}`)
else if (awsKmsRotateSkipReason) console.log(`# ${awsKmsRotateSkipReason}`)

const providers: AwsKmsKeyProvider[] = []
function provider(): AwsKmsKeyProvider {
  const made = new AwsKmsKeyProvider({keyId: awsKms.key!, region: awsKms.region, endpoint: awsKms.endpoint})
  providers.push(made)
  return made
}

after(async () => {
  for (const made of providers.splice(0)) await made.close()
})

const keyArn = /^arn:[\w-]+:kms:[\w-]*:\d*:key\/[\w-]+$/

describe('aws-kms provider against a real KMS', () => {
  it('round-trips a data key under the key ARN, bound to the AAD', {skip: awsKmsSkipReason}, async () => {
    const kms = provider()
    const current = await kms.createKey()
    assert.match(current.keyId, keyArn)
    const dataKey = randomBytes(32)
    const wrapped = await kms.wrap(dataKey, sampleAad)
    assert.deepEqual(wrapped.key, current)
    assert.ok(!Buffer.from(wrapped.wrapped, 'base64').includes(dataKey), 'the data key appears in clear')
    assert.deepEqual(Buffer.from(await provider().unwrap(wrapped, sampleAad)), dataKey)
  })

  it('refuses a wrong AAD and a changed ciphertext as tampered (exit 1)', {skip: awsKmsSkipReason}, async () => {
    const kms = provider()
    const wrapped = await kms.wrap(randomBytes(32), sampleAad)
    const wrongAad = await rejection(kms.unwrap(wrapped, otherAad))
    assert.equal(wrongAad.code, 'ENVELOPE_TAMPERED')
    assert.equal(wrongAad.exitCode, ExitCode.findings)
    const bytes = Buffer.from(wrapped.wrapped, 'base64')
    bytes[bytes.length - 5]! ^= 0x01
    const flipped = await rejection(kms.unwrap({...wrapped, wrapped: bytes.toString('base64')}, sampleAad))
    assert.equal(flipped.code, 'ENVELOPE_TAMPERED')
    const rewrapWrongAad = await rejection(kms.rewrap(wrapped, otherAad))
    assert.equal(rewrapWrongAad.code, 'ENVELOPE_TAMPERED')
  })

  it('rewraps with ReEncrypt to a wrapped key that unwraps to the same data key', {skip: awsKmsSkipReason}, async () => {
    const kms = provider()
    const dataKey = randomBytes(32)
    const wrapped = await kms.wrap(dataKey, sampleAad)
    const rewrapped = await kms.rewrap(wrapped, sampleAad)
    assert.deepEqual(rewrapped.key, wrapped.key)
    assert.notEqual(rewrapped.wrapped, wrapped.wrapped)
    assert.deepEqual(Buffer.from(await kms.unwrap(rewrapped, sampleAad)), dataKey)
  })

  it('rotates on demand: old wraps still unwrap, new ones wrap, and rewrap moves old ones on', {skip: awsKmsRotateSkipReason}, async () => {
    const kms = provider()
    const dataKey = randomBytes(32)
    const before = await kms.wrap(dataKey, sampleAad)
    assert.deepEqual(await kms.rotateKey(), before.key)
    const later = provider()
    assert.deepEqual(Buffer.from(await later.unwrap(before, sampleAad)), dataKey)
    const after = await later.wrap(dataKey, sampleAad)
    assert.deepEqual(Buffer.from(await later.unwrap(after, sampleAad)), dataKey)
    const rewrapped = await later.rewrap(before, sampleAad)
    assert.deepEqual(Buffer.from(await later.unwrap(rewrapped, sampleAad)), dataKey)
  })
})
