import {usageError} from '../core/errors.ts'
import {STATE_DATABASE} from '../core/paths.ts'
import {openMysql, type MysqlSession} from './drivers/mysql.ts'
import type {ConnectionTarget} from './target.ts'

const IDENTIFIER = /^[A-Za-z0-9_$]{1,64}$/

/**
 * A connection to a `--store mysql://…/database` for dbakit's shared state (the audit log, the
 * rotation journal, the capacity history): the URL's database, dbakit_state by default, refused
 * unless it is a plain identifier, since it is written into statements. The connection has no
 * default database: the schema may not exist yet, and the first write creates it.
 */
export async function openStateStore(target: ConnectionTarget): Promise<{session: MysqlSession; database: string}> {
  const database = target.url.database ?? STATE_DATABASE
  if (!IDENTIFIER.test(database)) {
    throw usageError('STORE_DATABASE_INVALID', `--store names database "${database}", which is not a plain identifier`, {hint: 'use letters, digits and _ only, e.g. mysql://user@host:3306/dbakit_state'})
  }
  const {database: _omitted, ...url} = target.url
  return {session: await openMysql({...target, url}), database}
}
