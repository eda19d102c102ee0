import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {freshHome, projectRoot, runCli, type CliOptions} from '../helpers/cli.ts'
import {keyringBus, mariadb} from '../helpers/services.ts'

const {version} = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {version: string}
const pinnedNode = process.env.DBAKIT_NODE_VERSION ?? /VERSION=\$\{DBAKIT_NODE_VERSION:-([\d.]+)\}/.exec(readFileSync(join(projectRoot, 'scripts', 'node'), 'utf8'))?.[1]
const example = join(projectRoot, 'examples', 'migrations', 'V2__cleanup.sql')

describe('the standalone tarball (npm run pack)', () => {
  const work = mkdtempSync(join(tmpdir(), 'dbakit-pack-test-'))
  // A PATH with nothing on it: neither the machine's Node (/usr/bin/node here) nor any other tool.
  const emptyPath = join(work, 'empty-path')
  const unpacked = join(work, 'opt', 'dbakit')
  const launcher = join(unpacked, 'bin', 'dbakit')
  const standalone = (path: string, args: string[], options: CliOptions = {}) =>
    runCli(args, {...options, launcher: path, env: {PATH: emptyPath, ...options.env}})

  before(() => {
    mkdirSync(emptyPath)
    // Built once for the file: the build compiles the CLI and compresses a 120 MB Node.
    const built = spawnSync('npm', ['run', '--silent', 'pack', '--', '--out-dir', join(work, 'out')], {cwd: projectRoot, encoding: 'utf8'})
    assert.equal(built.status, 0, built.stderr)
    const tarball = built.stdout.trim()
    assert.equal(basename(tarball), `dbakit-${version}-linux-x64.tar.gz`)
    mkdirSync(join(work, 'opt'))
    const extracted = spawnSync('tar', ['-xzf', tarball, '-C', join(work, 'opt')], {encoding: 'utf8'})
    assert.equal(extracted.status, 0, extracted.stderr)
  })

  after(() => rmSync(work, {recursive: true, force: true}))

  it('runs its own Node with no Node on PATH', async () => {
    const {code, stdout, stderr} = await standalone(launcher, ['--version'])
    assert.equal(code, 0, stderr)
    assert.equal(stdout.trim(), `dbakit/${version} linux-x64 node-v${pinnedNode}`)
  })

  it('audits a migration through a symlink in another directory, as from /usr/local/bin', async () => {
    const linkDir = join(work, 'usr-local-bin')
    mkdirSync(linkDir)
    symlinkSync(launcher, join(linkDir, 'dbakit'))
    const {code, stdout, stderr} = await standalone(join(linkDir, 'dbakit'), ['audit', example])
    assert.equal(code, 1, stderr)
    assert.match(stdout, /error +UPDATE orders has no WHERE clause.*\[dml-update-without-where\]/)
    assert.match(stdout, /^\d+ errors, \d+ warnings, \d+ notices? in 1 file/m)
  })

  it('follows a relative symlink, and a chain of them', async () => {
    const linkDir = join(work, 'links')
    mkdirSync(linkDir)
    symlinkSync(join('..', 'opt', 'dbakit', 'bin', 'dbakit'), join(linkDir, 'first'))
    symlinkSync('first', join(linkDir, 'dbakit'))
    const {code, stdout, stderr} = await standalone(join(linkDir, 'dbakit'), ['--version'])
    assert.equal(code, 0, stderr)
    assert.match(stdout, new RegExp(`^dbakit/${version} `))
  })

  it('keeps a password in the keychain with its bundled keytar and connects with it', async () => {
    const name = `standalone-${process.pid}`
    const env = {DBAKIT_HOME: freshHome(), DBUS_SESSION_BUS_ADDRESS: keyringBus()}
    const added = await standalone(launcher, ['profile', 'add', name, '--url', mariadb.primaryUrl, '--password-stdin'], {input: `${mariadb.password}\n`, env})
    assert.equal(added.code, 0, added.stderr)
    try {
      const tested = await standalone(launcher, ['profile', 'test', name, '--json'], {env})
      assert.equal(tested.code, 0, tested.stderr)
      assert.equal(JSON.parse(tested.stdout).flavor, 'mariadb')
    } finally {
      await standalone(launcher, ['profile', 'remove', name, '--yes'], {env})
    }
  })

  it('carries production packages only, and no TypeScript sources', () => {
    assert.ok(existsSync(join(unpacked, 'node_modules', '@oclif', 'core')))
    for (const devOnly of ['typescript', 'oclif', 'ajv', '@types/node']) assert.ok(!existsSync(join(unpacked, 'node_modules', devOnly)), `${devOnly} is in the tarball`)
    assert.ok(!existsSync(join(unpacked, 'src')))
    assert.ok(existsSync(join(unpacked, 'node', 'LICENSE')), 'the bundled Node comes without its licence')
  })
})
