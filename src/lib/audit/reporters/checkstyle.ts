import type {Level} from '../types.ts'
import {fileGroups} from './findings.ts'
import type {ReportWriter} from './index.ts'
import {escapeXml, XML_DECLARATION} from './xml.ts'

/** Checkstyle has no "notice"; "info" is its lowest severity and is what consumers show as one. */
const SEVERITY: Record<Level, 'error' | 'warning' | 'info'> = {error: 'error', warning: 'warning', notice: 'info'}

/** Checkstyle has no notion of a suppressed finding, so suppressed findings are left out. */
export function checkstyleWriter(out: (text: string) => void): ReportWriter {
  const files = fileGroups(
    (file) => out(`\n  <file name="${escapeXml(file, 'attribute')}">`),
    () => out('\n  </file>'),
  )
  return {
    begin() {
      out(`${XML_DECLARATION}\n<checkstyle version="4.3">`)
    },
    findings(batch) {
      for (const finding of batch) {
        if (finding.suppressed) continue
        files.at(finding.file)
        const attributes = [
          `line="${finding.line}"`,
          `column="${finding.column}"`,
          `severity="${SEVERITY[finding.level]}"`,
          `message="${escapeXml(finding.message, 'attribute')}"`,
          `source="${escapeXml(`dbakit.${finding.rule}`, 'attribute')}"`,
        ]
        out(`\n    <error ${attributes.join(' ')}/>`)
      }
    },
    end() {
      files.end()
      out('\n</checkstyle>')
      return {}
    },
  }
}
