import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {freshHome, projectRoot, runCli} from '../helpers/cli.ts'
import {forgetKeychainEntries, keychainAccountOf, keychainEntriesOf, keytar} from '../helpers/keychain.ts'
import {keyringBus, mariadb, redis} from '../helpers/services.ts'

// Each test's keychain entries are found through the homes it made (or the legacy accounts it
// stored by hand) and deleted when the tests end.
const keychainHomes: string[] = []
const legacyAccounts = new Set<string>()
after(() => forgetKeychainEntries(keychainHomes, legacyAccounts))

/** A DBAKIT_HOME whose keychain entries are removed when these tests end. */
function keychainHome() {
  const home = freshHome()
  keychainHomes.push(home)
  return {home, env: {DBAKIT_HOME: home, DBUS_SESSION_BUS_ADDRESS: keyringBus()}, config: join(home, 'config.yaml')}
}

/** A profile added through the CLI, in a home of its own, with the password piped on stdin. */
async function withProfile(name: string, url: string, password: string) {
  const into = keychainHome()
  const added = await runCli(['profile', 'add', name, '--url', url, '--password-stdin'], {input: `${password}\n`, env: into.env})
  assert.equal(added.code, 0, added.stderr)
  return into
}

const unique = (prefix: string) => `${prefix}-${process.pid}-${Math.floor(Math.random() * 1e6)}`

describe('profiles against the real servers', () => {
  it('keeps the password in the keychain and never in the config file', async () => {
    const name = unique('primary')
    const {config, home} = await withProfile(name, mariadb.primaryUrl, mariadb.password)
    const text = readFileSync(config, 'utf8')
    assert.ok(!text.includes(mariadb.password), 'config file holds the password')
    assert.match(text, /password: keychain/)
    assert.deepEqual(await keychainEntriesOf(home), [{account: keychainAccountOf(name, home), password: mariadb.password}])
  })

  it('reports the MariaDB primary: flavor, version, role and latency', async () => {
    const {env} = await withProfile(unique('primary'), mariadb.primaryUrl, mariadb.password)
    const name = (await runCli(['profile', 'list', '--json'], {env})).stdout
    const profile = JSON.parse(name).profiles[0].name
    const {code, stdout, stderr} = await runCli(['profile', 'test', profile, '--json'], {env})
    assert.equal(code, 0, stderr)
    const report = JSON.parse(stdout)
    assert.equal(report.flavor, 'mariadb')
    assert.match(report.version, /^10\.\d+\.\d+$/)
    assert.equal(report.role, 'primary')
    assert.equal(report.replicaLagSeconds, null)
    assert.equal(typeof report.latencyMs, 'number')
    assert.equal(report.capabilities.instantAddColumn, true)
  })

  it('reports the MariaDB replica as a replica with its lag and source', async () => {
    const name = unique('replica')
    const {env} = await withProfile(name, mariadb.replicaUrl, mariadb.password)
    const human = await runCli(['profile', 'test', name], {env})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^role\s+replica$/m)
    assert.match(human.stdout, /^replica lag\s+\d+s$/m)
    const report = JSON.parse((await runCli(['profile', 'test', name, '--json'], {env})).stdout)
    assert.equal(report.role, 'replica')
    assert.ok(Number.isInteger(report.replicaLagSeconds) && report.replicaLagSeconds >= 0)
    assert.equal(report.replication.running, true)
    assert.equal(report.replication.source, new URL(mariadb.primaryUrl.replace('mysql:', 'http:')).host)
  })

  it('reports the Redis primary and replica roles', async () => {
    const primary = unique('redis-primary')
    const {env} = await withProfile(primary, redis.primaryUrl, redis.password)
    const primaryReport = JSON.parse((await runCli(['profile', 'test', primary, '--json'], {env})).stdout)
    assert.equal(primaryReport.flavor, 'redis')
    assert.equal(primaryReport.role, 'primary')

    const replica = unique('redis-replica')
    const other = await withProfile(replica, redis.replicaUrl, redis.password)
    const replicaReport = JSON.parse((await runCli(['profile', 'test', replica, '--json'], {env: other.env})).stdout)
    assert.equal(replicaReport.role, 'replica')
    assert.equal(replicaReport.replication.running, true)
    assert.equal(replicaReport.replication.source, new URL(redis.primaryUrl.replace('redis:', 'http:')).host)
  })

  it('reports a caught-up Redis replica as 0 bytes behind, and the time since it last heard from the primary apart from lag', async () => {
    const name = unique('redis-replica')
    const {env} = await withProfile(name, redis.replicaUrl, redis.password)
    const report = JSON.parse((await runCli(['profile', 'test', name, '--json'], {env})).stdout)
    assert.equal(report.role, 'replica')
    assert.equal(report.replicaLagBytes, 0)
    assert.equal(report.replicaLagSeconds, null, 'Redis measures no time lag; seconds since the last ping are not one')
    assert.ok(Number.isInteger(report.replication.lastIoSecondsAgo) && report.replication.lastIoSecondsAgo >= 0)
    assert.ok(Number.isInteger(report.replication.offset) && report.replication.offset > 0)
    assert.ok(report.replication.sourceOffset <= report.replication.offset)
    assert.deepEqual(report.notes, [])

    const human = await runCli(['profile', 'test', name], {env})
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /^replica lag\s+none \(0 bytes behind\)$/m)
    assert.match(human.stdout, /^last heard from source\s+\d+s ago$/m)
  })

  it('connects with --url and the password from DBAKIT_PASSWORD or stdin', async () => {
    const home = freshHome()
    const fromEnv = await runCli(['profile', 'test', '--url', redis.primaryUrl, '--json'], {env: {DBAKIT_HOME: home, DBAKIT_PASSWORD: redis.password}})
    assert.equal(fromEnv.code, 0, fromEnv.stderr)
    const fromStdin = await runCli(['profile', 'test', '--url', mariadb.primaryUrl, '--password-stdin', '--json'], {input: mariadb.password, env: {DBAKIT_HOME: home}})
    assert.equal(fromStdin.code, 0, fromStdin.stderr)
    assert.equal(JSON.parse(fromStdin.stdout).role, 'primary')
  })

  it('takes the password from an environment variable named by the profile', async () => {
    const home = freshHome()
    const added = await runCli(['profile', 'add', 'envsrc', '--url', mariadb.primaryUrl, '--password-env', 'MY_DB_PW'], {env: {DBAKIT_HOME: home}})
    assert.equal(added.code, 0, added.stderr)
    const missing = await runCli(['profile', 'test', 'envsrc'], {env: {DBAKIT_HOME: home}})
    assert.equal(missing.code, 3)
    assert.match(missing.stderr, /\$MY_DB_PW, which is not set/)
    const ok = await runCli(['profile', 'test', 'envsrc', '--json'], {env: {DBAKIT_HOME: home, MY_DB_PW: mariadb.password}})
    assert.equal(ok.code, 0, ok.stderr)
  })

  it('takes the password from a MySQL option file', async () => {
    const home = freshHome()
    const optionFile = join(home, 'my.cnf')
    writeFileSync(optionFile, `[client]\npassword="${mariadb.password}"\n`, {mode: 0o600})
    await runCli(['profile', 'add', 'cnf', '--url', mariadb.primaryUrl, '--defaults-file', optionFile], {env: {DBAKIT_HOME: home}})
    const {code, stderr} = await runCli(['profile', 'test', 'cnf'], {env: {DBAKIT_HOME: home}})
    assert.equal(code, 0, stderr)
  })

  it('takes the password from ~/.my.cnf for a mysql:// URL, as the mysql client does', async () => {
    const home = freshHome()
    writeFileSync(join(home, '.my.cnf'), `[client]\nuser = dbakit\npassword = "${mariadb.password}"\n`, {mode: 0o600})
    const {code, stderr, stdout} = await runCli(['profile', 'test', '--url', mariadb.primaryUrl, '--json'], {env: {DBAKIT_HOME: home, HOME: home}})
    assert.equal(code, 0, stderr)
    assert.equal(JSON.parse(stdout).role, 'primary')
    writeFileSync(join(home, '.my.cnf'), `[client]\nuser = someone_else\npassword = "${mariadb.password}"\n`)
    const otherUser = await runCli(['profile', 'test', '--url', mariadb.primaryUrl], {env: {DBAKIT_HOME: home, HOME: home}})
    assert.equal(otherUser.code, 3, 'a password for another user is not used')
  })

  it('fails authentication with exit 3, naming host:port and user but never the password', async () => {
    const wrong = 'Wr0ng-Passw0rd-42'
    const {code, stdout, stderr} = await runCli(['profile', 'test', '--url', mariadb.primaryUrl, '--password-stdin', '--json', '--verbose'], {
      input: wrong,
      env: {DBAKIT_HOME: freshHome()},
    })
    assert.equal(code, 3)
    const error = JSON.parse(stdout).error
    assert.equal(error.code, 'AUTH_FAILED')
    assert.match(error.message, new RegExp(`dbakit@${new URL(mariadb.primaryUrl.replace('mysql:', 'http:')).host.replace('.', '\\.')}`))
    assert.ok(!`${stdout}${stderr}`.includes(wrong), 'the password leaked into the output')

    const redisWrong = await runCli(['profile', 'test', '--url', redis.primaryUrl], {env: {DBAKIT_HOME: freshHome(), DBAKIT_PASSWORD: wrong}})
    assert.equal(redisWrong.code, 3)
    assert.match(redisWrong.stderr, /authentication failed/)
    assert.ok(!redisWrong.stderr.includes(wrong))
  })

  it('fails with exit 3 when nothing listens on the port', async () => {
    const {code, stderr} = await runCli(['profile', 'test', '--url', 'mysql://dbakit@127.0.0.1:1'], {env: {DBAKIT_HOME: freshHome()}})
    assert.equal(code, 3)
    assert.match(stderr, /cannot connect to dbakit@127\.0\.0\.1:1: connection refused/)
  })

  it('refuses a password in --url with exit 2 and says how to pass it', async () => {
    const {code, stderr} = await runCli(['profile', 'test', '--url', 'mysql://dbakit:topsecret@127.0.0.1:3306'], {env: {DBAKIT_HOME: freshHome()}})
    assert.equal(code, 2)
    assert.match(stderr, /--password-stdin/)
    assert.ok(!stderr.includes('topsecret'))
  })

  it('refuses a password in --url for profile test and audit before reading --password-stdin', async () => {
    for (const command of [['profile', 'test'], ['audit', join(projectRoot, 'examples', 'migrations')], ['audit', 'snapshot', '--out', join(freshHome(), 'schema.json')]]) {
      const {code, stderr} = await runCli([...command, '--url', 'mysql://dbakit:topsecret@127.0.0.1:3306', '--password-stdin'], {env: {DBAKIT_HOME: freshHome()}})
      assert.equal(code, 2, stderr)
      assert.match(stderr, /--url contains a password/, command.join(' '))
      assert.doesNotMatch(stderr, /stdin was empty/)
      assert.ok(!stderr.includes('topsecret'))
    }
  })

  it('refuses a password in --url for profile add before asking where the password comes from', async () => {
    const home = freshHome()
    for (const source of [[], ['--password-stdin']]) {
      const {code, stderr} = await runCli(['profile', 'add', 'x', '--url', 'mysql://dbakit:topsecret@127.0.0.1:3306', ...source], {env: {DBAKIT_HOME: home}})
      assert.equal(code, 2, stderr)
      assert.match(stderr, /--url contains a password/)
      assert.doesNotMatch(stderr, /say where the password comes from|stdin was empty/)
      assert.ok(!stderr.includes('topsecret'))
    }
    assert.equal(existsSync(join(home, 'config.yaml')), false)
  })

  describe('profile add names a file flag it cannot read, with exit 2, and saves nothing', () => {
    const home = freshHome()
    const directory = join(home, 'certs')
    mkdirSync(directory)
    const unreadable = join(home, 'unreadable.pem')
    writeFileSync(unreadable, 'x', {mode: 0o600})
    chmodSync(unreadable, 0)
    const cases: Array<{flag: string; path: string; problem: RegExp; skip?: string | false}> = [
      ...['--tls-ca', '--tls-cert', '--tls-key', '--defaults-file'].flatMap((flag) => [
        {flag, path: join(home, 'missing.pem'), problem: /no such file/},
        {flag, path: directory, problem: /is a directory/},
      ]),
      {flag: '--tls-ca', path: unreadable, problem: /permission denied/, skip: process.getuid?.() === 0 && 'root can read any file'},
    ]
    for (const {flag, path, problem, skip} of cases) {
      it(`${flag} ${path.replace(home, '$HOME')}`, {skip}, async () => {
        const tls = flag.startsWith('--tls') ? ['--tls-mode', 'verify-ca'] : []
        const source = flag === '--defaults-file' ? [] : ['--no-password']
        const {code, stderr} = await runCli(['profile', 'add', 'x', '--url', mariadb.primaryUrl, ...source, ...tls, flag, path], {env: {DBAKIT_HOME: home}})
        assert.equal(code, 2, stderr)
        assert.ok(stderr.includes(path), `the error names ${path}: ${stderr}`)
        assert.ok(stderr.includes(flag), `the error names ${flag}: ${stderr}`)
        assert.match(stderr, problem)
        assert.equal(existsSync(join(home, 'config.yaml')), false)
      })
    }
  })

  it('asks for a password source instead of prompting when there is no terminal', async () => {
    const home = freshHome()
    const {code, stderr} = await runCli(['profile', 'add', 'x', '--url', mariadb.primaryUrl], {env: {DBAKIT_HOME: home}})
    assert.equal(code, 2)
    assert.match(stderr, /--password-stdin/)
    const listed = await runCli(['profile', 'list', '--json'], {env: {DBAKIT_HOME: home}})
    assert.deepEqual(JSON.parse(listed.stdout), {profiles: []})
  })

  it('removes a profile only when confirmed, and removes its keychain secret', async () => {
    const name = unique('doomed')
    const {env, config, home} = await withProfile(name, mariadb.primaryUrl, mariadb.password)

    const refused = await runCli(['profile', 'remove', name], {env})
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /--yes/)

    const dry = await runCli(['profile', 'remove', name, '--dry-run', '--json'], {env})
    assert.equal(dry.code, 0)
    assert.equal(JSON.parse(dry.stdout).dryRun, true)
    assert.match(readFileSync(config, 'utf8'), new RegExp(name))
    assert.equal((await keychainEntriesOf(home)).length, 1)

    const removed = await runCli(['profile', 'remove', name, '--yes', '--json'], {env})
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(JSON.parse(removed.stdout).removedKeychainSecret, true)
    assert.doesNotMatch(readFileSync(config, 'utf8'), new RegExp(name))
    assert.deepEqual(await keychainEntriesOf(home), [])
  })

  it('keeps the passwords of two configs apart when both have a profile of the same name', async () => {
    assert.notEqual(mariadb.password, redis.password, 'the test needs two different passwords')
    const first = await withProfile('prim', mariadb.primaryUrl, mariadb.password)
    const second = await withProfile('prim', redis.primaryUrl, redis.password)

    const firstReport = await runCli(['profile', 'test', 'prim', '--json'], {env: first.env})
    assert.equal(firstReport.code, 0, firstReport.stdout)
    assert.equal(JSON.parse(firstReport.stdout).flavor, 'mariadb')
    const secondReport = await runCli(['profile', 'test', 'prim', '--json'], {env: second.env})
    assert.equal(secondReport.code, 0, secondReport.stdout)
    assert.equal(JSON.parse(secondReport.stdout).flavor, 'redis')

    const removed = await runCli(['profile', 'remove', 'prim', '--yes', '--json'], {env: second.env})
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(JSON.parse(removed.stdout).removedKeychainSecret, true)
    assert.deepEqual(await keychainEntriesOf(second.home), [])
    const stillWorks = await runCli(['profile', 'test', 'prim'], {env: first.env})
    assert.equal(stillWorks.code, 0, stillWorks.stderr)
    assert.deepEqual(await keychainEntriesOf(first.home), [{account: keychainAccountOf('prim', first.home), password: mariadb.password}])
  })

  it('replaces the keychain password when a profile is added again, leaving no stale entry', async () => {
    const name = unique('readded')
    const into = await withProfile(name, mariadb.primaryUrl, 'an-old-password')
    const refused = await runCli(['profile', 'add', name, '--url', mariadb.primaryUrl, '--password-stdin'], {input: mariadb.password, env: into.env})
    assert.equal(refused.code, 2, 'a second add without --force is refused')
    const again = await runCli(['profile', 'add', name, '--url', mariadb.primaryUrl, '--password-stdin', '--force'], {input: mariadb.password, env: into.env})
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(await keychainEntriesOf(into.home), [{account: keychainAccountOf(name, into.home), password: mariadb.password}])
    const tested = await runCli(['profile', 'test', name], {env: into.env})
    assert.equal(tested.code, 0, tested.stderr)

    const toEnv = await runCli(['profile', 'add', name, '--url', mariadb.primaryUrl, '--password-env', 'SOME_VAR', '--force'], {env: into.env})
    assert.equal(toEnv.code, 0, toEnv.stderr)
    assert.deepEqual(await keychainEntriesOf(into.home), [], 'a profile that left the keychain leaves no password there')
  })

  it('moves a password stored under the profile name alone to its config file\'s entry on first use', async () => {
    const name = unique('legacy')
    const legacy = `profile:${name}`
    const k = await keytar()
    legacyAccounts.add(legacy)
    await k.setPassword('dbakit', legacy, mariadb.password)
    const owner = keychainHome()
    const other = keychainHome()
    const config = `profiles:\n  ${name}:\n    url: ${mariadb.primaryUrl}\n    password: keychain\n`
    writeFileSync(owner.config, config, {mode: 0o600})
    writeFileSync(other.config, config, {mode: 0o600})

    const migrated = await runCli(['profile', 'test', name, '--json'], {env: owner.env})
    assert.equal(migrated.code, 0, migrated.stdout)
    assert.equal(await k.getPassword('dbakit', legacy), null, 'the shared entry is gone')
    assert.deepEqual(await keychainEntriesOf(owner.home), [{account: keychainAccountOf(name, owner.home), password: mariadb.password}])
    const again = await runCli(['profile', 'test', name], {env: owner.env})
    assert.equal(again.code, 0, again.stderr)

    // The first config to read the shared entry took it; the other is told to store its own.
    const second = await runCli(['profile', 'test', name, '--json'], {env: other.env})
    assert.equal(second.code, 3)
    assert.equal(JSON.parse(second.stdout).error.code, 'KEYCHAIN_SECRET_MISSING')
    assert.match(JSON.parse(second.stdout).error.hint, /--force --password-stdin/)
  })

  it('says the keychain is unreachable with exit 3 and offers the headless sources', async () => {
    const {code, stderr} = await runCli(['profile', 'add', 'nokeychain', '--url', mariadb.primaryUrl, '--password-stdin'], {
      input: 'irrelevant',
      env: {DBAKIT_HOME: freshHome(), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', DISPLAY: undefined},
    })
    assert.equal(code, 3)
    assert.match(stderr, /keychain/)
    assert.match(stderr, /--password-env/)
  })
})
