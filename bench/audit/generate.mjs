// Writes a mixed migration file of N statements (default 100,000): DDL, DML, queries, comments
// and strings with semicolons in them. The statements touch 500 tables, so many differ only in
// their literals, as in backfills and seed data. With `distinct`, every statement names tables of
// its own and no two share a shape: the worst case for dbakit's parse cache.
import {createWriteStream} from 'node:fs'

const [out = 'bench-audit.sql', countText = '100000', mode = 'mixed'] = process.argv.slice(2)
const count = Number(countText)
const tables = mode === 'distinct' ? Infinity : 500
const stream = createWriteStream(out)
const templates = [
  (i) => `CREATE TABLE t${i} (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL, note TEXT, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY name_idx (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;`,
  (i) => `ALTER TABLE t${i % tables} ADD COLUMN c${i} INT NULL, ADD INDEX c${i}_idx (c${i});`,
  (i) => `INSERT INTO t${i % tables} (name, note) VALUES ('n${i}', 'semi; colon -- not a comment'), ('m${i}', NULL);`,
  (i) => `UPDATE t${i % tables} SET name = 'x${i}' WHERE id = ${i};`,
  (i) => `DELETE FROM t${i % tables} WHERE created_at < '2020-01-01' AND id < ${i};`,
  (i) => `SELECT id, name FROM t${i % tables} WHERE name LIKE 'abc%' ORDER BY id LIMIT 100;`,
  (i) => `-- migration step ${i}\nSELECT COUNT(*) FROM t${i % tables} WHERE id BETWEEN ${i} AND ${i + 100};`,
  (i) => `UPDATE t${i % tables} SET name = 'all';`,
  (i) => `SELECT * FROM t${i % tables} a JOIN t${(i + 1) % tables} b ON a.id = b.id WHERE a.name = 'q' /* ; */;`,
  (i) => `ALTER TABLE t${i % tables} MODIFY name VARCHAR(128) NOT NULL;`,
]
for (let i = 0; i < count; i++) {
  if (!stream.write(`${templates[i % templates.length](i)}\n`)) await new Promise((resolve) => stream.once('drain', resolve))
}
stream.end()
