import {formatBytes, formatCount} from '../core/text.ts'
import type {Forecast} from './index.ts'
import type {Snapshot} from './history.ts'
import type {InstanceCapacity} from './report.ts'

const DAY = 86_400_000
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
.estimate{color:#666}.chart{display:block;margin:.5em 0}.note{color:#666;font-size:.9em}`

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>${STYLE}</style></head><body><h1>${escape(title)}</h1>${body}</body></html>\n`
}

/** A line chart: the history solid, the forecast dashed, the threshold red; every figure also in a <title>. */
function forecastChart(forecast: Forecast, history: Snapshot[]): string {
  const [width, height, left, bottom] = [720, 260, 70, 30]
  const points = history.filter((snapshot) => snapshot.usage.used !== null).map((snapshot) => ({at: Date.parse(snapshot.takenAt), value: snapshot.usage.used!}))
  const best = forecast.crossings[0]!
  const lastAt = Date.parse(forecast.lastAt)
  const horizon = Math.min(730, Math.max(30, best.days === null ? 90 : best.days * 1.2))
  const future = Array.from({length: 41}, (_, step) => {
    const days = (horizon * step) / 40
    const value = best.method === 'exponential' ? forecast.used * (1 + best.perDay / forecast.used) ** days : forecast.used + best.perDay * days
    return {at: lastAt + days * DAY, value}
  })
  const xs = [points[0]!.at, lastAt + horizon * DAY]
  const top = Math.max(forecast.limit * 1.1, ...points.map((p) => p.value))
  const x = (at: number) => left + ((at - xs[0]!) / (xs[1]! - xs[0]!)) * (width - left - 10)
  const y = (value: number) => height - bottom - (Math.min(value, top) / top) * (height - bottom - 10)
  const line = (series: Array<{at: number; value: number}>) => series.map((p) => `${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')
  const date = (at: number) => new Date(at).toISOString().slice(0, 10)
  return `<svg class="chart" role="img" aria-label="${escape(`${forecast.instance}: ${forecast.of} use and forecast`)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">
<rect x="${left}" y="10" width="${width - left - 10}" height="${height - bottom - 10}" fill="#fafafa" stroke="#ccc"/>
<line class="threshold" x1="${left}" x2="${width - 10}" y1="${y(forecast.limit).toFixed(1)}" y2="${y(forecast.limit).toFixed(1)}" stroke="#c00" stroke-dasharray="2 3"><title>${forecast.thresholdPercent}% of ${escape(formatBytes(forecast.total))}: ${escape(formatBytes(forecast.limit))}</title></line>
<polyline class="history" fill="none" stroke="#1565c0" stroke-width="2" points="${line(points)}"><title>${points.length} snapshots from ${date(points[0]!.at)} to ${date(lastAt)}</title></polyline>
<polyline class="forecast" fill="none" stroke="#1565c0" stroke-width="2" stroke-dasharray="6 4" points="${line(future)}"><title>${escape(best.method)} growth, ${escape(formatBytes(best.perDay))} a day</title></polyline>
<text x="${left - 6}" y="${y(forecast.limit) + 4}" text-anchor="end" font-size="11">${escape(formatBytes(forecast.limit))}</text>
<text x="${left}" y="${height - 8}" font-size="11">${date(xs[0]!)}</text><text x="${width - 10}" y="${height - 8}" font-size="11" text-anchor="end">${date(xs[1]!)}</text>
</svg>`
}

const daysText = (days: number | null) => (days === null ? 'never' : String(Math.round(days)))

/** The forecast of every instance in one file: figures, a chart of its history and forecast, its fastest-growing objects. */
export function forecastHtml(forecasts: Forecast[], histories: Map<string, Snapshot[]>): string {
  const rows = forecasts
    .map((f) => {
      const best = f.crossings[0]!
      return `<tr><td>${escape(f.instance)}</td><td>${f.usedPercent.toFixed(1)}% of ${escape(formatBytes(f.total))} ${f.of}</td><td class="days">${daysText(best.days)}</td><td>${daysText(best.earliest)}–${daysText(best.latest)}</td><td>${escape(f.reachesAt ?? '')}</td><td>${escape(best.method)}</td></tr>`
    })
    .join('')
  const sections = forecasts
    .map((f) => {
      const drivers = f.drivers.map((d) => `<tr><td>${escape(d.object)}</td><td>${escape(formatBytes(d.bytes))}</td><td>+${escape(formatBytes(d.perDay))}/day</td></tr>`).join('')
      return `<section class="instance"><h2>${escape(f.instance)}</h2>${forecastChart(f, histories.get(f.instance) ?? [])}${drivers ? `<table><tr><th>Fastest growing</th><th>Size</th><th>Growth</th></tr>${drivers}</table>` : ''}</section>`
    })
    .join('')
  return page(`Capacity forecast to ${forecasts[0]?.thresholdPercent ?? 88}%`, `<table><tr><th>Instance</th><th>Used</th><th>Days</th><th>95% interval</th><th>Reaches</th><th>Method</th></tr>${rows}</table><p class="note">Soonest first. Solid: the snapshots; dashed: the leading fit; red: the threshold.</p>${sections}`)
}

/** One instance's report: its figures, estimates marked, and a bar chart of its biggest objects. */
export function reportHtml(report: InstanceCapacity, top: number): string {
  const cell = (figure: {value: number | null; exact: boolean}, format: (value: number) => string = formatBytes) => `<td${figure.exact ? '' : ' class="estimate"'}>${figure.value === null ? '?' : `${figure.exact ? '' : '~'}${escape(format(figure.value))}`}</td>`
  const objects = report.tables.length > 0 ? report.tables.slice(0, top).map((t) => ({name: `${t.database}.${t.table}`, bytes: t.onDisk.value ?? 0})) : (report.keyspaces ?? []).flatMap((space) => space.prefixes.map((group) => ({name: `db${space.db} ${group.prefix}`, bytes: group.bytes.value ?? 0}))).slice(0, top)
  const biggest = Math.max(1, ...objects.map((object) => object.bytes))
  const bars = objects.map((object, index) => `<g><rect class="bar" x="200" y="${index * 22 + 4}" width="${((object.bytes / biggest) * 500).toFixed(1)}" height="16" fill="#1565c0"><title>${escape(object.name)}: ${escape(formatBytes(object.bytes))}</title></rect><text x="194" y="${index * 22 + 16}" text-anchor="end" font-size="11">${escape(object.name.slice(0, 32))}</text><text x="${206 + (object.bytes / biggest) * 500}" y="${index * 22 + 16}" font-size="11">${escape(formatBytes(object.bytes))}</text></g>`).join('')
  const chart = `<svg class="chart" role="img" aria-label="biggest objects" width="780" height="${objects.length * 22 + 8}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`
  const tables = report.tables.slice(0, top).map((t) => `<tr><td>${escape(`${t.database}.${t.table}`)}</td>${cell(t.onDisk)}${cell(t.rows, formatCount)}${cell(t.data)}${cell(t.indexes)}${cell(t.reclaimable)}</tr>`).join('')
  const prefixes = (report.keyspaces ?? []).flatMap((space) => space.prefixes.slice(0, top).map((g) => `<tr><td>db${space.db} ${escape(g.prefix)}</td>${cell(g.keys, formatCount)}${cell(g.bytes)}${cell(g.freedByTtl)}</tr>`)).join('')
  return page(`Capacity of ${report.instance}`, `<p>${escape(`${report.engine} ${report.version}`)}, ${escape(report.takenAt)}. <span class="estimate">~ marks an estimate.</span></p>${chart}${tables ? `<table><tr><th>Table</th><th>On disk</th><th>Rows</th><th>Data</th><th>Indexes</th><th>Reclaimable</th></tr>${tables}</table>` : ''}${prefixes ? `<table><tr><th>Namespace</th><th>Keys</th><th>Memory</th><th>With TTL</th></tr>${prefixes}</table>` : ''}`)
}
