// A logged-in session of the benchmarks' own on the test token, outside dbakit: to measure the
// token's raw cost and to delete the keys a run made.
import {createRequire} from 'node:module'

export const pkcs11 = createRequire(import.meta.url)('pkcs11js')

export function openTokenSession({module, token, pin}) {
  const library = new pkcs11.PKCS11()
  library.load(module)
  library.C_Initialize()
  const slot = library.C_GetSlotList(true).find((s) => library.C_GetTokenInfo(s).label.trim() === token)
  const session = library.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION)
  library.C_Login(session, pkcs11.CKU_USER, pin)
  const keysLabelled = (prefix) => {
    library.C_FindObjectsInit(session, [{type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY}])
    const handles = library.C_FindObjects(session, 10_000)
    library.C_FindObjectsFinal(session)
    return handles.filter((handle) => library.C_GetAttributeValue(session, handle, [{type: pkcs11.CKA_LABEL}])[0].value.toString().startsWith(prefix))
  }
  return {
    library,
    session,
    keysLabelled,
    close() {
      library.C_Logout(session)
      library.C_CloseSession(session)
      library.C_Finalize()
    },
  }
}
