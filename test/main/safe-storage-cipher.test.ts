import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { KeyFileCipher } from '../../src/core/secrets/cipher'
import { keychainAvailable, SafeStorageCipher } from '../../src/main/safe-storage-cipher'
import { tempDir } from '../support/temp-dir'
import { FakeSafeStorage } from './fake-electron'

const dirs: Array<{ remove(): void }> = []
afterEach(() => dirs.splice(0).forEach((d) => d.remove()))
function dataDir(): string {
  const dir = tempDir('switchboard-cipher-')
  dirs.push(dir)
  return dir.path
}

describe('safeStorage cipher', () => {
  it('seals with the OS keychain and opens what it sealed', () => {
    const dir = dataDir()
    const cipher = new SafeStorageCipher(new FakeSafeStorage(), dir)
    const blob = cipher.encrypt('whsec_ünïcode 🔑')
    expect(blob[0]).toBe(2)
    expect(cipher.decrypt(blob)).toBe('whsec_ünïcode 🔑')
    expect(existsSync(join(dir, 'secret.key'))).toBe(false)
  })

  it("falls back to the data folder's key file where Linux has no keyring (basic_text), and warns once", () => {
    const dir = dataDir()
    const storage = new FakeSafeStorage()
    storage.backend = 'basic_text'
    const warnings: string[] = []
    const cipher = new SafeStorageCipher(storage, dir, (level, message) =>
      warnings.push(`${level}: ${message}`),
    )
    expect(cipher.usesKeychain).toBe(false)
    const a = cipher.encrypt('one')
    cipher.encrypt('two')
    expect(a[0]).toBe(1)
    expect(new KeyFileCipher(join(dir, 'secret.key')).decrypt(a)).toBe('one')
    expect(warnings).toHaveLength(1)
  })

  it('keeps opening key-file secrets after a keychain appears, and keychain secrets while it is there', () => {
    const dir = dataDir()
    const storage = new FakeSafeStorage()
    storage.available = false
    const before = new SafeStorageCipher(storage, dir).encrypt('old')
    storage.available = true
    const cipher = new SafeStorageCipher(storage, dir)
    const now = cipher.encrypt('new')
    expect(cipher.decrypt(before)).toBe('old')
    expect(cipher.decrypt(now)).toBe('new')
  })

  it('says so when a keychain secret cannot be opened because the keychain is gone', () => {
    const storage = new FakeSafeStorage()
    const cipher = new SafeStorageCipher(storage, dataDir())
    const blob = cipher.encrypt('x')
    storage.available = false
    expect(() => cipher.decrypt(blob)).toThrow(/OS keychain/)
  })

  it('refuses blobs of an unknown format', () => {
    const cipher = new SafeStorageCipher(new FakeSafeStorage(), dataDir())
    expect(() => cipher.decrypt(Buffer.from([9, 1, 2, 3]))).toThrow(/unknown secret format/)
    expect(() => cipher.decrypt(Buffer.alloc(0))).toThrow(/unknown secret format/)
  })

  it('treats macOS and Windows (no backend query) as keychain-backed when encryption is available', () => {
    const storage = new FakeSafeStorage()
    const port = (available: boolean) => ({
      isEncryptionAvailable: () => available,
      encryptString: (plain: string) => storage.encryptString(plain),
      decryptString: (blob: Buffer) => storage.decryptString(blob),
    })
    expect(keychainAvailable(port(true))).toBe(true)
    expect(keychainAvailable(port(false))).toBe(false)
  })
})
