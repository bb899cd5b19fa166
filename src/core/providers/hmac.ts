import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512'
export type DigestEncoding = 'hex' | 'base64'

/** HMAC of the concatenated parts (strings as UTF-8, buffers as bytes). */
export function hmac(
  algorithm: HmacAlgorithm,
  key: string | Buffer,
  ...parts: Array<string | Buffer>
): Buffer {
  const mac = createHmac(algorithm, key)
  for (const part of parts) mac.update(part)
  return mac.digest()
}

/**
 * Constant-time comparison of a presented signature with the expected digest, in the scheme's text encoding.
 * The presented text is compared as text (hex case-insensitively) rather than decoded, because Node's lenient
 * hex/base64 decoders would accept trailing garbage.
 */
export function signatureMatches(expected: Buffer, presented: string, encoding: DigestEncoding): boolean {
  const want = Buffer.from(expected.toString(encoding))
  const got = Buffer.from(encoding === 'hex' ? presented.toLowerCase() : presented)
  return want.length === got.length && timingSafeEqual(want, got)
}

/**
 * Whether any secret produces a digest matching any presented signature. `digest` computes the expected MAC
 * for one secret; rotation hands in the current and the previous secret.
 */
export function anySignatureMatches(
  secrets: readonly string[],
  digest: (secret: string) => Buffer,
  presented: readonly string[],
  encoding: DigestEncoding,
): boolean {
  for (const secret of secrets) {
    const expected = digest(secret)
    for (const signature of presented) if (signatureMatches(expected, signature, encoding)) return true
  }
  return false
}

/**
 * Constant-time equality of two tokens of any length: both are hashed first, so neither the content nor the
 * length of the expected token leaks through timing.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

/** Hex SHA-256 of bytes (Twilio's bodySHA256, sample ids). */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}
