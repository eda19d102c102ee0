import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join} from 'node:path'
import {after, describe, it} from 'node:test'
import {projectRoot} from '../helpers/cli.ts'

const runJs = join(projectRoot, 'bin', 'run.js')
const nodeWrapper = join(projectRoot, 'scripts', 'node')

function nodeMajor(binary: string): number {
  try {
    return Number(execFileSync(binary, ['-p', 'process.versions.node.split(".")[0]'], {encoding: 'utf8'}).trim())
  } catch {
    return 0
  }
}

/** A Node older than 22 on this machine (Debian 12 ships 20), if there is one. */
const oldNode = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((binary) => existsSync(binary) && nodeMajor(binary) > 0 && nodeMajor(binary) < 22)
const skipWithoutOldNode = oldNode ? false : 'skipped: no Node older than 22 on this machine to run bin/run.js with'
if (!oldNode) console.log(`# ${skipWithoutOldNode}`)

const scratch = mkdtempSync(join(tmpdir(), 'dbakit-node-runtime-'))
after(() => rmSync(scratch, {recursive: true, force: true}))

/** A directory holding only a `node` link to the given binary, to put first on a PATH. */
function pathWithNode(binary: string): string {
  const dir = mkdtempSync(join(scratch, 'bin-'))
  symlinkSync(binary, join(dir, 'node'))
  return [dir, process.env.PATH].join(delimiter)
}

describe('the Node runtime', () => {
  it('bin/run.js on an old Node says which Node it found and which it needs, and exits 3', {skip: skipWithoutOldNode}, () => {
    const result = spawnSync(oldNode!, [runJs, 'audit', '-'], {input: 'SELECT 1;', encoding: 'utf8'})
    assert.equal(result.status, 3, result.stderr)
    assert.equal(result.stdout, '')
    const found = execFileSync(oldNode!, ['-p', 'process.versions.node'], {encoding: 'utf8'}).trim()
    assert.match(result.stderr, new RegExp(`needs Node\\.js 22\\.18\\.0 or newer.*this is Node ${found.replace(/\./g, '\\.')}`))
    assert.match(result.stderr, /install Node\.js 24/)
    assert.doesNotMatch(result.stderr, /SyntaxError|at .*:\d+:\d+/, 'no stack trace')
  })

  it("bin/run.js's minimum is package.json's engines.node", () => {
    const engines = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).engines.node as string
    const minimum = /const MINIMUM = \[(\d+), (\d+), (\d+)\]/.exec(readFileSync(runJs, 'utf8'))
    assert.ok(minimum, 'bin/run.js declares MINIMUM')
    assert.equal(engines, `>=${minimum.slice(1).join('.')}`)
  })

  it('scripts/node uses the machine Node when it is new enough', () => {
    const result = spawnSync(nodeWrapper, ['node', '-p', 'process.execPath'], {encoding: 'utf8', env: {...process.env, PATH: pathWithNode(process.execPath)}})
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stdout.trim(), process.execPath)
    assert.equal(result.stderr, '', 'nothing fetched, nothing said')
  })

  it('scripts/node puts a cached Node 24 first when the machine Node is older, and the CLI runs under it', {skip: skipWithoutOldNode}, () => {
    // The cache the suite itself runs from (scripts/node fetched it for `npm test`) when that is how
    // this run started; otherwise a cache of its own, which this test fills from the npm registry.
    const cache = process.env.DBAKIT_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), '.cache'), 'dbakit', 'node')
    mkdirSync(cache, {recursive: true})
    const env = {...process.env, PATH: pathWithNode(oldNode!), DBAKIT_NODE_CACHE: cache, npm_config_nodedir: undefined}
    const version = spawnSync(nodeWrapper, ['node', '--version'], {encoding: 'utf8', env})
    assert.equal(version.status, 0, version.stderr)
    assert.match(version.stdout, /^v24\./)
    const home = dirname(dirname(spawnSync(nodeWrapper, ['node', '-p', 'process.execPath'], {encoding: 'utf8', env}).stdout.trim()))
    assert.ok(home.startsWith(cache), `${home} is in ${cache}`)
    const nodedir = spawnSync(nodeWrapper, ['sh', '-c', 'echo "$npm_config_nodedir"'], {encoding: 'utf8', env})
    assert.equal(nodedir.stdout.trim(), home, 'native addons build against the Node that loads them')

    const audit = spawnSync(nodeWrapper, ['node', runJs, 'audit', '-'], {input: 'DROP TABLE orders;', encoding: 'utf8', env})
    assert.equal(audit.status, 1, audit.stderr)
    assert.match(audit.stdout, /destructive-drop-table/)
  })

  it('scripts/dbakit runs the CLI in the directory it was started from', () => {
    const result = spawnSync(join(projectRoot, 'scripts', 'dbakit'), ['audit', 'V2__cleanup.sql', '--format', 'json'], {cwd: join(projectRoot, 'examples', 'migrations'), encoding: 'utf8'})
    assert.equal(result.status, 1, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.summary.files, 1)
    assert.ok(report.findings.every((finding: {file: string}) => finding.file === 'V2__cleanup.sql'))
  })

  it('scripts/node without a command is a usage error', () => {
    const result = spawnSync(nodeWrapper, [], {encoding: 'utf8'})
    assert.equal(result.status, 2)
    assert.match(result.stderr, /usage: scripts\/node COMMAND/)
  })
})
