/** What stands where a secret was. */
export const REDACTED = '[redacted]'

/**
 * Request headers whose whole value is a credential, in either direction: what a sender presents to the
 * receiver (basic auth, Google's channel token, the secret Asana hands over) and what a workflow step sends on.
 */
const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'x-auth-token',
  'x-goog-channel-token',
  'x-hook-secret',
])

export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADERS.has(name.toLowerCase())
}

/**
 * A credential header's value as it may be kept: an Authorization keeps its scheme (`Bearer [redacted]`); any
 * other goes whole (a cookie's first pair is as secret as the rest).
 */
export function redactCredential(name: string, value: string): string {
  const space = value.indexOf(' ')
  return name.toLowerCase().endsWith('authorization') && space > 0
    ? `${value.slice(0, space)} ${REDACTED}`
    : REDACTED
}
