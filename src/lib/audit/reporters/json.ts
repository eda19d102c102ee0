import {indentedJson} from './findings.ts'
import type {ReportWriter} from './index.ts'

/**
 * The report as JSON.stringify(report, null, 2) would print it (docs/audit-json.schema.json
 * describes it and docs/audit-json.md says what may change), written one finding at a time.
 */
export function jsonWriter(out: (text: string) => void): ReportWriter {
  let count = 0
  return {
    begin(header) {
      out(`{\n  "version": ${header.version},\n  "target": ${indentedJson(header.target, 1)},\n  "failOn": ${JSON.stringify(header.failOn)},\n  "findings": [`)
    },
    findings(batch) {
      for (const finding of batch) out(`${count++ === 0 ? '' : ','}\n    ${indentedJson(finding, 2)}`)
    },
    end(outcome) {
      out(`${count > 0 ? '\n  ' : ''}],\n  "summary": ${indentedJson(outcome.summary, 1)},\n  "failed": ${outcome.failed}\n}`)
      return {}
    },
  }
}
