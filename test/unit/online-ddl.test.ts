import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {significant, tokenize} from '../../src/lib/sql/lexer.ts'
import {
  classifyAlter,
  clauseDefinitions,
  collationCharset,
  enumChange,
  parseColumnType,
  readCreateTable,
  readDropTable,
  readRenameTable,
  readSetAssignments,
  readTableChanges,
  readTruncate,
  typeChangeLoss,
  unwrapSetStatement,
  varLengthBytes,
  type ClassifyOptions,
  type DdlTarget,
  type ExistingTable,
} from '../../src/lib/sql/ddl.ts'

const tokens = (sql: string) => significant(tokenize(sql))
const change = (sql: string) => {
  const [first] = readTableChanges(tokens(sql))
  assert.ok(first, `no table change read from: ${sql}`)
  return first
}
const mysql = (version: string): DdlTarget => ({flavor: 'mysql', version})
const mariadb = (version: string): DdlTarget => ({flavor: 'mariadb', version})
const classify = (sql: string, target: DdlTarget, options?: ClassifyOptions) => classifyAlter(change(sql).clauses, target, options)
const type = (text: string) => {
  const parsed = parseColumnType(text)
  assert.ok(parsed, text)
  return parsed
}

const orders: ExistingTable = {
  engine: 'InnoDB',
  columns: [
    {name: 'id', type: 'bigint(20) unsigned', nullable: false},
    {name: 'customer_id', type: 'bigint(20)', nullable: true},
    {name: 'status', type: "enum('new','paid')", nullable: false},
    {name: 'note', type: 'varchar(50)', nullable: true},
    {name: 'code', type: 'varchar(100)', nullable: true},
    {name: 'qty', type: 'int(11)', nullable: false},
  ],
  indexes: [
    {name: 'PRIMARY', columns: ['id'], unique: true},
    {name: 'idx_customer', columns: ['customer_id'], unique: false},
  ],
}

describe('reading ALTER TABLE clauses', () => {
  it('splits clauses and reads each kind', () => {
    const read = change(
      'ALTER TABLE shop.orders ADD COLUMN note VARCHAR(200) NOT NULL DEFAULT \'\' AFTER id, DROP COLUMN legacy, MODIFY qty INT UNSIGNED NOT NULL, ' +
        'CHANGE fullname full_name VARCHAR(100), RENAME COLUMN a TO b, ADD UNIQUE KEY uk_code (code), ADD CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id), ' +
        'DROP INDEX idx_old, DROP PRIMARY KEY, DROP FOREIGN KEY fk_old, ALTER COLUMN qty SET DEFAULT 1, RENAME INDEX i1 TO i2, ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE',
    )
    assert.equal(read.statement, 'ALTER TABLE')
    assert.deepEqual({schema: read.table.schema, name: read.table.name}, {schema: 'shop', name: 'orders'})
    assert.deepEqual(
      read.clauses.map((c) => c.kind),
      ['add-column', 'drop-column', 'modify-column', 'change-column', 'rename-column', 'add-index', 'add-index', 'drop-index', 'drop-primary-key', 'drop-foreign-key', 'alter-column-default', 'rename-index', 'engine', 'algorithm', 'lock'],
    )
    const [add, drop, modify, changed, renamed, unique, foreign] = read.clauses
    assert.equal(add!.definition!.name, 'note')
    assert.equal(add!.definition!.type.text, 'VARCHAR(200)')
    assert.equal(add!.definition!.notNull, true)
    assert.deepEqual({kind: add!.definition!.default!.kind, value: add!.definition!.default!.value}, {kind: 'literal', value: ''})
    assert.deepEqual(add!.definition!.position && {kind: add!.definition!.position.kind, column: 'column' in add!.definition!.position ? add!.definition!.position.column : ''}, {kind: 'after', column: 'id'})
    assert.equal(drop!.column, 'legacy')
    assert.equal(modify!.definition!.type.text, 'INT UNSIGNED')
    assert.deepEqual([changed!.column, changed!.newName], ['fullname', 'full_name'])
    assert.deepEqual([renamed!.column, renamed!.newName], ['a', 'b'])
    assert.deepEqual([unique!.index!.kind, unique!.index!.name, unique!.index!.parts.map((p) => p.column)], ['UNIQUE', 'uk_code', ['code']])
    assert.deepEqual([foreign!.index!.kind, foreign!.index!.name, foreign!.index!.references], ['FOREIGN', 'fk_c', {table: 'customers', columns: ['id']}])
    assert.equal(read.alterText.includes('ALGORITHM'), false)
    assert.ok(read.alterText.startsWith("ADD COLUMN note VARCHAR(200) NOT NULL DEFAULT '' AFTER id, DROP COLUMN legacy"))
  })

  it('is not fooled by keywords inside comments and strings', () => {
    const read = change("ALTER TABLE t /* DROP COLUMN x, */ ADD COLUMN c VARCHAR(10) COMMENT 'DROP TABLE t, RENAME TO u' -- , DROP PRIMARY KEY\n")
    assert.deepEqual(read.clauses.map((c) => c.kind), ['add-column'])
    assert.equal(read.clauses[0]!.definition!.comment, 'DROP TABLE t, RENAME TO u')
  })

  it('reads MariaDB forms: ONLINE, IF EXISTS, WAIT, IF NOT EXISTS, column lists', () => {
    const read = change('ALTER ONLINE IGNORE TABLE IF EXISTS t WAIT 5 ADD COLUMN IF NOT EXISTS (a INT, b INT NOT NULL), DROP COLUMN IF EXISTS c, DROP IF EXISTS d')
    assert.equal(read.lockWait, 5)
    assert.deepEqual(read.clauses.map((c) => c.kind), ['add-column', 'drop-column', 'drop-column'])
    assert.deepEqual(clauseDefinitions(read.clauses[0]!).map((d) => [d.name, d.notNull]), [['a', false], ['b', true]])
    assert.deepEqual(read.clauses.slice(1).map((c) => c.column), ['c', 'd'])
  })

  it('keeps partition operations and ORDER BY whole, options after them apart', () => {
    const read = change('ALTER TABLE events DROP PARTITION p1, p2, ALGORITHM=INPLACE')
    assert.deepEqual(read.clauses.map((c) => [c.kind, c.option]), [['partition-op', 'DROP'], ['algorithm', 'ALGORITHM']])
    assert.deepEqual(change('ALTER TABLE t PARTITION BY HASH (id) PARTITIONS 4').clauses.map((c) => c.kind), ['partition-by'])
    assert.deepEqual(change('ALTER TABLE t REMOVE PARTITIONING').clauses.map((c) => c.kind), ['remove-partitioning'])
    assert.deepEqual(change('ALTER TABLE t ORDER BY a, b').clauses.map((c) => c.kind), ['order-by'])
  })

  it('reads table options, charset conversion and renames', () => {
    const read = change('ALTER TABLE t ENGINE = InnoDB ROW_FORMAT=DYNAMIC, DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_bin, CONVERT TO CHARACTER SET latin1 COLLATE latin1_bin, RENAME TO u, FORCE')
    assert.deepEqual(
      read.clauses.map((c) => [c.kind, c.option ?? '', c.value ?? c.charset ?? c.newName ?? '']),
      [
        ['engine', 'ENGINE', 'InnoDB'],
        ['table-option', 'ROW_FORMAT', 'DYNAMIC'],
        ['table-charset', 'CHARACTER SET', 'utf8mb4'],
        ['table-charset', 'COLLATE', 'utf8mb4_bin'],
        ['convert-charset', '', 'latin1'],
        ['rename-table', '', 'u'],
        ['force', '', ''],
      ],
    )
    assert.equal(read.clauses[4]!.collation, 'latin1_bin')
  })

  it('reads DROP INDEX `PRIMARY` as dropping the primary key', () => {
    assert.equal(change('ALTER TABLE t DROP INDEX `PRIMARY`').clauses[0]!.kind, 'drop-primary-key')
    assert.equal(change('DROP INDEX `PRIMARY` ON t').clauses[0]!.kind, 'drop-primary-key')
  })

  it('reads CREATE INDEX, DROP INDEX and OPTIMIZE TABLE as table changes', () => {
    const create = change('CREATE UNIQUE INDEX ux_a ON shop.t (a, b(10) DESC) USING BTREE ALGORITHM=INPLACE LOCK NONE')
    assert.equal(create.statement, 'CREATE INDEX')
    assert.equal(create.table.name, 't')
    assert.deepEqual(create.clauses.map((c) => [c.kind, c.value ?? '']), [['add-index', ''], ['algorithm', 'INPLACE'], ['lock', 'NONE']])
    assert.deepEqual(create.clauses[0]!.index!.parts, [{column: 'a', expression: false}, {column: 'b', length: 10, expression: false}])
    assert.equal(create.alterText, 'ADD UNIQUE INDEX ux_a (a, b(10) DESC)')
    const drop = change('DROP INDEX ix ON t')
    assert.deepEqual([drop.statement, drop.clauses[0]!.kind, drop.clauses[0]!.name, drop.alterText], ['DROP INDEX', 'drop-index', 'ix', 'DROP INDEX ix'])
    const optimized = readTableChanges(tokens('OPTIMIZE NO_WRITE_TO_BINLOG TABLE a, b'))
    assert.deepEqual(optimized.map((c) => [c.table.name, c.clauses[0]!.kind]), [['a', 'optimize'], ['b', 'optimize']])
  })

  it('returns nothing for other statements and unfinished text, without throwing', () => {
    assert.deepEqual(readTableChanges(tokens('SELECT 1')), [])
    assert.deepEqual(readTableChanges(tokens('CREATE TABLE t (a INT)')), [])
    const statement = "ALTER TABLE t ADD COLUMN c ENUM('a','b') NOT NULL DEFAULT 'a' AFTER b, ADD INDEX (c), CONVERT TO CHARACTER SET utf8mb4, DROP PARTITION p"
    const all = tokens(statement)
    for (let end = 0; end <= all.length; end++) {
      const part = all.slice(0, end)
      for (const read of readTableChanges(part)) classifyAlter(read.clauses, mysql('8.0.36'), {table: orders})
      readCreateTable(part)
    }
  })
})

describe('reading column types and definitions', () => {
  it('reads server column types', () => {
    assert.deepEqual(type('int(10) unsigned'), {name: 'INT', length: 10, unsigned: true, zerofill: false, text: 'INT(10) UNSIGNED'})
    assert.deepEqual(type("enum('a','it''s')").values, ['a', "it's"])
    assert.deepEqual([type('decimal(10,2)').length, type('decimal(10,2)').scale], [10, 2])
    assert.equal(type('varchar(20) CHARACTER SET latin1 COLLATE latin1_bin').charset, 'latin1')
  })

  it('folds synonyms', () => {
    assert.equal(type('INTEGER').name, 'INT')
    assert.deepEqual([type('BOOLEAN').name, type('BOOLEAN').length], ['TINYINT', 1])
    assert.equal(type('DOUBLE PRECISION').name, 'DOUBLE')
    assert.equal(type('REAL').name, 'DOUBLE')
    assert.equal(type('NUMERIC(5,1)').name, 'DECIMAL')
    assert.deepEqual([type('NATIONAL VARCHAR(10)').name, type('NATIONAL VARCHAR(10)').charset], ['VARCHAR', 'utf8mb3'])
    assert.deepEqual([type('SERIAL').name, type('SERIAL').unsigned], ['BIGINT', true])
  })

  it('reads column attributes', () => {
    const create = readCreateTable(
      tokens(
        "CREATE TABLE t (id SERIAL, a INT AUTO_INCREMENT PRIMARY KEY, b TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, c VARCHAR(36) DEFAULT (UUID()), d INT AS (a + 1) STORED, e JSON DEFAULT ('[]'), f INT REFERENCES p (id))",
      ),
    )
    assert.ok(create)
    const [id, a, b, c, d, e, f] = create.columns
    assert.deepEqual([id!.autoIncrement, id!.notNull, id!.unique], [true, true, true])
    assert.deepEqual([a!.autoIncrement, a!.primaryKey, a!.nullable], [true, true, false])
    assert.equal(b!.default!.kind, 'now')
    assert.deepEqual([c!.default!.kind, c!.default!.callsFunction], ['expression', true])
    assert.equal(d!.generated, 'STORED')
    assert.deepEqual([e!.default!.kind, e!.default!.value, e!.default!.callsFunction], ['expression', '[]', false])
    assert.equal(f!.references!.table, 'p')
  })
})

describe('reading CREATE TABLE and other DDL', () => {
  it('reads columns, indexes and options', () => {
    const create = readCreateTable(
      tokens(
        'CREATE TABLE IF NOT EXISTS shop.t (id BIGINT UNSIGNED NOT NULL, email VARCHAR(200) NOT NULL UNIQUE, PRIMARY KEY (id), KEY idx_email_id (email(20), id), FULLTEXT KEY ft (email), ' +
          'CONSTRAINT fk FOREIGN KEY (id) REFERENCES p (id), CHECK (id > 0)) ENGINE=InnoDB, DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_0900_ai_ci COMMENT=\'x\'',
      ),
    )
    assert.ok(create)
    assert.deepEqual([create.table.schema, create.table.name, create.ifNotExists, create.temporary], ['shop', 't', true, false])
    assert.deepEqual(create.columns.map((c) => c.name), ['id', 'email'])
    assert.deepEqual(
      create.indexes.map((i) => [i.kind, i.name ?? '', i.parts.map((p) => p.column + (p.length ? `(${p.length})` : '')).join(',')]),
      [
        ['UNIQUE', 'email', 'email'],
        ['PRIMARY', '', 'id'],
        ['INDEX', 'idx_email_id', 'email(20),id'],
        ['FULLTEXT', 'ft', 'email'],
        ['FOREIGN', 'fk', 'id'],
      ],
    )
    assert.deepEqual(create.options.map((o) => [o.name, o.value]), [['ENGINE', 'InnoDB'], ['CHARACTER SET', 'utf8mb4'], ['COLLATE', 'utf8mb4_0900_ai_ci'], ['COMMENT', 'x']])
    assert.equal(create.asSelect, undefined)
  })

  it('tells CREATE TABLE ... SELECT and LIKE apart from WITH SYSTEM VERSIONING', () => {
    assert.equal(readCreateTable(tokens('CREATE TABLE t AS SELECT * FROM u'))?.asSelect?.value, 'AS')
    assert.equal(readCreateTable(tokens('CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB SELECT id FROM u'))?.asSelect?.value, 'SELECT')
    assert.equal(readCreateTable(tokens('CREATE TABLE t (SELECT id FROM u)'))?.asSelect?.value, 'SELECT')
    assert.equal(readCreateTable(tokens('CREATE TABLE t (id INT) WITH SYSTEM VERSIONING'))?.asSelect, undefined)
    assert.equal(readCreateTable(tokens("CREATE TABLE t (id INT) COMMENT 'AS SELECT'"))?.asSelect, undefined)
    assert.equal(readCreateTable(tokens('CREATE TABLE t LIKE u'))?.like?.name, 'u')
  })

  it('reads DROP TABLE, RENAME TABLE, TRUNCATE', () => {
    assert.deepEqual(readDropTable(tokens('DROP TEMPORARY TABLE IF EXISTS a, db.b'))?.tables.map((t) => t.name), ['a', 'b'])
    assert.equal(readDropTable(tokens('DROP TEMPORARY TABLE a'))?.temporary, true)
    assert.deepEqual(readRenameTable(tokens('RENAME TABLE a TO a_old, a_new TO a')).map((p) => [p.from.name, p.to.name]), [['a', 'a_old'], ['a_new', 'a']])
    assert.equal(readTruncate(tokens('TRUNCATE orders'))?.name, 'orders')
    assert.equal(readTruncate(tokens('TRUNCATE TABLE `order items`'))?.name, 'order items')
  })

  it('reads session settings, including MariaDB SET STATEMENT ... FOR', () => {
    assert.deepEqual(
      readSetAssignments(tokens('SET FOREIGN_KEY_CHECKS = 0, @@session.lock_wait_timeout = 5, GLOBAL max_connections = 10, @x = 1')).map((a) => [a.name, a.scope ?? '', a.value[0]!.text]),
      [['foreign_key_checks', '', '0'], ['lock_wait_timeout', 'SESSION', '5'], ['max_connections', 'GLOBAL', '10']],
    )
    const wrapped = unwrapSetStatement(tokens('SET STATEMENT lock_wait_timeout = 5 FOR ALTER TABLE t ADD COLUMN c INT'))
    assert.deepEqual(wrapped.settings.map((s) => s.name), ['lock_wait_timeout'])
    assert.equal(readTableChanges(wrapped.tokens)[0]?.table.name, 't')
    assert.deepEqual(readSetAssignments(tokens('SET STATEMENT lock_wait_timeout = 5 FOR SELECT 1')), [])
  })
})

describe('comparing column types', () => {
  it('finds changes that lose data', () => {
    const lossy: Array<[string, string]> = [
      ['bigint', 'int'],
      ['int unsigned', 'int'],
      ['int', 'int unsigned'],
      ['varchar(255)', 'varchar(50)'],
      ['decimal(12,4)', 'decimal(12,2)'],
      ['decimal(12,2)', 'decimal(8,2)'],
      ['text', 'varchar(255)'],
      ['mediumtext', 'text'],
      ['datetime', 'date'],
      ['datetime(6)', 'datetime'],
      ['datetime', 'timestamp'],
      ['double', 'float'],
      ['bigint', 'double'],
      ['varchar(20)', 'int'],
      ['int', 'varchar(5)'],
      ["enum('a','bbbbbb')", 'varchar(3)'],
    ]
    for (const [from, to] of lossy) assert.ok(typeChangeLoss(type(from), type(to)), `${from} -> ${to} should lose data`)
  })

  it('accepts widening changes', () => {
    const safe: Array<[string, string]> = [
      ['int(11)', 'int'],
      ['int', 'bigint'],
      ['int unsigned', 'bigint'],
      ['varchar(50)', 'varchar(255)'],
      ['varchar(255)', 'text'],
      ['decimal(10,2)', 'decimal(12,4)'],
      ['date', 'datetime'],
      ['timestamp', 'datetime'],
      ['int', 'decimal(12,0)'],
      ['float', 'double'],
      ['char(10)', 'varchar(10)'],
      ["enum('a','b')", 'varchar(10)'],
    ]
    for (const [from, to] of safe) assert.equal(typeChangeLoss(type(from), type(to)), undefined, `${from} -> ${to} should be safe`)
  })

  it('tells ENUM/SET member removal, reordering and appending apart', () => {
    assert.deepEqual(enumChange(type("enum('a','b','c')"), type("enum('a','c')")), {removed: ['b'], reordered: false, appended: false})
    assert.deepEqual(enumChange(type("enum('a','b')"), type("enum('b','a')")), {removed: [], reordered: true, appended: false})
    assert.deepEqual(enumChange(type("enum('a','b')"), type("enum('a','b','c')")), {removed: [], reordered: false, appended: true})
    assert.equal(enumChange(type("enum('a','b')"), type("enum('a','x','b')"))?.appended, false)
  })

  it('knows length bytes and collation character sets', () => {
    assert.equal(varLengthBytes(type('varchar(63) character set utf8mb4')), 1)
    assert.equal(varLengthBytes(type('varchar(64) character set utf8mb4')), 2)
    assert.equal(varLengthBytes(type('varchar(255) character set latin1')), 1)
    assert.equal(collationCharset('utf8_general_ci'), 'utf8mb3')
    assert.equal(collationCharset('utf8mb4_0900_ai_ci'), 'utf8mb4')
    assert.equal(collationCharset('uca1400_ai_ci'), undefined)
  })
})

describe('classifying ALTER TABLE for online DDL', () => {
  const algorithmOf = (sql: string, target: DdlTarget, options?: ClassifyOptions) => {
    const c = classify(sql, target, options)
    return `${c.algorithm}${c.algorithm === 'INPLACE' ? (c.rebuild ? '+rebuild' : '') : ''}`
  }

  it('ADD COLUMN at the end: INSTANT from MySQL 8.0.12 and MariaDB 10.3.2', () => {
    const sql = 'ALTER TABLE orders ADD COLUMN note2 VARCHAR(20) NULL'
    assert.equal(algorithmOf(sql, mysql('8.0.11')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mysql('8.0.12')), 'INSTANT')
    assert.equal(algorithmOf(sql, mysql('8.4.3')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.3.1')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mariadb('10.3.2')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.6.18')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('11.4.2')), 'INSTANT')
    assert.equal(classify(sql, mariadb('10.11.19')).blocksWrites, false)
  })

  it('ADD COLUMN FIRST/AFTER: INSTANT from MySQL 8.0.29 and MariaDB 10.4', () => {
    const sql = 'ALTER TABLE orders ADD COLUMN c INT FIRST'
    assert.equal(algorithmOf(sql, mysql('8.0.28')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mysql('8.0.29')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.3.39')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mariadb('10.4.0')), 'INSTANT')
  })

  it('ADD COLUMN that cannot be instant', () => {
    assert.equal(algorithmOf('ALTER TABLE t ADD COLUMN c INT AS (a + 1) STORED', mariadb('10.11.19')), 'COPY')
    const autoIncrement = classify('ALTER TABLE t ADD COLUMN n BIGINT NOT NULL AUTO_INCREMENT UNIQUE', mysql('8.0.36'))
    assert.deepEqual([autoIncrement.algorithm, autoIncrement.rebuild, autoIncrement.lock, autoIncrement.blocksWrites], ['INPLACE', true, 'SHARED', true])
    assert.equal(algorithmOf('ALTER TABLE t ADD COLUMN u CHAR(36) DEFAULT (UUID())', mariadb('10.11.19')), 'COPY')
    assert.equal(algorithmOf("ALTER TABLE t ADD COLUMN u CHAR(36) DEFAULT ('x')", mariadb('10.11.19')), 'INSTANT')
    const now = classify('ALTER TABLE t ADD COLUMN created DATETIME DEFAULT CURRENT_TIMESTAMP', mysql('8.0.36'))
    assert.deepEqual([now.algorithm, now.rebuild, now.certain], ['INPLACE', true, false])
    const expression = classify('ALTER TABLE t ADD COLUMN i INT DEFAULT (2 + 5)', mysql('8.0.36'))
    assert.deepEqual([expression.algorithm, expression.rebuild, expression.certain], ['INPLACE', true, true])
    assert.equal(algorithmOf('ALTER TABLE t ADD COLUMN i INT DEFAULT 7', mysql('8.0.36')), 'INSTANT')
  })

  it('DROP COLUMN: INSTANT from MySQL 8.0.29 and MariaDB 10.4, unless indexed', () => {
    const sql = 'ALTER TABLE orders DROP COLUMN note'
    assert.equal(algorithmOf(sql, mysql('8.0.28')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mysql('8.0.29')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.3.39')), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mariadb('10.6.0')), 'INSTANT')
    assert.equal(classify(sql, mysql('8.0.36')).certain, false)
    assert.equal(classify(sql, mysql('8.0.36'), {table: orders}).certain, true)
    const indexed = 'ALTER TABLE orders DROP COLUMN customer_id'
    assert.equal(algorithmOf(indexed, mysql('8.0.36'), {table: orders}), 'INPLACE+rebuild')
    assert.equal(algorithmOf(indexed, mariadb('10.11.19'), {table: orders}), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders DROP COLUMN id', mariadb('10.11.19'), {table: orders}), 'COPY')
  })

  it('column type changes copy, except VARCHAR growth within the same length bytes and ENUM appends', () => {
    const withTable = {table: orders}
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY qty BIGINT NOT NULL', mysql('8.0.36'), withTable), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY qty BIGINT NOT NULL', mariadb('10.11.19'), withTable), 'COPY')
    // 50 -> 60 characters of utf8mb4: 200 -> 240 bytes, one length byte either way.
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY note VARCHAR(60)', mysql('8.0.36'), withTable), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY note VARCHAR(60)', mariadb('10.11.19'), withTable), 'INSTANT')
    // 50 -> 64 characters: 256 bytes need a second length byte.
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY note VARCHAR(64)', mariadb('10.11.19'), withTable), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY code VARCHAR(200)', mariadb('10.11.19'), withTable), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY note VARCHAR(40)', mariadb('10.11.19'), withTable), 'COPY')
    assert.equal(algorithmOf("ALTER TABLE orders MODIFY status ENUM('new','paid','shipped') NOT NULL", mysql('8.0.36'), withTable), 'INSTANT')
    assert.equal(algorithmOf("ALTER TABLE orders MODIFY status ENUM('paid','new') NOT NULL", mysql('8.0.36'), withTable), 'COPY')
    assert.equal(algorithmOf("ALTER TABLE orders MODIFY status ENUM('new') NOT NULL", mariadb('10.11.19'), withTable), 'COPY')
  })

  it('MODIFY without the current definition is assumed to copy', () => {
    const unknown = classify('ALTER TABLE orders MODIFY note VARCHAR(60)', mysql('8.0.36'))
    assert.deepEqual([unknown.algorithm, unknown.certain], ['COPY', false])
    assert.match(unknown.reason, /current definition of `note` is unknown/)
  })

  it('NULL / NOT NULL changes rebuild; DEFAULT-only changes are instant', () => {
    const withTable = {table: orders}
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY note VARCHAR(50) NOT NULL', mariadb('10.11.19'), withTable), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE orders MODIFY qty INT NULL', mysql('8.0.36'), withTable), 'INPLACE+rebuild')
    assert.equal(algorithmOf("ALTER TABLE orders MODIFY note VARCHAR(50) DEFAULT 'x' COMMENT 'y'", mysql('8.0.36'), withTable), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders ALTER COLUMN qty SET DEFAULT 1', mysql('8.0.36')), 'INSTANT')
  })

  it('moving a column rebuilds on MySQL and is instant on MariaDB 10.4+', () => {
    const sql = 'ALTER TABLE orders MODIFY note VARCHAR(50) AFTER id'
    assert.equal(algorithmOf(sql, mysql('8.4.0'), {table: orders}), 'INPLACE+rebuild')
    assert.equal(algorithmOf(sql, mariadb('10.11.19'), {table: orders}), 'INSTANT')
  })

  it('renaming a column: INSTANT from MySQL 8.0.28 and MariaDB 10.5.2, in place before', () => {
    const sql = 'ALTER TABLE orders RENAME COLUMN note TO remark'
    assert.equal(algorithmOf(sql, mysql('8.0.27')), 'INPLACE')
    assert.equal(algorithmOf(sql, mysql('8.0.28')), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.5.1')), 'INPLACE')
    assert.equal(algorithmOf(sql, mariadb('10.5.2')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders CHANGE note remark VARCHAR(50)', mysql('8.0.36'), {table: orders}), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders CHANGE note remark VARCHAR(60)', mysql('8.0.36'), {table: orders}), 'INPLACE')
    // 50 -> 80 characters crosses 255 bytes in utf8mb4 (assumed when the character set is unknown).
    assert.equal(algorithmOf('ALTER TABLE orders CHANGE note remark VARCHAR(80)', mysql('8.0.36'), {table: orders}), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders CHANGE note remark TEXT', mysql('8.0.36'), {table: orders}), 'COPY')
  })

  it('index operations', () => {
    const index = classify('ALTER TABLE orders ADD INDEX idx_note (note)', mysql('8.0.36'))
    assert.deepEqual([index.algorithm, index.rebuild, index.lock, index.scansTable], ['INPLACE', false, 'NONE', true])
    assert.equal(algorithmOf('CREATE INDEX idx_note ON orders (note)', mariadb('10.11.19')), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders DROP INDEX idx_customer', mysql('8.0.36')), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders RENAME INDEX a TO b', mariadb('10.11.19')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders ADD PRIMARY KEY (id)', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE orders DROP PRIMARY KEY', mysql('8.0.36')), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders DROP PRIMARY KEY', mariadb('11.4.2')), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders DROP PRIMARY KEY, ADD PRIMARY KEY (id, qty)', mariadb('10.11.19')), 'INPLACE+rebuild')
    const fulltext = classify('ALTER TABLE orders ADD FULLTEXT INDEX ft (note)', mysql('8.0.36'))
    assert.deepEqual([fulltext.algorithm, fulltext.lock, fulltext.blocksWrites], ['INPLACE', 'SHARED', true])
    const spatial = classify('ALTER TABLE places ADD SPATIAL INDEX sp (geo)', mariadb('10.11.19'))
    assert.deepEqual([spatial.algorithm, spatial.rebuild, spatial.blocksWrites], ['INPLACE', false, true])
  })

  it('foreign keys: COPY unless foreign_key_checks=0', () => {
    const sql = 'ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)'
    assert.equal(algorithmOf(sql, mysql('8.0.36')), 'COPY')
    assert.equal(algorithmOf(sql, mysql('8.0.36'), {foreignKeyChecks: false}), 'INPLACE')
    // MariaDB runs metadata-only changes as INSTANT (checked against the server in test/integration/online-ddl-server.test.ts).
    assert.equal(algorithmOf(sql, mariadb('10.11.19'), {foreignKeyChecks: false}), 'INSTANT')
    assert.equal(algorithmOf(sql, mariadb('10.3.6'), {foreignKeyChecks: false}), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders DROP FOREIGN KEY fk', mysql('8.0.36')), 'INPLACE')
    assert.equal(algorithmOf('ALTER TABLE orders DROP FOREIGN KEY fk', mariadb('10.11.19')), 'INSTANT')
  })

  it('table-level operations', () => {
    assert.equal(algorithmOf('ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4', mariadb('10.11.19')), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders ENGINE=InnoDB', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE orders ENGINE=MyISAM', mysql('8.0.36'), {table: orders}), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders ENGINE=InnoDB', mysql('8.0.36'), {table: {...orders, engine: 'MyISAM'}}), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders ADD INDEX (note)', mariadb('10.11.19'), {table: {...orders, engine: 'MyISAM'}}), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders FORCE', mariadb('10.11.19')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('OPTIMIZE TABLE orders', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE orders ROW_FORMAT=COMPRESSED', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf("ALTER TABLE orders COMMENT 'x'", mariadb('10.11.19')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders RENAME TO orders_old', mysql('8.0.36')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders DEFAULT CHARSET utf8mb4', mariadb('10.11.19')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders PARTITION BY HASH (id) PARTITIONS 4', mysql('8.0.36')), 'COPY')
    assert.equal(algorithmOf("ALTER TABLE orders ADD CONSTRAINT chk CHECK (qty > 0)", mariadb('10.11.19')), 'COPY')
    assert.equal(algorithmOf('ALTER TABLE orders DROP CHECK chk', mysql('8.0.36')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders ADD PERIOD FOR p (a, b)', mariadb('10.11.19')), 'COPY')
    assert.equal(classify('ALTER TABLE orders ADD PERIOD FOR p (a, b)', mariadb('10.11.19')).certain, false)
  })

  it('an INSTANT column change combined with a slower clause becomes a rebuild', () => {
    const combined = classify('ALTER TABLE orders ADD COLUMN c INT, ADD INDEX idx_c (c)', mariadb('10.11.19'))
    assert.deepEqual(combined.clauses.map((c) => `${c.algorithm}${c.rebuild ? '+rebuild' : ''}`), ['INPLACE+rebuild', 'INPLACE'])
    assert.match(combined.clauses[0]!.reason, /would be INSTANT alone/)
    assert.equal(algorithmOf('ALTER TABLE orders ADD COLUMN c INT, ALTER COLUMN qty SET DEFAULT 2', mariadb('10.11.19')), 'INSTANT')
  })

  it('honours ALGORITHM= and LOCK=, and says when the server refuses them', () => {
    assert.match(classify('ALTER TABLE orders ADD INDEX (note), ALGORITHM=INSTANT', mariadb('10.11.19')).refused ?? '', /ALGORITHM=INSTANT is not possible/)
    assert.match(classify('ALTER TABLE orders ADD FULLTEXT INDEX (note), LOCK=NONE', mysql('8.0.36')).refused ?? '', /LOCK=NONE is not possible/)
    assert.match(classify('ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE', mysql('8.0.36')).refused ?? '', /LOCK=DEFAULT/)
    assert.equal(classify('ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INSTANT, LOCK=NONE', mariadb('10.11.19')).refused, undefined)
    assert.match(classify('ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=NOCOPY', mysql('8.0.36')).refused ?? '', /MariaDB syntax/)
    assert.match(classify('ALTER TABLE orders ADD PRIMARY KEY (id), ALGORITHM=NOCOPY', mariadb('10.11.19')).refused ?? '', /NOCOPY is not possible/)
    assert.match(classify('ALTER TABLE orders DROP PRIMARY KEY, ALGORITHM=INPLACE', mariadb('10.11.19')).refused ?? '', /INPLACE is not possible/)
    // MySQL takes ALGORITHM=INPLACE literally; MariaDB reads it as "at least in place".
    assert.equal(algorithmOf('ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INPLACE', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE orders ADD COLUMN c INT, ALGORITHM=INPLACE', mariadb('10.11.19')), 'INSTANT')
    assert.equal(algorithmOf('ALTER TABLE orders ADD INDEX (note), ALGORITHM=COPY', mariadb('10.11.19')), 'COPY')
    assert.equal(classify('ALTER TABLE orders ADD INDEX (note), LOCK=SHARED', mariadb('10.11.19')).lock, 'SHARED')
    const uncertain = classify('ALTER TABLE orders MODIFY note VARCHAR(60), ALGORITHM=INPLACE, LOCK=NONE', mysql('8.0.36'))
    assert.deepEqual([uncertain.refused, uncertain.algorithm, uncertain.certain], [undefined, 'INPLACE', false])
    assert.deepEqual([uncertain.requestedAlgorithm, uncertain.requestedLock], ['INPLACE', 'NONE'])
  })

  it('partition operations', () => {
    const drop = classify('ALTER TABLE events DROP PARTITION p1', mysql('8.0.36'))
    assert.deepEqual([drop.algorithm, drop.rebuild, drop.scansTable], ['INPLACE', false, false])
    assert.equal(algorithmOf('ALTER TABLE events REORGANIZE PARTITION p1 INTO (PARTITION a VALUES LESS THAN (5), PARTITION b VALUES LESS THAN (10))', mysql('8.0.36')), 'INPLACE+rebuild')
    assert.equal(algorithmOf('ALTER TABLE events REMOVE PARTITIONING', mariadb('10.11.19')), 'COPY')
  })
})
