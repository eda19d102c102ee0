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

/** Runs one rule over one statement. */
export const check = (rule: Rule, sql: string, options?: ContextOptions): RuleHit[] => rule.check(contextFor(sql, options))

/** Runs one rule over several statements of one file, in order, sharing the file state. */
export function checkFile(rule: Rule, statements: string[], options: ContextOptions = {}): RuleHit[][] {
  const file = newFileState()
  return statements.map((sql) => rule.check(contextFor(sql, {...options, file})))
}
