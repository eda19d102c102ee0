import {readFile} from 'node:fs/promises'
import {usageError} from '../../core/errors.ts'
import type {TlsSettings} from '../profiles.ts'

export interface NodeTlsOptions {
  ca?: string
  cert?: string
  key?: string
  rejectUnauthorized: boolean
  checkServerIdentity?: () => undefined
}

/**
 * Maps MySQL-style ssl modes onto Node's TLS options, the same for every driver:
 * required encrypts without checking the certificate, verify-ca checks the chain, verify-identity
 * also checks the host name.
 */
export async function nodeTlsOptions(tls: TlsSettings): Promise<NodeTlsOptions | undefined> {
  if (tls.mode === 'disabled') return undefined
  const options: NodeTlsOptions = {rejectUnauthorized: tls.mode !== 'required'}
  if (tls.mode === 'verify-ca') options.checkServerIdentity = () => undefined
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = tls[key]
    if (!path) continue
    try {
      options[key] = await readFile(path, 'utf8')
    } catch (error) {
      throw usageError('TLS_FILE_UNREADABLE', `cannot read TLS ${key} file ${path}: ${(error as NodeJS.ErrnoException).code}`, {
        hint: `check the --tls-${key} path`,
      })
    }
  }
  return options
}
