import type {ConnectionTarget} from '../connect/target.ts'
import {lineReader} from '../core/text.ts'
import {significant, tokenize} from '../sql/lexer.ts'
import {ENGINE_RULES, fingerprint, maskSecrets, normalise, shownSource} from './engine.ts'
import {secretLiterals} from './rules/security.ts'
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
        // The server quotes the statement back: a password in it must be masked there too, also
        // where the server's quote stops inside it.
        const secrets = secretLiterals(significant(tokenize(chunk.text)))
        const shownNear = secrets.reduce((text, secret) => maskCutSecret(text, secret.text), maskSecrets(near, secrets)).slice(0, 60)
        findings.push({
          rule: ENGINE_RULES[0]!.id,
          level: 'error',
          file,
          line,
          column,
          message: `the server rejects this statement: syntax error${shownNear ? ` near '${shownNear}'` : ''}`,
          hint: ENGINE_RULES[0]!.fix,
          ...shownSource(source, column, secrets),
          fingerprint: fingerprint(ENGINE_RULES[0]!.id, file, normalise(chunk.text)),
        })
      }
    }
  } finally {
    await session.close()
  }
  return findings
}

/** Masks the start of a secret that `text` ends with, as a server's truncated quote may. */
function maskCutSecret(text: string, secret: string): string {
  for (let length = secret.length - 1; length >= 2; length--) {
    if (text.endsWith(secret.slice(0, length))) return `${text.slice(0, text.length - length)}'***`
  }
  return text
}
