import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {generatePassword, PASSWORD_LENGTH} from '../../src/lib/rotation/password.ts'
import {authAlternatives, grantWithoutCredentials, mariadbAlternativesAfter, mariadbIdentifiedVia, mysql8Statement, nativeHash} from '../../src/lib/rotation/mysql.ts'
import {aclHash, aclRules, parseAclUser} from '../../src/lib/rotation/redis.ts'
import {FileRotationJournal} from '../../src/lib/rotation/journal.ts'
import {mongoPlan, partnerOf} from '../../src/lib/rotation/mongodb.ts'
import {checkSecretName} from '../../src/lib/secrets/index.ts'
import {rejection} from '../helpers/errors.ts'

describe('generated passwords', () => {
  it('have the length asked for, every character class, and nothing a shell, a URL or a config line would mangle', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 500; i++) {
      const password = generatePassword(PASSWORD_LENGTH.min)
      assert.equal(password.length, PASSWORD_LENGTH.min)
      assert.match(password, /^[A-Za-z][A-Za-z0-9._-]+$/)
      for (const members of [/[a-z]/, /[A-Z]/, /[0-9]/, /[._-]/]) assert.match(password, members)
      assert.equal(encodeURIComponent(password), password)
      seen.add(password)
    }
    assert.equal(seen.size, 500)
    assert.equal(generatePassword().length, 32)
  })

  it('refuse a length out of range with exit 2 naming the range', async () => {
    const error = await rejection((async () => generatePassword(8))())
    assert.equal(error.exitCode, 2)
    assert.match(error.hint!, /from 16 to 128/)
  })
})

describe('MariaDB and MySQL statements', () => {
  it('hashes like mysql_native_password (PASSWORD() on MariaDB 10.11)', () => {
    assert.equal(nativeHash('oldpw'), '*9C774F8ECADE07E5287226DDDED1F62992C6954A')
    assert.equal(nativeHash('newpw'), '*DF0732E0434670AF9F0199F4D2837342EBE03C63')
  })

  it('reads the ways in of mysql.global_priv, the {} of auth_or standing for the main plugin', () => {
    const single = '{"access":0,"plugin":"mysql_native_password","authentication_string":"*9C77"}'
    assert.deepEqual(authAlternatives(single), [{plugin: 'mysql_native_password', auth: '*9C77'}])
    const both = '{"plugin":"mysql_native_password","authentication_string":"*9C77","auth_or":[{},{"plugin":"mysql_native_password","authentication_string":"*DF07"}]}'
    assert.deepEqual(authAlternatives(both).map((a) => a.auth), ['*9C77', '*DF07'])
    assert.deepEqual(authAlternatives('{"plugin":"ed25519","authentication_string":"x","auth_or":[{}]}'), [{plugin: 'ed25519', auth: 'x'}])
  })

  it('takes MariaDB through both passwords, the new alone, and back, with hashes only', () => {
    const old = [{plugin: 'mysql_native_password', auth: nativeHash('oldpw')}]
    const both = mariadbAlternativesAfter('add-new', old, 'newpw')
    assert.equal(mariadbIdentifiedVia(both), `IDENTIFIED VIA mysql_native_password USING '${nativeHash('oldpw')}' OR mysql_native_password USING '${nativeHash('newpw')}'`)
    // Repeated (a resumed rotation), the new hash is not added twice.
    assert.deepEqual(mariadbAlternativesAfter('add-new', both, 'newpw'), both)
    assert.deepEqual(mariadbAlternativesAfter('drop-old', old, 'newpw'), [{plugin: 'mysql_native_password', auth: nativeHash('newpw')}])
    assert.deepEqual(mariadbAlternativesAfter('drop-new', old, 'newpw'), old)
    assert.doesNotMatch(mariadbIdentifiedVia(both), /oldpw|newpw/)
  })

  it('uses RETAIN CURRENT PASSWORD and DISCARD OLD PASSWORD on MySQL 8, the password as a value', () => {
    const previous = {plugin: 'caching_sha2_password', authHex: '2441303035'}
    const passwords = {newPassword: 'n3w', oldPassword: '0ld'}
    assert.deepEqual(mysql8Statement('add-new', 'app', '%', previous, passwords), {sql: 'ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD', values: ['app', '%', 'n3w']})
    assert.deepEqual(mysql8Statement('drop-old', 'app', '%', previous, passwords), {sql: 'ALTER USER ?@? DISCARD OLD PASSWORD', values: ['app', '%']})
    // Rollback: the old password becomes the primary again, the new one the secondary, then it is discarded.
    assert.deepEqual(mysql8Statement('add-old', 'app', '%', previous, passwords), {sql: 'ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD', values: ['app', '%', '0ld']})
    assert.deepEqual(mysql8Statement('drop-new', 'app', '%', previous, passwords), {sql: 'ALTER USER ?@? DISCARD OLD PASSWORD', values: ['app', '%']})
    // Without the old password, its stored hash is put back as it was.
    assert.deepEqual(mysql8Statement('add-old', 'app', '%', previous, {newPassword: 'n3w'}), {sql: 'ALTER USER ?@? IDENTIFIED WITH caching_sha2_password AS 0x2441303035', values: ['app', '%']})
    assert.throws(() => mysql8Statement('add-old', 'app', '%', {plugin: 'caching_sha2_password', authHex: "0' OR 1"}, {newPassword: 'n3w'}))
  })

  it('compares grants without the credentials MariaDB prints in them', () => {
    assert.equal(grantWithoutCredentials("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*9C77'"), 'GRANT USAGE ON *.* TO `app`@`%`')
    assert.equal(grantWithoutCredentials("GRANT ALL PRIVILEGES ON *.* TO `a`@`%` IDENTIFIED VIA mysql_native_password USING '*9C77' OR mysql_native_password USING '*DF07' WITH GRANT OPTION"), 'GRANT ALL PRIVILEGES ON *.* TO `a`@`%` WITH GRANT OPTION')
    assert.equal(grantWithoutCredentials('GRANT SELECT ON `db`.* TO `app`@`%`'), 'GRANT SELECT ON `db`.* TO `app`@`%`')
  })
})

describe('Redis ACL rules', () => {
  const old = aclHash('old')
  const fresh = aclHash('new')
  it('adds and removes passwords by hash, only what is needed, so a repeated step is a no-op', () => {
    assert.deepEqual(aclRules('add-new', [old], [old], 'new'), [`#${fresh}`])
    assert.deepEqual(aclRules('add-new', [old, fresh], [old], 'new'), [])
    assert.deepEqual(aclRules('drop-old', [old, fresh], [old], 'new'), [`!${old}`])
    assert.deepEqual(aclRules('drop-old', [fresh], [old], 'new'), [])
    assert.deepEqual(aclRules('add-old', [fresh], [old], 'new'), [`#${old}`])
    assert.deepEqual(aclRules('drop-new', [old, fresh], [old], 'new'), [`!${fresh}`])
  })

  it('reads ACL GETUSER replies', () => {
    assert.deepEqual(parseAclUser(['flags', ['on'], 'passwords', [old], 'commands', '+get']), {flags: ['on'], passwords: [old], commands: '+get'})
  })
})

describe('secret names', () => {
  it('take the default rotation names, and refuse anything that could leave the directory', () => {
    for (const name of ['backup-s3-key', 'prod/app_rw@%', '127.0.0.1:3306/app@10.0.%', 'cache/app']) assert.equal(checkSecretName(name), name)
    for (const name of ['../x', 'a/../b', '/abs', 'a//b', 'a/', '.hidden', 'sp ace', 'a\\b']) assert.throws(() => checkSecretName(name), /is not a secret name/, name)
  })
})

describe('the rotation lock', () => {
  it('refuses a second holder at once with exit 2, and takes over the lock of a process that died', async () => {
    const journal = new FileRotationJournal({DBAKIT_HOME: mkdtempSync(join(tmpdir(), 'dbakit-rot-lock-'))})
    await journal.withLock('mariadb:db:3306:app@%', async () => {
      const error = await rejection(journal.withLock('mariadb:db:3306:app@%', async () => {}))
      assert.equal(error.code, 'ROTATION_LOCKED')
      assert.equal(error.exitCode, 2)
      assert.match(error.message, new RegExp(`db:3306:app@% is being rotated by another process \\(pid ${process.pid} `))
      // Another account is another lock.
      await journal.withLock('mariadb:db:3306:other@%', async () => {})
    })
    // A holder killed with -9 leaves its lock file: the next taker sees its process is gone.
    const lockPath = join(journal.directory, 'dead.lock')
    const dead = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(lockPath)}, JSON.stringify({pid: process.pid, host: require('os').hostname(), nonce: 'x'}))`])
    assert.equal(dead.status, 0)
    let ran = false
    const {withFileLock} = await import('../../src/lib/core/lock.ts')
    await withFileLock(lockPath, async () => void (ran = true), {timeoutMs: 0, staleMs: Number.POSITIVE_INFINITY, busy: () => new Error('busy'), unwritable: (error) => error as Error})
    assert.equal(ran, true)
  })
})

describe('MongoDB alternating users', () => {
  const roles = [{role: 'readWrite', db: 'app'}]
  const first = {active: 'app', inactive: 'app_clone', inactiveExisted: false, roles, database: 'admin'}
  it('flips between the user and its _clone', () => {
    assert.equal(partnerOf('app', 'app'), 'app_clone')
    assert.equal(partnerOf('app_clone', 'app'), 'app')
  })

  it('creates the partner with the same roles, then locks the old user out with a password nobody holds', () => {
    assert.deepEqual(mongoPlan('add-new', first, true), [{command: 'createUser', user: 'app_clone', password: 'new', roles}])
    assert.deepEqual(mongoPlan('add-new', {...first, inactiveExisted: true}, true), [{command: 'updateUser', user: 'app_clone', password: 'new', roles}])
    assert.deepEqual(mongoPlan('drop-old', first, true), [{command: 'updateUser', user: 'app', password: 'random'}])
  })

  it('rolls back by giving the old user its password again, and removing a partner it created', async () => {
    assert.deepEqual(mongoPlan('add-old', first, true), [{command: 'updateUser', user: 'app', password: 'old'}])
    assert.deepEqual(mongoPlan('drop-new', first, true), [{command: 'dropUser', user: 'app_clone'}])
    assert.deepEqual(mongoPlan('drop-new', {...first, inactiveExisted: true}, true), [{command: 'updateUser', user: 'app_clone', password: 'random'}])
    const error = await rejection((async () => mongoPlan('add-old', first, false))())
    assert.equal(error.code, 'ROTATION_ROLLBACK_IMPOSSIBLE')
  })
})
