import type {AuditReport, Rule} from '../types.ts'
import {renderCheckstyle} from './checkstyle.ts'
import {renderGithub} from './github.ts'
import {renderJson} from './json.ts'
import {renderJunit} from './junit.ts'
import {renderSarif} from './sarif.ts'
import {renderText, type SourceLines} from './text.ts'

export const FORMATS = ['text', 'json', 'sarif', 'junit', 'github', 'checkstyle'] as const
export type Format = (typeof FORMATS)[number]

export interface RenderOptions {
  /** The rules the audit ran; SARIF describes them for viewers. */
  rules: Rule[]
  /** Colour in the text format; the other formats are for machines and never have any. */
  color: boolean
  toolVersion: string
  /** Source text for findings that carry none, for the text format's caret line. */
  sourceLines?: SourceLines
}

export interface Rendered {
  /** What goes to standard output, without a final newline (the caller adds one, as this.log does). */
  stdout: string
  /** For the github format: markdown the audit command appends to $GITHUB_STEP_SUMMARY. */
  summaryMarkdown?: string
}

export function render(format: Format, report: AuditReport, options: RenderOptions): Rendered {
  switch (format) {
    case 'text':
      return {stdout: renderText(report, {color: options.color, ...(options.sourceLines ? {sourceLines: options.sourceLines} : {})})}
    case 'json':
      return {stdout: renderJson(report)}
    case 'sarif':
      return {stdout: renderSarif(report, {rules: options.rules, toolVersion: options.toolVersion})}
    case 'junit':
      return {stdout: renderJunit(report)}
    case 'github':
      return renderGithub(report)
    case 'checkstyle':
      return {stdout: renderCheckstyle(report)}
  }
}
