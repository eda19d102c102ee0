import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const runJs = join(projectRoot, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Written to stdin, then stdin is closed. Without it stdin is empty (a pipe, never a terminal). */
  input?: string | Buffer
  env?: Record<string, string | undefined>
  /** Leave stdin open for onSpawn to write to and close. */
  keepStdinOpen?: boolean
  /** Working directory of the CLI (default: this process's). */
  cwd?: string
  /** Called with the child once it is running, e.g. to send it a signal. */
  onSpawn?: (child: ReturnType<typeof spawn>) => void
  /** An executable to run with the arguments instead of this checkout's bin/run.js on this Node. */
  launcher?: string
}

const emptyHome = mkdtempSync(join(tmpdir(), 'dbakit-test-user-'))

/** A fresh, empty DBAKIT_HOME so each test sees only the config it writes. */
export function freshHome(): string {
  return mkdtempSync(join(tmpdir(), 'dbakit-test-home-'))
}

/**
 * Runs the built CLI as a user would: a separate process, stdin a pipe, no terminal, CI set.
 * Colour variables are cleared so that assertions see plain text unless a test asks for colour.
 */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  // An empty HOME: the developer's own ~/.my.cnf or ~/.config must not leak into a test.
  const env: Record<string, string | undefined> = {...process.env, HOME: emptyHome, CI: '1', NO_COLOR: undefined, FORCE_COLOR: undefined, DBAKIT_PASSWORD: undefined}
  for (const [key, value] of Object.entries(options.env ?? {})) env[key] = value
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  return new Promise((resolve, reject) => {
    const [command, commandArgs] = options.launcher ? [options.launcher, args] : [process.execPath, [runJs, ...args]]
    const child = spawn(command, commandArgs, {env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'], ...(options.cwd ? {cwd: options.cwd} : {})})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr}))
    if (!options.keepStdinOpen) child.stdin.end(options.input ?? '')
    options.onSpawn?.(child)
  })
}

/**
 * Runs the CLI on a real pseudo-terminal (util-linux `script`), as a person at a keyboard would, and
 * types each answer once its prompt has appeared on screen.
 */
export function runInTerminal(args: string[], answers: Array<{prompt: RegExp; type: string}>, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const merged: Record<string, string | undefined> = {...process.env, HOME: emptyHome, CI: undefined, NO_COLOR: '1', ...env}
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key]
  const quoted = [process.execPath, runJs, ...args].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', quoted, '/dev/null'], {env: merged as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe']})
    let screen = ''
    let next = 0
    child.stdout.on('data', (chunk) => {
      screen += chunk
      const answer = answers[next]
      if (answer && answer.prompt.test(screen)) {
        next++
        child.stdin.write(answer.type)
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({code, signal, stdout: screen, stderr: ''}))
  })
}
