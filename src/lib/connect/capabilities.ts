/**
 * What a server can do, by flavor and version, so that every area branches on a named capability
 * instead of scattering version checks. Sources: MySQL 8.0/8.4 and MariaDB 10.x/11.x release notes.
 */
export type Flavor = 'mysql' | 'mariadb' | 'redis' | 'valkey' | 'mongodb'

export interface ServerIdentity {
  flavor: Flavor
  /** Dotted numeric version, e.g. "10.11.19". */
  version: string
}

/** The first version of each flavor with the capability; flavors not listed do not have it. */
const CAPABILITIES = {
  /** ALTER TABLE ... ALGORITHM=INSTANT for ADD COLUMN (last position). */
  instantAddColumn: {mysql: '8.0.12', mariadb: '10.3.2'},
  /** INSTANT ADD COLUMN at any position, and INSTANT DROP COLUMN. */
  instantAddDropAnyPosition: {mysql: '8.0.29', mariadb: '10.4.0'},
  /** `SHOW REPLICA STATUS` and `Seconds_Behind_Source` naming; older servers say SLAVE/Master. */
  replicaKeyword: {mysql: '8.0.22', mariadb: '10.5.1'},
  /** `SHOW ALL REPLICAS STATUS` across multi-source channels. */
  multiSourceStatusAll: {mariadb: '10.0.0'},
  /** Dual passwords: ALTER USER ... RETAIN CURRENT PASSWORD. */
  dualPasswords: {mysql: '8.0.14'},
  /** CHECK constraints that are enforced. */
  checkConstraints: {mysql: '8.0.16', mariadb: '10.2.1'},
  invisibleColumns: {mysql: '8.0.23', mariadb: '10.3.3'},
  invisibleIndexes: {mysql: '8.0.0', mariadb: '10.6.0'},
  /** Global transaction ids usable for replication positioning. */
  gtid: {mysql: '5.6.5', mariadb: '10.0.2'},
  /** Redis ACL users (AUTH user pass). */
  aclUsers: {redis: '6.0.0', valkey: '7.2.0'},
  /** MongoDB `hello` command (older servers only answer isMaster). */
  helloCommand: {mongodb: '4.4.2'},
} as const satisfies Record<string, Partial<Record<Flavor, string>>>

export type Capability = keyof typeof CAPABILITIES
/** Only the capabilities that concern the server's flavor are listed, each true or false. */
export type Capabilities = Partial<Record<Capability, boolean>>

export function compareVersions(left: string, right: string): number {
  const a = left.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0)
  const b = right.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0)
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0)
    if (difference !== 0) return Math.sign(difference)
  }
  return 0
}

export function hasCapability(server: ServerIdentity, capability: Capability): boolean {
  const since = (CAPABILITIES[capability] as Partial<Record<Flavor, string>>)[server.flavor]
  return since !== undefined && compareVersions(server.version, since) >= 0
}

const FAMILIES: Record<Flavor, Flavor[]> = {
  mysql: ['mysql', 'mariadb'],
  mariadb: ['mysql', 'mariadb'],
  redis: ['redis', 'valkey'],
  valkey: ['redis', 'valkey'],
  mongodb: ['mongodb'],
}

export function capabilitiesOf(server: ServerIdentity): Capabilities {
  const relevant = (Object.keys(CAPABILITIES) as Capability[]).filter((name) =>
    FAMILIES[server.flavor].some((flavor) => flavor in CAPABILITIES[name]),
  )
  return Object.fromEntries(relevant.map((name) => [name, hasCapability(server, name)]))
}

/** "10.11.19-MariaDB-0+deb12u1-log" and "8.0.36" both become flavor + numeric version. */
export function identifyMysqlFamily(versionString: string, versionComment = ''): ServerIdentity {
  const version = /^\d+\.\d+\.\d+/.exec(versionString)?.[0] ?? versionString
  const isMariadb = /mariadb/i.test(versionString) || /mariadb/i.test(versionComment)
  return {flavor: isMariadb ? 'mariadb' : 'mysql', version}
}
