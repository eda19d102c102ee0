import {countsAsFailure, type AuditReport} from '../types.ts'
import {fileGroups, plural, withHint} from './findings.ts'
import type {ReportWriter} from './index.ts'
import {escapeXml, XML_DECLARATION} from './xml.ts'

const CLASSNAME = 'dbakit.audit'

/**
 * One test suite per file, holding one test case for the file: a file passes or fails as a whole,
 * and `failures` counts failed test cases (JUnit's meaning), while each finding at or above
 * --fail-on gets its own <failure> so CI shows them all. Findings below --fail-on go to
 * <system-out>; suppressed findings are left out.
 *
 * The report lists findings, not files, so a file without findings has no suite of its own. A
 * run with no findings at all still gets one passing test case, because CI systems treat an
 * empty JUnit file as "no tests ran".
 *
 * Unlike the other formats this one is written at the end: its totals come first, in the root
 * element. What it keeps is the rendered suites and the findings of the file being read.
 */
export function junitWriter(out: (text: string) => void): ReportWriter {
  let failOn: AuditReport['failOn'] = 'error'
  const suites: string[] = []
  let failed = 0
  // The file being read, rendered as its findings arrive: text takes less room than the findings.
  let failures: string[] = []
  let others: string[] = []
  const files = fileGroups(
    () => {
      failures = []
      others = []
    },
    (file) => {
      if (failures.length > 0) failed++
      suites.push(renderSuite(file, failures, others))
    },
  )
  return {
    begin(header) {
      failOn = header.failOn
    },
    findings(batch) {
      for (const finding of batch) {
        if (finding.suppressed) continue
        files.at(finding.file)
        if (countsAsFailure(finding, failOn)) {
          const body = `${finding.line}:${finding.column}  ${withHint(finding)}`
          failures.push(`      <failure type="${escapeXml(finding.rule, 'attribute')}" message="${escapeXml(finding.message, 'attribute')}">${escapeXml(body, 'text')}</failure>`)
        } else others.push(`${finding.line}:${finding.column}  ${finding.level}  [${finding.rule}]  ${withHint(finding)}`)
      }
    },
    end(outcome) {
      files.end()
      if (suites.length === 0) suites.push(renderSuite(`${plural(outcome.summary.files, 'file')}, ${plural(outcome.summary.statements, 'statement')}`, [], []))
      out([XML_DECLARATION, `<testsuites name="dbakit audit" tests="${suites.length}" failures="${failed}" errors="0">`, ...suites, '</testsuites>'].join('\n'))
      return {}
    },
  }
}

/** A file's suite from its rendered <failure> elements and the lines of its lesser findings. */
function renderSuite(name: string, failures: string[], others: string[]): string {
  const attribute = escapeXml(name, 'attribute')
  const lines = [
    `  <testsuite name="${attribute}" tests="1" failures="${failures.length > 0 ? 1 : 0}" errors="0" skipped="0">`,
    `    <testcase name="${attribute}" classname="${CLASSNAME}">`,
    ...failures,
  ]
  if (others.length > 0) lines.push(`      <system-out>${escapeXml(others.join('\n'), 'text')}</system-out>`)
  lines.push('    </testcase>', '  </testsuite>')
  return lines.join('\n')
}
