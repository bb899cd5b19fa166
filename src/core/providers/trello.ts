import { randomBytes } from 'node:crypto'
import { anySignatureMatches, hmac } from './hmac'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { sampleRequestUrl, signedRequestUrl } from './public-url'
import type { Provider } from './types'
import { accepted, rejected } from './verdict'

/** Base64 HMAC-SHA1 of the raw body followed by the exact callback URL, keyed with the app secret. */
export function trelloSignature(secret: string, body: Buffer, callbackUrl: string): string {
  return hmac('sha1', secret, body, callbackUrl).toString('base64')
}

/** Trello webhooks (per model: board, card, list …), signed over body + callback URL. */
export const trello: Provider = {
  id: 'trello',
  name: 'Trello',
  methods: ['POST', 'HEAD'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [{ ...publicUrlDoc, description: `${publicUrlDoc.description} Trello signs this exact URL.` }],
  setup:
    "Paste your Trello app's Secret (trello.com/power-ups/admin → your app → API key → Secret) here as the " +
    'secret. Create the webhook with the API: POST https://api.trello.com/1/webhooks?callbackURL={url}' +
    '&idModel=<board id>&key=<API key>&token=<token>. The callback URL must match exactly what Trello calls.',
  /** Trello checks the callback with a HEAD request when the webhook is created. */
  handshake: (req) => (req.method === 'HEAD' ? { status: 200 } : null),
  verify(req, ctx) {
    if (ctx.secrets.length === 0) return rejected('no secret configured for this source')
    const url = signedRequestUrl(req, ctx)
    if (url === null) return rejected('no public URL known for this source: set options.publicUrl')
    const signature = req.headers['x-trello-webhook']
    if (!signature) return rejected('missing X-Trello-Webhook header')
    const ok = anySignatureMatches(
      ctx.secrets,
      (secret) => hmac('sha1', secret, req.body, url),
      [signature.trim()],
      'base64',
    )
    return ok ? accepted : rejected(`X-Trello-Webhook does not match the body and ${url}`)
  },
  dedupId: (_req, json) => textAt(json, 'action', 'id'),
  eventType: (_req, json) => textAt(json, 'action', 'type'),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        model: { id: '5a0000000000000000000001', name: 'Sample board' },
        action: {
          id: randomBytes(12).toString('hex'),
          type: 'createCard',
          date: new Date(ctx.now()).toISOString(),
          data: {
            card: { id: '5a0000000000000000000002', name: 'Sample card from Switchboard' },
            board: { id: '5a0000000000000000000001', name: 'Sample board' },
          },
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-trello-webhook': trelloSignature(ctx.secrets[0] ?? '', body, sampleRequestUrl(ctx)),
      },
      body,
    }
  },
}
