import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {capabilitiesOf, compareVersions, hasCapability, identifyMysqlFamily} from '../../src/lib/connect/capabilities.ts'

describe('server capabilities', () => {
  it('tells MariaDB from MySQL by the version string or comment', () => {
    assert.deepEqual(identifyMysqlFamily('10.11.19-MariaDB-0+deb12u1-log'), {flavor: 'mariadb', version: '10.11.19'})
    assert.deepEqual(identifyMysqlFamily('8.0.36', 'MySQL Community Server - GPL'), {flavor: 'mysql', version: '8.0.36'})
    assert.deepEqual(identifyMysqlFamily('11.4.2', 'mariadb.org binary distribution'), {flavor: 'mariadb', version: '11.4.2'})
  })

  it('compares versions numerically, not as text', () => {
    assert.equal(compareVersions('10.11.2', '10.4.0'), 1)
    assert.equal(compareVersions('8.0.9', '8.0.29'), -1)
    assert.equal(compareVersions('8.4', '8.4.0'), 0)
  })

  it('knows INSTANT DROP COLUMN arrived in MySQL 8.0.29 and MariaDB 10.4', () => {
    assert.equal(hasCapability({flavor: 'mysql', version: '8.0.28'}, 'instantAddDropAnyPosition'), false)
    assert.equal(hasCapability({flavor: 'mysql', version: '8.0.29'}, 'instantAddDropAnyPosition'), true)
    assert.equal(hasCapability({flavor: 'mariadb', version: '10.3.9'}, 'instantAddDropAnyPosition'), false)
    assert.equal(hasCapability({flavor: 'mariadb', version: '10.11.19'}, 'instantAddDropAnyPosition'), true)
  })

  it('knows dual passwords are MySQL-only', () => {
    assert.equal(hasCapability({flavor: 'mysql', version: '8.4.0'}, 'dualPasswords'), true)
    assert.equal(hasCapability({flavor: 'mariadb', version: '11.4.0'}, 'dualPasswords'), false)
  })

  it('lists only the capabilities that concern the flavor', () => {
    const redis = capabilitiesOf({flavor: 'redis', version: '7.0.15'})
    assert.deepEqual(redis, {aclUsers: true})
    const mariadb = capabilitiesOf({flavor: 'mariadb', version: '10.11.19'})
    assert.equal(mariadb.replicaKeyword, true)
    assert.equal('aclUsers' in mariadb, false)
  })
})
