/**
 * The real servers started by scripts/services (via `npm test`). A missing variable means the tests
 * were run without the services, which is a failure, not a reason to skip.
 */
function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the test servers (scripts/services)`)
  return value
}

/** A primary/replica pair as scripts/services describes it in PREFIX_PRIMARY_URL, _REPLICA_URL, _PASSWORD. */
const pair = (prefix: string) => ({
  get primaryUrl() {
    return required(`${prefix}_PRIMARY_URL`)
  },
  get replicaUrl() {
    return required(`${prefix}_REPLICA_URL`)
  },
  get password() {
    return required(`${prefix}_PASSWORD`)
  },
})

export const mariadb = pair('DBAKIT_TEST_MARIADB')
export const redis = pair('DBAKIT_TEST_REDIS')

export const keyringBus = () => required('DBUS_SESSION_BUS_ADDRESS')

/** MongoDB cannot be installed on the build machines; its tests run only when a server is given. */
export const mongodbUri = process.env.DBAKIT_TEST_MONGODB_URI
export const mongodbSkipReason = mongodbUri ? false : 'DBAKIT_TEST_MONGODB_URI is not set; MongoDB integration tests skipped'

/** The SoftHSM2 token scripts/services initialises; the PIN is read from its file in the services dir. */
export const softhsm = {
  get module() {
    return required('DBAKIT_TEST_PKCS11_MODULE')
  },
  get token() {
    return required('DBAKIT_TEST_PKCS11_TOKEN')
  },
  get pinFile() {
    return required('DBAKIT_TEST_PKCS11_PIN_FILE')
  },
}
