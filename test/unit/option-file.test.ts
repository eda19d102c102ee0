import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseClientOptions} from '../../src/lib/connect/option-file.ts'

describe('MySQL option files', () => {
  it('reads user and password from [client]', () => {
    assert.deepEqual(parseClientOptions('[client]\nuser = dba\npassword = s3cret\n'), {user: 'dba', password: 's3cret'})
  })

  it('ignores other groups, comments and include directives', () => {
    const text = '# comment\n!includedir /etc/mysql/conf.d/\n[mysqld]\npassword=server-side\n[client]\n; note\npassword=right\n[mysqldump]\npassword=dump-only\n'
    assert.deepEqual(parseClientOptions(text), {password: 'right'})
  })

  it('honours quotes, escapes and inline comments like the mysql client', () => {
    assert.equal(parseClientOptions('[client]\npassword="a#b c\\"d"\n').password, 'a#b c"d')
    assert.equal(parseClientOptions("[client]\npassword='x y'\n").password, 'x y')
    assert.equal(parseClientOptions('[client]\npassword=plain # note\n').password, 'plain')
  })

  it('lets the [mysql] group and later lines override [client]', () => {
    assert.equal(parseClientOptions('[client]\npassword=one\n[mysql]\npassword=two\n').password, 'two')
  })
})
