import { randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'

const SCHEME: BodySignatureScheme = { headers: ['x-cal-signature-256'], algorithm: 'sha256', encoding: 'hex' }

/** Cal.com booking webhooks: hex HMAC-SHA256 of the body with the webhook's secret. */
export const calCom: Provider = {
  id: 'cal-com',
  name: 'Cal.com',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In Cal.com open Settings → Developer → Webhooks → New. Subscriber URL: {url}. Secret: a long random ' +
    'string — paste the same string here as the secret. Pick the event triggers (booking created, cancelled…).',
  verify: (req, ctx) => verifyBodySignature(req, ctx.secrets, SCHEME),
  // No delivery id: a booking's uid plus the trigger names the event (a retry resends both).
  dedupId(_req, json) {
    const trigger = textAt(json, 'triggerEvent')
    const booking = textAt(json, 'payload', 'uid') ?? textAt(json, 'payload', 'bookingId')
    return trigger && booking ? `${trigger}:${booking}` : null
  },
  eventType: (_req, json) => textAt(json, 'triggerEvent'),
  sample(ctx) {
    const start = new Date(ctx.now() + 86_400_000)
    const body = Buffer.from(
      JSON.stringify({
        triggerEvent: 'BOOKING_CREATED',
        createdAt: new Date(ctx.now()).toISOString(),
        payload: {
          uid: randomUUID(),
          title: 'Sample booking from Switchboard',
          startTime: start.toISOString(),
          endTime: new Date(start.getTime() + 1_800_000).toISOString(),
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-cal-signature-256': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
