import type {AuditReport, Finding, Level, Rule} from '../types.ts'
import {inReadingOrder, withHint} from './findings.ts'

/** The OASIS 2.1.0 schema (errata 01), the one code scanning services check against. */
export const SARIF_SCHEMA_URI = 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json'
export const DBAKIT_INFORMATION_URI = 'https://www.npmjs.com/package/dbakit'
export const FINGERPRINT_KEY = 'dbakitFingerprint/v1'

const SARIF_LEVEL: Record<Level, 'error' | 'warning' | 'note'> = {error: 'error', warning: 'warning', notice: 'note'}

export interface SarifOptions {
  rules: Rule[]
  toolVersion: string
}

/**
 * One run, with every rule the audit had in driver.rules so that viewers can show a rule's
 * rationale and fix next to each result.
 */
export function renderSarif(report: AuditReport, options: SarifOptions): string {
  const descriptors = options.rules.map(describeRule)
  const ruleIndex = new Map(options.rules.map((rule, index) => [rule.id, index]))
  // A finding from a rule the caller did not pass (say, a parse error) still needs a descriptor
  // for its ruleIndex to point at.
  for (const finding of report.findings) {
    if (!ruleIndex.has(finding.rule)) {
      ruleIndex.set(finding.rule, descriptors.length)
      descriptors.push({id: finding.rule})
    }
  }

  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {driver: {name: 'dbakit', version: options.toolVersion, informationUri: DBAKIT_INFORMATION_URI, rules: descriptors}},
        // The lexer counts columns in UTF-16 code units; saying so keeps viewers from guessing.
        columnKind: 'utf16CodeUnits',
        results: inReadingOrder(report.findings).map((finding) => describeResult(finding, ruleIndex.get(finding.rule) ?? 0)),
      },
    ],
  }
  return JSON.stringify(log, null, 2)
}

/** The parts of SARIF's reportingDescriptor dbakit fills in. */
interface RuleDescriptor {
  id: string
  shortDescription?: {text: string}
  fullDescription?: {text: string}
  help?: {text: string}
  defaultConfiguration?: {level: 'error' | 'warning' | 'note'}
  properties?: {tags: string[]}
}

function describeRule(rule: Rule): RuleDescriptor {
  return {
    id: rule.id,
    shortDescription: {text: rule.summary},
    fullDescription: {text: rule.rationale},
    help: {text: `${rule.fix}\n\nInstead of:\n${rule.bad}\n\nWrite:\n${rule.good}`},
    defaultConfiguration: {level: SARIF_LEVEL[rule.level]},
    properties: {tags: [rule.family]},
  }
}

function describeResult(finding: Finding, ruleIndex: number) {
  return {
    ruleId: finding.rule,
    ruleIndex,
    level: SARIF_LEVEL[finding.level],
    message: {text: withHint(finding)},
    locations: [
      {
        physicalLocation: {
          artifactLocation: {uri: relativeUri(finding.file)},
          region: {startLine: finding.line, startColumn: finding.column},
        },
      },
    ],
    partialFingerprints: {[FINGERPRINT_KEY]: finding.fingerprint},
    ...(finding.suppressed ? {suppressions: [{kind: 'inSource', justification: finding.suppressed.reason}]} : {}),
  }
}

/**
 * SARIF wants a URI reference: forward slashes, and every segment percent-encoded so a space, `#`
 * or `%` in a file name does not change what the URI points at. encodeURIComponent also encodes
 * `:`, which keeps a first segment like "c:" from reading as a URI scheme.
 */
export function relativeUri(file: string): string {
  return file
    .replaceAll('\\', '/')
    .replace(/^(\.\/)+/, '')
    .split('/')
    .map(encodeURIComponent)
    .join('/')
}
