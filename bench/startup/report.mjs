// Turns hyperfine's JSON into the markdown table recorded in docs/benchmarks.md.
import {readFileSync} from 'node:fs'
import {cpus} from 'node:os'

const [dir, runs] = process.argv.slice(2)
const ms = (seconds) => (seconds * 1000).toFixed(1)
const lines = [
  `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${runs} runs after 3 warm-ups (hyperfine).`,
  '',
  '| command | dbakit mean ± σ (ms) | dbakit min | minimal oclif mean ± σ (ms) | minimal min | ratio (mean) | ratio (min) |',
  '|---|---|---|---|---|---|---|',
]
for (const name of ['version', 'help']) {
  const {results} = JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8'))
  const [ours, peer] = results
  lines.push(`| \`--${name}\` | ${ms(ours.mean)} ± ${ms(ours.stddev)} | ${ms(ours.min)} | ${ms(peer.mean)} ± ${ms(peer.stddev)} | ${ms(peer.min)} | ${(ours.mean / peer.mean).toFixed(2)}× | ${(ours.min / peer.min).toFixed(2)}× |`)
}
console.log(lines.join('\n'))
