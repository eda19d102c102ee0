import {createConnection, type Connection} from 'mysql2/promise'
import {mariadb} from './services.ts'

/** A connection of the tests' own to the test MariaDB, as the application would have one. */
export async function connect(database?: string): Promise<Connection> {
  const url = new URL(mariadb.primaryUrl)
  return createConnection({host: url.hostname, port: Number(url.port), user: decodeURIComponent(url.username), password: mariadb.password, ...(database ? {database} : {}), supportBigNumbers: true, bigNumberStrings: true})
}

/**
 * The application under test: writers that update, insert and delete rows of `t`, and record
 * every write that committed in `ledger` in the same transaction. Afterwards each row's `k` must
 * equal its starting value plus its ledger count, and every row inserted (and not deleted) must
 * be there: a write lost at the cut-over or the rollback shows up as a mismatch.
 */
export class LedgerLoad {
  private readonly database: string
  private running = false
  private readonly workers: Array<Promise<void>> = []
  committed = 0
  readonly errors: Array<{code: string; message: string; at: number}> = []

  constructor(database: string) {
    this.database = database
  }

  static async prepare(database: string, rows: number): Promise<LedgerLoad> {
    const c = await connect()
    try {
      await c.query(`DROP DATABASE IF EXISTS \`${database}\``)
      await c.query(`CREATE DATABASE \`${database}\``)
      await c.query(`CREATE TABLE \`${database}\`.t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL DEFAULT '')`)
      await c.query(`CREATE TABLE \`${database}\`.k0 (id INT NOT NULL PRIMARY KEY, k INT NOT NULL)`)
      await c.query(`CREATE TABLE \`${database}\`.ledger (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, id INT NOT NULL, op CHAR(1) NOT NULL, KEY (id))`)
      await c.query(`INSERT INTO \`${database}\`.t (k, pad) SELECT seq, CONCAT('row ', seq) FROM \`${database}\`.seq_1_to_${rows}`)
      await c.query(`INSERT INTO \`${database}\`.k0 SELECT id, k FROM \`${database}\`.t`)
    } finally {
      await c.end()
    }
    return new LedgerLoad(database)
  }

  /** `connections` writers, each committing one small transaction after another, with a pause. */
  async start(connections = 4, pauseMs = 5): Promise<void> {
    this.running = true
    const c = await connect(this.database)
    const [[range]] = (await c.query('SELECT MIN(id) AS low, MAX(id) AS high FROM t')) as unknown as [[{low: number; high: number}]]
    await c.end()
    for (let i = 0; i < connections; i++) this.workers.push(this.worker(Number(range.low), Number(range.high), pauseMs))
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.workers.splice(0))
  }

  private async worker(low: number, high: number, pauseMs: number): Promise<void> {
    const c = await connect(this.database)
    try {
      while (this.running) {
        const roll = Math.random()
        try {
          await c.query('START TRANSACTION')
          if (roll < 0.9) {
            const id = low + Math.floor(Math.random() * (high - low + 1))
            await c.query('UPDATE t SET k = k + 1 WHERE id = ?', [id])
            await c.query("INSERT INTO ledger (id, op) VALUES (?, 'u')", [id])
          } else if (roll < 0.95) {
            const [result] = (await c.query("INSERT INTO t (k, pad) VALUES (0, 'inserted')")) as unknown as [{insertId: number}]
            await c.query("INSERT INTO ledger (id, op) VALUES (?, 'i')", [result.insertId])
          } else {
            const id = low + Math.floor(Math.random() * (high - low + 1))
            await c.query('DELETE FROM t WHERE id = ?', [id])
            await c.query("INSERT INTO ledger (id, op) VALUES (?, 'd')", [id])
          }
          await c.query('COMMIT')
          this.committed++
        } catch (error) {
          await c.query('ROLLBACK').catch(() => {})
          this.errors.push({code: String((error as {code?: string}).code ?? 'unknown'), message: (error as Error).message, at: Date.now()})
        }
        await new Promise((resolve) => setTimeout(resolve, pauseMs))
      }
    } finally {
      await c.end()
    }
  }

  /** Rows of `table` that disagree with the ledger: none when no committed write was lost. */
  async mismatches(table = 't'): Promise<Array<Record<string, unknown>>> {
    const c = await connect(this.database)
    try {
      const [rows] = await c.query(`
        SELECT e.id, e.expected_k, e.present, x.k AS actual_k FROM (
          SELECT k0.id, k0.k + COALESCE(SUM(l.op = 'u'), 0) AS expected_k, NOT COALESCE(MAX(l.op = 'd'), 0) AS present FROM k0 LEFT JOIN ledger l ON l.id = k0.id GROUP BY k0.id, k0.k
          UNION ALL
          SELECT l.id, COALESCE(SUM(u.op = 'u'), 0), NOT COALESCE(MAX(u.op = 'd'), 0) FROM ledger l LEFT JOIN ledger u ON u.id = l.id AND u.op <> 'i' WHERE l.op = 'i' GROUP BY l.id
        ) e LEFT JOIN \`${table}\` x ON x.id = e.id
        WHERE (e.present AND (x.id IS NULL OR x.k <> e.expected_k)) OR (NOT e.present AND x.id IS NOT NULL)
        LIMIT 20`)
      return rows as Array<Record<string, unknown>>
    } finally {
      await c.end()
    }
  }

  async drop(): Promise<void> {
    const c = await connect()
    await c.query(`DROP DATABASE IF EXISTS \`${this.database}\``).finally(() => c.end())
  }
}
