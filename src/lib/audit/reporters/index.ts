import {byPosition, type AuditOutcome, type AuditReport, type FindingSink, type Rule} from '../types.ts'
import {checkstyleWriter} from './checkstyle.ts'
import {githubWriter} from './github.ts'
import {jsonWriter} from './json.ts'
import {junitWriter} from './junit.ts'
import {sarifWriter} from './sarif.ts'
import type {Format} from './formats.ts'
import {textWriter, type SourceLines} from './text.ts'

export {FORMATS, type Format} from './formats.ts'

export interface RenderOptions {
  /** The rules the audit ran; SARIF describes them for viewers. */
  rules: Rule[]
  /** Colour in the text format; the other formats are for machines and never have any. */
  color: boolean
  toolVersion: string
  /** Source text for findings that carry none, for the text format's caret line. */
  sourceLines?: SourceLines
}

/** A report format written as the findings arrive; `end` completes the document. */
export interface ReportWriter extends FindingSink {
  /** Writes the rest of the document; the github format also returns its step summary. */
  end(outcome: AuditOutcome): {summaryMarkdown?: string}
}

export interface Rendered {
  /** The whole document, without a final newline. */
  stdout: string
  /** For the github format: markdown the audit command appends to $GITHUB_STEP_SUMMARY. */
  summaryMarkdown?: string
}

/** Writes are gathered into pieces of this size: one write per finding would be one system call each. */
const FLUSH_AT = 64 * 1024

/**
 * A writer for `format` that sends the document to `write` in pieces as findings arrive, ending
 * with a newline. Nothing but the current piece is kept, whatever the number of findings (JUnit
 * excepted: its totals come first, see junit.ts).
 */
export function createWriter(format: Format, write: (text: string) => void, options: RenderOptions): ReportWriter {
  let pending = ''
  let wrote = false
  const out = (text: string) => {
    pending += text
    if (pending.length >= FLUSH_AT) flush()
  }
  const flush = () => {
    if (pending === '') return
    wrote = true
    write(pending)
    pending = ''
  }
  const writer = writerFor(format, out, options)
  return {
    begin: (header) => writer.begin(header),
    findings: (batch) => writer.findings(batch),
    end(outcome) {
      const result = writer.end(outcome)
      if (pending !== '' || wrote) pending += '\n'
      flush()
      return result
    },
  }
}

function writerFor(format: Format, out: (text: string) => void, options: RenderOptions): ReportWriter {
  switch (format) {
    case 'text':
      return textWriter(out, {color: options.color, ...(options.sourceLines ? {sourceLines: options.sourceLines} : {})})
    case 'json':
      return jsonWriter(out)
    case 'sarif':
      return sarifWriter(out, {rules: options.rules, toolVersion: options.toolVersion})
    case 'junit':
      return junitWriter(out)
    case 'github':
      return githubWriter(out)
    case 'checkstyle':
      return checkstyleWriter(out)
  }
}

/** A whole report in one string; its findings may be in any order (they are put in reading order). */
export function render(format: Format, report: AuditReport, options: RenderOptions): Rendered {
  const {findings, ...outcome} = report
  let stdout = ''
  const writer = writerFor(format, (text) => (stdout += text), options)
  writer.begin({version: report.version, target: report.target, failOn: report.failOn})
  const files = [...new Set(findings.map((finding) => finding.file))]
  for (const file of files) writer.findings(findings.filter((finding) => finding.file === file).sort(byPosition))
  const {summaryMarkdown} = writer.end(outcome)
  return {stdout, ...(summaryMarkdown === undefined ? {} : {summaryMarkdown})}
}
