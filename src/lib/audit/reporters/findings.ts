import {LEVEL_RANK, type AuditReport, type AuditSummary, type Finding, type Level} from '../types.ts'

/** Suppressed findings are reported for the record but never fail a build. */
export function countsAsFailure(finding: Finding, failOn: AuditReport['failOn']): boolean {
  if (finding.suppressed || failOn === 'never') return false
  return LEVEL_RANK[finding.level] >= LEVEL_RANK[failOn]
}

/**
 * Files keep the order the engine reported them in (the order they were given); within a file,
 * findings read top to bottom so the output follows the SQL. The sort is stable, so findings on
 * the same spot keep the engine's order.
 */
export function groupByFile(findings: readonly Finding[]): Array<[file: string, findings: Finding[]]> {
  const byFile = new Map<string, Finding[]>()
  for (const finding of findings) {
    const group = byFile.get(finding.file)
    if (group) group.push(finding)
    else byFile.set(finding.file, [finding])
  }
  return [...byFile].map(([file, group]) => [file, group.sort((a, b) => a.line - b.line || a.column - b.column)])
}

/** Same order as groupByFile, flattened: the order every reporter lists findings in. */
export const inReadingOrder = (findings: readonly Finding[]): Finding[] => groupByFile(findings).flatMap(([, group]) => group)

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
