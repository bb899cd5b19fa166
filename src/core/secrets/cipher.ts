import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * Encrypts secrets at rest. The headless server uses a key file (mode 0600) beside the database; the desktop
 * app plugs in the OS keychain (Electron safeStorage) through the same interface.
 */
export interface SecretCipher {
  encrypt(plain: string): Buffer
  decrypt(blob: Buffer): string
}

const VERSION = 1

/** AES-256-GCM with a random 256-bit key kept in `keyFile` (created with mode 0600 on first use). */
export class KeyFileCipher implements SecretCipher {
  private readonly key: Buffer

  constructor(keyFile: string) {
    if (existsSync(keyFile)) {
      this.key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')
      if (this.key.length !== 32) throw new Error(`secret key file ${keyFile} is not a 256-bit base64 key`)
    } else {
      this.key = randomBytes(32)
      writeFileSync(keyFile, this.key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
      chmodSync(keyFile, 0o600)
    }
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body])
  }

  decrypt(blob: Buffer): string {
    if (blob[0] !== VERSION) throw new Error('unknown secret format')
    const iv = blob.subarray(1, 13)
    const tag = blob.subarray(13, 29)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(blob.subarray(29)), decipher.final()]).toString('utf8')
  }
}
