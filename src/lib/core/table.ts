/**
 * Human tables. cli-table3 is loaded only by commands that print one, keeping it off the
 * start-up path of everything else.
 */
export async function renderTable(head: string[], rows: Array<Array<string | number | null | undefined>>, width = process.stdout.isTTY ? process.stdout.columns : undefined): Promise<string> {
  const {default: Table} = await import('cli-table3')
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))
  const table = new Table({head, style: {head: [], border: []}, wordWrap: true, ...(width ? {colWidths: fitColumns(head, cells, width)} : {})})
  for (const row of cells) table.push(row)
  return table.toString()
}

/** Natural column widths, with the widest column wrapped so the table fits the terminal. */
function fitColumns(head: string[], rows: string[][], width: number): number[] {
  const natural = head.map((title, index) => Math.max(title.length, ...rows.map((row) => row[index]?.length ?? 0)) + 2)
  const borders = head.length + 1
  const total = natural.reduce((sum, column) => sum + column, borders)
  if (total <= width) return natural
  const widest = natural.indexOf(Math.max(...natural))
  natural[widest] = Math.max(12, natural[widest]! - (total - width))
  return natural
}

/** Two-column key/value listing for a single record, aligned, no borders: easy to read and to grep. */
export function renderKeyValues(entries: Array<[string, string | number | boolean | null | undefined]>): string {
  const shown = entries.filter(([, value]) => value !== undefined)
  const width = Math.max(0, ...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${key.padEnd(width)}  ${value === null ? '-' : String(value)}`).join('\n')
}
