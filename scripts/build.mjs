// Compiles src/ to dist/ and writes oclif.manifest.json, so that --help and every command start
// without importing all command modules. Runs on `npm install` (prepare) and before tests.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const run = (script, args) => {
  try {
    execFileSync(process.execPath, [require.resolve(script), ...args], {stdio: 'inherit'})
  } catch {
    // The tool has already printed its errors; a stack trace of this script adds nothing.
    process.exit(1)
  }
}

rmSync('dist', {recursive: true, force: true})
rmSync('oclif.manifest.json', {force: true})
run('typescript/bin/tsc', ['-p', 'tsconfig.json'])
run('oclif/bin/run.js', ['manifest'])
