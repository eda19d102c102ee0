import {Args, Flags} from '@oclif/core'
import {existsSync, readFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {BaseCommand} from '../base-command.ts'
import {usageError} from '../lib/core/errors.ts'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

const SCRIPT_FILE: Record<Shell, string> = {bash: 'dbakit.bash', zsh: '_dbakit', fish: 'dbakit.fish'}

/** Where each shell looks for completion scripts, and how to load ours from the package. */
const SETUP: Record<Shell, (script: string) => string[]> = {
  bash: (script) => [`echo 'source ${script}' >> ~/.bashrc`, 'exec bash'],
  zsh: (script) => [`mkdir -p ~/.zsh/completions && cp ${script} ~/.zsh/completions/`, "echo 'fpath=(~/.zsh/completions $fpath); autoload -U compinit && compinit' >> ~/.zshrc", 'exec zsh'],
  fish: (script) => [`cp ${script} ~/.config/fish/completions/dbakit.fish`],
}

export interface AutocompleteResult {
  shell: Shell
  script: string
  setup: string[]
}

export default class Autocomplete extends BaseCommand {
  static override summary = 'Set up shell completion for bash, zsh or fish.'
  static override description = 'Prints the steps that install the completion script shipped with dbakit for your shell, or with --script the script itself. The scripts are generated from the command definitions at build time, so completion costs no start-up of dbakit.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> fish --script > ~/.config/fish/completions/dbakit.fish',
    '<%= config.bin %> <%= command.id %> zsh --json',
  ]
  static override args = {shell: Args.string({description: 'bash, zsh or fish (default: from $SHELL)', options: [...SHELLS], ignoreStdin: true})}
  static override flags = {script: Flags.boolean({summary: 'Print the completion script to stdout instead of the setup steps.'})}

  async run(): Promise<AutocompleteResult> {
    const {args, flags} = await this.parse(Autocomplete)
    const shell = (args.shell ?? basename(process.env.SHELL ?? '')) as Shell
    if (!SHELLS.includes(shell)) {
      throw usageError('SHELL_UNKNOWN', `cannot tell which shell to set up${process.env.SHELL ? ` ($SHELL is ${process.env.SHELL})` : ''}`, {hint: 'name it: dbakit autocomplete bash|zsh|fish'})
    }
    const script = join(this.config.root, 'completions', SCRIPT_FILE[shell])
    if (!existsSync(script)) throw usageError('COMPLETIONS_MISSING', `the completion script ${script} is missing from this installation`, {hint: 'reinstall dbakit'})
    const result = {shell, script, setup: SETUP[shell](script)}
    if (flags.script) this.print(readFileSync(script, 'utf8'))
    else this.print([`To enable ${shell} completion for dbakit, run:`, '', ...result.setup.map((line) => `  ${line}`), ''].join('\n'))
    return result
  }
}
