import { anySignatureMatches, hmac } from './hmac'
import type { DigestEncoding, HmacAlgorithm } from './hmac'
import type { InboundRequest } from './types'
import { accepted, rejected } from './verdict'
import type { VerifyResult } from './types'

/** A scheme where one header carries an HMAC of exactly the raw body (GitHub, Jira, Asana, Shopify, …). */
export interface BodySignatureScheme {
  /** Lower-case header names to look in, first present wins (e.g. a current and a legacy spelling). */
  headers: readonly string[]
  algorithm: HmacAlgorithm
  encoding: DigestEncoding
  /** Text before the digest, e.g. `sha256=`; a signature without it is refused. */
  prefix?: string
}

/** Verifies the body HMAC against every secret (rotation). */
export function verifyBodySignature(
  req: InboundRequest,
  secrets: readonly string[],
  scheme: BodySignatureScheme,
): VerifyResult {
  if (secrets.length === 0) return rejected('no secret configured for this source')
  const header = scheme.headers.find((name) => req.headers[name] !== undefined)
  if (!header) return rejected(`missing ${scheme.headers[0]} header`)
  const value = (req.headers[header] ?? '').trim()
  const prefix = scheme.prefix ?? ''
  if (!value.startsWith(prefix)) return rejected(`${header} does not start with ${prefix}`)
  const presented = [value.slice(prefix.length)]
  const ok = anySignatureMatches(
    secrets,
    (secret) => hmac(scheme.algorithm, secret, req.body),
    presented,
    scheme.encoding,
  )
  return ok ? accepted : rejected(`${header} does not match the body`)
}

/** The header value this scheme sends for `body` (for samples). */
export function signBody(secret: string, body: Buffer, scheme: BodySignatureScheme): string {
  return (scheme.prefix ?? '') + hmac(scheme.algorithm, secret, body).toString(scheme.encoding)
}
