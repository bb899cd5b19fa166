import { hmac } from './hmac'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { unixSeconds } from './timestamp'
import type { Provider } from './types'
import { signV0, v0SigningSecret, verifyV0 } from './v0-signature'
import type { V0Scheme } from './v0-signature'
import { randomUUID } from 'node:crypto'

/** Zoom leaves the window to the receiver; 5 minutes like Slack's identical scheme. */
const SCHEME: V0Scheme = {
  signatureHeader: 'x-zm-signature',
  timestampHeader: 'x-zm-request-timestamp',
  toleranceMs: 5 * 60 * 1000,
}

/** Zoom app event subscriptions, verified over the raw body (never re-serialized JSON). */
export const zoom: Provider = {
  id: 'zoom',
  name: 'Zoom',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In the Zoom App Marketplace open your app → Features → Access: copy the Secret Token and paste it here as ' +
    'the secret. Then under Event Subscriptions add one with the endpoint URL {url}, press Validate (Switchboard ' +
    'answers the check), choose the events and save. Zoom re-validates the URL every 72 hours.',
  /** `endpoint.url_validation` is signed; the answer's encryptedToken uses the secret that verified it. */
  handshake(req, ctx, json) {
    const plainToken = textAt(json, 'payload', 'plainToken')
    if (textAt(json, 'event') !== 'endpoint.url_validation' || plainToken === null) return null
    const secret = v0SigningSecret(req, ctx.secrets, ctx.now(), SCHEME)
    if (secret === null) return null
    const encryptedToken = hmac('sha256', secret, plainToken).toString('hex')
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ plainToken, encryptedToken }),
    }
  },
  verify: (req, ctx) => verifyV0(req, ctx.secrets, ctx.now(), SCHEME),
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['x-zm-trackingid'] ?? null,
  eventType: (_req, json) => textAt(json, 'event'),
  sample(ctx) {
    const timestamp = unixSeconds(ctx.now())
    const body = Buffer.from(
      JSON.stringify({
        event: 'meeting.started',
        event_ts: ctx.now(),
        payload: {
          account_id: 'SWITCHBOARD',
          object: {
            id: '1234567890',
            uuid: randomUUID(),
            topic: 'Sample meeting',
            start_time: new Date(ctx.now()).toISOString(),
          },
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-zm-request-timestamp': String(timestamp),
        'x-zm-signature': signV0(ctx.secrets[0] ?? '', timestamp, body),
        'x-zm-trackingid': `Sb_${randomUUID()}`,
      },
      body,
    }
  },
}
