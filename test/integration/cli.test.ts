import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {freshHome, projectRoot, runCli} from '../helpers/cli.ts'

const manifest = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, {flags: Record<string, unknown>; examples?: unknown[]}>
}

describe('the dbakit command line', () => {
  it('lists the topics that exist, with exit codes and environment, and no placeholders', async () => {
    const {code, stdout} = await runCli(['--help'])
    assert.equal(code, 0)
    assert.match(stdout, /TOPICS[\s\S]*profile/)
    assert.match(stdout, /autocomplete/)
    assert.match(stdout, /EXIT CODES[\s\S]*130/)
    assert.match(stdout, /DBAKIT_CONFIG/)
    const ids = Object.keys(manifest.commands)
    for (const topic of ['schema', 'backup', 'capacity', 'secret', 'kms']) {
      const listed = new RegExp(`^  ${topic}\\b`, 'm').test(stdout)
      const exists = ids.some((id) => id.startsWith(`${topic}:`))
      assert.equal(listed, exists, exists ? `${topic} has commands but is not listed` : `${topic} must not appear before it has a command`)
    }
  })

  it('prints its version', async () => {
    const {code, stdout} = await runCli(['--version'])
    assert.equal(code, 0)
    assert.match(stdout, /^dbakit\/\d+\.\d+\.\d+ /)
  })

  it('documents flags, env vars, examples and exit codes in a command\'s help', async () => {
    const {code, stdout} = await runCli(['profile', 'test', '--help'])
    assert.equal(code, 0)
    for (const part of ['--profile', '--url', '--password-stdin', '--json', 'EXAMPLES', 'ENVIRONMENT', 'DBAKIT_PROFILE', 'DBAKIT_PASSWORD', 'EXIT CODES']) {
      assert.ok(stdout.includes(part), `help lacks ${part}`)
    }
  })

  it('gives every command --json and at least one example', () => {
    const ids = Object.keys(manifest.commands)
    assert.ok(ids.length >= 5)
    for (const id of ids) {
      assert.ok('json' in manifest.commands[id]!.flags, `${id} has no --json`)
      assert.ok((manifest.commands[id]!.examples ?? []).length > 0, `${id} has no example`)
    }
  })

  it('never takes an argument from stdin, which carries passwords and SQL', async () => {
    const home = freshHome()
    const {writeFileSync} = await import('node:fs')
    writeFileSync(join(home, 'config.yaml'), 'profiles:\n  prod:\n    url: mysql://dba@db1\n')
    const {code, stdout, stderr} = await runCli(['profile', 'show'], {input: 'prod\n', env: {DBAKIT_HOME: home}})
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /Missing 1 required arg/)
  })

  it('answers an unknown command with exit 2 and the closest command', async () => {
    const {code, stdout, stderr} = await runCli(['profile', 'tset'])
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /"profile tset" is not a dbakit command/)
    assert.match(stderr, /did you mean `dbakit profile test`/)
  })

  it('answers an unknown flag with exit 2 and the closest flag', async () => {
    const {code, stderr} = await runCli(['profile', 'list', '--jsno'], {env: {DBAKIT_HOME: freshHome()}})
    assert.equal(code, 2)
    assert.match(stderr, /unknown flag --jsno/)
    assert.match(stderr, /did you mean --json\?/)
  })

  it('prints errors as one JSON document on stdout under --json', async () => {
    const {code, stdout} = await runCli(['profile', 'show', 'nope', '--json'], {env: {DBAKIT_HOME: freshHome()}})
    assert.equal(code, 2)
    const document = JSON.parse(stdout)
    assert.equal(document.error.code, 'PROFILE_NOT_FOUND')
    assert.equal(document.error.exitCode, 2)
    assert.match(document.error.hint, /profile add nope/)
  })

  it('colours errors only when asked to, and honours NO_COLOR', async () => {
    const home = freshHome()
    const forced = await runCli(['profile', 'show', 'nope'], {env: {DBAKIT_HOME: home, FORCE_COLOR: '1'}})
    assert.match(forced.stderr, /\u001B\[31mError:/)
    const plain = await runCli(['profile', 'show', 'nope'], {env: {DBAKIT_HOME: home, FORCE_COLOR: '1', NO_COLOR: '1'}})
    assert.doesNotMatch(plain.stderr, /\u001B\[/)
    const piped = await runCli(['profile', 'show', 'nope'], {env: {DBAKIT_HOME: home}})
    assert.doesNotMatch(piped.stderr, /\u001B\[/)
  })

  it('reports an unreadable config with exit 2, naming the file and the line', async () => {
    const home = freshHome()
    const {writeFileSync} = await import('node:fs')
    writeFileSync(join(home, 'config.yaml'), 'profiles:\n  prod:\n    url: [unclosed\n')
    const {code, stderr} = await runCli(['profile', 'list'], {env: {DBAKIT_HOME: home}})
    assert.equal(code, 2)
    assert.match(stderr, new RegExp(`${join(home, 'config.yaml')}:\\d+: `))
  })
})

describe('dbakit autocomplete', () => {
  it('prints the setup for the named shell, pointing at a script that exists', async () => {
    const {code, stdout} = await runCli(['autocomplete', 'fish', '--json'])
    assert.equal(code, 0)
    const result = JSON.parse(stdout)
    assert.equal(result.shell, 'fish')
    assert.ok(readFileSync(result.script, 'utf8').includes('complete -c dbakit'))
  })

  it('prints the script itself with --script', async () => {
    const {code, stdout} = await runCli(['autocomplete', 'bash', '--script'])
    assert.equal(code, 0)
    assert.match(stdout, /complete -o default -F _dbakit dbakit/)
  })

  it('asks for the shell by name when $SHELL is not one it knows', async () => {
    const {code, stderr} = await runCli(['autocomplete'], {env: {SHELL: '/bin/tcsh'}})
    assert.equal(code, 2)
    assert.match(stderr, /dbakit autocomplete bash\|zsh\|fish/)
  })
})
