/**
 * The worker script `name` (without extension) beside the module at `moduleUrl`. Under a
 * TypeScript loader (tests, bin/dev.js) modules are the .ts sources and so is the worker; in a
 * build, the .js.
 */
export const siblingWorker = (moduleUrl: string, name: string): URL => new URL(`./${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl)

/**
 * Young generation of the threads that audit and parse large inputs, in MiB. V8 would grow it to
 * 64 MiB and more while short-lived tokens and parse trees stream through; kept small, it costs a
 * little time and saves most of a thread's memory (docs/benchmarks.md).
 */
export const WORKER_YOUNG_GENERATION_MB = 4
