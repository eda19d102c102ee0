import type {AuditSummary, Finding, Level} from '../types.ts'

/**
 * For formats that open and close an element per file: calls `open` when the findings move on to
 * another file and `close` when a file's findings are over (at the latest, at `end`).
 */
export function fileGroups(open: (file: string) => void, close: (file: string) => void): {at(file: string): void; end(): void} {
  let current: string | undefined
  return {
    at(file) {
      if (file === current) return
      if (current !== undefined) close(current)
      current = file
      open(file)
    },
    end() {
      if (current !== undefined) close(current)
      current = undefined
    },
  }
}

/** A message with its hint on a second line, for formats that have one text field for both. */
export const withHint = (finding: Pick<Finding, 'message' | 'hint'>): string => (finding.hint ? `${finding.message}\nhint: ${finding.hint}` : finding.message)

export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/**
 * "3 errors, 1 warning, 0 notices in 2 files (120 statements; 4 suppressed)". `paint` lets the
 * text reporter colour the counts without a second copy of the wording.
 */
export function describeSummary(summary: AuditSummary, paint: (level: Level, text: string) => string = (_level, text) => text): string {
  const counts = (['error', 'warning', 'notice'] as const).map((level) => {
    const text = plural(summary[level], level)
    return summary[level] > 0 ? paint(level, text) : text
  })
  const details = [plural(summary.statements, 'statement')]
  if (summary.unparsed > 0) details.push(`${summary.unparsed} not parsed`)
  if (summary.suppressed > 0) details.push(`${summary.suppressed} suppressed`)
  if (summary.baselined > 0) details.push(`${summary.baselined} baselined`)
  return `${counts.join(', ')} in ${plural(summary.files, 'file')} (${details.join('; ')})`
}

/** Said instead of a summary when there was no SQL at all, so an empty run is not mistaken for a clean one. */
export function describeEmptyInput(summary: AuditSummary): string {
  return summary.files === 0 ? 'No SQL files were given: nothing was audited.' : `No SQL statements found in ${plural(summary.files, 'file')}: nothing was audited.`
}

/** JSON.stringify(value, null, 2) as it reads `depth` levels into a document indented by two spaces. */
export const indentedJson = (value: unknown, depth: number): string => JSON.stringify(value, null, 2).replaceAll('\n', `\n${'  '.repeat(depth)}`)
