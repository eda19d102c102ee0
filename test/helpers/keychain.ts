import {realpathSync} from 'node:fs'
import {join} from 'node:path'

/**
 * The real OS keychain the CLI writes to (gnome-keyring on the private D-Bus of scripts/services).
 * It is shared with every other test run on the machine, so tests find their entries through the
 * DBAKIT_HOMEs they made and delete them when they end.
 */
interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
  deletePassword(service: string, account: string): Promise<boolean>
  findCredentials(service: string): Promise<Array<{account: string; password: string}>>
}

export const keytar = async (): Promise<Keytar> => {
  const module = (await import('@github/keytar')) as unknown as {default?: Keytar} & Keytar
  return module.default ?? module
}

const configIn = (home: string) => join(realpathSync(home), 'config.yaml')

/** The account README documents for a profile's password: its name and the real path of its config file. */
export const keychainAccountOf = (name: string, home: string) => `profile:${name}@${configIn(home)}`

/** Every dbakit keychain entry that belongs to the config file in `home`. */
export async function keychainEntriesOf(home: string): Promise<Array<{account: string; password: string}>> {
  const suffix = `@${configIn(home)}`
  return (await (await keytar()).findCredentials('dbakit')).filter((entry) => entry.account.endsWith(suffix))
}

/** Deletes the entries of these homes' configs, and accounts a test stored by hand. */
export async function forgetKeychainEntries(homes: Iterable<string>, accounts: Iterable<string> = []): Promise<void> {
  const k = await keytar()
  for (const home of homes) for (const {account} of await keychainEntriesOf(home)) await k.deletePassword('dbakit', account)
  for (const account of accounts) await k.deletePassword('dbakit', account)
}
