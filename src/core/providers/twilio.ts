import { randomUUID } from 'node:crypto'
import { anySignatureMatches, hmac, sha256Hex, tokensEqual } from './hmac'
import type { HmacAlgorithm } from './hmac'
import { isFormEncoded, parseFormBody } from './form-body'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { sampleRequestUrl, signedRequestUrl } from './public-url'
import type { InboundRequest, Provider } from './types'
import { accepted, rejected } from './verdict'

/**
 * Twilio's signed string: the full URL, then every POST parameter sorted by name (UTF-16 order), each as
 * name + value; a name sent several times contributes each distinct value, sorted.
 */
export function twilioSignedString(url: string, params: ReadonlyArray<readonly [string, string]>): string {
  const byName = new Map<string, Set<string>>()
  for (const [name, value] of params) byName.set(name, (byName.get(name) ?? new Set()).add(value))
  let data = url
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...byName.get(name)!].sort()) data += name + value
  }
  return data
}

/** Base64 HMAC (SHA-1 for Auth Token signatures) of the signed string. */
export function twilioSignature(
  secret: string,
  url: string,
  params: ReadonlyArray<readonly [string, string]>,
  algorithm: HmacAlgorithm = 'sha1',
): string {
  return hmac(algorithm, secret, twilioSignedString(url, params)).toString('base64')
}

/**
 * The URL with and without its port: Twilio may sign either form depending on how the URL was configured,
 * so both are tried (an explicit default port, or none).
 */
export function urlPortVariants(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/i.exec(url)
  if (!match) return [url]
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string]
  const at = authority.lastIndexOf('@')
  const userInfo = authority.slice(0, at + 1)
  const hostPort = authority.slice(at + 1)
  const colon = hostPort.indexOf(':', hostPort.lastIndexOf(']') + 1)
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon)
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80'
  const withoutPort = scheme + userInfo + host + rest
  const withPort = colon === -1 ? scheme + userInfo + host + defaultPort + rest : url
  return [withoutPort, withPort]
}

/** SharedKey webhooks name their algorithm in X-Twilio-Webhooks-Signature-Settings; Auth Token ones use SHA-1. */
function algorithmOf(req: InboundRequest): HmacAlgorithm | null {
  const settings = req.headers['x-twilio-webhooks-signature-settings']
  for (const part of (settings ?? '').split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim())
    if (key === 'algorithm' && value) {
      if (value.toUpperCase() === 'HMAC_SHA1') return 'sha1'
      if (value.toUpperCase() === 'HMAC_SHA256') return 'sha256'
      return null
    }
  }
  return 'sha1'
}

/** Twilio (Messaging, Voice, status callbacks …): the URL-and-parameters signature keyed with the Auth Token. */
export const twilio: Provider = {
  id: 'twilio',
  name: 'Twilio',
  methods: ['POST', 'GET'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [
    {
      ...publicUrlDoc,
      description: `${publicUrlDoc.description} Twilio signs this exact URL, query included.`,
    },
  ],
  setup:
    'Paste your Twilio Auth Token (Console → Account info) here as the secret. In the Console set the webhook ' +
    '(e.g. Phone Numbers → your number → "A message comes in") to {url} with HTTP POST. If you append a query ' +
    'string, set options.publicUrl to the exact URL you entered.',
  verify(req, ctx) {
    if (ctx.secrets.length === 0) return rejected('no secret configured for this source')
    const url = signedRequestUrl(req, ctx)
    if (url === null) return rejected('no public URL known for this source: set options.publicUrl')
    const signature = req.headers['x-twilio-signature']
    if (!signature) return rejected('missing X-Twilio-Signature header')
    const algorithm = algorithmOf(req)
    if (algorithm === null) return rejected('unsupported algorithm in X-Twilio-Webhooks-Signature-Settings')
    const bodyHash = new URLSearchParams(req.query).get('bodySHA256')
    // JSON (and other non-form) bodies: only the URL is signed, and it carries the body's SHA-256.
    const params =
      bodyHash === null && req.method === 'POST' && isFormEncoded(req.headers['content-type'])
        ? parseFormBody(req.body)
        : []
    if (
      bodyHash === null &&
      req.method === 'POST' &&
      !isFormEncoded(req.headers['content-type']) &&
      req.body.length > 0
    ) {
      return rejected('a non-form body needs bodySHA256 in the URL')
    }
    const data = urlPortVariants(url).map((candidate) => twilioSignedString(candidate, params))
    const ok = data.some((text) =>
      anySignatureMatches(
        ctx.secrets,
        (secret) => hmac(algorithm, secret, text),
        [signature.trim()],
        'base64',
      ),
    )
    if (!ok) return rejected(`X-Twilio-Signature does not match ${url}`)
    if (bodyHash !== null && !tokensEqual(bodyHash.toLowerCase(), sha256Hex(req.body)))
      return rejected('bodySHA256 does not match the body')
    return accepted
  },
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['i-twilio-idempotency-token'] ?? null,
  eventType(req) {
    const params = new Map(
      isFormEncoded(req.headers['content-type']) ? parseFormBody(req.body) : new URLSearchParams(req.query),
    )
    const event = params.get('EventType')
    if (event) return event
    const message = params.get('MessageStatus') ?? params.get('SmsStatus')
    if (message) return `message.${message}`
    const call = params.get('CallStatus')
    return call ? `call.${call}` : null
  },
  sample(ctx) {
    const sid = `SM${randomUUID().replaceAll('-', '')}`
    const params: Array<[string, string]> = [
      ['MessageSid', sid],
      ['SmsSid', sid],
      ['AccountSid', 'AC00000000000000000000000000000000'],
      ['From', '+15005550006'],
      ['To', '+15005550001'],
      ['Body', 'Hello from Switchboard'],
      ['NumMedia', '0'],
      ['SmsStatus', 'received'],
    ]
    const body = Buffer.from(new URLSearchParams(params).toString())
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'i-twilio-idempotency-token': randomUUID(),
        'x-twilio-signature': twilioSignature(ctx.secrets[0] ?? '', sampleRequestUrl(ctx), params),
      },
      body,
    }
  },
}
