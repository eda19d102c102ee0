import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {closestMatch, CUT_MARK, formatCount, lineReader, redactSecrets, SOURCE_WINDOW, sourceWindow} from '../../src/lib/core/text.ts'
import {connectionFailure} from '../../src/lib/connect/failure.ts'
import {parseConnectionUrl} from '../../src/lib/connect/url.ts'
import type {ConnectionTarget} from '../../src/lib/connect/target.ts'

describe('suggestions and redaction', () => {
  it('suggests the nearest candidate for a typo, and nothing for unrelated words', () => {
    assert.equal(closestMatch('tset', ['add', 'list', 'test', 'show']), 'test')
    assert.equal(closestMatch('jsno', ['json', 'verbose']), 'json')
    assert.equal(closestMatch('backup', ['profile', 'autocomplete']), undefined)
  })

  it('groups counts in thousands the same way whatever the locale', () => {
    assert.equal(formatCount(0), '0')
    assert.equal(formatCount(999), '999')
    assert.equal(formatCount(1000), '1,000')
    assert.equal(formatCount(1234567), '1,234,567')
    assert.equal(formatCount(-1234567), '-1,234,567')
    assert.equal(formatCount(2147483647.5), '2,147,483,647.5')
    assert.equal(formatCount(18446744073709551615), '18,446,744,073,709,552,000')
  })

  it('reads a line of a text by number, without its line break', () => {
    const line = lineReader('first\r\nsecond\n\nfourth')
    assert.deepEqual([1, 2, 3, 4, 5, 0].map(line), ['first', 'second', '', 'fourth', '', ''])
    assert.equal(lineReader('only')(1), 'only')
    assert.equal(lineReader('ends\n')(2), '')
  })

  it('removes every copy of a secret', () => {
    assert.equal(redactSecrets('pw=abc and abc again', ['abc', undefined, '']), 'pw=*** and *** again')
  })

  it('never lets a driver message leak the password into a connection error', () => {
    const target: ConnectionTarget = {
      engine: 'mysql',
      url: parseConnectionUrl('mysql://dba@db1:3306'),
      tls: {mode: 'disabled'},
      connectTimeoutMs: 1000,
      commandTimeoutMs: 1000,
      user: 'dba',
      password: 'Sup3r$ecret',
      label: 'dba@db1:3306',
    }
    const error = connectionFailure(target, Object.assign(new Error("Access denied for user 'dba' (using password: Sup3r$ecret)"), {code: 'ER_ACCESS_DENIED_ERROR'}))
    assert.equal(error.exitCode, 3)
    assert.match(error.message, /dba@db1:3306: authentication failed/)
    assert.doesNotMatch(JSON.stringify({message: error.message, hint: error.hint, data: error.data}), /Sup3r/)
  })
})

describe('source windows', () => {
  it('keeps a short line whole and cuts a long one around the column, marking each cut', () => {
    assert.deepEqual(sourceWindow('SELECT 1', 8), {text: 'SELECT 1', column: 8})
    const line = `${'a'.repeat(10_000)}TARGET${'b'.repeat(10_000)}`
    const {text, column} = sourceWindow(line, 10_001)
    assert.ok(text.startsWith(CUT_MARK) && text.endsWith(CUT_MARK))
    assert.equal(text.length, SOURCE_WINDOW + 2)
    assert.ok(text.slice(column - 1).startsWith('TARGET'))
  })

  it('cuts only where the line goes on, and keeps a column at either end in the window', () => {
    const line = 'x'.repeat(1000)
    assert.deepEqual(sourceWindow(`START${line}`, 1), {text: `START${line.slice(0, SOURCE_WINDOW - 5)}${CUT_MARK}`, column: 1})
    const end = sourceWindow(`${line}END`, 1001)
    assert.ok(end.text.startsWith(CUT_MARK) && end.text.endsWith('END'))
    assert.equal(end.text.slice(end.column - 1), 'END')
  })

  it('never splits a surrogate pair at a cut', () => {
    const line = '😀'.repeat(1000)
    for (const column of [1, 2, 500, 501, 1999, 2000]) {
      const {text} = sourceWindow(line, column)
      assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text), `column ${column}`)
    }
  })
})
