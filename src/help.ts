import {Help, type Command} from '@oclif/core'
import {EXIT_CODE_HELP} from './lib/core/errors.ts'

/** Variables every command reads, whatever its flags. */
const COMMON_ENVIRONMENT: Array<[string, string]> = [
  ['DBAKIT_CONFIG', 'config file (default ~/.config/dbakit/config.yaml, or $XDG_CONFIG_HOME/dbakit/config.yaml)'],
  ['DBAKIT_HOME', 'keep config and state under this directory instead'],
  ['DBAKIT_CONTENT_TYPE=json', 'same as --json'],
  ['NO_COLOR / FORCE_COLOR', 'turn colour off / on regardless of the terminal'],
]

const SERVER_ENVIRONMENT: Array<[string, string]> = [['DBAKIT_PASSWORD', 'password for --url or a profile (prefer --password-stdin: env is visible to the same user)']]

/** Adds ENVIRONMENT and EXIT CODES sections, so a runbook author finds the contract in --help. */
export default class DbakitHelp extends Help {
  override formatCommand(command: Command.Loadable): string {
    const fromFlags = Object.entries(command.flags)
      .filter(([, flag]) => typeof flag.env === 'string')
      .map(([name, flag]): [string, string] => [flag.env as string, `same as --${name}`])
    const talksToServer = 'url' in command.flags
    const environment = [...fromFlags, ...(talksToServer ? SERVER_ENVIRONMENT : []), ...COMMON_ENVIRONMENT]
    return [super.formatCommand(command), this.section('ENVIRONMENT', this.renderList(environment, {indentation: 2, stripAnsi: this.opts.stripAnsi})), this.exitCodes()].join('\n\n')
  }

  override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    this.log(`${this.section('ENVIRONMENT', this.renderList(COMMON_ENVIRONMENT, {indentation: 2}))}\n`)
    this.log(`${this.exitCodes()}\n`)
    this.log('Run `dbakit COMMAND --help` for a command\'s flags and examples.')
  }

  private exitCodes(): string {
    return this.section('EXIT CODES', this.renderList(EXIT_CODE_HELP.map(([code, meaning]) => [String(code), meaning]), {indentation: 2}))
  }
}
