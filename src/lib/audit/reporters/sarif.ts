import type {Finding, Level, Rule} from '../types.ts'
import {indentedJson, withHint} from './findings.ts'
import type {ReportWriter} from './index.ts'

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
 * rationale and fix next to each result. The results are written as they arrive and the tool
 * after them (SARIF does not order an object's properties), so that a result from a rule the
 * caller did not pass still gets a descriptor for its ruleIndex to point at.
 */
export function sarifWriter(out: (text: string) => void, options: SarifOptions): ReportWriter {
  const descriptors = options.rules.map(describeRule)
  const ruleIndex = new Map(options.rules.map((rule, index) => [rule.id, index]))
  let count = 0
  return {
    begin() {
      // The lexer counts columns in UTF-16 code units; saying so keeps viewers from guessing.
      out(`{\n  "$schema": ${JSON.stringify(SARIF_SCHEMA_URI)},\n  "version": "2.1.0",\n  "runs": [\n    {\n      "columnKind": "utf16CodeUnits",\n      "results": [`)
    },
    findings(batch) {
      for (const finding of batch) {
        let index = ruleIndex.get(finding.rule)
        if (index === undefined) {
          index = descriptors.push({id: finding.rule}) - 1
          ruleIndex.set(finding.rule, index)
        }
        out(`${count++ === 0 ? '' : ','}\n        ${indentedJson(describeResult(finding, index), 4)}`)
      }
    },
    end() {
      const tool = {driver: {name: 'dbakit', version: options.toolVersion, informationUri: DBAKIT_INFORMATION_URI, rules: descriptors}}
      out(`${count > 0 ? '\n      ' : ''}],\n      "tool": ${indentedJson(tool, 3)}\n    }\n  ]\n}`)
      return {}
    },
  }
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
