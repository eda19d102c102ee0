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

  it('marks the chunk where a comment, string or identifier is left open, at its opening', () => {
    const open = (text: string) => [...splitSql(text)].map((c) => c.unclosed).filter(Boolean)
    assert.deepEqual(open('SELECT 1;\n  /* never closed\nDROP TABLE t;'), [{what: 'comment', line: 2, column: 3}])
    assert.deepEqual(open("SELECT 'abc;\nDROP TABLE t;"), [{what: 'string', line: 1, column: 8}])
    assert.deepEqual(open('SELECT `abc;'), [{what: 'quoted identifier', line: 1, column: 8}])
    assert.deepEqual(open('SELECT 1 /*!50100 AND 1;'), [{what: 'comment', line: 1, column: 10}])
    assert.deepEqual(open("SELECT 'a' /* c */ -- d\n# e\nFROM t /*!50100 x */;"), [])
  })

  it('under another DELIMITER, splits at ; the statements the server runs one by one', () => {
    assert.deepEqual(statements('DELIMITER $$\nDROP TABLE a; DROP TABLE b;\nDROP TABLE c$$\n'), [
      {text: 'DROP TABLE a', line: 2},
      {text: 'DROP TABLE b', line: 2},
      {text: 'DROP TABLE c', line: 3},
    ])
  })

  it('keeps compound statements whole after the statements before them, mysqldump\'s triggers included', () => {
    const sql = [
      'DELIMITER ;;',
      'DROP PROCEDURE IF EXISTS p; CREATE DEFINER=`root`@`%` PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;;',
      '/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; END */;;',
      'BEGIN NOT ATOMIC SELECT 1; SELECT 2; END;;',
      'outer: LOOP SELECT 1; LEAVE outer; END LOOP;;',
      'IF 1 THEN SELECT 1; END IF;;',
    ].join('\n')
    assert.deepEqual(
      statements(sql).map((s) => s.text.split(' ').slice(0, 3).join(' ')),
      ['DROP PROCEDURE IF', 'CREATE DEFINER=`root`@`%` PROCEDURE', '/*!50003 CREATE*/ /*!50017', 'BEGIN NOT ATOMIC', 'outer: LOOP SELECT', 'IF 1 THEN'],
    )
  })
})
