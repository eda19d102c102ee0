import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseStatement} from '../../src/lib/sql/parser.ts'
import {startValidation, statementShape} from '../../src/lib/sql/validate.ts'

describe('statement shapes (the parse cache key)', () => {
  const same = (a: string, b: string) => assert.equal(statementShape(a), statementShape(b), `${a}  vs  ${b}`)
  const differ = (a: string, b: string) => assert.notEqual(statementShape(a), statementShape(b), `${a}  vs  ${b}`)

  it('treats statements that differ only in plain literals and comments as one shape', () => {
    same("UPDATE t SET name = 'x1' WHERE id = 1", "UPDATE t SET name = 'other value; -- not a comment' WHERE id = 987654")
    same('SELECT price FROM t WHERE price > 10.25', 'SELECT price FROM t WHERE price > 3.5')
    same('-- step 1\nSELECT 1', '-- step 2 of the migration\nSELECT 7')
    same('SELECT a /* first */ FROM t', 'SELECT a /* ; */ FROM t')
  })

  it('keeps whatever could change how the parser reads the statement', () => {
    differ("SELECT 'plain'", "SELECT 'it''s'")
    differ("SELECT 'plain'", "SELECT 'back\\\\slash'")
    differ("SELECT ''", "SELECT 'x'")
    differ("SELECT DATE '2020-01-01'", "SELECT DATE '2020-13-45'")
    differ("SELECT X'0A'", "SELECT X'0B'")
    differ("SELECT _utf8mb4'a'", "SELECT _utf8mb4'b'")
    differ('SELECT 0x1F', 'SELECT 0x2F')
    differ('SELECT 1e5', 'SELECT 2e5')
    differ('SELECT /*+ MAX_EXECUTION_TIME(1) */ a FROM t', 'SELECT /*+ NO_ICP(t) */ a FROM t')
    differ('SELECT a FROM t1', 'SELECT a FROM t2')
    differ('SELECT a  FROM t', 'SELECT a FROM t')
  })
})

describe('parallel validation', () => {
  it('gives each statement the verdict a parse of that statement gives, across worker threads and cached shapes', async () => {
    // Valid statements the parser reads, valid MySQL it cannot (INVISIBLE, GRANT to a host), and
    // real syntax errors, enough of them that worker threads take part.
    const statements = Array.from({length: 4000}, (_, i) => {
      switch (i % 5) {
        case 0:
          return `UPDATE t${i % 7} SET name = 'n${i}' WHERE id = ${i}`
        case 1:
          return `ALTER TABLE t${i % 7} ADD COLUMN c${i} INT INVISIBLE`
        case 2:
          return `SELEC * FROM t${i % 3} WHERE id = ${i}`
        case 3:
          return `-- step ${i}\nINSERT INTO t${i % 11} (a, b) VALUES (${i}, 'x${i}')`
        default:
          return `CREATE TABLE fresh${i} (id INT PRIMARY KEY, note VARCHAR(${i % 200 + 1}))`
      }
    })
    const expected = statements.flatMap((statement, index) => (parseStatement(statement, 'mysql').ok ? [] : [index]))
    assert.ok(expected.length > 1000 && expected.length < 3000, `a mix of accepted and rejected statements (${expected.length} rejected)`)
    assert.deepEqual(await startValidation(statements, 'mysql').finish(), expected)
  })

  it('parses a small input on the calling thread with the same verdicts', async () => {
    assert.deepEqual(await startValidation(['SELECT 1', 'SELEC 1', 'SELECT 2'], 'mysql').finish(), [1])
  })
})
