import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {projectRoot} from '../helpers/cli.ts'

describe('generated documentation', () => {
  it('docs/rules.md is the current rule catalog (stale files fail here)', () => {
    const result = spawnSync(process.execPath, ['scripts/rules-doc.mjs', '--check'], {cwd: projectRoot, encoding: 'utf8'})
    assert.equal(result.status, 0, result.stderr)
  })
})
