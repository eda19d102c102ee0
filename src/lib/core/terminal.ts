/**
 * Whether a human is at the keyboard. Prompts need both ends of the conversation on a terminal
 * and never run in CI, where nobody would answer and the job would hang.
 */
export function isInteractive(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !isCi(env)
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false'
}

/** Progress is drawn only where a person watches stderr: never in pipes, CI or dumb terminals. */
export function progressAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(process.stderr.isTTY) && !isCi(env) && env.TERM !== 'dumb'
}
