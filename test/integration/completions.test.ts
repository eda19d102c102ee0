import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {projectRoot} from '../helpers/cli.ts'

const completions = join(projectRoot, 'completions')
const has = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0

describe('shell completions', () => {
  it('are regenerated from the current commands (stale files fail here)', () => {
    const result = spawnSync(process.execPath, ['scripts/completions.mjs', '--check'], {cwd: projectRoot, encoding: 'utf8'})
    assert.equal(result.status, 0, result.stderr)
  })

  it('complete topics, commands and flag values in bash', () => {
    const complete = (words: string[]) =>
      execFileSync('bash', ['-c', `source ${join(completions, 'dbakit.bash')}; COMP_WORDS=(${words.map((w) => `"${w}"`).join(' ')}); COMP_CWORD=${words.length - 1}; _dbakit; echo "\${COMPREPLY[@]}"`], {encoding: 'utf8'}).trim()
    assert.equal(complete(['dbakit', 'prof']), 'profile')
    assert.equal(complete(['dbakit', 'profile', 're']), 'remove')
    assert.equal(complete(['dbakit', 'profile', 'add', 'x', '--tls-mode', 'verify-']), 'verify-ca verify-identity')
    assert.match(complete(['dbakit', 'profile', 'test', '--pass']), /--password-stdin/)
  })

  it('complete commands and flags in fish', {skip: has('fish') ? false : 'fish is not installed'}, () => {
    const complete = (line: string) => execFileSync('fish', ['-c', `source ${join(completions, 'dbakit.fish')}; complete -C '${line}'`], {encoding: 'utf8'})
    assert.match(complete('dbakit profile '), /^test\t/m)
    assert.match(complete('dbakit profile add x --tls-'), /--tls-mode/)
  })

  it('load in zsh without errors', {skip: has('zsh') ? false : 'zsh is not installed'}, () => {
    const result = spawnSync('zsh', ['-c', `autoload -U compinit && compinit -u && source ${join(completions, '_dbakit')} && echo ok`], {encoding: 'utf8'})
    assert.equal(result.stdout.trim(), 'ok', result.stderr)
  })
})
