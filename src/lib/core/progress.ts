import {progressAllowed} from './terminal.ts'

/** What long-running library work reports; the library never writes to a terminal itself. */
export type ProgressListener = (event: {message: string; done?: number; total?: number}) => void

export interface ProgressReporter {
  readonly listener: ProgressListener
  stop(finalMessage?: string): void
}

/**
 * A single status line redrawn on stderr. Outside an interactive terminal it draws nothing: pipes
 * and CI logs get no carriage-return noise, and --json output stays a single document.
 */
export function createProgressReporter(options: {enabled?: boolean; stream?: NodeJS.WriteStream} = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr
  const enabled = (options.enabled ?? true) && progressAllowed()
  if (!enabled) return {listener: () => {}, stop: () => {}}
  let drawn = false
  let lastDraw = 0
  const draw = (line: string) => {
    const width = Math.max(20, (stream.columns ?? 80) - 1)
    stream.write(`\r\u001B[2K${line.slice(0, width)}`)
    drawn = true
  }
  return {
    listener: ({message, done, total}) => {
      const now = Date.now()
      if (now - lastDraw < 80 && done !== total) return
      lastDraw = now
      // The count comes first so a narrow terminal cuts the message, not the number.
      const counter = total ? `${Math.floor(((done ?? 0) / total) * 100)}% ${done ?? 0}/${total} ` : ''
      draw(`${counter}${message}`)
    },
    stop: (finalMessage) => {
      if (drawn) stream.write('\r\u001B[2K')
      if (finalMessage) stream.write(`${finalMessage}\n`)
    },
  }
}
