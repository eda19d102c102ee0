import {availableParallelism} from 'node:os'
import {Worker} from 'node:worker_threads'
import {parseStatement, type ParseVerdict, type SqlFlavor} from './parser.ts'

/** Below this many statements a worker's start-up costs more than the parsing it would share. */
const PARALLEL_THRESHOLD = 2000

/**
 * Runs node-sql-parser over many statements on worker threads, one contiguous slice per core, so
 * that parsing (the costliest step of an audit) proceeds on the other cores while the caller's
 * thread lexes and runs the rules.
 */
export function validateStatements(statements: string[], flavor: SqlFlavor): Promise<ParseVerdict[]> {
  if (statements.length < PARALLEL_THRESHOLD) return Promise.resolve(statements.map((statement) => parseStatement(statement, flavor)))
  // The calling thread keeps one core busy with the rules; the parser gets the others.
  const threads = Math.max(1, Math.min(availableParallelism() - 1, Math.ceil(statements.length / PARALLEL_THRESHOLD)))
  const size = Math.ceil(statements.length / threads)
  // Under a TypeScript loader (tests, bin/dev.js) the worker is the .ts source; in a build, the .js.
  const script = new URL(import.meta.url.endsWith('.ts') ? './validate-worker.ts' : './validate-worker.js', import.meta.url)
  const slices = Array.from({length: threads}, (_, index) => statements.slice(index * size, (index + 1) * size))
  return Promise.all(
    slices.map(
      (slice) =>
        new Promise<ParseVerdict[]>((resolve, reject) => {
          const worker = new Worker(script, {workerData: {statements: slice, flavor}})
          worker.once('message', (verdicts: ParseVerdict[]) => {
            resolve(verdicts)
            void worker.terminate()
          })
          worker.once('error', reject)
        }),
    ),
  ).then((parts) => parts.flat())
}
