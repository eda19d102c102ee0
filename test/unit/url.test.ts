import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {DbakitError} from '../../src/lib/core/errors.ts'
import {assertNoPasswordInUrl, parseConnectionUrl} from '../../src/lib/connect/url.ts'

const usageCode = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof DbakitError)
    return {exit: error.exitCode, code: error.code, message: error.message, hint: error.hint ?? ''}
  }
  assert.fail('expected an error')
}

describe('connection URLs', () => {
  it('reads a MySQL URL with defaults', () => {
    const url = parseConnectionUrl('mysql://dba@db1.example.com/shop')
    assert.equal(url.engine, 'mysql')
    assert.equal(url.user, 'dba')
    assert.deepEqual(url.hosts, [{host: 'db1.example.com', port: 3306}])
    assert.equal(url.database, 'shop')
  })

  it('treats mariadb:// as the MySQL engine and keeps query parameters', () => {
    const url = parseConnectionUrl('mariadb://ops@10.0.0.5:3307?ssl-mode=verify-ca')
    assert.equal(url.engine, 'mysql')
    assert.equal(url.hosts[0]?.port, 3307)
    assert.equal(url.params['ssl-mode'], 'verify-ca')
  })

  it('reads IPv6 hosts and percent-encoded user names', () => {
    const url = parseConnectionUrl('redis://app%40eu@[::1]:6380/2')
    assert.equal(url.user, 'app@eu')
    assert.deepEqual(url.hosts, [{host: '::1', port: 6380}])
    assert.equal(url.database, '2')
  })

  it('reads MongoDB URLs with several hosts', () => {
    const url = parseConnectionUrl('mongodb://admin@m1:27017,m2:27018,m3/app?replicaSet=rs0')
    assert.deepEqual(
      url.hosts.map((h) => `${h.host}:${h.port}`),
      ['m1:27017', 'm2:27018', 'm3:27017'],
    )
    assert.equal(url.params.replicaSet, 'rs0')
  })

  it('refuses several hosts for MySQL and a non-numeric Redis database', () => {
    assert.equal(usageCode(() => parseConnectionUrl('mysql://a@h1,h2')).exit, 2)
    assert.match(usageCode(() => parseConnectionUrl('redis://h/cache')).message, /must be a number/)
  })

  it('names the schemes it supports when given another', () => {
    const error = usageCode(() => parseConnectionUrl('postgres://u@h/db'))
    assert.equal(error.code, 'URL_SCHEME')
    assert.match(error.hint, /mysql:\/\/.*redis:\/\/.*mongodb:\/\//)
  })

  it('refuses a port out of range', () => {
    assert.match(usageCode(() => parseConnectionUrl('mysql://u@h:70000')).message, /out of range/)
  })

  it('detects a password and never shows it', () => {
    const url = parseConnectionUrl('mysql://dba:hunter2@db1:3306/shop')
    assert.equal(url.password, 'hunter2')
    assert.equal(url.display, 'mysql://dba@db1:3306/shop')
    const error = usageCode(() => assertNoPasswordInUrl(url))
    assert.equal(error.exit, 2)
    assert.equal(error.code, 'PASSWORD_IN_URL')
    assert.doesNotMatch(`${error.message} ${error.hint}`, /hunter2/)
    assert.match(error.hint, /--password-stdin/)
  })

  it('keeps a broken URL with a password out of the error text', () => {
    const error = usageCode(() => parseConnectionUrl('mysql://dba:hunter2@db1:notaport'))
    assert.doesNotMatch(error.message, /hunter2/)
  })
})
