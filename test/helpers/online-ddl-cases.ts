/**
 * Table changes whose online-DDL cost the classifier in src/lib/sql/ddl.ts predicts, each with the
 * table it applies to. test/integration/online-ddl-server.test.ts runs every one on a real MariaDB
 * with ALGORITHM= and LOCK= assertions to learn what the server really does, and compares that
 * with the classifier given the table as the live schema reports it.
 *
 * `{t}` stands for the scratch table, `{parent}` for a second table foreign keys can reference.
 * Partition operations and DROP INDEX ... ON are not here: MariaDB's grammar accepts no ALGORITHM= with them.
 */
export interface OnlineDdlCase {
  name: string
  /** CREATE TABLE for the scratch table (followed by any other statements it needs, e.g. rows). */
  create: string[]
  /** One ALTER TABLE, CREATE INDEX or DROP INDEX on `{t}`, without ALGORITHM= or LOCK=. */
  change: string
  /** Session foreign_key_checks while the change runs (default on). */
  foreignKeyChecks?: boolean
  /**
   * What only the schema tells, when the statement alone does not decide the cost. Without the
   * schema the classifier may then assume the usual table, but must say it is not certain when
   * that assumption is cheaper than what the server does.
   */
  needsSchema?: string
}

/** Most cases change this table: utf8mb4 by default, one latin1 and one utf8mb3 column, a secondary index. */
const ORDERS =
  "CREATE TABLE {t} (id BIGINT UNSIGNED NOT NULL, customer_id BIGINT NULL, status ENUM('new','paid') NOT NULL DEFAULT 'new', note VARCHAR(50) NULL, code VARCHAR(100) NULL, " +
  'qty INT NOT NULL DEFAULT 0, legacy VARCHAR(10) CHARACTER SET latin1 NULL, old3 VARCHAR(20) CHARACTER SET utf8mb3 NULL, body TEXT NULL, price DECIMAL(10,2) NULL, ' +
  'PRIMARY KEY (id), KEY idx_customer (customer_id), KEY idx_code_qty (code, qty)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci'
const ORDERS_ROWS = "INSERT INTO {t} (id, customer_id, status, note, code, qty, legacy, old3, body, price) VALUES (1, 10, 'new', 'n', 'c1', 1, 'l', 'o', 'b', 1.5), (2, 11, 'new', 'm', 'c2', 2, 'k', 'p', 'c', 2.5)"
const orders = (change: string, extra: Partial<OnlineDdlCase> = {}): Omit<OnlineDdlCase, 'name'> => ({create: [ORDERS, ORDERS_ROWS], change, ...extra})

/** The two tables from the issue report: a utf8mb4 column with its charset stated, a short latin1 VARCHAR. */
const ISSUE = ['CREATE TABLE {t} (id INT PRIMARY KEY, a VARCHAR(50) CHARACTER SET utf8mb4, d VARCHAR(10) CHARACTER SET latin1) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', "INSERT INTO {t} VALUES (1, 'a', 'd'), (2, 'b', 'e')"]
const LATIN1 = ['CREATE TABLE {t} (id INT PRIMARY KEY, a VARCHAR(100), b VARCHAR(200), c VARCHAR(300), KEY idx_b (b)) ENGINE=InnoDB DEFAULT CHARSET=latin1', "INSERT INTO {t} VALUES (1, 'a', 'b', 'c'), (2, 'd', 'e', 'f')"]
const NO_KEY = ['CREATE TABLE {t} (id INT NOT NULL, a INT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', "INSERT INTO {t} VALUES (1, 1), (2, NULL)"]
const WITH_FULLTEXT = ['CREATE TABLE {t} (id INT PRIMARY KEY, title VARCHAR(100), body TEXT, FULLTEXT KEY ft_title (title)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', "INSERT INTO {t} VALUES (1, 'a title', 'a body'), (2, 'another', 'text')"]
const PLACES = ['CREATE TABLE {t} (id INT PRIMARY KEY, geo POINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', "INSERT INTO {t} VALUES (1, POINT(1, 2)), (2, POINT(3, 4))"]
const CHILD = ['CREATE TABLE {t} (id INT PRIMARY KEY, parent_id INT NULL, KEY idx_parent (parent_id)) ENGINE=InnoDB', "INSERT INTO {t} VALUES (1, NULL), (2, NULL)"]
const WITH_FOREIGN_KEY = ['CREATE TABLE {t} (id INT PRIMARY KEY, parent_id INT NULL, CONSTRAINT fk_{t} FOREIGN KEY (parent_id) REFERENCES {parent} (id)) ENGINE=InnoDB', "INSERT INTO {t} VALUES (1, NULL), (2, NULL)"]
const WITH_CHECK = ['CREATE TABLE {t} (id INT PRIMARY KEY, qty INT, CONSTRAINT chk_qty CHECK (qty >= 0)) ENGINE=InnoDB', "INSERT INTO {t} VALUES (1, 1), (2, 2)"]
/** VARCHARs at the edges of InnoDB's length-byte rules: 127/128 bytes of latin1, 124/128 bytes of utf8mb4. */
const EDGES = ['CREATE TABLE {t} (id INT PRIMARY KEY, a127 VARCHAR(127) CHARACTER SET latin1, a128 VARCHAR(128) CHARACTER SET latin1, u31 VARCHAR(31), u32 VARCHAR(32), ' +
  'bin VARCHAR(20) COLLATE utf8mb4_bin, old3 VARCHAR(20) CHARACTER SET utf8mb3, KEY idx_old3 (old3)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4', "INSERT INTO {t} VALUES (1, 'a', 'b', 'c', 'd', 'e', 'f')"]
const ALL_UTF8MB4 = ['CREATE TABLE {t} (id INT PRIMARY KEY, a VARCHAR(20), b TEXT, KEY idx_a (a)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci', "INSERT INTO {t} VALUES (1, 'a', 'b')"]
const withRowFormat = (format: string, [create, ...rest]: string[]) => [create!.replace('ENGINE=InnoDB', `ENGINE=InnoDB ROW_FORMAT=${format}`), ...rest]
const redundant = (statements: string[]) => withRowFormat('REDUNDANT', statements)

export const ONLINE_DDL_CASES: OnlineDdlCase[] = [
  // ADD COLUMN
  {name: 'add a nullable column last', ...orders('ALTER TABLE {t} ADD COLUMN c INT NULL')},
  {name: 'add a NOT NULL column with a DEFAULT', ...orders('ALTER TABLE {t} ADD COLUMN c INT NOT NULL DEFAULT 7')},
  {name: 'add a NOT NULL column without a DEFAULT', ...orders('ALTER TABLE {t} ADD COLUMN c VARCHAR(10) NOT NULL')},
  {name: 'add a column in the middle (AFTER)', ...orders('ALTER TABLE {t} ADD COLUMN c INT AFTER id')},
  {name: 'add a column FIRST', ...orders('ALTER TABLE {t} ADD COLUMN c INT FIRST')},
  {name: 'add a column with a constant expression DEFAULT', ...orders('ALTER TABLE {t} ADD COLUMN c INT DEFAULT (2 + 5)')},
  {name: 'add a column with DEFAULT (UUID())', ...orders('ALTER TABLE {t} ADD COLUMN c VARCHAR(36) DEFAULT (UUID())')},
  {name: 'add a TIMESTAMP column DEFAULT CURRENT_TIMESTAMP', ...orders('ALTER TABLE {t} ADD COLUMN c TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP')},
  {name: 'add an AUTO_INCREMENT column', ...orders('ALTER TABLE {t} ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE')},
  {name: 'add a column with a UNIQUE index', ...orders('ALTER TABLE {t} ADD COLUMN c INT UNIQUE')},
  {name: 'add a STORED generated column', ...orders('ALTER TABLE {t} ADD COLUMN c INT AS (qty * 2) STORED')},
  {name: 'add a VIRTUAL generated column', ...orders('ALTER TABLE {t} ADD COLUMN c INT AS (qty * 2) VIRTUAL')},
  {name: 'add two columns in one clause', ...orders('ALTER TABLE {t} ADD COLUMN (c INT, d INT)')},
  {name: 'add a column and an index on it', ...orders('ALTER TABLE {t} ADD COLUMN c INT, ADD INDEX idx_c (c)')},
  {name: 'add a column and change a DEFAULT', ...orders('ALTER TABLE {t} ADD COLUMN c INT, ALTER COLUMN qty SET DEFAULT 2')},
  {name: 'add a column to a table with a FULLTEXT index', create: WITH_FULLTEXT, change: 'ALTER TABLE {t} ADD COLUMN c INT', needsSchema: 'the FULLTEXT index'},
  {name: 'add a column to a ROW_FORMAT=COMPRESSED table', create: withRowFormat('COMPRESSED', [ORDERS, ORDERS_ROWS]), change: 'ALTER TABLE {t} ADD COLUMN c INT', needsSchema: 'the row format'},
  {name: 'add a column to a ROW_FORMAT=REDUNDANT table', create: redundant([ORDERS, ORDERS_ROWS]), change: 'ALTER TABLE {t} ADD COLUMN c INT'},
  // DROP COLUMN
  {name: 'drop a column without index', ...orders('ALTER TABLE {t} DROP COLUMN note')},
  {name: 'drop a column that has its own index', ...orders('ALTER TABLE {t} DROP COLUMN customer_id', {needsSchema: 'the index on the column'})},
  {name: 'drop a column of a two-column index', ...orders('ALTER TABLE {t} DROP COLUMN qty', {needsSchema: 'the two-column index'})},
  {name: 'drop the PRIMARY KEY column', ...orders('ALTER TABLE {t} DROP COLUMN id', {needsSchema: 'the primary key'})},
  // RENAME / CHANGE
  {name: 'RENAME COLUMN', ...orders('ALTER TABLE {t} RENAME COLUMN note TO remark')},
  {name: 'RENAME COLUMN of an indexed column', ...orders('ALTER TABLE {t} RENAME COLUMN customer_id TO client_id')},
  {name: 'CHANGE renaming, same type', ...orders('ALTER TABLE {t} CHANGE note remark VARCHAR(50)')},
  {name: 'CHANGE renaming and widening within 255 bytes', ...orders('ALTER TABLE {t} CHANGE note remark VARCHAR(60)')},
  {name: 'CHANGE renaming and widening past 255 bytes', ...orders('ALTER TABLE {t} CHANGE note remark VARCHAR(80)')},
  {name: 'CHANGE renaming to TEXT', ...orders('ALTER TABLE {t} CHANGE note remark TEXT')},
  // MODIFY: types
  {name: 'MODIFY INT to BIGINT', ...orders('ALTER TABLE {t} MODIFY qty BIGINT NOT NULL DEFAULT 0')},
  {name: 'MODIFY INT to INT UNSIGNED', ...orders('ALTER TABLE {t} MODIFY qty INT UNSIGNED NOT NULL DEFAULT 0')},
  {name: 'MODIFY INT to INT(11) (display width only)', ...orders('ALTER TABLE {t} MODIFY qty INT(11) NOT NULL DEFAULT 0')},
  {name: 'MODIFY INT to BIGINT on ROW_FORMAT=REDUNDANT', create: redundant([ORDERS, ORDERS_ROWS]), change: 'ALTER TABLE {t} MODIFY qty BIGINT NOT NULL DEFAULT 0'},
  {name: 'MODIFY DECIMAL precision', ...orders('ALTER TABLE {t} MODIFY price DECIMAL(12,2)')},
  {name: 'MODIFY TEXT to MEDIUMTEXT', ...orders('ALTER TABLE {t} MODIFY body MEDIUMTEXT')},
  {name: 'MODIFY utf8mb4 VARCHAR 50 -> 60 (240 bytes)', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(60)')},
  {name: 'MODIFY utf8mb4 VARCHAR 50 -> 64 (256 bytes)', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(64)')},
  {name: 'MODIFY utf8mb4 VARCHAR 100 -> 200 (both over 255 bytes), indexed', ...orders('ALTER TABLE {t} MODIFY code VARCHAR(200)')},
  {name: 'MODIFY VARCHAR shorter', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(40)')},
  {name: 'MODIFY latin1 VARCHAR 100 -> 255', create: LATIN1, change: 'ALTER TABLE {t} MODIFY a VARCHAR(255)'},
  {name: 'MODIFY latin1 VARCHAR 100 -> 256', create: LATIN1, change: 'ALTER TABLE {t} MODIFY a VARCHAR(256)'},
  {name: 'MODIFY latin1 VARCHAR 200 -> 300, indexed', create: LATIN1, change: 'ALTER TABLE {t} MODIFY b VARCHAR(300)'},
  {name: 'MODIFY latin1 VARCHAR 300 -> 400', create: LATIN1, change: 'ALTER TABLE {t} MODIFY c VARCHAR(400)'},
  {name: 'MODIFY latin1 VARCHAR 127 -> 256', create: EDGES, change: 'ALTER TABLE {t} MODIFY a127 VARCHAR(256) CHARACTER SET latin1'},
  {name: 'MODIFY latin1 VARCHAR 128 -> 256', create: EDGES, change: 'ALTER TABLE {t} MODIFY a128 VARCHAR(256) CHARACTER SET latin1'},
  {name: 'MODIFY utf8mb4 VARCHAR 31 -> 64 (124 -> 256 bytes)', create: EDGES, change: 'ALTER TABLE {t} MODIFY u31 VARCHAR(64)'},
  {name: 'MODIFY utf8mb4 VARCHAR 32 -> 64 (128 -> 256 bytes)', create: EDGES, change: 'ALTER TABLE {t} MODIFY u32 VARCHAR(64)'},
  {name: 'MODIFY VARCHAR past 255 bytes on ROW_FORMAT=REDUNDANT', create: redundant([ORDERS, ORDERS_ROWS]), change: 'ALTER TABLE {t} MODIFY note VARCHAR(64)'},
  // MODIFY: character sets and collations
  {name: 'issue: MODIFY restating the utf8mb4 charset, with a COMMENT', create: ISSUE, change: "ALTER TABLE {t} MODIFY a VARCHAR(50) CHARACTER SET utf8mb4 COMMENT 'hi'"},
  {name: 'issue: MODIFY latin1 VARCHAR(10) -> VARCHAR(300) CHARACTER SET latin1', create: ISSUE, change: 'ALTER TABLE {t} MODIFY d VARCHAR(300) CHARACTER SET latin1'},
  {name: 'MODIFY a latin1 column without restating its charset (takes the table default)', ...orders('ALTER TABLE {t} MODIFY legacy VARCHAR(10)')},
  {name: 'MODIFY restating the latin1 charset', ...orders('ALTER TABLE {t} MODIFY legacy VARCHAR(10) CHARACTER SET latin1')},
  {name: 'MODIFY restating the collation', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) COLLATE utf8mb4_general_ci')},
  {name: 'MODIFY changing the collation of an unindexed column', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) COLLATE utf8mb4_bin')},
  {name: 'MODIFY changing the collation of an indexed column', ...orders('ALTER TABLE {t} MODIFY code VARCHAR(100) COLLATE utf8mb4_bin')},
  {name: 'MODIFY utf8mb4 to latin1', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) CHARACTER SET latin1')},
  {name: 'MODIFY utf8mb3 to utf8mb4, unindexed', ...orders('ALTER TABLE {t} MODIFY old3 VARCHAR(20) CHARACTER SET utf8mb4')},
  {name: 'MODIFY utf8mb3 to utf8mb4, indexed', create: EDGES, change: 'ALTER TABLE {t} MODIFY old3 VARCHAR(20) CHARACTER SET utf8mb4'},
  {name: 'MODIFY restating the charset of a column with a non-default collation', create: EDGES, change: 'ALTER TABLE {t} MODIFY bin VARCHAR(20) CHARACTER SET utf8mb4'},
  {name: 'MODIFY latin1 to utf8mb4, unindexed', ...orders('ALTER TABLE {t} MODIFY legacy VARCHAR(10) CHARACTER SET utf8mb4')},
  // MODIFY: NULL, DEFAULT, COMMENT, position, ENUM
  {name: 'MODIFY NULL to NOT NULL', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) NOT NULL')},
  {name: 'MODIFY NOT NULL to NULL', ...orders('ALTER TABLE {t} MODIFY qty INT NULL DEFAULT 0')},
  {name: 'MODIFY NOT NULL to NULL on ROW_FORMAT=REDUNDANT', create: redundant([ORDERS, ORDERS_ROWS]), change: 'ALTER TABLE {t} MODIFY qty INT NULL DEFAULT 0'},
  {name: 'MODIFY changing only the DEFAULT', ...orders("ALTER TABLE {t} MODIFY note VARCHAR(50) DEFAULT 'x'")},
  {name: 'MODIFY changing only the COMMENT', ...orders("ALTER TABLE {t} MODIFY note VARCHAR(50) COMMENT 'y'")},
  {name: 'MODIFY restating the column as it is', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) NULL')},
  {name: 'MODIFY moving a column (AFTER)', ...orders('ALTER TABLE {t} MODIFY note VARCHAR(50) AFTER id')},
  {name: 'MODIFY appending an ENUM member', ...orders("ALTER TABLE {t} MODIFY status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new'")},
  {name: 'MODIFY inserting an ENUM member in the middle', ...orders("ALTER TABLE {t} MODIFY status ENUM('new','shipped','paid') NOT NULL DEFAULT 'new'")},
  {name: 'MODIFY reordering ENUM members', ...orders("ALTER TABLE {t} MODIFY status ENUM('paid','new') NOT NULL DEFAULT 'new'")},
  {name: 'MODIFY removing an ENUM member', ...orders("ALTER TABLE {t} MODIFY status ENUM('new') NOT NULL DEFAULT 'new'")},
  {name: 'ALTER COLUMN SET DEFAULT', ...orders('ALTER TABLE {t} ALTER COLUMN qty SET DEFAULT 1')},
  {name: 'ALTER COLUMN DROP DEFAULT', ...orders('ALTER TABLE {t} ALTER COLUMN qty DROP DEFAULT')},
  // Indexes and constraints
  {name: 'ADD INDEX', ...orders('ALTER TABLE {t} ADD INDEX idx_note (note)')},
  {name: 'CREATE INDEX', ...orders('CREATE INDEX idx_note ON {t} (note)')},
  {name: 'ADD UNIQUE', ...orders('ALTER TABLE {t} ADD UNIQUE KEY uk_note (note)')},
  {name: 'DROP INDEX', ...orders('ALTER TABLE {t} DROP INDEX idx_customer')},
  {name: 'RENAME INDEX', ...orders('ALTER TABLE {t} RENAME INDEX idx_customer TO idx_client')},
  {name: 'ALTER INDEX ... IGNORED', ...orders('ALTER TABLE {t} ALTER INDEX idx_customer IGNORED')},
  {name: 'ADD PRIMARY KEY', create: NO_KEY, change: 'ALTER TABLE {t} ADD PRIMARY KEY (id)'},
  {name: 'DROP PRIMARY KEY', ...orders('ALTER TABLE {t} DROP PRIMARY KEY')},
  {name: 'DROP PRIMARY KEY, ADD PRIMARY KEY', ...orders('ALTER TABLE {t} DROP PRIMARY KEY, ADD PRIMARY KEY (id, qty)')},
  {name: 'ADD the first FULLTEXT index', ...orders('ALTER TABLE {t} ADD FULLTEXT INDEX ft_note (note)')},
  {name: 'ADD a second FULLTEXT index', create: WITH_FULLTEXT, change: 'ALTER TABLE {t} ADD FULLTEXT INDEX ft_body (body)', needsSchema: 'the FULLTEXT index already there'},
  {name: 'ADD SPATIAL INDEX', create: PLACES, change: 'ALTER TABLE {t} ADD SPATIAL INDEX sp_geo (geo)'},
  {name: 'ADD FOREIGN KEY with foreign_key_checks=1', create: CHILD, change: 'ALTER TABLE {t} ADD CONSTRAINT fk_{t} FOREIGN KEY (parent_id) REFERENCES {parent} (id)'},
  {name: 'ADD FOREIGN KEY with foreign_key_checks=0', create: CHILD, change: 'ALTER TABLE {t} ADD CONSTRAINT fk_{t} FOREIGN KEY (parent_id) REFERENCES {parent} (id)', foreignKeyChecks: false},
  {name: 'DROP FOREIGN KEY', create: WITH_FOREIGN_KEY, change: 'ALTER TABLE {t} DROP FOREIGN KEY fk_{t}'},
  {name: 'ADD CHECK', ...orders('ALTER TABLE {t} ADD CONSTRAINT chk_qty CHECK (qty >= 0)')},
  {name: 'DROP CONSTRAINT (CHECK)', create: WITH_CHECK, change: 'ALTER TABLE {t} DROP CONSTRAINT chk_qty'},
  // Table-level
  {name: 'ENGINE=InnoDB on an InnoDB table', ...orders('ALTER TABLE {t} ENGINE=InnoDB')},
  {name: 'ENGINE=MyISAM', ...orders('ALTER TABLE {t} ENGINE=MyISAM')},
  {name: 'FORCE', ...orders('ALTER TABLE {t} FORCE')},
  {name: 'ROW_FORMAT=COMPACT', ...orders('ALTER TABLE {t} ROW_FORMAT=COMPACT')},
  {name: 'ROW_FORMAT=DYNAMIC on a DYNAMIC table', ...orders('ALTER TABLE {t} ROW_FORMAT=DYNAMIC')},
  {name: 'table COMMENT', ...orders("ALTER TABLE {t} COMMENT 'x'")},
  {name: 'AUTO_INCREMENT=', ...orders('ALTER TABLE {t} AUTO_INCREMENT=100')},
  {name: 'STATS_PERSISTENT=', ...orders('ALTER TABLE {t} STATS_PERSISTENT=0')},
  {name: 'DEFAULT CHARSET', ...orders('ALTER TABLE {t} DEFAULT CHARSET latin1')},
  {name: 'CONVERT TO CHARACTER SET another charset', ...orders('ALTER TABLE {t} CONVERT TO CHARACTER SET latin1')},
  {name: 'CONVERT TO the character set and collation every column already has', create: ALL_UTF8MB4, change: 'ALTER TABLE {t} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'},
  {name: 'CONVERT TO CHARACTER SET of a table without text columns', create: NO_KEY, change: 'ALTER TABLE {t} CONVERT TO CHARACTER SET latin1'},
  {name: 'RENAME TO', ...orders('ALTER TABLE {t} RENAME TO {t}_renamed')},
  {name: 'ORDER BY', ...orders('ALTER TABLE {t} ORDER BY qty')},
]
