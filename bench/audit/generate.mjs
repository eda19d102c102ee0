// Writes a mixed migration file of N statements (default 100,000): DDL, DML, queries, grants,
// a routine, comments and strings with semicolons in them, the way real migration histories look.
import {createWriteStream} from 'node:fs'

const [out = 'bench-audit.sql', countText = '100000'] = process.argv.slice(2)
const count = Number(countText)
const stream = createWriteStream(out)
const templates = [
  (i) => `CREATE TABLE t${i} (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL, note TEXT, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, KEY name_idx (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;`,
  (i) => `ALTER TABLE t${i % 500} ADD COLUMN c${i} INT NULL, ADD INDEX c${i}_idx (c${i});`,
  (i) => `INSERT INTO t${i % 500} (name, note) VALUES ('n${i}', 'semi; colon -- not a comment'), ('m${i}', NULL);`,
  (i) => `UPDATE t${i % 500} SET name = 'x${i}' WHERE id = ${i};`,
  (i) => `DELETE FROM t${i % 500} WHERE created_at < '2020-01-01' AND id < ${i};`,
  (i) => `SELECT id, name FROM t${i % 500} WHERE name LIKE 'abc%' ORDER BY id LIMIT 100;`,
  (i) => `-- migration step ${i}\nSELECT COUNT(*) FROM t${i % 500} WHERE id BETWEEN ${i} AND ${i + 100};`,
  (i) => `UPDATE t${i % 500} SET name = 'all';`,
  (i) => `SELECT * FROM t${i % 500} a JOIN t${(i + 1) % 500} b ON a.id = b.id WHERE a.name = 'q' /* ; */;`,
  (i) => `ALTER TABLE t${i % 500} MODIFY name VARCHAR(128) NOT NULL;`,
]
for (let i = 0; i < count; i++) {
  if (!stream.write(`${templates[i % templates.length](i)}\n`)) await new Promise((resolve) => stream.once('drain', resolve))
}
stream.end()
