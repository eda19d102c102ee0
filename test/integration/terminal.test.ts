import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {freshHome, runCli, runInTerminal} from '../helpers/cli.ts'
import {forgetKeychainEntries} from '../helpers/keychain.ts'
import {keyringBus, mariadb} from '../helpers/services.ts'

const withProfile = () => {
  const home = freshHome()
  writeFileSync(join(home, 'config.yaml'), 'profiles:\n  old:\n    url: mysql://dba@db1\n    password: none\n')
  return home
}

describe('at a terminal', () => {
  it('asks before removing a profile and keeps it when the answer is no (exit 4)', async () => {
    const home = withProfile()
    const result = await runInTerminal(['profile', 'remove', 'old'], [{prompt: /Remove profile old/, type: 'n\r'}], {DBAKIT_HOME: home})
    assert.equal(result.code, 4, result.stdout)
    assert.match(readFileSync(join(home, 'config.yaml'), 'utf8'), /old:/)
  })

  it('removes the profile when the answer is yes', async () => {
    const home = withProfile()
    const result = await runInTerminal(['profile', 'remove', 'old'], [{prompt: /Remove profile old/, type: 'y\r'}], {DBAKIT_HOME: home})
    assert.equal(result.code, 0, result.stdout)
    assert.doesNotMatch(readFileSync(join(home, 'config.yaml'), 'utf8'), /old:/)
  })

  it('shows audit progress on the terminal, and none when stderr is a pipe', async () => {
    const home = freshHome()
    const file = join(home, 'two.sql')
    writeFileSync(file, 'SELECT 1;\nSELECT 2;\n')
    const shown = await runInTerminal(['audit', file], [], {DBAKIT_HOME: home})
    assert.equal(shown.code, 0, shown.stdout)
    assert.match(shown.stdout, /\d+% 1\/2 auditing /)
    const piped = await runCli(['audit', file], {env: {DBAKIT_HOME: home, CI: undefined}})
    assert.equal(piped.stderr, '')
  })

  const keychainHomes: string[] = []
  after(() => forgetKeychainEntries(keychainHomes))

  it('asks for the password without echoing it and keeps it in the keychain', async () => {
    const home = freshHome()
    keychainHomes.push(home)
    const name = `asked-${process.pid}`
    const env = {DBAKIT_HOME: home, DBUS_SESSION_BUS_ADDRESS: keyringBus()}
    const added = await runInTerminal(['profile', 'add', name, '--url', mariadb.primaryUrl], [{prompt: /Password for/, type: `${mariadb.password}\r`}], env)
    assert.equal(added.code, 0, added.stdout)
    assert.ok(!added.stdout.includes(mariadb.password), 'the password was echoed')
    assert.ok(!readFileSync(join(home, 'config.yaml'), 'utf8').includes(mariadb.password))
    const tested = await runInTerminal(['profile', 'test', name], [], env)
    assert.equal(tested.code, 0, tested.stdout)
    assert.match(tested.stdout, /role\s+primary/)
  })

  it('sets up a passphrase key typed twice, keeps a secret typed twice, and shows it on the terminal only with --reveal', async () => {
    const home = freshHome()
    const env = {DBAKIT_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-bus')}`}
    const passphrase = 'typed at the keyboard twice'
    const init = await runInTerminal(['kms', 'init', '--provider', 'passphrase'], [
      {prompt: /Use a passphrase key/, type: 'y\r'},
      {prompt: /A new dbakit passphrase:/, type: `${passphrase}\r`},
      {prompt: /passphrase again:/, type: `${passphrase}\r`},
    ], env)
    assert.equal(init.code, 0, init.stdout)
    assert.doesNotMatch(init.stdout, new RegExp(passphrase), 'the passphrase was echoed')
    const set = await runInTerminal(['secret', 'set', 'typed'], [
      {prompt: /Value of typed:/, type: 'keyboard-value\r'},
      {prompt: /Value of typed again:/, type: 'keyboard-value\r'},
    ], {...env, DBAKIT_KMS_PASSPHRASE: passphrase})
    assert.equal(set.code, 0, set.stdout)
    const hidden = await runInTerminal(['secret', 'get', 'typed'], [], {...env, DBAKIT_KMS_PASSPHRASE: passphrase})
    assert.equal(hidden.code, 2, hidden.stdout)
    assert.match(hidden.stdout, /not printing typed on a terminal/)
    assert.doesNotMatch(hidden.stdout, /keyboard-value/)
    const shown = await runInTerminal(['secret', 'get', 'typed', '--reveal'], [{prompt: /The dbakit passphrase:/, type: `${passphrase}\r`}], env)
    assert.equal(shown.code, 0, shown.stdout)
    assert.match(shown.stdout, /keyboard-value/)
  })
})
