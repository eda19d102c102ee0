#!/usr/bin/env node
// Written so that any Node can parse it: the version check must run before anything that an older
// Node cannot load (a named import it lacks fails before a single line runs, with a stack trace).
// The minimum is package.json's engines.node; a test keeps the two equal.
const MINIMUM = [22, 18, 0]

const found = process.versions.node.split('.').map(Number)
const tooOld = found[0] !== MINIMUM[0] ? found[0] < MINIMUM[0] : found[1] !== MINIMUM[1] ? found[1] < MINIMUM[1] : found[2] < MINIMUM[2]
if (tooOld) {
  process.stderr.write(
    `Error: dbakit needs Node.js ${MINIMUM.join('.')} or newer (24 LTS recommended); this is Node ${process.versions.node} (${process.execPath}).\n` +
      'Hint: install Node.js 24 LTS (https://nodejs.org/en/download, nvm install 24, or your package manager),\n' +
      '      or use the standalone dbakit tarball, which carries its own Node.\n',
  )
  process.exit(3)
}

const {enableCompileCache} = await import('node:module')
// Caches compiled bytecode between runs: start-up is most of a short command's time.
enableCompileCache?.()

// `dbakit audit ... | head -1`: the reader left, which is not an error of ours, and must not change
// the result either. The command goes on with nowhere to write and exits with the status it would
// have had: an audit with failing findings still exits 1 (a listing exits 0, as before).
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error
  process.stdout.write = (_chunk, encoding, callback) => {
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') process.nextTick(done)
    return true
  }
})

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
