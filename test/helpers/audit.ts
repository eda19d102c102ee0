import {tokenize, significant} from '../../src/lib/sql/lexer.ts'
import type {SqlFlavor} from '../../src/lib/sql/parser.ts'
import {newFileState} from '../../src/lib/audit/engine.ts'

export {newFileState}
import {DEFAULT_THRESHOLDS, type FileState, type Rule, type RuleContext, type RuleHit, type SchemaView, type Thresholds} from '../../src/lib/audit/types.ts'

export interface ContextOptions {
  flavor?: SqlFlavor
  version?: string
  schema?: SchemaView
  thresholds?: Partial<Thresholds>
  file?: FileState
}


/** A rule context for one statement, built the way the engine builds it. */
export function contextFor(sql: string, options: ContextOptions = {}): RuleContext {
  const flavor = options.flavor ?? 'mariadb'
  const allTokens = tokenize(sql)
  return {
    statement: {file: 'test.sql', text: sql, tokens: significant(allTokens), allTokens, line: 1, column: 1},
    target: {flavor, version: options.version ?? (flavor === 'mariadb' ? '10.11.19' : '8.0.36')},
    ...(options.schema ? {schema: options.schema} : {}),
    thresholds: {...DEFAULT_THRESHOLDS, ...options.thresholds},
    file: options.file ?? newFileState(),
  }
}

/**
 * Runs one rule as the engine does: observe, then check. A rule that fires on a statement whose
 * first word its `kinds` does not list would never fire in the engine, so that is a test failure.
 */
export function runRule(rule: Rule, context: RuleContext): RuleHit[] {
  rule.observe?.(context)
  const hits = rule.check(context)
  const first = context.statement.tokens[0]?.value ?? ''
  if (hits.length > 0 && rule.kinds && !rule.kinds.includes(first)) {
    throw new Error(`${rule.id} fired on a statement starting with ${first}, which its kinds (${rule.kinds.join(', ')}) do not list`)
  }
  return hits
}

/** Runs one rule over one statement. */
export const check = (rule: Rule, sql: string, options?: ContextOptions): RuleHit[] => runRule(rule, contextFor(sql, options))

/** Runs one rule over several statements of one file, in order, sharing the file state. */
export function checkFile(rule: Rule, statements: string[], options: ContextOptions = {}): RuleHit[][] {
  const file = newFileState()
  return statements.map((sql) => runRule(rule, contextFor(sql, {...options, file})))
}
