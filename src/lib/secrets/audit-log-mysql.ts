import {DbakitError, ExitCode, environmentError} from '../core/errors.ts'
import {redactSecrets} from '../core/text.ts'
import {openStateStore} from '../connect/store.ts'
import type {ConnectionTarget} from '../connect/target.ts'
import {entryHash, nextEntry, parseEntry, verifyChain, type AuditEntry, type AuditLog, type StoredRecord} from './audit-log.ts'

export const AUDIT_TABLE = 'secret_audit_log'

// `time` is kept as the ISO text that was hashed: a DATETIME would round-trip through the session
// time zone and precision, and the hash would no longer match.
const CREATE_TABLE = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
  seq BIGINT UNSIGNED NOT NULL,
  v TINYINT UNSIGNED NOT NULL,
  \`time\` VARCHAR(32) NOT NULL,
  \`user\` VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid BIGINT NOT NULL,
  action VARCHAR(32) NOT NULL,
  target VARCHAR(512) NOT NULL,
  provider VARCHAR(32) NULL,
  key_id VARCHAR(512) NULL,
  key_version BIGINT UNSIGNED NULL,
  outcome VARCHAR(8) NOT NULL,
  code VARCHAR(64) NULL,
  prev CHAR(64) NOT NULL,
  hash CHAR(64) NOT NULL,
  PRIMARY KEY (seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

const COLUMNS = 'seq, v, `time`, `user`, host, pid, action, target, provider, key_id, key_version, outcome, code, prev, hash'

interface Row {
  seq: string | number
  v: number | string
  time: string
  user: string
  host: string
  pid: string | number
  action: string
  target: string
  provider: string | null
  key_id: string | null
  key_version: string | number | null
  outcome: string
  code: string | null
  prev: string
  hash: string
}

/** mysql2 returns BIGINT as strings here (bigNumberStrings); entries carry numbers. */
const toNumber = (value: string | number | null) => (value === null ? null : Number(value))

function entryOfRow(row: Row): unknown {
  return {
    v: toNumber(row.v),
    seq: toNumber(row.seq),
    time: row.time,
    user: row.user,
    host: row.host,
    pid: toNumber(row.pid),
    action: row.action,
    target: row.target,
    provider: row.provider,
    keyId: row.key_id,
    keyVersion: toNumber(row.key_version),
    outcome: row.outcome,
    code: row.code,
    prev: row.prev,
    hash: row.hash,
  }
}

// Duplicate seq (another appender won the race) and deadlock (two first appenders on an empty table).
const RETRYABLE = new Set([1062, 1213, 1205])
const MAX_ATTEMPTS = 200

/**
 * The shared log: one row per entry in `<database>.secret_audit_log` (the URL's database, or
 * dbakit_state). Appenders serialise on the head row (SELECT ... FOR UPDATE); seq is the primary key,
 * so two appenders that read the same head cannot both commit, and the loser retries on the new head.
 */
export async function mysqlAuditLog(target: ConnectionTarget): Promise<AuditLog> {
  const {session, database} = await openStateStore(target)
  const table = `\`${database}\`.\`${AUDIT_TABLE}\``
  const location = `mysql://${target.label}/${database}.${AUDIT_TABLE}`

  const failure = (what: string, error: unknown): DbakitError => {
    if (error instanceof DbakitError) return error
    const detail = redactSecrets(error instanceof Error ? error.message : String(error), [target.password]).split('\n')[0]
    return environmentError('AUDIT_STORE_FAILED', `cannot ${what} the audit log ${location}: ${detail}`, {
      hint: `check that ${target.label} may create and write ${database}.${AUDIT_TABLE} (CREATE, SELECT, INSERT)`,
    })
  }

  const tableExists = async () => {
    const [row] = await session.query<{n: number | string}>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, AUDIT_TABLE])
    return Number(row?.n ?? 0) > 0
  }

  const readRecords = async (): Promise<StoredRecord[]> => {
    try {
      if (!(await tableExists())) return []
      const rows = await session.query<Row>(`SELECT ${COLUMNS} FROM ${table} ORDER BY seq`)
      return rows.map((row, index) => {
        const parsed = parseEntry(entryOfRow(row))
        return typeof parsed === 'string' ? {line: index + 1, unreadable: parsed} : {line: index + 1, entry: parsed}
      })
    } catch (error) {
      throw failure('read', error)
    }
  }

  let created = false
  return {
    location,
    async append(event) {
      try {
        if (!created) {
          await session.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``)
          await session.query(CREATE_TABLE(table))
          created = true
        }
      } catch (error) {
        throw failure('create', error)
      }
      for (let attempt = 1; ; attempt++) {
        let entry: AuditEntry
        try {
          await session.query('START TRANSACTION')
          const [head] = await session.query<Row>(`SELECT ${COLUMNS} FROM ${table} ORDER BY seq DESC LIMIT 1 FOR UPDATE`)
          let headEntry: AuditEntry | null = null
          if (head) {
            const parsed = parseEntry(entryOfRow(head))
            if (typeof parsed === 'string' || entryHash(parsed) !== parsed.hash) {
              await session.query('ROLLBACK')
              throw new DbakitError(ExitCode.findings, 'AUDIT_LOG_CORRUPT', `the last row of the audit log ${location} (seq ${head.seq}) is not an intact entry; nothing was appended`, {
                hint: 'run `dbakit secret audit --verify --store URL` to see where; keep the table as evidence and rename it to start a new log',
              })
            }
            headEntry = parsed
          }
          entry = nextEntry(event, headEntry)
          await session.query(`INSERT INTO ${table} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
            entry.seq, entry.v, entry.time, entry.user, entry.host, entry.pid, entry.action, entry.target, entry.provider, entry.keyId, entry.keyVersion, entry.outcome, entry.code, entry.prev, entry.hash,
          ])
          await session.query('COMMIT')
          return entry
        } catch (error) {
          await session.query('ROLLBACK').catch(() => {})
          const errno = (error as {errno?: number}).errno
          if (errno !== undefined && RETRYABLE.has(errno) && attempt < MAX_ATTEMPTS) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)))
            continue
          }
          if (error instanceof TypeError) throw error
          throw failure('append to', error)
        }
      }
    },
    async read() {
      const records = await readRecords()
      return {location, entries: records.flatMap((record) => ('entry' in record ? [record.entry] : [])), unreadable: records.flatMap((record) => ('entry' in record ? [] : [record.line]))}
    },
    async verify(options = {}) {
      return verifyChain(location, await readRecords(), 'row', options.expectHead)
    },
    close: () => session.close(),
  }
}
