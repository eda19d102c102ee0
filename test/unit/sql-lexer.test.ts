import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {significant, tokenize} from '../../src/lib/sql/lexer.ts'

const shape = (sql: string) =>
  significant(tokenize(sql))
    .map((t) => `${t.type}:${t.value}`)
    .join(' ')

describe('SQL lexer', () => {
  it('keeps keywords in comments and strings out of the code', () => {
    assert.equal(shape("SELECT 'DROP TABLE x' -- DELETE FROM y\n# UPDATE z\n/* TRUNCATE w */ FROM t"), 'word:SELECT string:DROP TABLE x word:FROM word:T')
    const comments = tokenize('SELECT 1 -- note\n/* block */').filter((t) => t.type === 'comment')
    assert.deepEqual(
      comments.map((t) => t.text),
      ['-- note', '/* block */'],
    )
  })

  it('treats --x without a space as minus minus, like the server', () => {
    assert.equal(shape('SELECT 1--1'), 'word:SELECT number:1 operator:- operator:- number:1')
  })

  it('lexes executable comments as code, for MySQL and MariaDB', () => {
    assert.equal(shape('CREATE TABLE t (a INT) /*!50100 ENGINE=InnoDB */'), 'word:CREATE word:TABLE word:T punctuation:( word:A word:INT punctuation:) word:ENGINE operator:= word:INNODB')
    assert.equal(shape('SELECT /*M!100500 1 */'), 'word:SELECT number:1')
  })

  it('unquotes identifiers and strings, with doubled quotes and backslash escapes', () => {
    assert.equal(shape("SELECT `a``b`, 'it''s', 'x\\'y', \"dq\""), "word:SELECT identifier:a`b punctuation:, string:it's punctuation:, string:x'y punctuation:, string:dq")
    assert.equal(shape('SELECT "dq"'), 'word:SELECT string:dq')
    assert.equal(significant(tokenize('SELECT "dq"', {ansiQuotes: true}))[1]?.type, 'identifier')
  })

  it('reads prefixed strings, numbers, variables and placeholders', () => {
    assert.equal(shape("SELECT N'n', _utf8mb4'u', X'0F', 0x1F, 1.5e3, .5, @v, @@session.sql_mode, ?"), "word:SELECT string:n punctuation:, string:u punctuation:, string:0F punctuation:, number:0x1F punctuation:, number:1.5e3 punctuation:, number:.5 punctuation:, variable:@v punctuation:, variable:@@session.sql_mode punctuation:, placeholder:?")
    assert.equal(shape('SELECT 1abc'), 'word:SELECT word:1ABC')
  })

  it('gives each token its file line and column', () => {
    const tokens = significant(tokenize('SELECT\n  a,\n\tb', {line: 10, column: 5}))
    assert.deepEqual(
      tokens.map((t) => `${t.text}@${t.line}:${t.column}`),
      ['SELECT@10:5', 'a@11:3', ',@11:4', 'b@12:2'],
    )
  })
})
