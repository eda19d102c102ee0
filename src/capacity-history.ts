import {Flags} from '@oclif/core'
import {BaseCommand} from './base-command.ts'
import type {CapacityHistory} from './lib/capacity/index.ts'

export const historyStoreFlags = {
  store: Flags.string({summary: 'Keep the capacity history in MySQL instead of the state directory, so a team shares one: mysql://user@host:port/database (default database dbakit_state).', env: 'DBAKIT_STORE'}),
}

/** `capacity snapshot` and `capacity forecast`: the history store, local or shared. */
export abstract class CapacityHistoryCommand extends BaseCommand {
  protected async withHistory<T>(flags: {store?: string}, work: (history: CapacityHistory) => Promise<T>): Promise<T> {
    const {fileHistory, mysqlHistory} = await import('./lib/capacity/index.ts')
    const history = flags.store === undefined ? fileHistory(process.env) : await mysqlHistory(await this.server({url: flags.store}))
    try {
      return await work(history)
    } finally {
      await history.close()
    }
  }
}
