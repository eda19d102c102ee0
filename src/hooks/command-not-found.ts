import {Errors, type Hook} from '@oclif/core'
import {ExitCode} from '../lib/core/errors.ts'
import {colorEnabled, createStyler} from '../lib/core/style.ts'
import {closestMatch} from '../lib/core/text.ts'

/**
 * An unknown command is a usage error (exit 2) with the closest real command, never an interactive
 * "did you mean" prompt that would hang a script.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const typed = options.id.replaceAll(':', ' ')
  const candidates = [...options.config.commandIDs, ...options.config.topics.map((topic) => topic.name)].map((id) => id.replaceAll(':', ' '))
  const near = closestMatch(typed, candidates)
  const style = createStyler(colorEnabled(process.stderr))
  process.stderr.write(`${style('red', 'Error:')} "${typed}" is not a dbakit command\n`)
  process.stderr.write(`${style('dim', 'Hint:')} ${near ? `did you mean \`dbakit ${near}\`? ` : ''}see \`dbakit --help\` for the list\n`)
  throw new Errors.ExitError(ExitCode.usage)
}

export default hook
