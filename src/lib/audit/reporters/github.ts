import {LEVELS, type AuditReport, type Finding, type Level} from '../types.ts'
import {describeSummary, inReadingOrder, withHint} from './findings.ts'

/** GitHub shows at most this many annotations of each kind per step and silently drops the rest. */
export const ANNOTATIONS_PER_LEVEL = 10

const COMMAND: Record<Level, 'error' | 'warning' | 'notice'> = {error: 'error', warning: 'warning', notice: 'notice'}

/**
 * GitHub Actions workflow commands, one annotation per finding, plus a markdown table of every
 * finding for the step summary (where nothing is capped). Suppressed findings are left out.
 */
export function renderGithub(report: AuditReport): {stdout: string; summaryMarkdown: string} {
  const findings = inReadingOrder(report.findings.filter((finding) => !finding.suppressed))
  const shown = pickAnnotations(findings)
  const lines = findings.filter((finding) => shown.has(finding)).map(annotation)
  const hidden = findings.length - shown.size
  if (hidden > 0) {
    const more = hidden === 1 ? '1 more finding is' : `${hidden} more findings are`
    lines.push(`::notice title=dbakit audit::${escapeData(`${more} listed in the step summary (GitHub shows ${ANNOTATIONS_PER_LEVEL} annotations of each level per step).`)}`)
  }
  return {stdout: lines.join('\n'), summaryMarkdown: summaryMarkdown(report, findings)}
}

/**
 * The first findings of each level, up to GitHub's cap. When some are left over, one notice slot
 * is kept free for the notice that says so: it would otherwise be the eleventh and be dropped.
 */
function pickAnnotations(findings: Finding[]): Set<Finding> {
  const byLevel = new Map<Level, Finding[]>(LEVELS.map((level) => [level, findings.filter((finding) => finding.level === level)]))
  const overflows = [...byLevel.values()].some((group) => group.length > ANNOTATIONS_PER_LEVEL)
  const noticeCap = overflows ? ANNOTATIONS_PER_LEVEL - 1 : ANNOTATIONS_PER_LEVEL
  const shown = new Set<Finding>()
  for (const [level, group] of byLevel) for (const finding of group.slice(0, level === 'notice' ? noticeCap : ANNOTATIONS_PER_LEVEL)) shown.add(finding)
  return shown
}

function annotation(finding: Finding): string {
  const properties = [`file=${escapeProperty(finding.file)}`, `line=${finding.line}`, `col=${finding.column}`, `title=${escapeProperty(finding.rule)}`]
  return `::${COMMAND[finding.level]} ${properties.join(',')}::${escapeData(withHint(finding))}`
}

/** What the runner decodes in a command's message (see @actions/core's command.ts). */
const escapeData = (value: string): string => value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')

/** Property values are also cut at `,` and `:`, so those are encoded too. */
const escapeProperty = (value: string): string => escapeData(value).replaceAll(':', '%3A').replaceAll(',', '%2C')

function summaryMarkdown(report: AuditReport, findings: Finding[]): string {
  const lines = ['### dbakit audit', '']
  if (findings.length === 0) lines.push('No findings.')
  else {
    lines.push('| Location | Level | Rule | Message |', '| --- | --- | --- | --- |')
    for (const finding of findings) {
      lines.push(`| ${markdownCell(`${finding.file}:${finding.line}`)} | ${finding.level} | ${markdownCell(finding.rule)} | ${markdownCell(finding.message)} |`)
    }
  }
  const verdict = report.failOn === 'never' ? 'The audit never fails (fail-on: never).' : `The audit ${report.failed ? 'failed' : 'passed'} (fail-on: ${report.failOn}).`
  lines.push('', `${describeSummary(report.summary)}. ${verdict}`)
  return `${lines.join('\n')}\n`
}

/**
 * Table cells take the text literally: markdown and inline HTML punctuation is backslash-escaped
 * (so `<b>` or `*x*` in a message shows as typed), `|` would end the cell, and a line break would
 * end the row, so it becomes <br>.
 */
const markdownCell = (value: string): string => value.replaceAll(/[\\`*_~[\]<>|&#!]/g, (character) => `\\${character}`).replaceAll(/\r?\n|\r/g, '<br>')
