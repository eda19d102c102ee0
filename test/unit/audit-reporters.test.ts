import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {describe, it} from 'node:test'
import ajvDraft04 from 'ajv-draft-04'
import {Ajv2020} from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {createWriter, FORMATS, render, type RenderOptions} from '../../src/lib/audit/reporters/index.ts'
import {ANNOTATIONS_PER_LEVEL, SUMMARY_ROWS} from '../../src/lib/audit/reporters/github.ts'
import type {AuditReport, Finding, Level, Rule} from '../../src/lib/audit/types.ts'

const require = createRequire(import.meta.url)
// CommonJS packages seen from ESM: their types describe the function as `.default`.
const AjvDraft04 = ajvDraft04.default
const addFormats = ajvFormats.default

// --- the sample ---------------------------------------------------------------------------------

const FILE_A = 'migrations/001 init.sql'
const FILE_B = 'migrations/002_backfill.sql'
const FILE_C = 'legacy\\003,a:b.sql'

const SOURCE_A3 = '  UPDATE orders SET status = 1'
const TRICKY_MESSAGE = 'UPDATE <orders> & "items" | *all* rows'

const finding = (overrides: Partial<Finding> & Pick<Finding, 'rule' | 'level' | 'file' | 'line' | 'column'>): Finding => ({
  message: `${overrides.rule} fired`,
  hint: `fix ${overrides.rule}`,
  fingerprint: `fp-${overrides.rule}-${overrides.line}`,
  ...overrides,
})

const SAMPLE_FINDINGS: Finding[] = [
  // Listed out of line order on purpose: reporters read files top to bottom.
  finding({rule: 'dml-update-without-where', level: 'error', file: FILE_A, line: 3, column: 10, message: TRICKY_MESSAGE, hint: 'Add a WHERE clause & test it', source: SOURCE_A3}),
  finding({rule: 'locking-alter-copy', level: 'warning', file: FILE_A, line: 1, column: 1, message: 'Copies 100% of the table\nsecond line: still locked', source: 'ALTER TABLE orders ADD COLUMN x INT'}),
  finding({rule: 'design-nullable-column', level: 'notice', file: FILE_B, line: 2, column: 5, message: 'Columns a, b: nullable \u0001 here'}),
  finding({rule: 'dml-update-without-where', level: 'error', file: FILE_B, line: 7, column: 1, message: 'UPDATE without WHERE', suppressed: {reason: 'reviewed by the DBA'}}),
  finding({rule: 'syntax-parse-error', level: 'error', file: FILE_C, line: 4, column: 2, message: 'Unexpected token ]]>', hint: 'Check the statement'}),
]

const sampleReport = (overrides: Partial<AuditReport> = {}): AuditReport => ({
  version: 1,
  target: {flavor: 'mariadb', version: '10.11.19', source: 'config'},
  failOn: 'warning',
  findings: SAMPLE_FINDINGS,
  summary: {files: 3, statements: 12, unparsed: 1, error: 2, warning: 1, notice: 1, suppressed: 1, baselined: 0},
  failed: true,
  ...overrides,
})

const rule = (id: string, level: Level): Rule => ({
  id,
  family: 'dml',
  level,
  summary: `${id} summary`,
  rationale: `${id} rationale`,
  bad: 'UPDATE t SET a = 1;',
  good: 'UPDATE t SET a = 1 WHERE id = 2;',
  fix: `${id} fix`,
  check: () => [],
})

// syntax-parse-error is deliberately missing: SARIF must still describe it.
const RULES = [rule('dml-update-without-where', 'error'), rule('locking-alter-copy', 'warning'), rule('design-nullable-column', 'notice'), rule('query-select-star', 'notice')]

const SOURCE_B = ['SELECT 1;', '    a INT NULL,']
const OPTIONS: RenderOptions = {
  rules: RULES,
  color: false,
  toolVersion: '0.1.0',
  sourceLines: (file, line) => (file === FILE_B ? SOURCE_B[line - 1] : undefined),
}

const stdout = (format: (typeof FORMATS)[number], report = sampleReport(), options: Partial<RenderOptions> = {}) => render(format, report, {...OPTIONS, ...options}).stdout

// --- XML helpers ----------------------------------------------------------------------------------

/** The Char production of XML 1.0 (section 2.2): anything else makes the document ill-formed. */
const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u

function parseXml(xml: string): Record<string, unknown> {
  assert.equal(XMLValidator.validate(xml), true)
  // fast-xml-parser's validator does not check characters, so the production is checked here.
  assert.match(xml, XML_CHARS)
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    // decodes character references such as &#10;
    htmlEntities: true,
    isArray: (name) => ['testsuite', 'testcase', 'failure', 'file', 'error'].includes(name),
  })
  return parser.parse(xml) as Record<string, unknown>
}

type XmlNode = Record<string, unknown> & {'#text'?: string}
const children = (node: unknown, name: string): XmlNode[] => ((node as Record<string, XmlNode[] | undefined>)[name] ?? [])
const attribute = (node: XmlNode, name: string): string => {
  const value = node[name]
  assert.equal(typeof value, 'string', `attribute ${name}`)
  return value as string
}

// --- SARIF ----------------------------------------------------------------------------------------

interface SarifLog {
  $schema: string
  version: string
  runs: Array<{
    tool: {driver: {name: string; version: string; informationUri: string; rules: Array<{id: string; shortDescription?: {text: string}; fullDescription?: {text: string}; help?: {text: string}; defaultConfiguration?: {level: string}}>}}
    results: Array<{
      ruleId: string
      ruleIndex: number
      level: string
      message: {text: string}
      locations: Array<{physicalLocation: {artifactLocation: {uri: string}; region: {startLine?: number; startColumn?: number}}}>
      partialFingerprints: Record<string, string>
      suppressions?: Array<{kind: string; justification: string}>
    }>
  }>
}

/**
 * Microsoft publishes the SARIF 2.1.0 schema (RTM 5, the text OASIS approved) in its jest-sarif
 * package; it is a draft-04 schema, hence Ajv's draft-04 class. One of its patterns
 * (toolComponent.language) is not valid with the `u` flag, so patterns are compiled without it,
 * and its `required` lists inside `anyOf` trip Ajv's strict mode, which is about schema style.
 */
function sarifValidator() {
  const schema = JSON.parse(readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as Record<string, unknown>
  const ajv = new AjvDraft04({allErrors: true, strict: false, unicodeRegExp: false})
  addFormats(ajv)
  return ajv.compile(schema)
}

describe('sarif reporter', () => {
  const validate = sarifValidator()
  const output = stdout('sarif')
  const log = JSON.parse(output) as SarifLog
  const run = log.runs[0]!

  it('validates against the official SARIF 2.1.0 schema', () => {
    assert.equal(validate(log), true, JSON.stringify(validate.errors, null, 2))
    assert.equal(log.version, '2.1.0')
    assert.match(log.$schema, /sarif-schema-2\.1\.0\.json$/)
  })

  it('has a validator that really rejects invalid SARIF', () => {
    const broken = structuredClone(log)
    ;(broken.runs[0]!.results[0] as {level: string}).level = 'notice'
    assert.equal(validate(broken), false)
    assert.equal(validate({...log, version: '2.0.0'}), false)
    const unencoded = structuredClone(log)
    unencoded.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri = 'a b.sql'
    assert.equal(validate(unencoded), false)
  })

  it('gives every result a startLine, which the OASIS errata (not RTM 5) requires of a region', () => {
    for (const result of run.results) assert.ok(Number.isInteger(result.locations[0]!.physicalLocation.region.startLine))
  })

  it('describes the tool and every rule, with levels mapped to SARIF levels', () => {
    const driver = run.tool.driver
    assert.equal(driver.name, 'dbakit')
    assert.equal(driver.version, '0.1.0')
    assert.deepEqual(
      driver.rules.map((descriptor) => [descriptor.id, descriptor.defaultConfiguration?.level]),
      [
        ['dml-update-without-where', 'error'],
        ['locking-alter-copy', 'warning'],
        ['design-nullable-column', 'note'],
        ['query-select-star', 'note'],
        ['syntax-parse-error', undefined],
      ],
    )
    const first = driver.rules[0]!
    assert.equal(first.shortDescription?.text, 'dml-update-without-where summary')
    assert.equal(first.fullDescription?.text, 'dml-update-without-where rationale')
    assert.match(first.help?.text ?? '', /dml-update-without-where fix[\s\S]*UPDATE t SET a = 1;[\s\S]*WHERE id = 2;/)
  })

  it('reports each finding with its rule, level, message, hint, location and fingerprint', () => {
    assert.equal(run.results.length, SAMPLE_FINDINGS.length)
    for (const result of run.results) assert.equal(run.tool.driver.rules[result.ruleIndex]?.id, result.ruleId)
    const update = run.results.find((result) => result.ruleId === 'dml-update-without-where' && !result.suppressions)!
    assert.equal(update.level, 'error')
    assert.equal(update.message.text, `${TRICKY_MESSAGE}\nhint: Add a WHERE clause & test it`)
    assert.deepEqual(update.locations[0]!.physicalLocation, {artifactLocation: {uri: 'migrations/001%20init.sql'}, region: {startLine: 3, startColumn: 10}})
    assert.deepEqual(update.partialFingerprints, {'dbakitFingerprint/v1': 'fp-dml-update-without-where-3'})
    assert.equal(run.results.find((result) => result.ruleId === 'design-nullable-column')!.level, 'note')
  })

  it('writes file paths as relative URIs with forward slashes', () => {
    const legacy = run.results.find((result) => result.ruleId === 'syntax-parse-error')!
    assert.equal(legacy.locations[0]!.physicalLocation.artifactLocation.uri, 'legacy/003%2Ca%3Ab.sql')
  })

  it('keeps suppressed findings, marked as suppressed in source with the reason', () => {
    const suppressed = run.results.filter((result) => result.suppressions)
    assert.equal(suppressed.length, 1)
    assert.deepEqual(suppressed[0]!.suppressions, [{kind: 'inSource', justification: 'reviewed by the DBA'}])
  })
})

// --- JSON -----------------------------------------------------------------------------------------

type SchemaNode = {properties?: Record<string, SchemaNode>; items?: SchemaNode; $ref?: string}

/** Keys the document has but the schema does not name: the schema stays open for readers, so Ajv would not catch them. */
function undeclaredKeys(value: unknown, node: SchemaNode, root: SchemaNode & {$defs?: Record<string, SchemaNode>}, path = ''): string[] {
  const resolved = node.$ref ? root.$defs?.[node.$ref.replace('#/$defs/', '')] ?? {} : node
  if (Array.isArray(value)) return value.flatMap((item, index) => (resolved.items ? undeclaredKeys(item, resolved.items, root, `${path}[${index}]`) : []))
  if (value === null || typeof value !== 'object' || !resolved.properties) return []
  return Object.entries(value).flatMap(([key, child]) => {
    const declared = resolved.properties?.[key]
    return declared ? undeclaredKeys(child, declared, root, `${path}.${key}`) : [`${path}.${key}`]
  })
}

describe('json reporter', () => {
  const schema = JSON.parse(readFileSync(new URL('../../docs/audit-json.schema.json', import.meta.url), 'utf8')) as SchemaNode & Record<string, unknown>
  const ajv = new Ajv2020({allErrors: true, strict: true})
  const validate = ajv.compile(schema)

  it('prints the report itself, indented by two spaces', () => {
    const output = stdout('json')
    // Findings come out in reading order: files in turn, each top to bottom.
    const [updateAtLine3, alterAtLine1, ...rest] = SAMPLE_FINDINGS
    assert.deepEqual(JSON.parse(output), sampleReport({findings: [alterAtLine1!, updateAtLine3!, ...rest]}))
    assert.match(output, /^\{\n {2}"version": 1,\n/)
  })

  it('validates against docs/audit-json.schema.json and uses no field the schema does not name', () => {
    const document = JSON.parse(stdout('json')) as unknown
    assert.equal(validate(document), true, JSON.stringify(validate.errors, null, 2))
    assert.deepEqual(undeclaredKeys(document, schema, schema), [])
  })

  it('has a schema that rejects what is not an audit report', () => {
    const wrongLevel = sampleReport({findings: [{...SAMPLE_FINDINGS[0]!, level: 'fatal' as Level}]})
    assert.equal(validate(JSON.parse(stdout('json', wrongLevel))), false)
    const {fingerprint: _dropped, ...withoutFingerprint} = SAMPLE_FINDINGS[0]!
    assert.equal(validate({...sampleReport(), findings: [withoutFingerprint]}), false)
    assert.equal(validate({...sampleReport(), version: 2}), false)
  })
})

// --- JUnit ----------------------------------------------------------------------------------------

describe('junit reporter', () => {
  const root = (xml: string): XmlNode => (parseXml(xml)['testsuites'] as XmlNode)

  it('is well formed, with one suite and one test case per file that has findings', () => {
    const document = root(stdout('junit'))
    const suites = children(document, 'testsuite')
    assert.deepEqual(suites.map((suite) => attribute(suite, 'name')), [FILE_A, FILE_B, FILE_C])
    for (const suite of suites) {
      const cases = children(suite, 'testcase')
      assert.equal(cases.length, 1)
      assert.equal(attribute(suite, 'tests'), '1')
      assert.equal(attribute(cases[0]!, 'name'), attribute(suite, 'name'))
      assert.equal(attribute(cases[0]!, 'classname'), 'dbakit.audit')
    }
    assert.equal(attribute(document, 'tests'), '3')
  })

  it('fails on findings at or above failOn, one <failure> each, and puts lower ones in <system-out>', () => {
    const document = root(stdout('junit'))
    const [a, b, c] = children(document, 'testsuite').map((suite) => children(suite, 'testcase')[0]!)
    assert.deepEqual(children(a, 'failure').map((failure) => attribute(failure, 'type')), ['locking-alter-copy', 'dml-update-without-where'])
    assert.equal(children(b, 'failure').length, 0)
    assert.equal(children(c, 'failure').length, 1)
    assert.equal(attribute(document, 'failures'), '2')
    assert.deepEqual(
      children(document, 'testsuite').map((suite) => attribute(suite, 'failures')),
      ['1', '0', '1'],
    )
    // The notice is below failOn=warning; the suppressed error is left out altogether.
    const systemOut = b!['system-out'] as string
    assert.equal(systemOut, '2:5  notice  [design-nullable-column]  Columns a, b: nullable \\u0001 here\nhint: fix design-nullable-column')
    assert.doesNotMatch(stdout('junit'), /reviewed by the DBA|2:7|7:1/)
  })

  it('round-trips special characters through XML escaping', () => {
    const [a, , c] = children(root(stdout('junit')), 'testsuite').map((suite) => children(suite, 'testcase')[0]!)
    const [lockFailure, updateFailure] = children(a!, 'failure')
    assert.equal(attribute(updateFailure!, 'message'), TRICKY_MESSAGE)
    assert.equal(updateFailure!['#text'], `3:10  ${TRICKY_MESSAGE}\nhint: Add a WHERE clause & test it`)
    assert.equal(attribute(lockFailure!, 'message'), 'Copies 100% of the table\nsecond line: still locked')
    assert.equal(attribute(children(c!, 'failure')[0]!, 'message'), 'Unexpected token ]]>')
    assert.equal(attribute(children(root(stdout('junit')), 'testsuite')[2]!, 'name'), FILE_C)
  })

  it('turns characters XML 1.0 forbids into visible escapes and keeps \\r', () => {
    const report = sampleReport({findings: [finding({rule: 'r', level: 'error', file: 'x.sql', line: 1, column: 1, message: 'nul\u0000 bell\u0007 lone\uD800 fffe\uFFFE cr\r tab\t'})]})
    const suite = children(root(stdout('junit', report)), 'testsuite')[0]!
    const failure = children(children(suite, 'testcase')[0]!, 'failure')[0]!
    assert.equal(attribute(failure, 'message'), 'nul\\u0000 bell\\u0007 lone\\uD800 fffe\\uFFFE cr\r tab\t')
  })

  it('never fails with failOn=never, and still has a passing test case when nothing was found', () => {
    assert.equal(attribute(root(stdout('junit', sampleReport({failOn: 'never', failed: false}))), 'failures'), '0')
    const clean = root(stdout('junit', sampleReport({findings: [], failed: false})))
    assert.equal(attribute(clean, 'tests'), '1')
    assert.equal(attribute(clean, 'failures'), '0')
    const cases = children(children(clean, 'testsuite')[0]!, 'testcase')
    assert.equal(cases.length, 1)
    assert.equal(children(cases[0]!, 'failure').length, 0)
  })
})

// --- checkstyle -----------------------------------------------------------------------------------

describe('checkstyle reporter', () => {
  const document = parseXml(stdout('checkstyle'))['checkstyle'] as XmlNode

  it('is well formed checkstyle 4.3 with one <file> per file and one <error> per unsuppressed finding', () => {
    assert.equal(attribute(document, 'version'), '4.3')
    const files = children(document, 'file')
    assert.deepEqual(files.map((file) => attribute(file, 'name')), [FILE_A, FILE_B, FILE_C])
    assert.deepEqual(files.map((file) => children(file, 'error').length), [2, 1, 1])
  })

  it('maps levels to checkstyle severities and names the rule as the source', () => {
    const errors = children(document, 'file').flatMap((file) => children(file, 'error'))
    assert.deepEqual(
      errors.map((error) => [attribute(error, 'line'), attribute(error, 'column'), attribute(error, 'severity'), attribute(error, 'source')]),
      [
        ['1', '1', 'warning', 'dbakit.locking-alter-copy'],
        ['3', '10', 'error', 'dbakit.dml-update-without-where'],
        ['2', '5', 'info', 'dbakit.design-nullable-column'],
        ['4', '2', 'error', 'dbakit.syntax-parse-error'],
      ],
    )
    assert.equal(attribute(errors[1]!, 'message'), TRICKY_MESSAGE)
    assert.equal(attribute(errors[0]!, 'message'), 'Copies 100% of the table\nsecond line: still locked')
  })
})

// --- GitHub ---------------------------------------------------------------------------------------

describe('github reporter', () => {
  it('prints one workflow command per unsuppressed finding, escaped as the runner expects', () => {
    assert.deepEqual(stdout('github').split('\n'), [
      '::warning file=migrations/001 init.sql,line=1,col=1,title=locking-alter-copy::Copies 100%25 of the table%0Asecond line: still locked%0Ahint: fix locking-alter-copy',
      `::error file=migrations/001 init.sql,line=3,col=10,title=dml-update-without-where::${TRICKY_MESSAGE}%0Ahint: Add a WHERE clause & test it`,
      '::notice file=migrations/002_backfill.sql,line=2,col=5,title=design-nullable-column::Columns a, b: nullable \u0001 here%0Ahint: fix design-nullable-column',
      '::error file=legacy\\003%2Ca%3Ab.sql,line=4,col=2,title=syntax-parse-error::Unexpected token ]]>%0Ahint: Check the statement',
    ])
  })

  it('escapes a carriage return too', () => {
    const report = sampleReport({findings: [finding({rule: 'r', level: 'notice', file: 'a.sql', line: 1, column: 1, message: 'a\r\nb', hint: ''})]})
    assert.equal(stdout('github', report), '::notice file=a.sql,line=1,col=1,title=r::a%0D%0Ab')
  })

  it(`shows ${ANNOTATIONS_PER_LEVEL} annotations per level and says how many more are in the step summary`, () => {
    const many = (level: Level, count: number) => Array.from({length: count}, (_, index) => finding({rule: `rule-${level}`, level, file: 'big.sql', line: index + 1, column: 1}))
    const findings = [...many('error', 12), ...many('warning', 3), ...many('notice', 10)]
    const report = sampleReport({findings, summary: {files: 1, statements: 30, unparsed: 0, error: 12, warning: 3, notice: 10, suppressed: 0, baselined: 0}})
    const {stdout: commands, summaryMarkdown} = render('github', report, OPTIONS)
    const lines = commands.split('\n')
    const count = (prefix: string) => lines.filter((line) => line.startsWith(prefix)).length
    assert.equal(count('::error '), 10)
    assert.equal(count('::warning '), 3)
    // GitHub's cap applies to the overflow notice too, so one notice gives way to it.
    assert.equal(count('::notice '), 10)
    assert.equal(lines.at(-1), '::notice title=dbakit audit::3 more findings are listed in the step summary (GitHub shows 10 annotations of each level per step).')
    assert.equal(summaryMarkdown?.split('\n').filter((line) => line.startsWith('| big.sql:')).length, 25)
  })

  it('adds no overflow notice when every level fits', () => {
    assert.doesNotMatch(stdout('github'), /more finding/)
  })

  it('writes a markdown table of every unsuppressed finding, with the summary', () => {
    const markdown = render('github', sampleReport(), OPTIONS).summaryMarkdown ?? ''
    const rows = markdown.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Location') && !line.startsWith('| ---'))
    assert.deepEqual(rows, [
      '| migrations/001 init.sql:1 | warning | locking-alter-copy | Copies 100% of the table<br>second line: still locked |',
      '| migrations/001 init.sql:3 | error | dml-update-without-where | UPDATE \\<orders\\> \\& "items" \\| \\*all\\* rows |',
      '| migrations/002\\_backfill.sql:2 | notice | design-nullable-column | Columns a, b: nullable \u0001 here |',
      '| legacy\\\\003,a:b.sql:4 | error | syntax-parse-error | Unexpected token \\]\\]\\> |',
    ])
    assert.match(markdown, /^2 errors, 1 warning, 1 notice in 3 files \(12 statements; 1 not parsed; 1 suppressed\)\. The audit failed \(fail-on: warning\)\.$/m)
    // Every row has exactly the four cells of the header.
    for (const row of rows) assert.equal(row.replaceAll('\\|', '').split('|').length, 6)
  })
})

// --- text -----------------------------------------------------------------------------------------

describe('text reporter', () => {
  const ANSI = /\u001B\[[0-9;]*m/

  /** The column of the caret below `source` in the output, 1-based within the source line. */
  function caretColumn(output: string, source: string): number {
    const lines = output.split('\n')
    const index = lines.findIndex((line) => line.endsWith(source))
    assert.ok(index >= 0, `source line ${JSON.stringify(source)} not shown`)
    const sourceLine = lines[index]!
    const indent = sourceLine.length - source.length
    const caretLine = lines[index + 1]!
    assert.match(caretLine, /^[ \t]*\^$/)
    return caretLine.indexOf('^') - indent + 1
  }

  it('groups findings by file, each with location, level, message, rule, source, caret and hint', () => {
    const output = stdout('text')
    assert.doesNotMatch(output, ANSI)
    assert.match(output, /^migrations\/001 init\.sql\n {2}1:1 {3}warning {2}Copies 100% of the table\n/)
    assert.match(output, /\n {2}3:10 {2}error {4}UPDATE <orders> & "items" \| \*all\* rows {2}\[dml-update-without-where\]\n {4} {2}UPDATE orders SET status = 1\n {4} {9}\^\n {4}hint: Add a WHERE clause & test it\n/)
    assert.ok(output.indexOf(FILE_A) < output.indexOf(FILE_B) && output.indexOf(FILE_B) < output.indexOf(FILE_C))
  })

  it('puts the caret under the column, from finding.source or from sourceLines', () => {
    const output = stdout('text')
    assert.equal(caretColumn(output, SOURCE_A3), 10)
    assert.equal(caretColumn(output, SOURCE_B[1]!), 5)
    assert.equal(caretColumn(output, 'ALTER TABLE orders ADD COLUMN x INT'), 1)
  })

  it('keeps tabs before the caret so it lines up whatever the tab width', () => {
    const source = '\t\tDROP TABLE t'
    const report = sampleReport({findings: [finding({rule: 'destructive-drop', level: 'error', file: 'a.sql', line: 1, column: 3, source})]})
    assert.match(stdout('text', report), /\n {4}\t\tDROP TABLE t\n {4}\t\t\^\n/)
  })

  it('shows suppressed findings with their reason and without source or hint', () => {
    assert.match(stdout('text'), /\n {2}7:1 {3}error {4}UPDATE without WHERE {2}\[dml-update-without-where\] {2}\(suppressed: reviewed by the DBA\)\n/)
  })

  it('shows a file without source lines without a caret', () => {
    assert.match(stdout('text'), /legacy\\003,a:b\.sql\n {2}4:2 {3}error {4}Unexpected token \]\]> {2}\[syntax-parse-error\]\n {4}hint: Check the statement\n/)
  })

  it('ends with a summary line', () => {
    assert.equal(stdout('text').split('\n').at(-1), '2 errors, 1 warning, 1 notice in 3 files (12 statements; 1 not parsed; 1 suppressed)')
    const clean = sampleReport({findings: [], summary: {files: 1, statements: 1, unparsed: 0, error: 0, warning: 0, notice: 0, suppressed: 0, baselined: 0}, failed: false})
    assert.equal(stdout('text', clean), '0 errors, 0 warnings, 0 notices in 1 file (1 statement)')
  })

  it('colours only when asked', () => {
    const coloured = stdout('text', sampleReport(), {color: true})
    assert.match(coloured, ANSI)
    assert.match(coloured, /\u001B\[31merror {2}\u001B\[39m/)
    assert.equal(coloured.replaceAll(new RegExp(ANSI.source, 'g'), ''), stdout('text'))
  })

  it('says plainly when there was nothing to audit', () => {
    const empty = {files: 2, statements: 0, unparsed: 0, error: 0, warning: 0, notice: 0, suppressed: 0, baselined: 0}
    assert.equal(stdout('text', sampleReport({findings: [], summary: empty, failed: false})), 'No SQL statements found in 2 files: nothing was audited.')
    assert.equal(stdout('text', sampleReport({findings: [], summary: {...empty, files: 0}, failed: false})), 'No SQL files were given: nothing was audited.')
  })
})

describe('render', () => {
  it('renders every format it lists, and only github has a step summary', () => {
    for (const format of FORMATS) {
      const rendered = render(format, sampleReport(), OPTIONS)
      assert.ok(rendered.stdout.length > 0, format)
      assert.equal(rendered.summaryMarkdown !== undefined, format === 'github', format)
    }
  })

  it('writes every format while the findings arrive, and ends with the document render gives', () => {
    const many = Array.from({length: 3000}, (_, index) => finding({rule: 'dml-update-without-where', level: index % 7 === 0 ? 'error' : 'notice', file: index < 1500 ? 'a.sql' : 'b.sql', line: (index % 1500) + 1, column: 1, source: 'UPDATE orders SET status = 1'}))
    const report = sampleReport({findings: many, summary: {files: 2, statements: 3000, unparsed: 0, error: 429, warning: 0, notice: 2571, suppressed: 0, baselined: 0}})
    for (const format of FORMATS) {
      const pieces: string[] = []
      const writer = createWriter(format, (text) => pieces.push(text), OPTIONS)
      writer.begin(report)
      for (const one of many) writer.findings([one])
      // A large report must be on its way before the audit ends (junit, whose totals come first, aside).
      if (format !== 'junit' && format !== 'github') assert.ok(pieces.length > 1, `${format} wrote ${pieces.length} pieces before the end`)
      const {summaryMarkdown} = writer.end(report)
      const rendered = render(format, report, OPTIONS)
      assert.equal(pieces.join(''), `${rendered.stdout}\n`, format)
      assert.equal(summaryMarkdown, rendered.summaryMarkdown, format)
    }
  })
})

describe('github step summary', () => {
  it(`lists the first ${SUMMARY_ROWS} findings and says how many more there are, so it stays under GitHub's 1 MiB`, () => {
    const many = Array.from({length: SUMMARY_ROWS + 5}, (_, index) => finding({rule: 'query-select-star', level: 'notice', file: 'big.sql', line: index + 1, column: 1}))
    const {stdout: commands, summaryMarkdown} = render('github', sampleReport({findings: many}), OPTIONS)
    const markdown = summaryMarkdown ?? ''
    assert.equal(markdown.split('\n').filter((line) => line.startsWith('| big.sql:')).length, SUMMARY_ROWS)
    assert.match(markdown, new RegExp(`The first ${SUMMARY_ROWS} findings are shown; 5 more are in the full report`))
    assert.match(commands, /::notice title=dbakit audit::996 more findings are not annotated: the step summary lists the first 1000, --format sarif or json all of them/)
  })
})
