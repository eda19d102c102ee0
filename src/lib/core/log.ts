import {redactSecrets} from './text.ts'

/**
 * The library's only channel for diagnostics. Everything goes to stderr, and every line passes
 * through redaction of the secrets registered for this run.
 */
export interface Logger {
  debug(message: string): void
  warn(message: string): void
  /** Registers a value that must never be printed, e.g. a password just resolved. */
  protect(secret: string | undefined): void
}

export function createLogger(options: {verbose: boolean; write?: (line: string) => void}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const secrets = new Set<string>()
  const clean = (text: string) => redactSecrets(text, secrets)
  return {
    debug: (message) => {
      if (options.verbose) write(clean(`debug: ${message}`))
    },
    warn: (message) => write(clean(`warning: ${message}`)),
    protect: (secret) => {
      if (secret) secrets.add(secret)
    },
  }
}
