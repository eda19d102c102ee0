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

/** Nor can MySQL 8: its tests run against DBAKIT_TEST_MYSQL_URL (mysql://user@host:port, password in DBAKIT_TEST_MYSQL_PASSWORD). */
export const mysqlUrl = process.env.DBAKIT_TEST_MYSQL_URL
export const mysqlSkipReason = mysqlUrl ? false : 'DBAKIT_TEST_MYSQL_URL is not set; MySQL 8 integration tests skipped'

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

/** Vault or OpenBao is not among the test services; its tests run only when a server and token are given. */
export const vault = {
  address: process.env.DBAKIT_TEST_VAULT_ADDR,
  token: process.env.VAULT_TOKEN,
  /** A transit engine's mount; `transit` unless DBAKIT_TEST_VAULT_MOUNT says otherwise. */
  mount: process.env.DBAKIT_TEST_VAULT_MOUNT || 'transit',
  namespace: process.env.VAULT_NAMESPACE || undefined,
}
export const vaultSkipReason =
  vault.address && vault.token
    ? false
    : `${vault.address ? 'VAULT_TOKEN' : 'DBAKIT_TEST_VAULT_ADDR'} is not set: Vault transit integration tests skipped (they need a Vault or OpenBao with a transit engine at DBAKIT_TEST_VAULT_MOUNT, default transit)`

/**
 * AWS KMS is not among the test services either: its tests run only when a symmetric key is named,
 * with credentials from the SDK's usual chain; DBAKIT_TEST_AWS_KMS_ENDPOINT points them at a
 * KMS-compatible service instead.
 */
export const awsKms = {
  key: process.env.DBAKIT_TEST_AWS_KMS_KEY,
  region: process.env.DBAKIT_TEST_AWS_KMS_REGION || undefined,
  endpoint: process.env.DBAKIT_TEST_AWS_KMS_ENDPOINT || undefined,
}
export const awsKmsSkipReason = awsKms.key ? false : 'DBAKIT_TEST_AWS_KMS_KEY is not set: AWS KMS integration tests skipped (they need a symmetric KMS key and AWS credentials)'
/** On-demand rotations of a KMS key are limited for its whole life, so a test spends one only when asked to. */
export const awsKmsRotateSkipReason =
  awsKmsSkipReason || (process.env.DBAKIT_TEST_AWS_KMS_ROTATE === '1' ? false : 'DBAKIT_TEST_AWS_KMS_ROTATE is not 1: the rotation test is skipped, since a KMS key allows only a limited number of on-demand rotations')
