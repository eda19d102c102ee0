import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {freshHome, runCli} from '../helpers/cli.ts'
import {mongodbSkipReason, mongodbUri} from '../helpers/services.ts'

describe('MongoDB', () => {
  it('reports flavor, version and role of the server in DBAKIT_TEST_MONGODB_URI', {skip: mongodbSkipReason}, async () => {
    const url = new URL(mongodbUri!)
    const password = decodeURIComponent(url.password)
    url.password = ''
    const {code, stdout, stderr} = await runCli(['profile', 'test', '--url', url.toString(), '--json'], {
      env: {DBAKIT_HOME: freshHome(), ...(password ? {DBAKIT_PASSWORD: password} : {})},
    })
    assert.equal(code, 0, stderr)
    const report = JSON.parse(stdout)
    assert.equal(report.flavor, 'mongodb')
    assert.ok(['primary', 'replica'].includes(report.role))
  })
})
