import type {ConnectionTarget} from '../connect/target.ts'
import {lineReader} from '../core/text.ts'
import {ENGINE_RULES, fingerprint, normalise, shownSource} from './engine.ts'
import type {RejectedStatement} from './run.ts'
import type {Finding} from './types.ts'

/** Enough to cover a real migration; a file with more parser gaps than this is reported as is. */
const MAX_PROBES = 1000
const ER_PARSE_ERROR = 1064

/**
 * Asks the server whether statements the parser rejected are really invalid: PREPARE parses a
 * statement without running it, and error 1064 is the server's own verdict. Anything else (a
 * statement that cannot be prepared, a missing table) says nothing about syntax and is ignored.
 */
export async function confirmSyntaxErrors(server: ConnectionTarget, rejected: RejectedStatement[], sources: Array<{name: string; text: string}>): Promise<Finding[]> {
  const {openMysql} = await import('../connect/drivers/mysql.ts')
  const session = await openMysql(server)
  const lines = new Map(sources.map((source) => [source.name, lineReader(source.text)]))
  const findings: Finding[] = []
  try {
    await session.query(session.identity.flavor === 'mariadb' ? 'SET SESSION max_statement_time = 10' : 'SET SESSION max_execution_time = 10000')
    for (const {file, chunk} of rejected.slice(0, MAX_PROBES)) {
      try {
        await session.query('PREPARE dbakit_audit_check FROM ?', [chunk.text])
        await session.query('DEALLOCATE PREPARE dbakit_audit_check')
      } catch (error) {
        if ((error as {errno?: number}).errno !== ER_PARSE_ERROR) continue
        const message = (error as Error).message
        const where = /near '([\s\S]*)' at line (\d+)/.exec(message)
        const line = chunk.line + Number(where?.[2] ?? 1) - 1
        const source = lines.get(file)?.(line) ?? ''
        const near = where?.[1]?.split('\n')[0] ?? ''
        const column = near && source.includes(near) ? source.indexOf(near) + 1 : line === chunk.line ? chunk.column : 1
        findings.push({
          rule: ENGINE_RULES[0]!.id,
          level: 'error',
          file,
          line,
          column,
          message: `the server rejects this statement: syntax error${near ? ` near '${near.slice(0, 60)}'` : ''}`,
          hint: ENGINE_RULES[0]!.fix,
          ...shownSource(source, column),
          fingerprint: fingerprint(ENGINE_RULES[0]!.id, file, normalise(chunk.text)),
        })
      }
    }
  } finally {
    await session.close()
  }
  return findings
}
