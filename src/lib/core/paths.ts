import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * Where dbakit keeps its config, following the XDG base directory spec. DBAKIT_HOME moves everything
 * (tests, containers); DBAKIT_CONFIG points at one config file.
 */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DBAKIT_CONFIG) return env.DBAKIT_CONFIG
  if (env.DBAKIT_HOME) return join(env.DBAKIT_HOME, 'config.yaml')
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'dbakit', 'config.yaml')
}


/** Where dbakit keeps state it writes as it runs (the secret audit log, rotation journal, capacity history). */
export function stateDirPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DBAKIT_HOME) return join(env.DBAKIT_HOME, 'state')
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'dbakit')
}

/** The schema that holds dbakit's shared state on a server or a --store: journals, the audit log. */
export const STATE_DATABASE = 'dbakit_state'
