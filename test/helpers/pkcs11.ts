import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {softhsm} from './services.ts'

type Pkcs11js = typeof import('pkcs11js')
export const pkcs11js = createRequire(import.meta.url)('pkcs11js') as Pkcs11js

export const softhsmPin = () => readFileSync(softhsm.pinFile, 'utf8').trim()

/** A session of our own on the token, outside the provider, to look at and delete what it made. */
export function withRawSession<T>(work: (library: InstanceType<Pkcs11js['PKCS11']>, session: Buffer) => T): T {
  const library = new pkcs11js.PKCS11()
  library.load(softhsm.module)
  library.C_Initialize()
  try {
    const slot = library.C_GetSlotList(true).find((s) => library.C_GetTokenInfo(s).label.trim() === softhsm.token)
    assert.ok(slot, `token ${softhsm.token} not found`)
    const session = library.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION)
    library.C_Login(session, pkcs11js.CKU_USER, softhsmPin())
    try {
      return work(library, session)
    } finally {
      library.C_Logout(session)
      library.C_CloseSession(session)
    }
  } finally {
    library.C_Finalize()
    library.close()
  }
}

export function keysWithPrefix(library: InstanceType<Pkcs11js['PKCS11']>, session: Buffer, prefix: string) {
  library.C_FindObjectsInit(session, [{type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY}])
  const handles = library.C_FindObjects(session, 10_000)
  library.C_FindObjectsFinal(session)
  return handles
    .map((handle) => ({handle, label: library.C_GetAttributeValue(session, handle, [{type: pkcs11js.CKA_LABEL}])[0]!.value.toString()}))
    .filter(({label}) => label.startsWith(prefix))
}

/** Removes the keys a test run made on the shared token. */
export function destroyKeysWithPrefix(prefix: string): void {
  withRawSession((library, session) => {
    for (const {handle} of keysWithPrefix(library, session, prefix)) library.C_DestroyObject(session, handle)
  })
}
