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

/** Verifies a v0 request; on success also names the secret that verified it (Zoom's handshake answers with it). */
export function verifyV0(
  req: InboundRequest,
  secrets: readonly string[],
  now: number,
  scheme: V0Scheme,
): VerifyResult & { secret?: string } {
  if (secrets.length === 0) return rejected('no secret configured for this source')
  const signature = req.headers[scheme.signatureHeader]
  const rawTimestamp = req.headers[scheme.timestampHeader]
  if (!signature) return rejected(`missing ${scheme.signatureHeader} header`)
  const timestamp = parseIntegerTimestamp(rawTimestamp)
  if (timestamp === null) return rejected(`missing or malformed ${scheme.timestampHeader} header`)
  const stale = staleness(timestamp * 1000, now, scheme.toleranceMs)
  if (stale) return rejected(stale)
  const value = signature.trim()
  if (!value.startsWith('v0=')) return rejected(`${scheme.signatureHeader} is not a v0 signature`)
  for (const secret of secrets) {
    if (
      anySignatureMatches(
        [secret],
        (s) => v0Digest(s, rawTimestamp!.trim(), req.body),
        [value.slice(3)],
        'hex',
      )
    ) {
      return { ...accepted, secret }
    }
  }
  return rejected(`${scheme.signatureHeader} does not match`)
}

/** The v0 signature header value for a body sent at `timestamp` (unix seconds). */
export function signV0(secret: string, timestamp: number, body: Buffer): string {
  return `v0=${v0Digest(secret, String(timestamp), body).toString('hex')}`
}

function v0Digest(secret: string, timestamp: string, body: Buffer): Buffer {
  return hmac('sha256', secret, `v0:${timestamp}:`, body)
}
