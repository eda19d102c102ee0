import {usageError} from './errors.ts'
import {isInteractive} from './terminal.ts'

/**
 * Prompts exist only on a terminal. Elsewhere the caller gets a usage error naming the flag that
 * answers the question, so a script fails at once instead of hanging on a question nobody sees.
 */
function requireTerminal(question: string, flagInstead: string): void {
  if (!isInteractive()) {
    throw usageError('PROMPT_NEEDS_TTY', `${question} needs an answer, and there is no terminal to ask on`, {
      hint: `pass ${flagInstead}`,
    })
  }
}

export async function askSecret(message: string, flagInstead: string): Promise<string> {
  requireTerminal(message, flagInstead)
  const {password} = await import('@inquirer/prompts')
  return password({message, mask: false}, {output: process.stderr})
}

export async function askConfirmation(message: string, flagInstead = '--yes'): Promise<boolean> {
  requireTerminal(message, flagInstead)
  const {confirm} = await import('@inquirer/prompts')
  return confirm({message, default: false}, {output: process.stderr})
}

/** Reads stdin to its end (SQL piped in); no timeout, however slow the writer. */
export async function readAllStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) {
    throw usageError('STDIN_IS_TTY', '- reads SQL from a pipe, but stdin is a terminal', {hint: 'pipe the SQL in, e.g. `cat change.sql | dbakit audit -`, or name the files'})
  }
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk))
  return Buffer.concat(chunks)
}

/**
 * Reads a secret piped on stdin (`--password-stdin`). One trailing newline is what `echo` adds and
 * is not part of the password; anything else is kept as given.
 */
export async function readSecretFromStdin(flag = '--password-stdin'): Promise<string> {
  if (process.stdin.isTTY) {
    throw usageError('STDIN_IS_TTY', `${flag} reads the password from a pipe, but stdin is a terminal`, {
      hint: `pipe it in, e.g. \`pass show db/prod | dbakit ... ${flag}\`, or leave out ${flag} to be asked`,
    })
  }
  const text = (await readAllStdin()).toString('utf8').replace(/\r?\n$/, '')
  if (text.length === 0) {
    throw usageError('EMPTY_STDIN_SECRET', `${flag} was given but stdin was empty`, {
      hint: 'pipe the password in, or pass --no-password for a server that needs none',
    })
  }
  return text
}
