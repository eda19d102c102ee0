// Generates docs/rules.md from the rule catalog in the build (dist/), so the documentation is the
// catalog: `node scripts/rules-doc.mjs --write` rewrites it, `--check` exits 1 when it is stale.
import {readFileSync, writeFileSync} from 'node:fs'

const {catalog} = await import('../dist/lib/audit/run.js')
const FAMILIES = {
  destructive: 'Destructive and breaking DDL',
  locking: 'Locking and online DDL',
  dml: 'DML safety',
  security: 'Security and session switches',
  design: 'Table design',
  query: 'Query anti-patterns',
  syntax: 'Syntax and the audit itself',
}
const rules = catalog()
const fence = (sql) => ['```sql', sql, '```'].join('\n')
const lines = [
  '# Audit rules',
  '',
  `Generated from the catalog by \`node scripts/rules-doc.mjs --write\`; do not edit. ${rules.length} rules.`,
  '`dbakit audit rules` lists them and `dbakit audit explain RULE` shows one in the terminal.',
  'Change a rule\'s level or turn it off in `.dbakit.yaml` (`rules: {RULE: warning}`), or suppress one',
  'statement with `-- dbakit-ignore RULE: reason`. Rules marked *needs a schema* run with `--profile`,',
  '`--url` or `--schema FILE`.',
  '',
]
for (const [family, title] of Object.entries(FAMILIES)) {
  const members = rules.filter((rule) => rule.family === family)
  if (members.length === 0) continue
  lines.push(`## ${title}`, '', '| rule | level | checks |', '|---|---|---|')
  for (const rule of members) lines.push(`| [\`${rule.id}\`](#${rule.id}) | ${rule.level} | ${rule.summary.replace(/\|/g, '\\|')}${rule.needsSchema ? ' *(needs a schema)*' : ''} |`)
  lines.push('')
  for (const rule of members) {
    lines.push(`### ${rule.id}`, '', `Default level: **${rule.level}**${rule.needsSchema ? ' · needs a schema' : ''}`, '', rule.rationale, '', 'Bad:', '', fence(rule.bad), '', 'Good:', '', fence(rule.good), '', `Fix: ${rule.fix}`, '')
  }
}
const text = `${lines.join('\n').trimEnd()}\n`
const mode = process.argv[2]
if (mode === '--write') {
  writeFileSync('docs/rules.md', text)
  console.log(`wrote docs/rules.md (${rules.length} rules)`)
} else if (mode === '--check') {
  let current = ''
  try {
    current = readFileSync('docs/rules.md', 'utf8')
  } catch {}
  if (current !== text) {
    console.error('docs/rules.md is stale: run `npm run build && node scripts/rules-doc.mjs --write` and commit it')
    process.exit(1)
  }
} else {
  console.error('usage: node scripts/rules-doc.mjs --write | --check')
  process.exit(2)
}
