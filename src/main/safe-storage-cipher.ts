import { join } from 'node:path'
import { KeyFileCipher, type SecretCipher } from '../core/secrets/cipher'
import type { Log } from '../core/engine'
import type { SafeStoragePort } from './boundary'

/** First byte of a blob sealed by the OS keychain (the key file cipher writes 1). */
const SAFE_STORAGE_FORMAT = 2
const KEY_FILE_FORMAT = 1

/** Whether safeStorage is backed by a real secret store (on Linux, `basic_text` is a hard-coded key). */
export function keychainAvailable(safeStorage: SafeStoragePort): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false
  const backend = safeStorage.getSelectedStorageBackend?.()
  return backend === undefined || backend !== 'basic_text'
}

/**
 * Secrets sealed by the OS keychain (Electron safeStorage: Keychain, DPAPI, libsecret/kwallet), behind the
 * same {@link SecretCipher} the headless server uses with its key file. Where no real keychain exists it
 * falls back to the key file in the data folder (and says so once). Blobs carry a format byte, so secrets
 * written under either keep decrypting when the other becomes available.
 */
export class SafeStorageCipher implements SecretCipher {
  private keyFile: KeyFileCipher | null = null
  private warned = false

  constructor(
    private readonly safeStorage: SafeStoragePort,
    private readonly dataDir: string,
    private readonly log?: Log,
  ) {}

  /** Whether new secrets go to the OS keychain (else the key file). */
  get usesKeychain(): boolean {
    return keychainAvailable(this.safeStorage)
  }

  encrypt(plain: string): Buffer {
    if (this.usesKeychain) {
      return Buffer.concat([Buffer.from([SAFE_STORAGE_FORMAT]), this.safeStorage.encryptString(plain)])
    }
    if (!this.warned) {
      this.warned = true
      this.log?.(
        'warn',
        'no OS keychain available; secrets are encrypted with the key file in the data folder',
      )
    }
    return this.fileCipher().encrypt(plain)
  }

  decrypt(blob: Buffer): string {
    if (blob[0] === SAFE_STORAGE_FORMAT) {
      if (!this.safeStorage.isEncryptionAvailable()) {
        throw new Error('this secret was sealed by the OS keychain, which is not available now')
      }
      return this.safeStorage.decryptString(blob.subarray(1))
    }
    if (blob[0] === KEY_FILE_FORMAT) return this.fileCipher().decrypt(blob)
    throw new Error('unknown secret format')
  }

  private fileCipher(): KeyFileCipher {
    this.keyFile ??= new KeyFileCipher(join(this.dataDir, 'secret.key'))
    return this.keyFile
  }
}
