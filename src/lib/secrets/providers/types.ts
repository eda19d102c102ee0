/**
 * A key provider wraps and unwraps data keys; it never sees the data. Every secret dbakit keeps is
 * encrypted locally with AES-256-GCM under a fresh 32-byte data key, and only that key goes to the
 * provider (a PKCS#11 token, Vault transit, AWS KMS, or a passphrase), bound to the envelope's
 * canonical additional authenticated data so that a wrapped key cannot be moved to another purpose
 * or account.
 */
export type ProviderKind = 'pkcs11' | 'vault-transit' | 'aws-kms' | 'passphrase'

/** Which key wrapped a data key: recorded in the envelope, so unwrap and rewrap find it again. */
export interface KeyRef {
  provider: ProviderKind
  /** The provider's resolved key id: a PKCS#11 label, a transit key's `mount/name`, a KMS key ARN, "passphrase". */
  keyId: string
  /** The key version that wrapped it (PKCS#11 `label#n`, Vault transit's `vault:vN:`); 1 where keys show none (AWS KMS). */
  keyVersion: number
}

export interface WrappedKey {
  key: KeyRef
  /** The wrapped data key as the provider returns it: base64, or Vault transit's `vault:vN:` ciphertext as it is. */
  wrapped: string
  /** Provider parameters needed to unwrap (e.g. the scrypt salt and costs, a GCM IV on the token). */
  params?: Record<string, string | number>
}

export interface KeyProvider {
  readonly kind: ProviderKind
  /** Wraps a data key; `aad` is the envelope's canonical AAD, bound to the wrapped key where the provider allows it. */
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey>
  /** Unwraps; a wrong AAD, a changed wrapped key or a missing key is an error, never a wrong key. */
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>
  /** The key and version a new wrap would use now; `kms status` and `kms rewrap` compare against it. */
  currentKey(): Promise<KeyRef>
  /**
   * Re-wraps under the current key version inside the KMS (Vault transit rewrap, AWS ReEncrypt),
   * so the data key never leaves it. Providers without it are re-wrapped by unwrap then wrap.
   */
  rewrap?(wrapped: WrappedKey, aad: Uint8Array): Promise<WrappedKey>
  /** Creates the key for `kms init` (version 1); refuses, exit 2, when it exists already. */
  createKey?(): Promise<KeyRef>
  /** Makes a new key version current for new wraps; older versions still unwrap. */
  rotateKey?(): Promise<KeyRef>
  /** Releases sessions and connections (PKCS#11 session, HTTP agents). */
  close(): Promise<void>
}
