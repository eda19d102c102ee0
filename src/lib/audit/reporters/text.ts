import {createStyler, type StyleName, type Styler} from '../../core/style.ts'
import {sourceWindow} from '../../core/text.ts'
import type {Finding, Level} from '../types.ts'
import {describeEmptyInput, describeSummary, fileGroups} from './findings.ts'
import type {ReportWriter} from './index.ts'

export type SourceLines = (file: string, line: number) => string | undefined

export interface TextOptions {
  color: boolean
  sourceLines?: SourceLines
}

const LEVEL_STYLE: Record<Level, StyleName> = {error: 'red', warning: 'yellow', notice: 'cyan'}
const LEVEL_WIDTH = Math.max(...Object.keys(LEVEL_STYLE).map((level) => level.length))
const DETAIL_INDENT = '    '

/**
 * Findings grouped under their file's name, each with its source line, a caret and the hint, then
 * a summary line. Written as the findings arrive, so each location is padded for a column of up to
 * two digits: messages line up without the file's other findings being known.
 */
export function textWriter(out: (text: string) => void, options: TextOptions): ReportWriter {
  const style = createStyler(options.color)
  let count = 0
  const files = fileGroups((file) => out(`${count > 0 ? '\n\n' : ''}${style('bold', file)}`), () => {})
  return {
    begin() {},
    findings(batch) {
      for (const finding of batch) {
        files.at(finding.file)
        count++
        out(`\n${renderFinding(finding, Math.max(location(finding).length, `${finding.line}:00`.length), style, options.sourceLines).join('\n')}`)
      }
    },
    end(outcome) {
      files.end()
      if (outcome.summary.statements === 0 && count === 0) out(describeEmptyInput(outcome.summary))
      else {
        const summary = describeSummary(outcome.summary, (level, text) => style(LEVEL_STYLE[level], text))
        out(`${count > 0 ? '\n\n' : ''}${count === 0 ? style('green', summary) : summary}`)
      }
      return {}
    },
  }
}

const location = (finding: Finding): string => `${finding.line}:${finding.column}`

function renderFinding(finding: Finding, locationWidth: number, style: Styler, sourceLines: SourceLines | undefined): string[] {
  const head = `  ${location(finding).padEnd(locationWidth)}  `
  const level = finding.level.padEnd(LEVEL_WIDTH)
  // A multi-line message keeps its later lines under its first, not under the location column.
  const message = finding.message.replaceAll(/\r?\n/g, `\n${' '.repeat(head.length + LEVEL_WIDTH + 2)}`)
  const rule = `[${finding.rule}]`

  if (finding.suppressed) {
    return [style('dim', `${head}${level}  ${message}  ${rule}  (suppressed: ${finding.suppressed.reason})`)]
  }

  const lines = [`${style('dim', head)}${style(LEVEL_STYLE[finding.level], level)}  ${message}  ${style('dim', rule)}`]
  const shown = shownSource(finding, sourceLines)
  if (shown !== undefined) {
    lines.push(`${DETAIL_INDENT}${shown.text}`)
    lines.push(`${DETAIL_INDENT}${caretPadding(shown.text, shown.column)}${style(LEVEL_STYLE[finding.level], '^')}`)
  }
  if (finding.hint) lines.push(`${DETAIL_INDENT}${style('dim', 'hint:')} ${finding.hint}`)
  return lines
}

/** The finding's source, or a window of the line from sourceLines, and the caret's column in it. */
function shownSource(finding: Finding, sourceLines: SourceLines | undefined): {text: string; column: number} | undefined {
  if (finding.source !== undefined) {
    const text = finding.source.replace(/\r?\n$/, '')
    return finding.sourceColumn === undefined ? sourceWindow(text, finding.column) : {text, column: finding.sourceColumn}
  }
  const line = sourceLines?.(finding.file, finding.line)?.replace(/\r?\n$/, '')
  return line === undefined ? undefined : sourceWindow(line, finding.column)
}

/**
 * Columns count UTF-16 code units (as the lexer does). Tabs are copied rather than turned into
 * spaces so the caret lands under the same character whatever the terminal's tab width, and a
 * character outside the BMP takes one space, as it takes one cell on screen.
 */
function caretPadding(source: string, column: number): string {
  let padding = ''
  for (const character of source.slice(0, Math.max(0, column - 1))) padding += character === '\t' ? '\t' : ' '
  return padding
}
