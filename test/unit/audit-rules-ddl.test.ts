import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rules as designRules} from '../../src/lib/audit/rules/design.ts'
import {rules as destructiveRules} from '../../src/lib/audit/rules/destructive.ts'
import {rules as lockingRules} from '../../src/lib/audit/rules/locking.ts'
import {LEVELS, type Rule, type RuleHit, type SchemaView, type TableInfo} from '../../src/lib/audit/types.ts'
import {checkFile, contextFor, newFileState, runRule, type ContextOptions} from '../helpers/audit.ts'

const GiB = 1024 ** 3
const ALL = [...destructiveRules, ...lockingRules, ...designRules]
const rule = (id: string): Rule => {
  const found = ALL.find((r) => r.id === id)
  assert.ok(found, `no rule ${id}`)
  return found
}

const orders: TableInfo = {
  name: 'orders',
  engine: 'InnoDB',
  columns: [
    {name: 'id', type: 'bigint(20) unsigned', nullable: false, default: null},
    {name: 'customer_id', type: 'bigint(20)', nullable: false, default: null},
    {name: 'status', type: "enum('new','paid','shipped')", nullable: false, default: "'new'"},
    {name: 'amount', type: 'decimal(12,2)', nullable: false, default: "'0.00'"},
    {name: 'note', type: 'varchar(255)', nullable: true, default: 'NULL'},
    {name: 'created_at', type: 'datetime', nullable: false, default: null},
  ],
  indexes: [
    {name: 'PRIMARY', columns: ['id'], unique: true, cardinality: 5_000_000},
    {name: 'idx_customer', columns: ['customer_id'], unique: false, cardinality: 250_000},
    {name: 'uk_note', columns: ['note'], unique: true},
    {name: 'idx_status_created', columns: ['status', 'created_at'], unique: false, cardinality: 3},
  ],
  stats: {rows: 5_000_000, dataBytes: 3 * GiB, indexBytes: GiB},
}
const tiny: TableInfo = {name: 'tiny', engine: 'InnoDB', columns: [{name: 'id', type: 'int', nullable: false}], indexes: [{name: 'PRIMARY', columns: ['id'], unique: true}], stats: {rows: 100, dataBytes: 16_384}}
const schemaOf = (...tables: TableInfo[]): SchemaView => ({table: (name) => tables.find((t) => t.name.toLowerCase() === name.toLowerCase())})
const schema = schemaOf(orders, tiny)

/** Runs a rule over a script, statement by statement (split at `;` + newline), like the engine. */
function run(ruleId: string, script: string, options: ContextOptions = {}): RuleHit[] {
  const file = newFileState()
  const hits: RuleHit[] = []
  let line = 1
  for (const sql of script.split(/;\s*\n/)) {
    const context = contextFor(sql, {...options, file})
    context.statement.line = line
    hits.push(...runRule(rule(ruleId), context))
    line += sql.split('\n').length
  }
  return hits
}

const fires = (ruleId: string, sql: string, options?: ContextOptions) => {
  const hits = run(ruleId, sql, options)
  assert.ok(hits.length > 0, `${ruleId} should fire on: ${sql}`)
  return hits
}
const quiet = (ruleId: string, sql: string, options?: ContextOptions) => assert.deepEqual(run(ruleId, sql, options).map((h) => h.message), [], `${ruleId} should not fire on: ${sql}`)
const at = (hit: RuleHit | undefined) => `${hit?.at?.line}:${hit?.at?.column} ${hit?.at?.text}`

/** What a rule's own examples need: the schema when it needs one, a flavor when its finding is flavor-specific. */
const EXAMPLE_OPTIONS: Record<string, ContextOptions> = {
  'locking-column-position': {flavor: 'mysql', version: '8.0.36'},
  'design-text-blob-default': {flavor: 'mysql', version: '8.0.36'},
  'design-int-display-width': {flavor: 'mysql', version: '8.0.36'},
}
const exampleOptions = (r: Rule): ContextOptions => ({...(r.needsSchema ? {schema} : {}), ...EXAMPLE_OPTIONS[r.id]})

describe('DDL rule catalog', () => {
  it('has at least 28 rules with unique ids, each with complete metadata', () => {
    assert.ok(ALL.length >= 28, `only ${ALL.length} rules`)
    assert.equal(new Set(ALL.map((r) => r.id)).size, ALL.length)
    const families: Array<[Rule[], string]> = [[destructiveRules, 'destructive'], [lockingRules, 'locking'], [designRules, 'design']]
    for (const [list, family] of families) {
      for (const r of list) {
        assert.equal(r.family, family, r.id)
        assert.match(r.id, new RegExp(`^${family}-[a-z0-9]+(-[a-z0-9]+)*$`), r.id)
        assert.ok(LEVELS.includes(r.level), r.id)
        for (const field of ['summary', 'rationale', 'bad', 'good', 'fix'] as const) assert.ok(r[field].trim().length > 0, `${r.id}.${field} is empty`)
        assert.ok(!r.summary.includes('\n') && !r.fix.includes('\n'), `${r.id}: summary and fix are one line`)
        const sentences = r.rationale.split(/[.!?](\s|$)/).filter((s) => s.trim().length > 1).length
        assert.ok(sentences >= 2 && sentences <= 4, `${r.id}: rationale has ${sentences} sentences`)
      }
    }
  })

  for (const r of ALL) {
    it(`${r.id}: its bad example fires and its good example does not`, () => {
      assert.ok(run(r.id, r.bad, exampleOptions(r)).length > 0, `bad example of ${r.id} does not fire`)
      assert.deepEqual(run(r.id, r.good, exampleOptions(r)).map((h) => h.message), [], `good example of ${r.id} fires`)
    })
  }

  it('never throws on unfinished or odd statements', () => {
    const statements = [
      ...ALL.flatMap((r) => [r.bad, r.good]),
      "CREATE TABLE t (a INT, b VARCHAR(10) CHARACTER SET latin1 COLLATE utf8mb4_bin DEFAULT (x), KEY (a), FOREIGN KEY (a) REFERENCES u (id)) ENGINE MyISAM AS SELECT 1",
      "ALTER TABLE orders CHANGE status state ENUM('a') AFTER id, DROP PARTITION p1, RENAME TO x, CONVERT TO CHARSET latin1, ALGORITHM=INSTANT, LOCK=NONE",
      'LOCK TABLES a READ, b WRITE',
      'SET STATEMENT lock_wait_timeout=1 FOR ALTER TABLE orders ADD INDEX (a)',
      'ALTER TABLE',
      'CREATE INDEX',
      ')',
      '(((',
    ]
    // One context per truncated statement, shared by every rule: parsing dominates the cost.
    for (const sql of statements) {
      for (let end = 0; end <= sql.length; end += 4) {
        for (const options of [{schema}, {flavor: 'mysql' as const, version: '5.7.44'}]) {
          const context = contextFor(sql.slice(0, end), options)
          for (const r of ALL) runRule(r, context)
        }
      }
    }
  })
})

describe('destructive rules', () => {
  it('destructive-drop-table', () => {
    const [hit] = fires('destructive-drop-table', 'DROP TABLE IF EXISTS orders', {schema})
    assert.match(hit!.message, /deletes orders and all its rows \(5,000,000 rows\)/)
    assert.equal(at(hit), '1:22 orders')
    assert.equal(fires('destructive-drop-table', 'DROP TABLE a, b').length, 2)
    quiet('destructive-drop-table', 'DROP TEMPORARY TABLE tmp_orders')
    quiet('destructive-drop-table', "SELECT 'DROP TABLE orders'")
    quiet('destructive-drop-table', '-- DROP TABLE orders\nSELECT 1')
    quiet('destructive-drop-table', 'CREATE TABLE scratch (id INT PRIMARY KEY);\nDROP TABLE scratch')
  })

  it('destructive-drop-database', () => {
    fires('destructive-drop-database', 'DROP SCHEMA IF EXISTS shop')
    quiet('destructive-drop-database', '/* DROP DATABASE shop */ SELECT 1')
    quiet('destructive-drop-database', 'DROP TABLE t')
  })

  it('destructive-truncate', () => {
    assert.match(fires('destructive-truncate', 'TRUNCATE orders', {schema})[0]!.message, /5,000,000 rows/)
    fires('destructive-truncate', 'TRUNCATE TABLE shop.orders')
    quiet('destructive-truncate', "SELECT 'TRUNCATE orders'")
    quiet('destructive-truncate', 'ALTER TABLE events TRUNCATE PARTITION p1')
    quiet('destructive-truncate', 'CREATE TABLE staging (id INT PRIMARY KEY);\nTRUNCATE staging')
  })

  it('destructive-rename-table', () => {
    fires('destructive-rename-table', 'RENAME TABLE customers TO clients')
    const [hit] = fires('destructive-rename-table', 'ALTER TABLE customers RENAME TO clients')
    assert.match(hit!.message, /renaming customers to clients/)
    quiet('destructive-rename-table', 'RENAME TABLE customers TO customers_old, customers_new TO customers')
    quiet('destructive-rename-table', "ALTER TABLE customers COMMENT 'RENAME TO clients'")
    quiet('destructive-rename-table', 'ALTER TABLE customers RENAME COLUMN a TO b')
    quiet('destructive-rename-table', 'ALTER TABLE customers RENAME INDEX a TO b')
  })

  it('destructive-drop-column', () => {
    const [hit] = fires('destructive-drop-column', 'ALTER TABLE users ADD COLUMN x INT, DROP COLUMN legacy')
    assert.equal(at(hit), '1:37 DROP')
    assert.match(hit!.message, /users\.legacy/)
    fires('destructive-drop-column', 'ALTER TABLE users DROP legacy')
    quiet('destructive-drop-column', "ALTER TABLE users ADD COLUMN c INT COMMENT 'DROP COLUMN x'")
    quiet('destructive-drop-column', 'ALTER TABLE users DROP INDEX idx_legacy')
    quiet('destructive-drop-column', 'CREATE TABLE users2 (id INT PRIMARY KEY, x INT);\nALTER TABLE users2 DROP COLUMN x')
  })

  it('destructive-rename-column', () => {
    assert.equal(at(fires('destructive-rename-column', 'ALTER TABLE users RENAME COLUMN fullname TO full_name')[0]), '1:33 fullname')
    assert.match(fires('destructive-rename-column', 'ALTER TABLE users CHANGE fullname full_name VARCHAR(100)')[0]!.message, /fullname to full_name/)
    quiet('destructive-rename-column', 'ALTER TABLE users CHANGE fullname fullname VARCHAR(200)')
    quiet('destructive-rename-column', 'ALTER TABLE users CHANGE `FullName` fullname VARCHAR(200)')
    quiet('destructive-rename-column', "ALTER TABLE users COMMENT 'RENAME COLUMN a TO b'")
  })

  it('destructive-narrowing-type-change (with the schema)', () => {
    const [hit] = fires('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY customer_id INT NOT NULL', {schema})
    assert.match(hit!.message, /from BIGINT\(20\) to INT/)
    assert.equal(at(hit), '1:39 INT')
    fires('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY note VARCHAR(50)', {schema})
    fires('destructive-narrowing-type-change', 'ALTER TABLE orders CHANGE amount total DECIMAL(12,0) NOT NULL', {schema})
    fires('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY note TINYTEXT', {schema})
    fires('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY customer_id BIGINT UNSIGNED NOT NULL', {schema})
    quiet('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY note TEXT', {schema})
    quiet('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY amount DECIMAL(14,2) NOT NULL', {schema})
    quiet('destructive-narrowing-type-change', 'ALTER TABLE other MODIFY x INT', {schema})
    quiet('destructive-narrowing-type-change', 'ALTER TABLE orders MODIFY customer_id INT NOT NULL')
  })

  it('destructive-not-null-without-default', () => {
    const [hit] = fires('destructive-not-null-without-default', 'ALTER TABLE users ADD COLUMN tier VARCHAR(20) NOT NULL')
    assert.equal(at(hit), '1:30 tier')
    assert.match(hit!.message, /implicit ''/)
    assert.match(fires('destructive-not-null-without-default', 'ALTER TABLE users ADD COLUMN (a INT, b DATE NOT NULL)')[0]!.message, /users\.b .* zero date/)
    quiet('destructive-not-null-without-default', "ALTER TABLE users ADD COLUMN tier VARCHAR(20) NOT NULL DEFAULT 'free'")
    quiet('destructive-not-null-without-default', 'ALTER TABLE users ADD COLUMN tier VARCHAR(20) NULL')
    quiet('destructive-not-null-without-default', 'ALTER TABLE users ADD COLUMN n BIGINT NOT NULL AUTO_INCREMENT UNIQUE')
    quiet('destructive-not-null-without-default', 'ALTER TABLE users ADD COLUMN total INT AS (a + b) STORED NOT NULL')
    quiet('destructive-not-null-without-default', "ALTER TABLE users ADD COLUMN tier VARCHAR(20) COMMENT 'NOT NULL'")
    quiet('destructive-not-null-without-default', 'CREATE TABLE users2 (id INT PRIMARY KEY);\nALTER TABLE users2 ADD COLUMN tier INT NOT NULL')
  })

  it('destructive-enum-values (with the schema)', () => {
    const [removed] = fires('destructive-enum-values', "ALTER TABLE orders MODIFY status ENUM('new','paid') NOT NULL", {schema})
    assert.match(removed!.message, /removes 'shipped'/)
    assert.equal(removed!.level, undefined)
    const [reordered] = fires('destructive-enum-values', "ALTER TABLE orders MODIFY status ENUM('paid','new','shipped') NOT NULL", {schema})
    assert.equal(reordered!.level, 'warning')
    quiet('destructive-enum-values', "ALTER TABLE orders MODIFY status ENUM('new','paid','shipped','refunded') NOT NULL", {schema})
    quiet('destructive-enum-values', "ALTER TABLE orders MODIFY status ENUM('new') NOT NULL")
  })

  it('destructive-modify-loses-attributes (with the schema)', () => {
    const [hit] = fires('destructive-modify-loses-attributes', 'ALTER TABLE orders MODIFY amount DECIMAL(14,2)', {schema})
    assert.match(hit!.message, /drops NOT NULL \(it becomes nullable\) and its DEFAULT '0.00'/)
    quiet('destructive-modify-loses-attributes', "ALTER TABLE orders MODIFY amount DECIMAL(14,2) NOT NULL DEFAULT '0.00'", {schema})
    // note has no default (MariaDB reports the text NULL) and is nullable already.
    quiet('destructive-modify-loses-attributes', 'ALTER TABLE orders MODIFY note VARCHAR(300)', {schema})
  })

  it('destructive-drop-primary-key', () => {
    assert.equal(at(fires('destructive-drop-primary-key', 'ALTER TABLE items DROP PRIMARY KEY')[0]), '1:19 DROP')
    fires('destructive-drop-primary-key', 'DROP INDEX `PRIMARY` ON items')
    quiet('destructive-drop-primary-key', 'ALTER TABLE items DROP PRIMARY KEY, ADD PRIMARY KEY (order_id, line_no)')
    quiet('destructive-drop-primary-key', "ALTER TABLE items COMMENT 'DROP PRIMARY KEY'")
  })

  it('destructive-drop-foreign-key', () => {
    assert.match(fires('destructive-drop-foreign-key', 'ALTER TABLE items DROP FOREIGN KEY fk_items_order')[0]!.message, /fk_items_order on items/)
    quiet('destructive-drop-foreign-key', 'ALTER TABLE items ADD COLUMN x INT -- DROP FOREIGN KEY fk\n')
  })

  it('destructive-drop-index', () => {
    assert.match(fires('destructive-drop-index', 'ALTER TABLE orders DROP INDEX uk_note', {schema})[0]!.message, /UNIQUE \(note\).*uniqueness is no longer enforced/)
    fires('destructive-drop-index', 'ALTER TABLE orders DROP KEY idx_customer')
    fires('destructive-drop-index', 'DROP INDEX idx_customer ON orders')
    quiet('destructive-drop-index', 'ALTER TABLE orders DROP INDEX idx_customer, ADD INDEX idx_customer (customer_id, created_at)')
    quiet('destructive-drop-index', 'DROP INDEX `PRIMARY` ON orders')
    quiet('destructive-drop-index', "SELECT 'DROP INDEX idx ON orders'")
  })

  it('destructive-drop-partition', () => {
    assert.match(fires('destructive-drop-partition', 'ALTER TABLE events DROP PARTITION p2022, p2023')[0]!.message, /p2022, p2023 deletes every row stored in those partitions/)
    fires('destructive-drop-partition', 'ALTER TABLE events TRUNCATE PARTITION p2023')
    quiet('destructive-drop-partition', 'ALTER TABLE events ADD PARTITION (PARTITION p2025 VALUES LESS THAN (2026))')
    quiet('destructive-drop-partition', 'ALTER TABLE events REORGANIZE PARTITION p1 INTO (PARTITION a VALUES LESS THAN (5), PARTITION b VALUES LESS THAN (10))')
  })

  it('destructive-lossy-charset-conversion', () => {
    const [hit] = fires('destructive-lossy-charset-conversion', 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8')
    assert.match(hit!.message, /utf8 \(at most 3 bytes per character\)/)
    assert.equal(at(hit), '1:47 utf8')
    fires('destructive-lossy-charset-conversion', 'ALTER TABLE comments CONVERT TO CHARSET latin1')
    quiet('destructive-lossy-charset-conversion', 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4')
    quiet('destructive-lossy-charset-conversion', "ALTER TABLE comments COMMENT 'CONVERT TO CHARACTER SET latin1'")
  })
})

describe('locking rules', () => {
  it('locking-copy-alter: warns, escalates on big tables with size, time and an online-change hint', () => {
    const [unknown] = fires('locking-copy-alter', 'ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4')
    assert.equal(unknown!.level, undefined)
    assert.equal(at(unknown), '1:20 CONVERT')
    const [big] = fires('locking-copy-alter', 'ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)', {schema})
    assert.equal(big!.level, 'error')
    assert.match(big!.message, /copies the whole table \(ALGORITHM=COPY\).*3\.0 GiB, 5,000,000 rows; about 61 s to copy at 50 MiB\/s/)
    const alter = '"ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)"'
    assert.equal(big!.hint, `run it as an online schema change instead: dbakit schema change --profile PROFILE --table DB.orders --alter ${alter} (dbakit schema plan with the same flags says how it would run, and what it risks)`)
    // The database comes from the statement, or from the schema the table was found in.
    assert.match(fires('locking-copy-alter', 'ALTER TABLE shop.orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)')[0]!.hint!, /--table shop\.orders --alter/)
    assert.match(fires('locking-copy-alter', 'ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)', {schema: schemaOf({...orders, schema: 'sales'})})[0]!.hint!, /--table sales\.orders/)
    assert.match(fires('locking-copy-alter', 'ALTER TABLE orders MODIFY note VARCHAR(20)')[0]!.message, /may copy/)
    // Backquotes would be command substitution inside double quotes.
    assert.match(fires('locking-copy-alter', 'ALTER TABLE orders MODIFY `note` TEXT')[0]!.hint!, /--table DB\.orders --alter 'MODIFY `note` TEXT' \(/)
    quiet('locking-copy-alter', 'ALTER TABLE orders ADD COLUMN note2 VARCHAR(20) NULL')
    quiet('locking-copy-alter', 'ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4, ALGORITHM=INPLACE')
    quiet('locking-copy-alter', "ALTER TABLE orders COMMENT 'CONVERT TO CHARACTER SET latin1'")
    quiet('locking-copy-alter', 'CREATE TABLE fresh (id INT PRIMARY KEY);\nALTER TABLE fresh CONVERT TO CHARACTER SET utf8mb4')
  })

  it('locking-copy-alter follows foreign_key_checks set earlier in the file', () => {
    const fk = 'ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)'
    quiet('locking-copy-alter', `SET FOREIGN_KEY_CHECKS = 0;\n${fk}`)
    quiet('locking-copy-alter', `SET STATEMENT foreign_key_checks=0 FOR ${fk}`)
    fires('locking-copy-alter', `SET FOREIGN_KEY_CHECKS = 0;\nSET FOREIGN_KEY_CHECKS = @OLD_FOREIGN_KEY_CHECKS;\n${fk}`)
    fires('locking-copy-alter', `SET GLOBAL foreign_key_checks = 0;\n${fk}`)
  })

  it('locking-table-rebuild: notice without a size, warning on big tables, nothing on small ones', () => {
    const [unknown] = fires('locking-table-rebuild', 'ALTER TABLE orders ADD PRIMARY KEY (id)')
    assert.equal(unknown!.level, 'notice')
    const [big] = fires('locking-table-rebuild', 'OPTIMIZE TABLE orders', {schema})
    assert.equal(big!.level, undefined)
    assert.match(big!.message, /about 61 s to rebuild/)
    assert.match(big!.hint!, /dbakit schema change --profile PROFILE --table DB\.orders --alter "ENGINE=InnoDB"/)
    quiet('locking-table-rebuild', 'OPTIMIZE TABLE tiny', {schema})
    quiet('locking-table-rebuild', 'ALTER TABLE orders ADD INDEX idx_created (created_at)')
    quiet('locking-table-rebuild', 'ALTER TABLE orders ADD FULLTEXT INDEX ft_note (note)')
    quiet('locking-table-rebuild', 'ALTER TABLE orders ADD COLUMN c INT', {flavor: 'mysql'})
    fires('locking-table-rebuild', 'ALTER TABLE orders ADD COLUMN c INT', {flavor: 'mysql', version: '8.0.11'})
  })

  it('locking-blocks-writes', () => {
    const [hit] = fires('locking-blocks-writes', 'ALTER TABLE orders ADD FULLTEXT INDEX ft_note (note)', {schema})
    assert.equal(hit!.level, 'error')
    assert.match(hit!.message, /blocks writes to orders while it runs \(LOCK=SHARED\)/)
    fires('locking-blocks-writes', 'ALTER TABLE places ADD SPATIAL INDEX sp_geo (geo)')
    fires('locking-blocks-writes', 'ALTER TABLE orders ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE')
    quiet('locking-blocks-writes', 'ALTER TABLE orders ADD INDEX idx_note (note)')
    quiet('locking-blocks-writes', 'ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4')
    quiet('locking-blocks-writes', "ALTER TABLE orders COMMENT 'ADD FULLTEXT INDEX ft (note)'")
  })

  it('locking-algorithm-refused', () => {
    const [hit] = fires('locking-algorithm-refused', 'ALTER TABLE orders ADD INDEX idx_note (note), ALGORITHM=INSTANT')
    assert.equal(at(hit), '1:47 ALGORITHM')
    assert.match(hit!.message, /rejected by the server: ALGORITHM=INSTANT is not possible/)
    assert.match(fires('locking-algorithm-refused', 'ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE', {flavor: 'mysql'})[0]!.message, /error 1221/)
    fires('locking-algorithm-refused', 'ALTER TABLE orders ADD FULLTEXT INDEX ft (note), LOCK=NONE')
    fires('locking-algorithm-refused', 'CREATE INDEX idx_note ON orders (note) ALGORITHM=INSTANT')
    quiet('locking-algorithm-refused', 'ALTER TABLE orders ADD INDEX idx_note (note), ALGORITHM=INPLACE, LOCK=NONE')
    quiet('locking-algorithm-refused', 'ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE')
    quiet('locking-algorithm-refused', 'ALTER TABLE orders ADD INDEX idx_note (note) -- , ALGORITHM=INSTANT\n')
  })

  it('locking-merge-alters: reports the second table-rewriting ALTER with the line of the first', () => {
    const [hit] = fires('locking-merge-alters', 'ALTER TABLE orders ADD INDEX idx_a (a);\nALTER TABLE other ADD INDEX idx_x (x);\nALTER TABLE orders ADD INDEX idx_b (b)')
    assert.equal(hit!.hint, 'merge them into one statement: ALTER TABLE orders ADD INDEX idx_a (a), ADD INDEX idx_b (b);')
    assert.equal(hit!.at?.text, 'ADD')
    assert.match(hit!.message, /number 2 on orders in this file \(the first is at line 1\)/)
    assert.equal(fires('locking-merge-alters', 'ALTER TABLE orders FORCE;\nALTER TABLE orders ADD INDEX (b)', {schema})[0]!.level, 'warning')
    const many = Array.from({length: 40}, (_, index) => `ALTER TABLE orders ADD INDEX idx_${index} (column_${index})`).join(';\n')
    const hints = fires('locking-merge-alters', many).map((finding) => finding.hint!)
    assert.equal(hints.length, 39)
    assert.match(hints[1]!, /^merge them into one statement: ALTER TABLE orders ADD INDEX idx_0 \(column_0\), ADD INDEX idx_1 \(column_1\), ADD INDEX idx_2 \(column_2\);$/)
    // Hundreds of ALTERs on one table must not make every finding spell out all of them again.
    assert.equal(hints.at(-1), 'merge the 40 table-rewriting ALTERs on orders (lines 1, …, 40) into one ALTER TABLE orders with all their clauses')
    assert.ok(hints.every((hint) => hint.length < 600))
    quiet('locking-merge-alters', 'ALTER TABLE orders ADD COLUMN a INT;\nALTER TABLE orders ADD COLUMN b INT')
    quiet('locking-merge-alters', 'ALTER TABLE orders ADD INDEX idx_a (a);\nALTER TABLE other ADD INDEX idx_b (b)')
    quiet('locking-merge-alters', 'CREATE TABLE fresh (id INT PRIMARY KEY, a INT, b INT);\nALTER TABLE fresh ADD INDEX (a);\nALTER TABLE fresh ADD INDEX (b)')
  })

  it('locking-missing-algorithm-lock (with the schema)', () => {
    const [index] = fires('locking-missing-algorithm-lock', 'ALTER TABLE orders ADD INDEX idx_note (note)', {schema})
    assert.match(index!.hint!, /append ALGORITHM=INPLACE, LOCK=NONE/)
    assert.match(fires('locking-missing-algorithm-lock', 'ALTER TABLE orders ADD COLUMN c INT', {schema, flavor: 'mysql'})[0]!.hint!, /append ALGORITHM=INSTANT so/)
    assert.match(fires('locking-missing-algorithm-lock', 'CREATE INDEX idx_note ON orders (note)', {schema})[0]!.hint!, /ALGORITHM=INPLACE LOCK=NONE/)
    assert.match(fires('locking-missing-algorithm-lock', 'ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4', {schema})[0]!.hint!, /would refuse it/)
    quiet('locking-missing-algorithm-lock', 'ALTER TABLE orders ADD INDEX idx_note (note), ALGORITHM=INPLACE', {schema})
    quiet('locking-missing-algorithm-lock', 'ALTER TABLE tiny ADD INDEX idx_id2 (id)', {schema})
    quiet('locking-missing-algorithm-lock', 'ALTER TABLE orders ADD INDEX idx_note (note) /* ALGORITHM=INPLACE */', {schema, thresholds: {bigTableRows: 10 ** 9, bigTableBytes: 10 ** 12}})
  })

  it('locking-column-position', () => {
    const [hit] = fires('locking-column-position', 'ALTER TABLE orders ADD COLUMN c INT AFTER id', {flavor: 'mysql', version: '8.0.28'})
    assert.equal(at(hit), '1:37 AFTER')
    fires('locking-column-position', 'ALTER TABLE orders ADD COLUMN c INT FIRST', {flavor: 'mariadb', version: '10.3.39'})
    fires('locking-column-position', 'ALTER TABLE orders CHANGE note note VARCHAR(255) FIRST', {flavor: 'mysql', version: '8.4.0'})
    quiet('locking-column-position', 'ALTER TABLE orders ADD COLUMN c INT AFTER id', {flavor: 'mysql', version: '8.0.29'})
    quiet('locking-column-position', 'ALTER TABLE orders MODIFY note VARCHAR(255) AFTER id', {flavor: 'mariadb', version: '10.11.19'})
    quiet('locking-column-position', 'ALTER TABLE orders ADD COLUMN c INT', {flavor: 'mysql', version: '8.0.28'})
    quiet('locking-column-position', "ALTER TABLE orders ADD COLUMN c INT COMMENT 'AFTER id'", {flavor: 'mysql', version: '8.0.28'})
  })

  it('locking-lock-tables', () => {
    assert.equal(fires('locking-lock-tables', 'LOCK TABLES orders READ, customers AS c WRITE').length, 2)
    assert.match(fires('locking-lock-tables', 'FLUSH TABLES WITH READ LOCK')[0]!.message, /every table on the server/)
    quiet('locking-lock-tables', 'UNLOCK TABLES')
    quiet('locking-lock-tables', 'SELECT * FROM orders LOCK IN SHARE MODE')
    quiet('locking-lock-tables', '-- LOCK TABLES orders WRITE\nSELECT 1')
    quiet('locking-lock-tables', 'CREATE TABLE orders_new (id INT PRIMARY KEY);\nLOCK TABLES orders_new WRITE')
  })

  it('locking-metadata-lock-wait: once per file, unless the wait is bounded', () => {
    assert.equal(fires('locking-metadata-lock-wait', 'ALTER TABLE orders ADD COLUMN a INT;\nALTER TABLE orders ADD COLUMN b INT').length, 1)
    fires('locking-metadata-lock-wait', 'SET SESSION lock_wait_timeout = 3600;\nALTER TABLE orders ADD COLUMN a INT')
    assert.match(fires('locking-metadata-lock-wait', 'CREATE INDEX i ON orders (a)')[0]!.hint!, /WAIT 5/)
    quiet('locking-metadata-lock-wait', 'SET SESSION lock_wait_timeout = 5;\nALTER TABLE orders ADD COLUMN a INT')
    quiet('locking-metadata-lock-wait', 'SET @@lock_wait_timeout = 10;\nALTER TABLE orders ADD COLUMN a INT')
    quiet('locking-metadata-lock-wait', 'ALTER TABLE orders WAIT 5 ADD COLUMN a INT')
    quiet('locking-metadata-lock-wait', 'SET STATEMENT lock_wait_timeout = 5 FOR ALTER TABLE orders ADD COLUMN a INT')
    quiet('locking-metadata-lock-wait', 'CREATE TABLE fresh (id INT PRIMARY KEY);\nALTER TABLE fresh ADD COLUMN a INT')
    quiet('locking-metadata-lock-wait', "SELECT 'ALTER TABLE orders ADD COLUMN a INT'")
  })

  it('CREATE TABLE IF NOT EXISTS of a table the server has does not make it new', () => {
    const alter = 'ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4'
    fires('locking-copy-alter', `CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY);\n${alter}`, {schema})
    quiet('locking-copy-alter', `CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY);\n${alter}`)
  })

  it('checkFile shares the file state between statements', () => {
    const [first, second] = checkFile(rule('locking-copy-alter'), ['CREATE TABLE t (id INT PRIMARY KEY)', 'ALTER TABLE t CONVERT TO CHARACTER SET latin1'])
    assert.deepEqual([first, second], [[], []])
  })
})

describe('design rules', () => {
  it('design-charset-without-convert', () => {
    const [hit] = fires('design-charset-without-convert', 'ALTER TABLE comments DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci')
    assert.match(hit!.message, /changes its default character set only: the existing columns keep theirs/)
    fires('design-charset-without-convert', 'ALTER TABLE comments CHARSET = utf8mb4, ADD COLUMN note TEXT')
    quiet('design-charset-without-convert', 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4')
    quiet('design-charset-without-convert', 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4, DEFAULT CHARSET = utf8mb4')
    quiet('design-charset-without-convert', 'CREATE TABLE t (id INT PRIMARY KEY) DEFAULT CHARSET = utf8mb4')
  })

  it('design-non-integer-primary-key', () => {
    const [hit] = fires('design-non-integer-primary-key', 'CREATE TABLE s (id CHAR(36) NOT NULL, v INT, PRIMARY KEY (id))')
    assert.equal(at(hit), '1:20 CHAR')
    assert.match(hit!.message, /scatter the inserts/)
    assert.match(fires('design-non-integer-primary-key', 'CREATE TABLE m (day DATE NOT NULL, amount DECIMAL(10,2), PRIMARY KEY (day))')[0]!.message, /wider than it needs/)
    quiet('design-non-integer-primary-key', 'CREATE TABLE t (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, code CHAR(3), UNIQUE KEY (code))')
    quiet('design-non-integer-primary-key', 'CREATE TABLE t (a INT NOT NULL, b SMALLINT NOT NULL, PRIMARY KEY (a, b))')
    quiet('design-non-integer-primary-key', 'CREATE TABLE t (code CHAR(3) NOT NULL, UNIQUE KEY (code))')
  })

  it('design-int-display-width', () => {
    const mysql8 = {flavor: 'mysql', version: '8.0.36'} as const
    const [hit] = fires('design-int-display-width', 'CREATE TABLE t (id BIGINT(20) UNSIGNED NOT NULL PRIMARY KEY, n INT(11))', mysql8)
    assert.equal(at(hit), '1:20 BIGINT')
    assert.equal(run('design-int-display-width', 'CREATE TABLE t (id BIGINT(20) UNSIGNED NOT NULL PRIMARY KEY, n INT(11))', mysql8).length, 2)
    fires('design-int-display-width', 'ALTER TABLE t MODIFY n INT(10) NOT NULL', mysql8)
    quiet('design-int-display-width', 'CREATE TABLE t (id INT PRIMARY KEY, active TINYINT(1), code INT(5) ZEROFILL)', mysql8)
    quiet('design-int-display-width', 'CREATE TABLE t (id INT(11) PRIMARY KEY)', {flavor: 'mysql', version: '8.0.16'})
    quiet('design-int-display-width', 'CREATE TABLE t (id INT(11) PRIMARY KEY)', {flavor: 'mariadb', version: '10.11'})
  })

  it('design-on-delete-cascade', () => {
    const [hit] = fires('design-on-delete-cascade', 'ALTER TABLE items ADD CONSTRAINT fk_order FOREIGN KEY (order_id) REFERENCES orders (id) ON UPDATE CASCADE ON DELETE CASCADE')
    assert.equal(at(hit), '1:117 CASCADE')
    quiet('design-on-delete-cascade', 'ALTER TABLE items ADD FOREIGN KEY (order_id) REFERENCES orders (id) ON UPDATE CASCADE ON DELETE SET NULL')
    quiet('design-on-delete-cascade', "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(40) DEFAULT 'ON DELETE CASCADE')")
  })

  it('design-missing-primary-key', () => {
    const [hit] = fires('design-missing-primary-key', 'CREATE TABLE audit_log (created_at DATETIME, message TEXT)')
    assert.equal(at(hit), '1:14 audit_log')
    assert.equal(fires('design-missing-primary-key', 'CREATE TABLE t (code CHAR(3) NOT NULL, UNIQUE KEY (code))')[0]!.level, 'notice')
    quiet('design-missing-primary-key', 'CREATE TABLE t (id INT, PRIMARY KEY (id))')
    quiet('design-missing-primary-key', 'CREATE TABLE t (id INT KEY)')
    quiet('design-missing-primary-key', 'CREATE TEMPORARY TABLE t (a INT)')
    quiet('design-missing-primary-key', 'CREATE TABLE t LIKE u')
    quiet('design-missing-primary-key', "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20) COMMENT 'no PRIMARY KEY')")
  })

  it('design-non-innodb-engine', () => {
    assert.equal(at(fires('design-non-innodb-engine', 'CREATE TABLE s (id INT PRIMARY KEY) ENGINE=MyISAM')[0]), '1:44 MyISAM')
    fires('design-non-innodb-engine', 'ALTER TABLE s ENGINE = MEMORY')
    quiet('design-non-innodb-engine', 'CREATE TABLE s (id INT PRIMARY KEY) ENGINE=innodb')
    quiet('design-non-innodb-engine', 'CREATE TEMPORARY TABLE s (id INT) ENGINE=MEMORY')
    quiet('design-non-innodb-engine', "CREATE TABLE s (id INT PRIMARY KEY) COMMENT 'ENGINE=MyISAM'")
  })

  it('design-legacy-charset', () => {
    assert.match(fires('design-legacy-charset', 'CREATE TABLE c (id INT PRIMARY KEY) CHARSET=utf8mb3')[0]!.message, /table c uses character set utf8mb3/)
    const [column] = fires('design-legacy-charset', 'CREATE TABLE c (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET latin1)')
    assert.equal(at(column), '1:68 latin1')
    fires('design-legacy-charset', 'ALTER TABLE c DEFAULT CHARSET = utf8')
    // Converting existing data is judged by destructive-lossy-charset-conversion.
    quiet('design-legacy-charset', 'ALTER TABLE c CONVERT TO CHARACTER SET utf8')
    fires('design-legacy-charset', 'ALTER TABLE c MODIFY name VARCHAR(20) COLLATE latin1_swedish_ci')
    quiet('design-legacy-charset', 'CREATE TABLE c (id INT PRIMARY KEY, code CHAR(2) CHARACTER SET ascii, hash BINARY(32), uuid CHAR(36) CHARSET binary) DEFAULT CHARSET=utf8mb4')
    quiet('design-legacy-charset', 'CREATE TABLE c (id INT PRIMARY KEY) COLLATE utf8mb4_0900_ai_ci')
    quiet('design-legacy-charset', "CREATE TABLE c (id INT PRIMARY KEY) COMMENT 'CHARSET latin1'")
  })

  it('design-collation-mismatch', () => {
    assert.match(fires('design-collation-mismatch', 'CREATE TABLE c (id INT PRIMARY KEY) DEFAULT CHARSET=utf8mb4 COLLATE=latin1_bin')[0]!.message, /latin1_bin belongs to latin1/)
    fires('design-collation-mismatch', 'ALTER TABLE c CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8_general_ci')
    quiet('design-collation-mismatch', 'CREATE TABLE c (name VARCHAR(10) CHARACTER SET utf8 COLLATE utf8_general_ci)')
    quiet('design-collation-mismatch', 'CREATE TABLE c (name VARCHAR(10) CHARACTER SET utf8mb4 COLLATE uca1400_ai_ci)')
    quiet('design-collation-mismatch', 'CREATE TABLE c (name VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)')
  })

  it('design-float-for-money and design-float-type', () => {
    for (const column of ['price DOUBLE', 'unitCost FLOAT', 'total REAL', 'shipping_fee DOUBLE PRECISION']) fires('design-float-for-money', `CREATE TABLE i (id INT PRIMARY KEY, ${column})`)
    assert.equal(at(fires('design-float-for-money', 'ALTER TABLE i ADD COLUMN tax FLOAT')[0]), '1:30 FLOAT')
    quiet('design-float-for-money', 'CREATE TABLE i (id INT PRIMARY KEY, price DECIMAL(10,2), ratio DOUBLE, priceless DOUBLE)')
    fires('design-float-type', 'ALTER TABLE r ADD COLUMN weight DOUBLE')
    quiet('design-float-type', 'CREATE TABLE i (id INT PRIMARY KEY, price DOUBLE, ratio DECIMAL(5,4))')
    quiet('design-float-type', "CREATE TABLE i (id INT PRIMARY KEY, note VARCHAR(10) DEFAULT 'FLOAT')")
  })

  it('design-text-blob-default', () => {
    const mysql = {flavor: 'mysql' as const, version: '8.0.36'}
    const [hit] = fires('design-text-blob-default', "CREATE TABLE n (id INT PRIMARY KEY, body TEXT DEFAULT 'x')", mysql)
    assert.equal(at(hit), "1:55 'x'")
    assert.match(hit!.message, /DEFAULT \('x'\)/)
    fires('design-text-blob-default', "ALTER TABLE n ADD COLUMN doc JSON DEFAULT ('{}')", {flavor: 'mysql', version: '8.0.12'})
    fires('design-text-blob-default', "CREATE TABLE n (id INT PRIMARY KEY, body BLOB DEFAULT 'x')", {flavor: 'mariadb', version: '10.1.48'})
    quiet('design-text-blob-default', "ALTER TABLE n ADD COLUMN doc JSON DEFAULT ('{}')", mysql)
    quiet('design-text-blob-default', "CREATE TABLE n (id INT PRIMARY KEY, body TEXT DEFAULT 'x')", {flavor: 'mariadb', version: '10.11.19'})
    quiet('design-text-blob-default', 'CREATE TABLE n (id INT PRIMARY KEY, body TEXT DEFAULT NULL)', mysql)
    quiet('design-text-blob-default', "CREATE TABLE n (id INT PRIMARY KEY, body VARCHAR(10) DEFAULT 'TEXT')", mysql)
  })

  it('design-zero-date-default', () => {
    const [maria] = fires('design-zero-date-default', "CREATE TABLE u (id INT PRIMARY KEY, born DATE NOT NULL DEFAULT '0000-00-00')")
    assert.equal(maria!.level, undefined)
    assert.equal(fires('design-zero-date-default', 'ALTER TABLE u ADD COLUMN seen TIMESTAMP NOT NULL DEFAULT 0', {flavor: 'mysql'})[0]!.level, 'error')
    quiet('design-zero-date-default', "CREATE TABLE u (id INT PRIMARY KEY, born DATE DEFAULT '2000-01-01', gone DATETIME DEFAULT NULL)")
    quiet('design-zero-date-default', "CREATE TABLE u (id INT PRIMARY KEY, code VARCHAR(10) DEFAULT '0000-00-00')")
  })

  it('design-duplicate-index', () => {
    assert.match(fires('design-duplicate-index', 'CREATE TABLE t (id INT, a INT, PRIMARY KEY (id), UNIQUE KEY uk_id (id))')[0]!.message, /duplicates PRIMARY KEY \(id\)/)
    const [existing] = fires('design-duplicate-index', 'CREATE INDEX idx_customer2 ON orders (customer_id)', {schema})
    assert.match(existing!.message, /duplicates existing index idx_customer \(customer_id\)/)
    assert.match(fires('design-duplicate-index', 'ALTER TABLE orders ADD UNIQUE KEY uk_customer (customer_id)', {schema})[0]!.message, /drop index idx_customer \(customer_id\) instead/)
    quiet('design-duplicate-index', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY (a, b), KEY (b, a))')
    quiet('design-duplicate-index', 'CREATE TABLE t (id INT PRIMARY KEY, a TEXT, KEY (a(10)), FULLTEXT KEY (a))')
    quiet('design-duplicate-index', 'ALTER TABLE orders DROP INDEX idx_customer, ADD INDEX idx_customer (customer_id)', {schema})
  })

  it('design-redundant-index', () => {
    fires('design-redundant-index', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY (a), KEY (a, b))')
    assert.match(fires('design-redundant-index', 'ALTER TABLE orders ADD INDEX idx_customer_created (customer_id, created_at)', {schema})[0]!.message, /makes existing index idx_customer \(customer_id\) on orders redundant/)
    fires('design-redundant-index', 'CREATE INDEX idx_status ON orders (status)', {schema})
    quiet('design-redundant-index', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, UNIQUE KEY (a), KEY (a, b))')
    quiet('design-redundant-index', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY (b), KEY (a, b))')
  })

  it('design-too-many-indexes', () => {
    const limit = {thresholds: {maxIndexes: 2}}
    fires('design-too-many-indexes', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY (a), KEY (b))', limit)
    assert.match(fires('design-too-many-indexes', 'ALTER TABLE orders ADD INDEX idx_created (created_at)', {schema, thresholds: {maxIndexes: 4}})[0]!.message, /would have 5 indexes/)
    quiet('design-too-many-indexes', 'CREATE TABLE t (id INT PRIMARY KEY, a INT, KEY (a))', limit)
    quiet('design-too-many-indexes', 'ALTER TABLE orders DROP INDEX idx_customer, ADD INDEX idx_created (created_at)', {schema, thresholds: {maxIndexes: 4}})
  })

  it('design-low-cardinality-index (with the schema)', () => {
    assert.match(fires('design-low-cardinality-index', 'ALTER TABLE orders ADD INDEX idx_status (status)', {schema})[0]!.message, /about 3 distinct values over 5,000,000 rows/)
    quiet('design-low-cardinality-index', 'ALTER TABLE orders ADD INDEX idx_status2 (status, id)', {schema})
    quiet('design-low-cardinality-index', 'ALTER TABLE orders ADD INDEX idx_customer2 (customer_id)', {schema})
    quiet('design-low-cardinality-index', 'ALTER TABLE orders ADD INDEX idx_note (note)', {schema})
    quiet('design-low-cardinality-index', 'ALTER TABLE orders ADD UNIQUE KEY uk_status (status)', {schema})
  })

  it('design-foreign-key', () => {
    fires('design-foreign-key', 'CREATE TABLE i (id INT PRIMARY KEY, o INT, CONSTRAINT fk FOREIGN KEY (o) REFERENCES orders (id))')
    fires('design-foreign-key', 'ALTER TABLE i ADD FOREIGN KEY (o) REFERENCES orders (id)')
    assert.equal(fires('design-foreign-key', 'CREATE TABLE i (id INT PRIMARY KEY, o INT REFERENCES orders (id))', {flavor: 'mysql'})[0]!.level, 'warning')
    quiet('design-foreign-key', "CREATE TABLE i (id INT PRIMARY KEY, o INT COMMENT 'FOREIGN KEY to orders', KEY (o))")
  })

  it('design-auto-increment-type', () => {
    const [hit] = fires('design-auto-increment-type', 'CREATE TABLE e (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY)')
    assert.equal(at(hit), '1:20 INT')
    assert.match(hit!.message, /2,147,483,647/)
    fires('design-auto-increment-type', 'CREATE TABLE e (id SMALLINT UNSIGNED AUTO_INCREMENT PRIMARY KEY)')
    fires('design-auto-increment-type', 'ALTER TABLE e MODIFY id INT NOT NULL AUTO_INCREMENT')
    quiet('design-auto-increment-type', 'CREATE TABLE e (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY)')
    quiet('design-auto-increment-type', 'CREATE TABLE e (id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY)')
    quiet('design-auto-increment-type', 'CREATE TABLE e (id SERIAL)')
    quiet('design-auto-increment-type', "CREATE TABLE e (id INT PRIMARY KEY COMMENT 'AUTO_INCREMENT')")
  })

  it('design-create-table-as-select', () => {
    assert.equal(fires('design-create-table-as-select', 'CREATE TABLE o2 AS SELECT * FROM orders')[0]!.level, undefined)
    assert.equal(fires('design-create-table-as-select', 'CREATE TABLE o2 SELECT * FROM orders', {flavor: 'mysql', version: '8.0.20'})[0]!.level, 'error')
    quiet('design-create-table-as-select', 'CREATE TABLE o2 LIKE orders')
    quiet('design-create-table-as-select', "CREATE TABLE o2 (id INT PRIMARY KEY) COMMENT 'AS SELECT'")
  })
})
