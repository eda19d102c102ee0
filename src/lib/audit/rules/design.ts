import {formatCount} from '../../core/text.ts'
import {compareVersions} from '../../connect/capabilities.ts'
import {
  canonicalCharset,
  clauseDefinitions,
  collationCharset,
  integerBytes,
  isFloatingType,
  isIntegerType,
  isLobType,
  readCreateTable,
  readTableChanges,
  tableOption,
  type ColumnDefinition,
  type CreateTable,
  type IndexDefinition,
  type TableChange,
} from '../../sql/ddl.ts'
import type {Token} from '../../sql/lexer.ts'
import type {QualifiedName} from '../../sql/tokens.ts'
import type {IndexInfo, Level, Rule, RuleContext, RuleHit} from '../types.ts'
import {qualifiedLabel} from '../../sql/tokens.ts'

/*
 * Design rules: table and column definitions that work today but cost later (data types, character
 * sets, keys, indexes). They read CREATE TABLE, ALTER TABLE and CREATE INDEX.
 */

interface DefinedColumn {
  table: QualifiedName
  column: ColumnDefinition
}

function createTableOf(context: RuleContext): CreateTable | undefined {
  return readCreateTable(context.statement.tokens)
}

function alterChanges(context: RuleContext): TableChange[] {
  return readTableChanges(context.statement.tokens).filter((c) => c.statement === 'ALTER TABLE' || c.statement === 'CREATE INDEX')
}

/** Column definitions the statement writes: CREATE TABLE columns and ALTER ADD/MODIFY/CHANGE. */
function definedColumns(context: RuleContext): DefinedColumn[] {
  const create = createTableOf(context)
  if (create) return create.columns.map((column) => ({table: create.table, column}))
  const columns: DefinedColumn[] = []
  for (const change of alterChanges(context)) {
    for (const clause of change.clauses) columns.push(...clauseDefinitions(clause).map((column) => ({table: change.table, column})))
  }
  return columns
}

const columnLabel = (defined: DefinedColumn) => `${qualifiedLabel(defined.table)}.${defined.column.name}`
const isMysql = (context: RuleContext) => context.target.flavor === 'mysql'
const versionBefore = (context: RuleContext, version: string) => compareVersions(context.target.version, version) < 0

const missingPrimaryKey: Rule = {
  id: 'design-missing-primary-key',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE'],
  summary: 'CREATE TABLE without a PRIMARY KEY',
  rationale:
    'InnoDB clusters rows by the primary key; without one it uses a hidden, server-wide row id that nothing can query. Row-based replication then scans the whole table for every replicated UPDATE or DELETE, Galera and group replication refuse or misbehave, and online schema change tools cannot work on the table.',
  bad: 'CREATE TABLE audit_log (created_at DATETIME NOT NULL, message TEXT)',
  good: 'CREATE TABLE audit_log (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, created_at DATETIME NOT NULL, message TEXT)',
  fix: 'Add a PRIMARY KEY, e.g. id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY.',
  check(context) {
    const create = createTableOf(context)
    if (!create || create.temporary || create.like || create.columns.length === 0) return []
    if (create.indexes.some((index) => index.kind === 'PRIMARY')) return []
    const notNull = new Set(create.columns.filter((c) => !c.nullable).map((c) => c.name.toLowerCase()))
    const uniqueNotNull = create.indexes.find((index) => index.kind === 'UNIQUE' && index.parts.length > 0 && index.parts.every((p) => notNull.has(p.column.toLowerCase())))
    if (uniqueNotNull) {
      return [{at: create.table.at, level: 'notice', message: `table ${qualifiedLabel(create.table)} has no PRIMARY KEY; InnoDB uses the UNIQUE NOT NULL key (${uniqueNotNull.parts.map((p) => p.column).join(', ')}) instead, but tools and replication setups that require a primary key will not`}]
    }
    return [{at: create.table.at, message: `table ${qualifiedLabel(create.table)} has no PRIMARY KEY: InnoDB falls back to a hidden row id, and row-based replicas scan the table for every row change`}]
  },
}

const nonInnodbEngine: Rule = {
  id: 'design-non-innodb-engine',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'Table engine other than InnoDB (MyISAM, MEMORY, Aria, ARCHIVE...)',
  rationale:
    'Only InnoDB gives transactions, crash recovery, row-level locking, foreign keys and online DDL. MyISAM and Aria lock the whole table on every write and can be corrupted by a crash; MEMORY tables lose their rows on restart and on replicas. Backups and replication tools also assume InnoDB.',
  bad: 'CREATE TABLE sessions (id CHAR(32) PRIMARY KEY, data TEXT) ENGINE=MyISAM',
  good: 'CREATE TABLE sessions (id CHAR(32) PRIMARY KEY, data TEXT) ENGINE=InnoDB',
  fix: 'Use ENGINE=InnoDB (or leave ENGINE out: InnoDB is the default).',
  check(context) {
    const hits: RuleHit[] = []
    const report = (table: QualifiedName, engine: string, at: Token) => {
      if (engine.toLowerCase() !== 'innodb') hits.push({at, message: `table ${qualifiedLabel(table)} uses ENGINE=${engine}: no transactions, crash safety or online DDL as with InnoDB`})
    }
    const create = createTableOf(context)
    const engine = create && tableOption(create, 'ENGINE')
    if (create && engine && !create.temporary) report(create.table, engine.value, engine.valueAt)
    for (const change of alterChanges(context)) {
      for (const clause of change.clauses) if (clause.kind === 'engine' && clause.value && clause.valueAt) report(change.table, clause.value, clause.valueAt)
    }
    return hits
  },
}

interface CharsetUse {
  where: string
  /** Table defaults may only be utf8mb4; single columns may also deliberately be ascii or binary. */
  level: 'table' | 'column'
  /** CONVERT TO CHARACTER SET: rewrites existing data, which destructive-lossy-charset-conversion judges. */
  converting?: boolean
  charset?: string
  charsetAt?: Token
  collation?: string
  collationAt?: Token
}

/** Every place the statement names a character set or collation. */
function charsetUses(context: RuleContext): CharsetUse[] {
  const uses: CharsetUse[] = []
  const create = createTableOf(context)
  if (create) {
    const charset = tableOption(create, 'CHARACTER SET')
    const collation = tableOption(create, 'COLLATE')
    if (charset || collation) {
      uses.push({
        where: `table ${qualifiedLabel(create.table)}`,
        level: 'table',
        ...(charset ? {charset: charset.value.toLowerCase(), charsetAt: charset.valueAt} : {}),
        ...(collation ? {collation: collation.value.toLowerCase(), collationAt: collation.valueAt} : {}),
      })
    }
  }
  for (const change of alterChanges(context)) {
    const tableCharset = change.clauses.find((c) => (c.kind === 'table-charset' || c.kind === 'convert-charset') && c.charset)
    const tableCollation = change.clauses.find((c) => (c.kind === 'table-charset' || c.kind === 'convert-charset') && c.collation)
    if (tableCharset || tableCollation) {
      uses.push({
        where: `table ${qualifiedLabel(change.table)}`,
        level: 'table',
        converting: (tableCharset ?? tableCollation)!.kind === 'convert-charset',
        ...(tableCharset ? {charset: tableCharset.charset!, ...(tableCharset.valueAt ? {charsetAt: tableCharset.valueAt} : {})} : {}),
        ...(tableCollation ? {collation: tableCollation.collation!, collationAt: (tableCollation.kind === 'table-charset' ? tableCollation.valueAt : undefined) ?? tableCollation.at} : {}),
      })
    }
  }
  for (const defined of definedColumns(context)) {
    const type = defined.column.type
    if (!type.charset && !type.collation) continue
    uses.push({
      where: `column ${columnLabel(defined)}`,
      level: 'column',
      ...(type.charset ? {charset: type.charset, ...(type.charsetAt ? {charsetAt: type.charsetAt} : {})} : {}),
      ...(type.collation ? {collation: type.collation, ...(type.collationAt ? {collationAt: type.collationAt} : {})} : {}),
    })
  }
  return uses
}

const COLUMN_CHARSETS_ALLOWED = new Set(['utf8mb4', 'binary', 'ascii'])

const legacyCharset: Rule = {
  id: 'design-legacy-charset',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'Character set other than utf8mb4 (utf8/utf8mb3, latin1...) for a table or column',
  rationale:
    'utf8 (an alias of utf8mb3) stores at most 3 bytes per character, so emoji and many CJK characters are rejected or turned into "?"; latin1 cannot store most of the world\'s scripts. Mixed character sets also force conversions in joins, which stop indexes from being used.',
  bad: 'CREATE TABLE comments (id BIGINT PRIMARY KEY, body TEXT) DEFAULT CHARSET=utf8',
  good: 'CREATE TABLE comments (id BIGINT PRIMARY KEY, body TEXT) DEFAULT CHARSET=utf8mb4',
  fix: 'Use CHARACTER SET utf8mb4 (ascii or binary are fine for single columns holding codes, hashes or UUIDs).',
  check(context) {
    const hits: RuleHit[] = []
    for (const use of charsetUses(context)) {
      const charset = use.charset ?? (use.collation ? collationCharset(use.collation) : undefined)
      if (!charset || use.converting) continue
      const canonical = canonicalCharset(charset)
      if (canonical === 'utf8mb4' || (use.level === 'column' && COLUMN_CHARSETS_ALLOWED.has(canonical))) continue
      const why = canonical === 'utf8mb3' ? ': at most 3 bytes per character, so emoji and other 4-byte characters cannot be stored' : ': it cannot store every Unicode character'
      hits.push({at: (use.charset ? use.charsetAt : use.collationAt) ?? context.statement.tokens[0], message: `${use.where} uses character set ${charset}${canonical !== charset ? ` (${canonical})` : ''}${why}`})
    }
    return hits
  },
}

const collationMismatch: Rule = {
  id: 'design-collation-mismatch',
  family: 'design',
  level: 'error',
  kinds: ['CREATE', 'ALTER'],
  summary: 'COLLATE that belongs to a different character set than the one declared',
  rationale:
    'A collation only works with its own character set: CHARACTER SET utf8mb4 COLLATE latin1_swedish_ci is rejected by the server (error 1253), so the migration stops at this statement. It usually comes from copying a definition between tables or servers.',
  bad: 'CREATE TABLE tags (name VARCHAR(50) CHARACTER SET utf8mb4 COLLATE latin1_swedish_ci)',
  good: 'CREATE TABLE tags (name VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci)',
  fix: 'Pick a collation of the declared character set (SHOW COLLATION WHERE Charset = ...).',
  check(context) {
    const hits: RuleHit[] = []
    for (const use of charsetUses(context)) {
      if (!use.charset || !use.collation) continue
      const belongsTo = collationCharset(use.collation)
      if (!belongsTo || belongsTo === canonicalCharset(use.charset)) continue
      hits.push({at: use.collationAt ?? use.charsetAt, message: `${use.where}: collation ${use.collation} belongs to ${belongsTo}, not to character set ${use.charset}; the server rejects it`})
    }
    return hits
  },
}

const MONEY_WORDS = new Set(['price', 'prices', 'amount', 'amounts', 'cost', 'costs', 'balance', 'balances', 'total', 'totals', 'subtotal', 'fee', 'fees', 'tax', 'taxes', 'vat', 'salary', 'wage', 'wages', 'payment', 'payments', 'revenue', 'money', 'discount', 'charge', 'charges', 'refund', 'credit', 'debit', 'budget', 'invoice', 'cash', 'paid', 'due'])

/** True when a word of the column name (snake_case or camelCase) is a money word. */
function looksLikeMoney(name: string): boolean {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .some((word) => MONEY_WORDS.has(word))
}

const floatForMoney: Rule = {
  id: 'design-float-for-money',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'FLOAT/DOUBLE for a money-like column (price, amount, cost, balance, total, fee...)',
  rationale:
    'FLOAT and DOUBLE are binary approximations: 0.1 + 0.2 is not 0.3, sums drift by fractions of a cent, and equality tests fail. Money needs exact decimal arithmetic, which only DECIMAL (or an integer number of cents) gives.',
  bad: 'CREATE TABLE invoices (id BIGINT PRIMARY KEY, total_amount DOUBLE NOT NULL)',
  good: 'CREATE TABLE invoices (id BIGINT PRIMARY KEY, total_amount DECIMAL(12,2) NOT NULL)',
  fix: 'Use DECIMAL(p,s), e.g. DECIMAL(12,2), or store integer cents in a BIGINT.',
  check(context) {
    return definedColumns(context)
      .filter((d) => isFloatingType(d.column.type) && looksLikeMoney(d.column.name))
      .map((d) => ({at: d.column.typeAt, message: `column ${columnLabel(d)} looks like money but is ${d.column.type.text}: binary floating point cannot represent most decimal amounts exactly`}))
  },
}

const floatType: Rule = {
  id: 'design-float-type',
  family: 'design',
  level: 'notice',
  kinds: ['CREATE', 'ALTER'],
  summary: 'FLOAT/DOUBLE column (approximate values)',
  rationale:
    'FLOAT and DOUBLE store approximations, so exact comparisons, GROUP BY and unique keys on them behave unexpectedly, and FLOAT keeps only about 7 significant digits. They suit measurements; counts, identifiers and anything compared for equality need an integer or DECIMAL. The FLOAT(M,D) syntax is also deprecated in MySQL 8.0.17+.',
  bad: 'CREATE TABLE readings (id BIGINT PRIMARY KEY, ratio FLOAT(7,4))',
  good: 'CREATE TABLE readings (id BIGINT PRIMARY KEY, ratio DECIMAL(7,4))',
  fix: 'Use DECIMAL for exact values; keep DOUBLE only for genuinely approximate measurements.',
  check(context) {
    return definedColumns(context)
      .filter((d) => isFloatingType(d.column.type) && !looksLikeMoney(d.column.name))
      .map((d) => ({at: d.column.typeAt, message: `column ${columnLabel(d)} is ${d.column.type.text}: approximate values, unreliable for equality, grouping and keys`}))
  },
}

const lobDefault: Rule = {
  id: 'design-text-blob-default',
  family: 'design',
  level: 'error',
  kinds: ['CREATE', 'ALTER'],
  summary: 'DEFAULT on a TEXT/BLOB/JSON/GEOMETRY column that the target server rejects',
  rationale:
    'MySQL before 8.0.13 and MariaDB before 10.2.1 accept no DEFAULT at all on TEXT, BLOB, JSON and spatial columns, and MySQL 8.0.13+ accepts one only written as an expression, DEFAULT (\'...\'). A literal default makes the statement fail on those servers (or, without strict mode, be silently ignored).',
  bad: "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL DEFAULT '')",
  good: "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL DEFAULT (''))",
  fix: "On MySQL 8.0.13+ write the default as an expression, DEFAULT (''); on older servers drop it and let the application set the value.",
  check(context) {
    const hits: RuleHit[] = []
    for (const defined of definedColumns(context)) {
      const {type, default: value} = defined.column
      if (!value || value.kind === 'null' || !isLobType(type)) continue
      const label = columnLabel(defined)
      if (isMysql(context) && versionBefore(context, '8.0.13')) hits.push({at: value.at, message: `MySQL before 8.0.13 rejects a DEFAULT on ${type.name} column ${label}`})
      else if (isMysql(context) && value.kind !== 'expression') hits.push({at: value.at, message: `MySQL accepts a DEFAULT on ${type.name} column ${label} only written as an expression: DEFAULT (${value.kind === 'literal' ? `'${value.value}'` : value.value})`})
      else if (!isMysql(context) && versionBefore(context, '10.2.1')) hits.push({at: value.at, message: `MariaDB before 10.2.1 rejects a DEFAULT on ${type.name} column ${label}`})
    }
    return hits
  },
}

const ZERO_DATE = /^0{4}-0{2}-0{2}(?:[ T]0{2}:0{2}:0{2}(?:\.0+)?)?$/

const zeroDateDefault: Rule = {
  id: 'design-zero-date-default',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: "Zero date ('0000-00-00') as a column DEFAULT",
  rationale:
    "'0000-00-00' is not a date: MySQL's default sql_mode (NO_ZERO_DATE with strict mode) rejects it, so the DDL fails there. Drivers and languages turn it into errors or null, and it hides missing data that NULL would make explicit.",
  bad: "CREATE TABLE users (id BIGINT PRIMARY KEY, deleted_at DATETIME NOT NULL DEFAULT '0000-00-00 00:00:00')",
  good: 'CREATE TABLE users (id BIGINT PRIMARY KEY, deleted_at DATETIME NULL DEFAULT NULL)',
  fix: 'Make the column NULL with DEFAULT NULL, or use a real date.',
  check(context) {
    return definedColumns(context)
      .filter((d) => ['DATE', 'DATETIME', 'TIMESTAMP'].includes(d.column.type.name))
      .filter((d) => d.column.default?.kind === 'literal' && (ZERO_DATE.test(d.column.default.value) || d.column.default.value === '0'))
      .map((d) => ({
        at: d.column.default!.at,
        message: `column ${columnLabel(d)} defaults to a zero date${isMysql(context) ? ", which MySQL's default sql_mode (NO_ZERO_DATE) rejects" : ''}: use NULL for "no date"`,
        ...(isMysql(context) ? {level: 'error' as Level} : {}),
      }))
  },
}

// ---------------------------------------------------------------------------------------------
// Indexes

interface KnownIndex {
  name: string
  kind: 'PRIMARY' | 'UNIQUE' | 'INDEX' | 'FULLTEXT' | 'SPATIAL'
  /** Lower-case key parts, with prefix lengths: "name(10)". */
  parts: string[]
  /** Where it is declared in this statement; undefined for indexes that already exist. */
  at?: Token
}

const BTREE = new Set(['PRIMARY', 'UNIQUE', 'INDEX'])
const signature = (index: KnownIndex) => index.parts.join(',')
const describeIndex = (index: KnownIndex) => `${index.kind === 'PRIMARY' ? 'PRIMARY KEY' : `index ${index.name}`} (${index.parts.join(', ')})`

function fromDefinition(index: IndexDefinition, fallbackName: string): KnownIndex | undefined {
  if (index.kind === 'FOREIGN' || index.parts.length === 0) return undefined
  return {
    name: index.name ?? (index.kind === 'PRIMARY' ? 'PRIMARY' : fallbackName),
    kind: index.kind,
    parts: index.parts.map((p) => p.column.toLowerCase() + (p.length !== undefined ? `(${p.length})` : '')),
    at: index.at,
  }
}

function fromSchema(index: IndexInfo): KnownIndex {
  const primary = index.name.toUpperCase() === 'PRIMARY'
  return {name: index.name, kind: primary ? 'PRIMARY' : index.unique ? 'UNIQUE' : 'INDEX', parts: index.columns.map((c) => c.toLowerCase())}
}

interface IndexSet {
  table: QualifiedName
  /** Indexes the table has before the statement (minus those it drops). */
  existing: KnownIndex[]
  added: KnownIndex[]
}

/** Per table the statement touches: the indexes it adds and those already there. */
function indexSets(context: RuleContext): IndexSet[] {
  const create = createTableOf(context)
  if (create) {
    const added = create.indexes.map((index, k) => fromDefinition(index, `#${k + 1}`)).filter((i): i is KnownIndex => i !== undefined)
    return [{table: create.table, existing: [], added}]
  }
  return alterChanges(context).map((change) => {
    const dropped = new Set(change.clauses.filter((c) => c.kind === 'drop-index' && c.name).map((c) => c.name!.toLowerCase()))
    if (change.clauses.some((c) => c.kind === 'drop-primary-key')) dropped.add('primary')
    const info = context.schema?.table(change.table.name, change.table.schema)
    const existing = (info?.indexes ?? []).filter((i) => !dropped.has(i.name.toLowerCase())).map(fromSchema)
    const added: KnownIndex[] = []
    change.clauses.forEach((clause, k) => {
      if (clause.kind === 'add-index' && clause.index) {
        const index = fromDefinition(clause.index, `#${k + 1}`)
        if (index) added.push(index)
      }
    })
    return {table: change.table, existing, added}
  })
}

const sameFamily = (a: KnownIndex, b: KnownIndex) => (BTREE.has(a.kind) && BTREE.has(b.kind)) || a.kind === b.kind

const duplicateIndex: Rule = {
  id: 'design-duplicate-index',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'Index on exactly the same columns as another index of the table',
  rationale:
    'A duplicate index answers no query the other one cannot, yet every INSERT, UPDATE and DELETE maintains both, they take buffer pool memory and disk, and the optimizer has one more plan to weigh. It is usually an accident of an ORM or of a migration written twice.',
  bad: 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, KEY idx_customer (customer_id), KEY idx_customer2 (customer_id))',
  good: 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, KEY idx_customer (customer_id))',
  fix: 'Drop one of the two (keep the UNIQUE or PRIMARY one when there is one).',
  check(context) {
    const hits: RuleHit[] = []
    for (const set of indexSets(context)) {
      set.added.forEach((index, k) => {
        const before = [...set.existing, ...set.added.slice(0, k)]
        const twin = before.find((other) => sameFamily(index, other) && signature(other) === signature(index))
        if (!twin) return
        const redundantOne = BTREE.has(index.kind) && index.kind === 'INDEX' ? index : twin.kind === 'INDEX' ? twin : index
        hits.push({
          at: index.at,
          message: `${describeIndex(index)} on ${qualifiedLabel(set.table)} duplicates ${twin.at ? '' : 'existing '}${describeIndex(twin)}${redundantOne === index ? '' : `; drop ${describeIndex(twin)} instead`}`,
        })
      })
    }
    return hits
  },
}

const isStrictPrefix = (short: KnownIndex, long: KnownIndex) => short.parts.length < long.parts.length && short.parts.every((p, k) => long.parts[k] === p)

const redundantIndex: Rule = {
  id: 'design-redundant-index',
  family: 'design',
  level: 'notice',
  kinds: ['CREATE', 'ALTER'],
  summary: 'Non-unique index that is a left prefix of another index (a) vs (a, b)',
  rationale:
    'An index on (a) is redundant next to one on (a, b): every lookup on a can use the longer index. The shorter one still costs write amplification, memory and disk. Unique indexes are kept out of this: they enforce a constraint.',
  bad: 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, created_at DATETIME, KEY idx_customer (customer_id), KEY idx_customer_created (customer_id, created_at))',
  good: 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, created_at DATETIME, KEY idx_customer_created (customer_id, created_at))',
  fix: 'Drop the shorter index once no query hint names it.',
  check(context) {
    const hits: RuleHit[] = []
    for (const set of indexSets(context)) {
      const all = [...set.existing, ...set.added]
      for (const index of set.added) {
        if (!BTREE.has(index.kind)) continue
        // The new index is covered by a longer one.
        const longer = index.kind === 'INDEX' ? all.find((other) => other !== index && BTREE.has(other.kind) && isStrictPrefix(index, other)) : undefined
        if (longer) {
          hits.push({at: index.at, message: `${describeIndex(index)} on ${qualifiedLabel(set.table)} is redundant: ${longer.at ? '' : 'existing '}${describeIndex(longer)} starts with the same columns`})
          continue
        }
        // The new index makes an existing one redundant.
        const covered = set.existing.find((other) => other.kind === 'INDEX' && isStrictPrefix(other, index))
        if (covered) hits.push({at: index.at, message: `${describeIndex(index)} makes existing ${describeIndex(covered)} on ${qualifiedLabel(set.table)} redundant; drop it`})
      }
    }
    return hits
  },
}

const tooManyIndexes: Rule = {
  id: 'design-too-many-indexes',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'More indexes on one table than the configured maximum (thresholds.maxIndexes)',
  rationale:
    'Every index is updated on each write, so a table with many indexes turns one INSERT into many page changes, more redo, more replica work and more buffer pool pressure. Past a handful, some indexes are usually unused or redundant.',
  bad: 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, c INT, d INT, e INT, f INT, g INT, h INT, KEY (a), KEY (b), KEY (c), KEY (d), KEY (e), KEY (f), KEY (g), KEY (h))',
  good: 'CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY (a, b))',
  fix: 'Remove unused and redundant indexes (sys.schema_unused_indexes, sys.schema_redundant_indexes); combine single-column indexes into composite ones that match the queries.',
  check(context) {
    const max = context.thresholds.maxIndexes
    const hits: RuleHit[] = []
    for (const set of indexSets(context)) {
      const total = set.existing.length + set.added.length
      const first = set.added[0]
      if (!first || total <= max) continue
      hits.push({at: set.added[max - set.existing.length]?.at ?? first.at, message: `${qualifiedLabel(set.table)} would have ${total} indexes, more than the limit of ${max}: each one slows every write`})
    }
    return hits
  },
}

/** Below this many distinct values (with at least LOW_CARDINALITY_ROWS rows), an index alone rarely helps. */
const LOW_CARDINALITY = 20
const LOW_CARDINALITY_ROWS = 10_000

const lowCardinalityIndex: Rule = {
  id: 'design-low-cardinality-index',
  family: 'design',
  level: 'notice',
  needsSchema: true,
  kinds: ['CREATE', 'ALTER'],
  summary: 'New single-column index on a column with very few distinct values (from schema statistics)',
  rationale:
    'When a column holds a handful of values (status, flags, booleans) each value matches a large share of the table, and the optimizer prefers a full scan to thousands of index lookups; the index mostly costs writes. It helps only as the first part of a composite index, or for a rare value queried on purpose.',
  bad: 'CREATE INDEX idx_orders_status ON orders (status)',
  good: 'CREATE INDEX idx_orders_status_created ON orders (status, created_at)',
  fix: 'Make it a composite index led by the selective columns the queries filter on, or drop the idea if no query needs it.',
  check(context) {
    const hits: RuleHit[] = []
    for (const change of alterChanges(context)) {
      const info = context.schema?.table(change.table.name, change.table.schema)
      const rows = info?.stats?.rows
      if (!info || rows === undefined || rows < LOW_CARDINALITY_ROWS) continue
      for (const clause of change.clauses) {
        const index = clause.index
        if (clause.kind !== 'add-index' || index?.kind !== 'INDEX' || index.parts.length !== 1 || index.parts[0]!.expression) continue
        const column = index.parts[0]!.column.toLowerCase()
        // The schema's index cardinality is that of its first column: an upper bound on distinct values of `column`.
        const distinct = info.indexes
          .filter((i) => i.columns[0]?.toLowerCase() === column && i.cardinality !== undefined)
          .reduce<number | undefined>((low, i) => (low === undefined ? i.cardinality : Math.min(low, i.cardinality!)), undefined)
        if (distinct === undefined || distinct > LOW_CARDINALITY) continue
        hits.push({
          at: clause.at,
          message: `index ${index.name ?? ''} on ${qualifiedLabel(change.table)}.${index.parts[0]!.column} covers about ${distinct} distinct values over ${formatCount(rows)} rows: each value matches ~${Math.round(100 / Math.max(distinct, 1))}% of the table, so the optimizer will rarely use it`,
        })
      }
    }
    return hits
  },
}

const foreignKey: Rule = {
  id: 'design-foreign-key',
  family: 'design',
  level: 'notice',
  kinds: ['CREATE', 'ALTER'],
  summary: 'FOREIGN KEY constraint (complicates online schema changes and locking)',
  rationale:
    'Foreign keys make every write to the child check the parent (with shared locks that cause contention and deadlocks), cascades run invisibly to the binary log reader on MySQL, and online schema change tools struggle: gh-ost refuses tables with foreign keys and pt-online-schema-change needs special handling for the referencing side. Many teams enforce relationships in the application instead.',
  bad: 'CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, FOREIGN KEY (order_id) REFERENCES orders (id))',
  good: 'CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, KEY idx_order (order_id))',
  fix: 'Keep the index, and enforce the relationship in the application, or accept the constraint knowing online schema changes of these tables need care.',
  check(context) {
    const hits: RuleHit[] = []
    const report = (table: QualifiedName, index: IndexDefinition) => {
      const target = index.references?.table ?? '?'
      if (index.inline && isMysql(context) && versionBefore(context, '9.0.0')) {
        hits.push({at: index.at, level: 'warning', message: `inline REFERENCES ${target} on ${qualifiedLabel(table)} is ignored by MySQL before 9.0: no foreign key is created`})
        return
      }
      hits.push({at: index.at, message: `foreign key from ${qualifiedLabel(table)} to ${target}: writes lock parent rows, and online schema change tools such as gh-ost cannot alter these tables`})
    }
    const create = createTableOf(context)
    if (create) for (const index of create.indexes) if (index.kind === 'FOREIGN') report(create.table, index)
    for (const change of alterChanges(context)) {
      for (const clause of change.clauses) if (clause.kind === 'add-index' && clause.index?.kind === 'FOREIGN') report(change.table, clause.index)
    }
    return hits
  },
}

const autoIncrementType: Rule = {
  id: 'design-auto-increment-type',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'AUTO_INCREMENT column that is signed or smaller than INT (runs out of values early)',
  rationale:
    'A signed INT AUTO_INCREMENT stops at 2,147,483,647, half of what the same 4 bytes hold unsigned, and SMALLINT or MEDIUMINT much sooner. When it runs out every INSERT fails with a duplicate-key error, and widening the key of a big table then takes a full copy under pressure.',
  bad: 'CREATE TABLE events (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100))',
  good: 'CREATE TABLE events (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100))',
  fix: 'Use BIGINT UNSIGNED for AUTO_INCREMENT keys.',
  check(context) {
    const hits: RuleHit[] = []
    for (const defined of definedColumns(context)) {
      const {type, autoIncrement} = defined.column
      if (!autoIncrement || !isIntegerType(type)) continue
      const bytes = integerBytes(type) ?? 8
      if (bytes >= 8 || (type.unsigned && bytes >= 4)) continue
      const max = type.unsigned ? 2 ** (bytes * 8) - 1 : 2 ** (bytes * 8 - 1) - 1
      hits.push({at: defined.column.typeAt, message: `AUTO_INCREMENT column ${columnLabel(defined)} is ${type.unsigned ? type.text : `${type.text} (signed)`}: inserts fail after ${formatCount(max)} values`})
    }
    return hits
  },
}

const createTableAsSelect: Rule = {
  id: 'design-create-table-as-select',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE'],
  summary: 'CREATE TABLE ... AS SELECT (loses keys and indexes; unsafe with GTIDs on older MySQL)',
  rationale:
    'CREATE TABLE ... SELECT copies column types but not the primary key, indexes, AUTO_INCREMENT or foreign keys, so the new table is heap-like and slow. It locks the rows it reads for the whole copy with statement-based logging, and MySQL before 8.0.21 rejects it when enforce_gtid_consistency is ON.',
  bad: 'CREATE TABLE orders_2023 AS SELECT * FROM orders WHERE created_at < \'2024-01-01\'',
  good: 'CREATE TABLE orders_2023 LIKE orders',
  fix: 'Create the table explicitly (or with CREATE TABLE ... LIKE), then fill it with INSERT ... SELECT in batches.',
  check(context) {
    const create = createTableOf(context)
    if (!create?.asSelect) return []
    const gtidUnsafe = isMysql(context) && versionBefore(context, '8.0.21')
    return [
      {
        at: create.asSelect,
        message: `CREATE TABLE ${qualifiedLabel(create.table)} ... SELECT creates the table without the source's primary key and indexes${gtidUnsafe ? '; MySQL before 8.0.21 rejects it when enforce_gtid_consistency is ON' : ''}`,
        ...(gtidUnsafe ? {level: 'error' as Level} : {}),
      },
    ]
  },
}

const onDeleteCascade: Rule = {
  id: 'design-on-delete-cascade',
  family: 'design',
  level: 'warning',
  kinds: ['CREATE', 'ALTER'],
  summary: 'ON DELETE CASCADE: deleting one row silently deletes rows of other tables',
  rationale:
    'With ON DELETE CASCADE a DELETE of a parent row removes every child row, and their children, without a statement that names those tables: a mistaken or unbounded DELETE on a small table can empty a large one. On MySQL the cascaded deletes are not in the binary log as row events of their own, so change-data-capture readers and audits never see them.',
  bad: 'CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE)',
  good: 'CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE RESTRICT)',
  fix: 'Use ON DELETE RESTRICT (the default) and delete the children explicitly, in the order the application means.',
  check(context) {
    const tokens = context.statement.tokens
    const hits: RuleHit[] = []
    for (let i = 0; i + 2 < tokens.length; i++) {
      if (tokens[i]!.type === 'word' && tokens[i]!.value === 'ON' && tokens[i + 1]!.value === 'DELETE' && tokens[i + 2]!.value === 'CASCADE' && tokens[i + 2]!.type === 'word') {
        hits.push({at: tokens[i + 2]!, message: 'ON DELETE CASCADE: a DELETE of a parent row deletes its child rows too, with no statement naming them'})
      }
    }
    return hits
  },
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'MEDIUMINT', 'INT', 'BIGINT'])

const intDisplayWidth: Rule = {
  id: 'design-int-display-width',
  family: 'design',
  level: 'notice',
  kinds: ['CREATE', 'ALTER'],
  summary: 'INT(M): the display width is deprecated (MySQL 8.0.17+) and limits nothing',
  rationale:
    'The M of INT(11) or BIGINT(20) is a display width for ZEROFILL, not a size or range: INT(1) still holds two billion. MySQL 8.0.17 deprecated it and no longer shows it in SHOW CREATE TABLE, so schema diffs between a dump and the live server disagree over nothing. TINYINT(1) is left alone: tools read it as a boolean.',
  bad: 'CREATE TABLE t (id INT(11) NOT NULL PRIMARY KEY)',
  good: 'CREATE TABLE t (id INT NOT NULL PRIMARY KEY)',
  fix: 'Drop the width (INT, BIGINT UNSIGNED); choose the type by the range it must hold.',
  check(context) {
    if (!isMysql(context) || versionBefore(context, '8.0.17')) return []
    return definedColumns(context)
      .filter((d) => INTEGER_TYPES.has(d.column.type.name) && d.column.type.length !== undefined && !d.column.type.zerofill && !(d.column.type.name === 'TINYINT' && d.column.type.length === 1))
      .map((d) => ({at: d.column.typeAt, message: `column ${columnLabel(d)} is ${d.column.type.text}: the display width is deprecated since MySQL 8.0.17 and does not limit the range`}))
  },
}

const nonIntegerPrimaryKey: Rule = {
  id: 'design-non-integer-primary-key',
  family: 'design',
  level: 'notice',
  kinds: ['CREATE'],
  summary: 'A primary key of strings, decimals or dates instead of an integer',
  rationale:
    'InnoDB stores every row in primary-key order and copies the key into every secondary index, so a wide key (a VARCHAR, a CHAR(36) UUID) makes every index bigger, and keys that do not grow in order (UUIDs, e-mail addresses) insert all over the table, splitting pages and fragmenting it. An integer key, AUTO_INCREMENT or another ascending one, keeps inserts at the end and indexes small.',
  bad: 'CREATE TABLE sessions (token VARCHAR(64) NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL)',
  good: 'CREATE TABLE sessions (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, token VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL, UNIQUE KEY uk_token (token))',
  fix: 'Add an integer AUTO_INCREMENT primary key and keep the natural key as a UNIQUE key.',
  check(context) {
    const create = createTableOf(context)
    const primary = create?.indexes.find((index) => index.kind === 'PRIMARY')
    if (!create || !primary) return []
    const byName = new Map(create.columns.map((column) => [column.name.toLowerCase(), column]))
    const offending = primary.parts.map((part) => byName.get(part.column.toLowerCase())).filter((column): column is NonNullable<typeof column> => column !== undefined && !INTEGER_TYPES.has(column.type.name))
    return offending.map((column) => ({at: column.typeAt, message: `the primary key of ${qualifiedLabel(create.table)} includes ${column.name} ${column.type.text}: every secondary index carries it, and ${/CHAR|BINARY|TEXT|BLOB/.test(column.type.name) ? 'values that do not arrive in order scatter the inserts' : 'a non-integer key is wider than it needs to be'}`}))
  },
}

const charsetWithoutConvert: Rule = {
  id: 'design-charset-without-convert',
  family: 'design',
  level: 'warning',
  kinds: ['ALTER'],
  summary: 'ALTER TABLE ... DEFAULT CHARSET changes new columns only, not the existing ones',
  rationale:
    'ALTER TABLE t DEFAULT CHARSET = utf8mb4 (or CHARACTER SET, COLLATE) changes only the default that columns added later inherit: every existing CHAR, VARCHAR and TEXT column keeps its old character set. The migration looks done while the data still cannot hold emoji, and joins between old and new columns convert.',
  bad: 'ALTER TABLE comments DEFAULT CHARSET = utf8mb4',
  good: 'ALTER TABLE comments CONVERT TO CHARACTER SET utf8mb4',
  fix: 'Use CONVERT TO CHARACTER SET utf8mb4 (a table copy: run it through `dbakit schema change` on a big table), or change the columns one by one with MODIFY.',
  check(context) {
    const hits: RuleHit[] = []
    for (const change of alterChanges(context)) {
      if (change.clauses.some((clause) => clause.kind === 'convert-charset')) continue
      const option = change.clauses.find((clause) => clause.kind === 'table-charset')
      if (option) hits.push({at: option.at, message: `ALTER TABLE ${qualifiedLabel(change.table)} changes its default character set only: the existing columns keep theirs (CONVERT TO CHARACTER SET converts them)`})
    }
    return hits
  },
}

export const rules: Rule[] = [
  charsetWithoutConvert,
  nonIntegerPrimaryKey,
  intDisplayWidth,
  onDeleteCascade,
  missingPrimaryKey,
  nonInnodbEngine,
  legacyCharset,
  collationMismatch,
  floatForMoney,
  floatType,
  lobDefault,
  zeroDateDefault,
  duplicateIndex,
  redundantIndex,
  tooManyIndexes,
  lowCardinalityIndex,
  foreignKey,
  autoIncrementType,
  createTableAsSelect,
]
