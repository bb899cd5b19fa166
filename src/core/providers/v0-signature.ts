import { anySignatureMatches, hmac } from './hmac'
import { parseIntegerTimestamp, staleness } from './timestamp'
import type { InboundRequest, VerifyResult } from './types'
import { accepted, rejected } from './verdict'

/**
 * The `v0` scheme shared by Slack and Zoom: a timestamp header (unix seconds) and a signature header
 * `v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<raw body>")>`.
 */
export interface V0Scheme {
  signatureHeader: string
  timestampHeader: string
  toleranceMs: number
}

/** Verifies a v0 request against every secret (rotation). */
export function verifyV0(
  req: InboundRequest,
  secrets: readonly string[],
  now: number,
  scheme: V0Scheme,
): VerifyResult {
  const found = findSigningSecret(req, secrets, now, scheme)
  return 'secret' in found ? accepted : rejected(found.reason)
}

/** The secret that signed a valid v0 request, or null (Zoom's handshake answers with that secret). */
export function v0SigningSecret(
  req: InboundRequest,
  secrets: readonly string[],
  now: number,
  scheme: V0Scheme,
): string | null {
  const found = findSigningSecret(req, secrets, now, scheme)
  return 'secret' in found ? found.secret : null
}

function findSigningSecret(
  req: InboundRequest,
  secrets: readonly string[],
  now: number,
  scheme: V0Scheme,
): { secret: string } | { reason: string } {
  if (secrets.length === 0) return { reason: 'no secret configured for this source' }
  const signature = req.headers[scheme.signatureHeader]?.trim()
  const rawTimestamp = req.headers[scheme.timestampHeader]?.trim()
  if (!signature) return { reason: `missing ${scheme.signatureHeader} header` }
  const timestamp = parseIntegerTimestamp(rawTimestamp)
  if (rawTimestamp === undefined || timestamp === null) {
    return { reason: `missing or malformed ${scheme.timestampHeader} header` }
  }
  const stale = staleness(timestamp * 1000, now, scheme.toleranceMs)
  if (stale) return { reason: stale }
  if (!signature.startsWith('v0=')) return { reason: `${scheme.signatureHeader} is not a v0 signature` }
  const presented = [signature.slice(3)]
  const secret = secrets.find((s) =>
    anySignatureMatches([s], (k) => v0Digest(k, rawTimestamp, req.body), presented, 'hex'),
  )
  return secret === undefined ? { reason: `${scheme.signatureHeader} does not match` } : { secret }
}

/** The v0 signature header value for a body sent at `timestamp` (unix seconds). */
export function signV0(secret: string, timestamp: number, body: Buffer): string {
  return `v0=${v0Digest(secret, String(timestamp), body).toString('hex')}`
}

function v0Digest(secret: string, timestamp: string, body: Buffer): Buffer {
  return hmac('sha256', secret, `v0:${timestamp}:`, body)
}
