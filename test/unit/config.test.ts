import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {addProfile, getProfile, listProfiles} from '../../src/lib/connect/profiles.ts'
import {rejection} from '../helpers/errors.ts'

const configWith = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'dbakit-config-')), 'config.yaml')
  writeFileSync(path, text)
  return path
}

describe('config file and profiles', () => {
  it('reports broken YAML with the file and line', async () => {
    const path = configWith('profiles:\n  prod:\n    url: mysql://a@b\n   password: none\n')
    const error = await rejection(listProfiles(path))
    assert.equal(error.exitCode, 2)
    assert.ok(error.message.startsWith(`${path}:4:`), error.message)
  })

  it('names an unknown key at its line and suggests the right one', async () => {
    const path = configWith('profiles:\n  prod:\n    url: mysql://a@b\n    pasword: keychain\n')
    const error = await rejection(listProfiles(path))
    assert.match(error.message, new RegExp(`^${path}:4: profiles\\.prod\\.pasword: unknown key`))
    assert.match(error.hint ?? '', /did you mean "password"/)
  })

  it('refuses a password written into a profile URL', async () => {
    const path = configWith('profiles:\n  prod:\n    url: mysql://a:pw@b\n')
    const error = await rejection(listProfiles(path))
    assert.match(error.message, /:3: profiles\.prod\.url:/)
    assert.doesNotMatch(`${error.message}${error.hint}`, /:pw@/)
  })

  it('keeps the user\'s comments and writes the file 0600', async () => {
    const path = configWith('# team defaults\nprofiles:\n  # the reporting replica\n  reports:\n    url: mysql://r@db3\n    password: none\n')
    await addProfile({name: 'cache', url: 'redis://ops@cache1:6379/0', password: {kind: 'env', variable: 'REDIS_PW'}, configPath: path})
    const text = readFileSync(path, 'utf8')
    assert.match(text, /# team defaults/)
    assert.match(text, /# the reporting replica/)
    assert.equal(statSync(path).mode & 0o777, 0o600)
    assert.deepEqual(await getProfile('cache', path), {name: 'cache', engine: 'redis', url: 'redis://ops@cache1:6379/0', password: {kind: 'env', variable: 'REDIS_PW'}})
  })

  it('suggests the nearest profile name for a typo', async () => {
    const path = configWith('profiles:\n  reports:\n    url: mysql://r@db3\n')
    const error = await rejection(getProfile('report', path))
    assert.equal(error.code, 'PROFILE_NOT_FOUND')
    assert.match(error.hint ?? '', /did you mean "reports"/)
  })

  it('refuses to replace a profile without --force', async () => {
    const path = configWith('profiles:\n  reports:\n    url: mysql://r@db3\n')
    const error = await rejection(addProfile({name: 'reports', url: 'mysql://x@y', password: {kind: 'none'}, configPath: path}))
    assert.equal(error.code, 'PROFILE_EXISTS')
    assert.match(readFileSync(path, 'utf8'), /mysql:\/\/r@db3/)
  })
})
