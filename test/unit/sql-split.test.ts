import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {splitSql} from '../../src/lib/sql/split.ts'

const statements = (text: string) => [...splitSql(text)].filter((c) => c.kind === 'statement').map((c) => ({text: c.text.trim(), line: c.line}))

describe('statement splitter', () => {
  it('splits on semicolons outside strings, identifiers and comments', () => {
    const text = "SELECT 'a;b', `c;d` FROM t; -- x; y\nUPDATE t SET s = \"e;f\" /* g; h */ WHERE id = 1;\n# tail; comment\n"
    assert.deepEqual(
      statements(text).map((s) => s.text),
      ["SELECT 'a;b', `c;d` FROM t", '-- x; y\nUPDATE t SET s = "e;f" /* g; h */ WHERE id = 1'],
    )
  })

  it('handles escaped and doubled quotes', () => {
    assert.equal(statements("SELECT 'it''s;', 'a\\';b'; SELECT 2;").length, 2)
  })

  it('follows DELIMITER so routine bodies stay whole', () => {
    const text = 'DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  DELETE FROM t;\n  UPDATE u SET a = 1;\nEND$$\nDELIMITER ;\nSELECT 1;\n'
    const chunks = [...splitSql(text)]
    assert.deepEqual(
      chunks.map((c) => c.kind),
      ['directive', 'statement', 'directive', 'statement'],
    )
    assert.match(chunks[1]!.text, /^CREATE PROCEDURE p\(\)\nBEGIN[\s\S]*END$/)
    assert.equal(chunks[3]!.text.trim(), 'SELECT 1')
    assert.equal(chunks[3]!.line, 8)
  })

  it('keeps file lines and columns for every statement', () => {
    const chunks = statements('SELECT 1;\n\n  SELECT 2; SELECT 3;')
    assert.deepEqual(
      chunks.map((c) => c.line),
      [1, 3, 3],
    )
  })

  it('ends a statement at \\G and reports SOURCE as a directive', () => {
    const chunks = [...splitSql('SELECT 1\\G\nsource other.sql\nSELECT 2')]
    assert.deepEqual(
      chunks.map((c) => [c.kind, c.directive?.name ?? c.text.trim()]),
      [
        ['statement', 'SELECT 1'],
        ['directive', 'source'],
        ['statement', 'SELECT 2'],
      ],
    )
  })

  it('yields no statement for a file of comments only', () => {
    assert.deepEqual(
      [...splitSql('-- nothing here\n/* or here */\n')].map((c) => c.kind),
      ['comment'],
    )
  })

  it('recognises DELIMITER after a statement with a trailing comment', () => {
    const chunks = [...splitSql('SELECT 1; -- note\nDELIMITER //\nSELECT 2//\n')]
    assert.deepEqual(
      chunks.map((c) => c.kind),
      ['statement', 'comment', 'directive', 'statement'],
    )
    assert.equal(chunks[3]!.text, 'SELECT 2')
  })

  it('does not split inside an executable comment terminator-free', () => {
    assert.equal(statements('CREATE TABLE t (a INT) /*!50100 PARTITION BY HASH(a) */;').length, 1)
  })
})
