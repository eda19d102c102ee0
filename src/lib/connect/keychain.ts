import {environmentError} from '../core/errors.ts'

/** Every secret dbakit keeps in the OS keychain lives under this service name. */
export const KEYCHAIN_SERVICE = 'dbakit'

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>
  setPassword(service: string, account: string, password: string): Promise<void>
  deletePassword(service: string, account: string): Promise<boolean>
  findCredentials(service: string): Promise<Array<{account: string; password: string}>>
}

const HEADLESS_HINT =
  'on a host without a desktop keychain, keep the password elsewhere: as a KMS envelope (`dbakit kms init`, then --password-kms), or with --password-env VAR or --defaults-file FILE; ' +
  'on Linux the keychain needs a D-Bus session with gnome-keyring (or another Secret Service) unlocked'

let loaded: Promise<Keytar> | undefined

/** The native module loads only when a secret is actually read or written. */
async function keytar(): Promise<Keytar> {
  loaded ??= import('@github/keytar').then(
    (module) => ((module as {default?: Keytar}).default ?? module) as Keytar,
    (error: unknown) => {
      loaded = undefined
      throw environmentError('KEYCHAIN_UNAVAILABLE', `the OS keychain library could not load: ${firstLine(error)}`, {
        hint: `on Debian/Ubuntu install it with \`apt-get install libsecret-1-0\`; ${HEADLESS_HINT}`,
      })
    },
  )
  return loaded
}

async function call<T>(action: string, work: (k: Keytar) => Promise<T>): Promise<T> {
  const k = await keytar()
  try {
    return await work(k)
  } catch (error) {
    throw environmentError('KEYCHAIN_UNAVAILABLE', `the OS keychain could not ${action}: ${firstLine(error)}`, {hint: HEADLESS_HINT})
  }
}

export const keychain = {
  get: (account: string) => call('read a secret', (k) => k.getPassword(KEYCHAIN_SERVICE, account)),
  set: (account: string, secret: string) => call('store a secret', (k) => k.setPassword(KEYCHAIN_SERVICE, account, secret)),
  delete: (account: string) => call('delete a secret', (k) => k.deletePassword(KEYCHAIN_SERVICE, account)),
  /** The accounts dbakit has entries for; their secrets are read by the library but not returned. */
  accounts: () => call('list its secrets', async (k) => (await k.findCredentials(KEYCHAIN_SERVICE)).map((credential) => credential.account)),
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
