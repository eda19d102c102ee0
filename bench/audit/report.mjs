// Prints the markdown recorded in docs/benchmarks.md from the measurements of bench/audit/run.
import {readFileSync} from 'node:fs'
import {cpus} from 'node:os'

const [resultsFile, oneFile, count] = process.argv.slice(2)
const rows = Object.fromEntries(
  readFileSync(resultsFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [name, seconds, kib] = line.split(' ')
      return [name, {seconds: Number(seconds), mib: Number(kib) / 1024}]
    }),
)
const rate = (row) => Math.round(Number(count) / row.seconds).toLocaleString('en-US')
const {results} = JSON.parse(readFileSync(oneFile, 'utf8'))
const [one, version] = results
console.log(
  [
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; ${Number(count).toLocaleString('en-US')} generated statements.`,
    '',
    '| run | wall time (s) | statements/s | peak RSS (MiB) |',
    '|---|---|---|---|',
    `| node-sql-parser 5.4.0, plain parse | ${rows.plain.seconds.toFixed(2)} | ${rate(rows.plain)} | ${rows.plain.mib.toFixed(0)} |`,
    `| dbakit audit (split, lex, parse, all rules, JSON report) | ${rows.dbakit.seconds.toFixed(2)} | ${rate(rows.dbakit)} | ${rows.dbakit.mib.toFixed(0)} |`,
    '',
    `One-statement file: \`dbakit audit one.sql\` ${(one.mean * 1000).toFixed(0)} ms vs \`dbakit --version\` ${(version.mean * 1000).toFixed(0)} ms (${(one.mean / version.mean).toFixed(2)}×), means of 20 runs.`,
  ].join('\n'),
)
