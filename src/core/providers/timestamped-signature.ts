import { anySignatureMatches, hmac } from './hmac'
import { parseIntegerTimestamp, staleness } from './timestamp'
import type { InboundRequest, VerifyResult } from './types'
import { accepted, rejected } from './verdict'

/**
 * The `t=<unix>,v1=<hex>[,v1=<hex>…]` scheme of Stripe and Calendly: hex HMAC-SHA256 of `${t}.${rawBody}`, the
 * secret used as a literal string. Several `v1` entries may be present (the sender signs with old and new
 * secrets while rolling); other versions (`v0`) are ignored.
 */
export interface TimestampedSignatureScheme {
  /** Lower-case header name. */
  header: string
  /** Display name for reasons. */
  label: string
  toleranceMs: number
}

export interface TimestampedSignatures {
  timestamp: string | null
  signatures: string[]
}

export function parseTimestampedSignatures(header: string): TimestampedSignatures {
  let timestamp: string | null = null
  const signatures: string[] = []
  for (const item of header.split(',')) {
    const eq = item.indexOf('=')
    if (eq === -1) continue
    const key = item.slice(0, eq).trim()
    const value = item.slice(eq + 1).trim()
    if (key === 't' && timestamp === null) timestamp = value
    else if (key === 'v1' && value) signatures.push(value)
  }
  return { timestamp, signatures }
}

export function verifyTimestampedSignature(
  req: InboundRequest,
  secrets: readonly string[],
  now: number,
  scheme: TimestampedSignatureScheme,
): VerifyResult {
  if (secrets.length === 0) return rejected('no secret configured for this source')
  const header = req.headers[scheme.header]
  if (!header) return rejected(`missing ${scheme.label} header`)
  const { timestamp: rawTimestamp, signatures } = parseTimestampedSignatures(header)
  const timestamp = parseIntegerTimestamp(rawTimestamp)
  if (rawTimestamp === null || timestamp === null) return rejected(`${scheme.label} has no valid t=`)
  if (signatures.length === 0) return rejected(`${scheme.label} has no v1 signature`)
  const stale = staleness(timestamp * 1000, now, scheme.toleranceMs)
  if (stale) return rejected(stale)
  const ok = anySignatureMatches(
    secrets,
    (secret) => digest(secret, rawTimestamp, req.body),
    signatures,
    'hex',
  )
  return ok ? accepted : rejected(`${scheme.label} does not match`)
}

/** The header value for `body` sent at `timestamp` (unix seconds). */
export function signTimestamped(secret: string, timestamp: number, body: Buffer): string {
  return `t=${timestamp},v1=${digest(secret, String(timestamp), body).toString('hex')}`
}

function digest(secret: string, timestamp: string, body: Buffer): Buffer {
  return hmac('sha256', secret, `${timestamp}.`, body)
}
