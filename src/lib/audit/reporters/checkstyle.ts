import type {AuditReport, Level} from '../types.ts'
import {groupByFile} from './findings.ts'
import {escapeXml, XML_DECLARATION} from './xml.ts'

/** Checkstyle has no "notice"; "info" is its lowest severity and is what consumers show as one. */
const SEVERITY: Record<Level, 'error' | 'warning' | 'info'> = {error: 'error', warning: 'warning', notice: 'info'}

/** Checkstyle has no notion of a suppressed finding, so suppressed findings are left out. */
export function renderCheckstyle(report: AuditReport): string {
  const lines = [XML_DECLARATION, '<checkstyle version="4.3">']
  for (const [file, findings] of groupByFile(report.findings.filter((finding) => !finding.suppressed))) {
    lines.push(`  <file name="${escapeXml(file, 'attribute')}">`)
    for (const finding of findings) {
      const attributes = [
        `line="${finding.line}"`,
        `column="${finding.column}"`,
        `severity="${SEVERITY[finding.level]}"`,
        `message="${escapeXml(finding.message, 'attribute')}"`,
        `source="${escapeXml(`dbakit.${finding.rule}`, 'attribute')}"`,
      ]
      lines.push(`    <error ${attributes.join(' ')}/>`)
    }
    lines.push('  </file>')
  }
  lines.push('</checkstyle>')
  return lines.join('\n')
}
