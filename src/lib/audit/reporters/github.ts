import {LEVELS, type AuditOutcome, type AuditReport, type Finding, type Level} from '../types.ts'
import {describeSummary, withHint} from './findings.ts'
import type {ReportWriter} from './index.ts'

/** GitHub shows at most this many annotations of each kind per step and silently drops the rest. */
export const ANNOTATIONS_PER_LEVEL = 10

const COMMAND: Record<Level, 'error' | 'warning' | 'notice'> = {error: 'error', warning: 'warning', notice: 'notice'}

/**
 * The step summary's table stops after this many rows: GitHub refuses a step summary over 1 MiB,
 * and a table of thousands of findings is read by nobody.
 */
export const SUMMARY_ROWS = 1000

/**
 * GitHub Actions workflow commands, one annotation per finding up to GitHub's cap, plus a markdown
 * table of the findings for the step summary. Suppressed findings are left out.
 */
export function githubWriter(out: (text: string) => void): ReportWriter {
  let failOn: AuditReport['failOn'] = 'error'
  const shown = new Map<Level, number>(LEVELS.map((level) => [level, 0]))
  let overflows = false
  let hidden = 0
  // The last notice slot goes to the notice saying that findings were left out, if any are:
  // whether that happens is known only at the end, so the finding for that slot waits.
  let lastNotice: Finding | undefined
  const rows: string[] = []
  let hiddenRows = 0
  let lines = 0
  const print = (line: string) => out(`${lines++ === 0 ? '' : '\n'}${line}`)
  return {
    begin(header) {
      failOn = header.failOn
    },
    findings(batch) {
      for (const finding of batch) {
        if (finding.suppressed) continue
        if (rows.length < SUMMARY_ROWS) rows.push(`| ${markdownCell(`${finding.file}:${finding.line}`)} | ${finding.level} | ${markdownCell(finding.rule)} | ${markdownCell(finding.message)} |`)
        else hiddenRows++
        const count = shown.get(finding.level)!
        if (count >= ANNOTATIONS_PER_LEVEL) {
          overflows = true
          hidden++
          continue
        }
        shown.set(finding.level, count + 1)
        if (finding.level === 'notice' && count === ANNOTATIONS_PER_LEVEL - 1) lastNotice = finding
        else print(annotation(finding))
      }
    },
    end(outcome) {
      if (lastNotice && overflows) hidden++
      else if (lastNotice) print(annotation(lastNotice))
      if (hidden > 0) {
        const more = hidden === 1 ? '1 more finding is' : `${hidden} more findings are`
        const where = hiddenRows > 0 ? `not annotated: the step summary lists the first ${SUMMARY_ROWS}, --format sarif or json all of them` : 'listed in the step summary'
        print(`::notice title=dbakit audit::${escapeData(`${more} ${where} (GitHub shows ${ANNOTATIONS_PER_LEVEL} annotations of each level per step).`)}`)
      }
      return {summaryMarkdown: summaryMarkdown(outcome, failOn, rows, hiddenRows)}
    },
  }
}

function annotation(finding: Finding): string {
  const properties = [`file=${escapeProperty(finding.file)}`, `line=${finding.line}`, `col=${finding.column}`, `title=${escapeProperty(finding.rule)}`]
  return `::${COMMAND[finding.level]} ${properties.join(',')}::${escapeData(withHint(finding))}`
}

/** What the runner decodes in a command's message (see @actions/core's command.ts). */
const escapeData = (value: string): string => value.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')

/** Property values are also cut at `,` and `:`, so those are encoded too. */
const escapeProperty = (value: string): string => escapeData(value).replaceAll(':', '%3A').replaceAll(',', '%2C')

function summaryMarkdown(outcome: AuditOutcome, failOn: AuditReport['failOn'], rows: string[], hiddenRows: number): string {
  const lines = ['### dbakit audit', '']
  if (rows.length === 0) lines.push('No findings.')
  else lines.push('| Location | Level | Rule | Message |', '| --- | --- | --- | --- |', ...rows)
  if (hiddenRows > 0) lines.push('', `The first ${SUMMARY_ROWS} findings are shown; ${hiddenRows} more are in the full report (\`dbakit audit --format sarif\` or \`--format json\`).`)
  const verdict = failOn === 'never' ? 'The audit never fails (fail-on: never).' : `The audit ${outcome.failed ? 'failed' : 'passed'} (fail-on: ${failOn}).`
  lines.push('', `${describeSummary(outcome.summary)}. ${verdict}`)
  return `${lines.join('\n')}\n`
}

/**
 * Table cells take the text literally: markdown and inline HTML punctuation is backslash-escaped
 * (so `<b>` or `*x*` in a message shows as typed), `|` would end the cell, and a line break would
 * end the row, so it becomes <br>.
 */
const markdownCell = (value: string): string => value.replaceAll(/[\\`*_~[\]<>|&#!]/g, (character) => `\\${character}`).replaceAll(/\r?\n|\r/g, '<br>')
