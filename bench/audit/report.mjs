// Prints the markdown recorded in docs/benchmarks.md from the measurements of bench/audit/run.
import {readFileSync} from 'node:fs'
import {cpus} from 'node:os'

const [resultsFile, oneFile, count, runs] = process.argv.slice(2)
const byName = new Map()
for (const line of readFileSync(resultsFile, 'utf8').trim().split('\n')) {
  const [name, seconds, kib] = line.split(' ')
  byName.set(name, [...(byName.get(name) ?? []), {seconds: Number(seconds), mib: Number(kib) / 1024}])
}
const median = (values) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]
const row = (label, name) => {
  const samples = byName.get(name)
  const seconds = median(samples.map((sample) => sample.seconds))
  const mib = Math.max(...samples.map((sample) => sample.mib))
  return {label, seconds, mib, line: `| ${label} | ${seconds.toFixed(2)} | ${Math.round(Number(count) / seconds).toLocaleString('en-US')} | ${mib.toFixed(0)} |`}
}
const {results} = JSON.parse(readFileSync(oneFile, 'utf8'))
const [one, version] = results
const lines = [
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${Number(count).toLocaleString('en-US')} generated statements per file; median time and highest peak RSS of ${runs} runs each.`,
  '',
  '| file | run | wall time (s) | statements/s | peak RSS (MiB) |',
  '|---|---|---|---|---|',
]
for (const file of ['mixed', 'distinct']) {
  const plain = row('node-sql-parser 5.4.0, plain parse', `plain-${file}`)
  const dbakit = row('dbakit audit (split, lex, parse, all rules, JSON report)', `dbakit-${file}`)
  lines.push(`| ${file} |${plain.line.slice(1)}`, `| ${file} |${dbakit.line.slice(1)}`)
  lines.push(`| ${file} | dbakit against the plain parse | ${(plain.seconds / dbakit.seconds).toFixed(2)}× as fast | | |`)
}
lines.push('', `One-statement file: \`dbakit audit one.sql\` ${(one.mean * 1000).toFixed(0)} ms vs \`dbakit --version\` ${(version.mean * 1000).toFixed(0)} ms (${(one.mean / version.mean).toFixed(2)}×), means of 20 runs.`)
console.log(lines.join('\n'))
