import {availableParallelism} from 'node:os'
import {setFlagsFromString} from 'node:v8'
import {Worker} from 'node:worker_threads'
import {siblingWorker, WORKER_YOUNG_GENERATION_MB} from '../core/threads.ts'
import {tokenize, type Token} from './lexer.ts'
import {parseStatement, type SqlFlavor} from './parser.ts'

/** Below this many statements a worker's start-up costs more than the parsing it would share. */
const PARALLEL_THRESHOLD = 2000
/**
 * Statements per claim: small enough that the threads finish together (a batch is ~20 ms of
 * parsing), large enough that claiming costs nothing next to it.
 */
const BATCH_SIZE = 250

export interface Validation {
  /**
   * Resolves with the indexes of the statements node-sql-parser rejected, in input order, once every statement is parsed. The
   * calling thread parses the batches no worker has taken yet, so call it when the thread's own
   * work is done: both halves of the machine then finish together.
   */
  finish(): Promise<number[]>
  /** Stops the workers without waiting, when the caller gives up (an error, an interrupt). */
  stop(): Promise<void>
}

/**
 * Parses statements with node-sql-parser on worker threads while the caller goes on with other
 * work (the audit's rules). Parsing is most of an audit's CPU time and node-sql-parser is
 * single-threaded, so the statements are shared out in small batches to one worker per spare
 * core, and the caller's thread joins in when it calls finish(). Batches are claimed through a
 * shared counter rather than handed out by messages: the caller's thread runs the rules without
 * pausing, and could not answer a worker asking for more.
 */
export function startValidation(statements: readonly string[], flavor: SqlFlavor): Validation {
  const batchCount = Math.ceil(statements.length / BATCH_SIZE)
  const parseBatch = (batch: number): number[] => rejectedIn(statements.slice(batch * BATCH_SIZE, (batch + 1) * BATCH_SIZE), flavor, batch * BATCH_SIZE)

  if (statements.length < PARALLEL_THRESHOLD) {
    return {finish: async () => Array.from({length: batchCount}, (_, batch) => parseBatch(batch)).flat(), stop: async () => {}}
  }

  // V8's mid-tier compiler spends ~70 MiB per thread compiling node-sql-parser's huge generated
  // functions, for a few per cent of speed: off for the rest of the process (flags are global).
  setFlagsFromString('--no-maglev')
  const script = siblingWorker(import.meta.url, 'validate-worker')
  const threads = Math.max(1, Math.min(availableParallelism() - 1, Math.floor(statements.length / PARALLEL_THRESHOLD)))
  const nextBatch = new Int32Array(new SharedArrayBuffer(4))
  const rejected: number[] = []
  const workers = Array.from({length: threads}, () => new Worker(script, {workerData: {flavor, statements, batchSize: BATCH_SIZE, nextBatch} satisfies WorkerInput, resourceLimits: {maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB}}))
  const done = workers.map(
    (worker) =>
      new Promise<void>((resolve, reject) => {
        worker.on('message', (result: number[] | 'done') => {
          if (result === 'done') resolve()
          else rejected.push(...result)
        })
        worker.once('error', reject)
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the parser worker stopped with exit code ${code}`))))
      }),
  )
  // Awaited in finish(); after stop() a worker's exit is expected and no one is waiting for it.
  for (const settled of done) settled.catch(() => {})
  const stop = async () => {
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
  return {
    stop,
    async finish() {
      for (let batch = Atomics.add(nextBatch, 0, 1); batch < batchCount; batch = Atomics.add(nextBatch, 0, 1)) rejected.push(...parseBatch(batch))
      await Promise.all(done)
      await stop()
      return rejected.sort((a, b) => a - b)
    },
  }
}

export interface WorkerInput {
  flavor: SqlFlavor
  statements: readonly string[]
  batchSize: number
  /** Index of the next unclaimed batch, shared by every thread that parses. */
  nextBatch: Int32Array
}

/** The indexes (counted from `start`) of the statements node-sql-parser rejects. */
export function rejectedIn(statements: readonly string[], flavor: SqlFlavor, start: number): number[] {
  const rejected: number[] = []
  for (const [offset, statement] of statements.entries()) {
    const shape = statementShape(statement)
    let accepted = acceptedByShape.get(shape)
    if (accepted === undefined) {
      accepted = parseStatement(statement, flavor).ok
      if (acceptedByShape.size >= SHAPES_KEPT) acceptedByShape.clear()
      acceptedByShape.set(shape, accepted)
    }
    if (!accepted) rejected.push(start + offset)
  }
  return rejected
}

/**
 * Statements that differ only in their literals parse alike, and migration files are full of
 * them: backfills, seed data, dumps written one row per INSERT. Each thread parses one statement
 * of a shape and reuses its verdict (the AST is not kept, so nothing else depends on the values).
 * Bounded, as a file of all-different statements would otherwise keep every one.
 */
const acceptedByShape = new Map<string, boolean>()
const SHAPES_KEPT = 20_000

/** Words after which a string's content is parsed as a date or time. */
const TEMPORAL = new Set(['DATE', 'TIME', 'TIMESTAMP'])

/**
 * The statement with its plain literals and comments replaced by stand-ins, everything else as
 * written. Only what cannot change how it parses is replaced: a quoted string without escapes or
 * doubled quotes (and not a date literal), an integer or a decimal, a comment's text (but not an
 * optimizer hint /*+ ... *\/). Whitespace stays as it is.
 */
export function statementShape(statement: string): string {
  let shape = ''
  let copied = 0
  let previous: Token | undefined
  for (const token of tokenize(statement)) {
    const standIn = literalStandIn(token, previous)
    if (standIn !== undefined) {
      shape += statement.slice(copied, token.start) + standIn
      copied = token.end
    }
    if (token.type !== 'comment') previous = token
  }
  return copied === 0 ? statement : shape + statement.slice(copied)
}

function literalStandIn(token: Token, previous: Token | undefined): string | undefined {
  const text = token.text
  switch (token.type) {
    case 'string': {
      const quote = text[0]!
      if ((quote !== "'" && quote !== '"') || text.length < 3 || !text.endsWith(quote)) return undefined
      const content = text.slice(1, -1)
      if (content.includes('\\') || content.includes(quote) || (previous?.type === 'word' && TEMPORAL.has(previous.value))) return undefined
      return `${quote}s${quote}`
    }
    case 'number':
      return /^\d+$/.test(text) ? '1' : /^\d+\.\d+$/.test(text) ? '1.1' : undefined
    case 'comment':
      if (text.startsWith('/*')) return text.startsWith('/*+') || !text.endsWith('*/') ? undefined : '/* c */'
      return text.startsWith('#') ? '# c' : '-- c'
    default:
      return undefined
  }
}
