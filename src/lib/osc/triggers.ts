import type {ColumnPair} from './mapping.ts'
import {ident, qualified} from './sql.ts'

export interface SyncTriggers {
  /** In the order they must be created: DELETE, UPDATE, INSERT (docs/schema-change.md says why). */
  create: Array<{name: string; sql: string}>
  /** In the order they are dropped: INSERT, UPDATE, DELETE. */
  drop: string[]
}

/**
 * Triggers on `source` that apply every insert, update and delete to `target` through `pairs`
 * (source column -> target column). They upsert (INSERT ... ON DUPLICATE KEY UPDATE), never
 * REPLACE: a REPLACE is a DELETE plus an INSERT, and around the cut-over its DELETE into an empty
 * placeholder takes a gap lock that two writers then deadlock on.
 */
export function syncTriggers(options: {database: string; source: string; target: string; pairs: Array<{from: string; to: string}>; key: Array<{from: string; to: string}>; names: {insert: string; update: string; delete: string}}): SyncTriggers {
  const {database, source, target, pairs, key} = options
  const into = qualified(database, target)
  const on = qualified(database, source)
  const matchOld = key.map((k) => `${ident(k.to)} = OLD.${ident(k.from)}`).join(' AND ')
  const keyUnchanged = key.map((k) => `OLD.${ident(k.from)} <=> NEW.${ident(k.from)}`).join(' AND ')
  const keyColumns = new Set(key.map((k) => k.to))
  const updated = pairs.filter((p) => !keyColumns.has(p.to))
  const upsert =
    `INSERT INTO ${into} (${pairs.map((p) => ident(p.to)).join(', ')}) VALUES (${pairs.map((p) => `NEW.${ident(p.from)}`).join(', ')}) ` +
    `ON DUPLICATE KEY UPDATE ${(updated.length > 0 ? updated : pairs).map((p) => `${ident(p.to)} = VALUES(${ident(p.to)})`).join(', ')}`
  const create = [
    {name: options.names.delete, sql: `CREATE TRIGGER ${qualified(database, options.names.delete)} AFTER DELETE ON ${on} FOR EACH ROW DELETE FROM ${into} WHERE ${matchOld}`},
    {name: options.names.update, sql: `CREATE TRIGGER ${qualified(database, options.names.update)} AFTER UPDATE ON ${on} FOR EACH ROW BEGIN IF NOT (${keyUnchanged}) THEN DELETE FROM ${into} WHERE ${matchOld}; END IF; ${upsert}; END`},
    {name: options.names.insert, sql: `CREATE TRIGGER ${qualified(database, options.names.insert)} AFTER INSERT ON ${on} FOR EACH ROW ${upsert}`},
  ]
  return {create, drop: [options.names.insert, options.names.update, options.names.delete]}
}

/** Forward (original -> new) and reverse (new -> original) trigger column lists of a mapping. */
export const forwardPairs = (pairs: ColumnPair[]) => pairs.map((p) => ({from: p.old, to: p.new}))
export const reversePairs = (pairs: ColumnPair[]) => pairs.map((p) => ({from: p.new, to: p.old}))
