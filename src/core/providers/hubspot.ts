import { createHash, randomInt } from 'node:crypto'
import { anySignatureMatches, hmac, signatureMatches } from './hmac'
import { fieldAt, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { sampleRequestUrl, signedRequestUrl } from './public-url'
import { parseIntegerTimestamp, staleness } from './timestamp'
import type { InboundRequest, Provider, SourceContext, VerifyResult } from './types'
import { accepted, rejected } from './verdict'

/** HubSpot's SDK refuses a v3 timestamp older than 5 minutes (the header is in milliseconds). */
const TOLERANCE_MS = 5 * 60 * 1000

/** The only %-escapes HubSpot decodes in the v3 URI before signing; every other escape stays as sent. */
const V3_DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
}

/** The URI as HubSpot v3 signs it: only the 12 listed escapes decoded. */
export function hubspotV3Uri(url: string): string {
  return url.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (escape) => V3_DECODED[escape.toUpperCase()]!,
  )
}

/** Base64 HMAC-SHA256 of method + decoded URI + body + timestamp (ms). */
export function hubspotV3Signature(
  secret: string,
  method: string,
  url: string,
  body: Buffer,
  timestamp: number | string,
): string {
  return v3Digest(secret, method, hubspotV3Uri(url), body, String(timestamp)).toString('base64')
}

function v3Digest(secret: string, method: string, uri: string, body: Buffer, timestamp: string): Buffer {
  return hmac('sha256', secret, method, uri, body, timestamp)
}

function verifyV3(req: InboundRequest, ctx: SourceContext, signature: string): VerifyResult {
  const rawTimestamp = req.headers['x-hubspot-request-timestamp']
  const timestamp = parseIntegerTimestamp(rawTimestamp)
  if (rawTimestamp === undefined || timestamp === null)
    return rejected('missing or malformed X-HubSpot-Request-Timestamp header')
  const stale = staleness(timestamp, ctx.now(), TOLERANCE_MS)
  if (stale) return rejected(stale)
  const url = signedRequestUrl(req, ctx)
  if (url === null) return rejected('no public URL known for this source: set options.publicUrl')
  const uri = hubspotV3Uri(url)
  const ok = anySignatureMatches(
    ctx.secrets,
    (secret) => v3Digest(secret, req.method, uri, req.body, rawTimestamp.trim()),
    [signature.trim()],
    'base64',
  )
  return ok ? accepted : rejected(`X-HubSpot-Signature-v3 does not match (signed URI ${uri})`)
}

/**
 * v1 (`sha256(secret + body)`) and v2 (`sha256(secret + method + URL + body)`) are plain SHA-256, not HMAC, and
 * carry no timestamp; HubSpot still sends them from older apps and workflow webhook actions.
 *
 * A plain SHA-256 over secret + data can be extended: whoever saw one signature can sign the same body with
 * SHA-256's padding and anything they like after it, without the secret. Such a body is never JSON (the padding
 * follows the signed JSON and holds bytes no JSON text has), and HubSpot's bodies are JSON (or empty, a v2 GET):
 * so a legacy signature counts only for a body that is empty or strictly valid UTF-8 JSON.
 */
function verifyLegacy(req: InboundRequest, ctx: SourceContext, signature: string): VerifyResult {
  const version = (req.headers['x-hubspot-signature-version'] ?? 'v1').trim()
  if (version !== 'v1' && version !== 'v2')
    return rejected(`unsupported X-HubSpot-Signature-Version ${version}`)
  if (req.body.length > 0 && !isStrictJson(req.body))
    return rejected(`a body signed with X-HubSpot-Signature (${version}) must be JSON`)
  const url = version === 'v2' ? signedRequestUrl(req, ctx) : ''
  if (url === null) return rejected('no public URL known for this source: set options.publicUrl')
  for (const secret of ctx.secrets) {
    const hash = createHash('sha256').update(secret)
    if (version === 'v2') hash.update(req.method).update(url)
    if (signatureMatches(hash.update(req.body).digest(), signature.trim(), 'hex')) return accepted
  }
  return rejected(`X-HubSpot-Signature (${version}) does not match`)
}

function isStrictJson(body: Buffer): boolean {
  try {
    JSON.parse(STRICT_UTF8.decode(body))
    return true
  } catch {
    return false
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

/** HubSpot app webhooks (v3 signatures; v1/v2 accepted, for JSON bodies, when no v3 header is sent). */
export const hubspot: Provider = {
  id: 'hubspot',
  name: 'HubSpot',
  methods: ['POST', 'GET'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [{ ...publicUrlDoc, description: `${publicUrlDoc.description} HubSpot signs this exact URL.` }],
  setup:
    'In your HubSpot app (developer account → Apps → your app → Webhooks) set the Target URL to {url} and create ' +
    "the subscriptions. Paste the app's Client secret (Auth tab) here as the secret.",
  verify(req, ctx) {
    if (ctx.secrets.length === 0) return rejected('no secret configured for this source')
    const v3 = req.headers['x-hubspot-signature-v3']
    if (v3) return verifyV3(req, ctx, v3)
    const legacy = req.headers['x-hubspot-signature']
    if (legacy) return verifyLegacy(req, ctx, legacy)
    return rejected('missing X-HubSpot-Signature-v3 header')
  },
  // A batch's eventIds (attemptNumber grows on retry, the ids do not).
  dedupId(_req, json) {
    const events = Array.isArray(json) ? json : [json]
    const ids = events.map((event) => textAt(event, 'eventId'))
    return ids.length > 0 && ids.every((id) => id !== null) ? ids.join(',') : null
  },
  eventType: (_req, json) =>
    textAt(Array.isArray(json) ? json[0] : json, 'subscriptionType') ??
    (fieldAt(json, 'callbackId') ? 'workflow' : null),
  sample(ctx) {
    const now = ctx.now()
    const body = Buffer.from(
      JSON.stringify([
        {
          eventId: randomInt(1, 2 ** 47),
          subscriptionId: 12345,
          portalId: 62515,
          appId: 54321,
          occurredAt: now,
          subscriptionType: 'contact.creation',
          attemptNumber: 0,
          objectId: 123,
          changeSource: 'CRM',
          changeFlag: 'NEW',
        },
      ]),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hubspot-request-timestamp': String(now),
        'x-hubspot-signature-v3': hubspotV3Signature(
          ctx.secrets[0] ?? '',
          'POST',
          sampleRequestUrl(ctx),
          body,
          now,
        ),
      },
      body,
    }
  },
}
