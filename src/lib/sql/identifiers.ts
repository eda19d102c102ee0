/** A MySQL identifier in backquotes, whatever it holds. */
export const ident = (name: string) => `\`${name.replace(/`/g, '``')}\``
export const qualified = (database: string, table: string) => `${ident(database)}.${ident(table)}`
