/**
 * Human tables. cli-table3 is loaded only by commands that print one, keeping it off the
 * start-up path of everything else.
 */
export async function renderTable(head: string[], rows: Array<Array<string | number | null | undefined>>): Promise<string> {
  const {default: Table} = await import('cli-table3')
  const table = new Table({head, style: {head: [], border: []}, wordWrap: true})
  for (const row of rows) table.push(row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))
  return table.toString()
}

/** Two-column key/value listing for a single record, aligned, no borders: easy to read and to grep. */
export function renderKeyValues(entries: Array<[string, string | number | boolean | null | undefined]>): string {
  const shown = entries.filter(([, value]) => value !== undefined)
  const width = Math.max(0, ...shown.map(([key]) => key.length))
  return shown.map(([key, value]) => `${key.padEnd(width)}  ${value === null ? '-' : String(value)}`).join('\n')
}
