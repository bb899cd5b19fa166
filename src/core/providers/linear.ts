import { randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { dotted, fieldAt, parseJsonBody, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { staleness } from './timestamp'
import type { Provider } from './types'
import { rejected } from './verdict'

const SCHEME: BodySignatureScheme = { headers: ['linear-signature'], algorithm: 'sha256', encoding: 'hex' }
/** Linear's SDK refuses a `webhookTimestamp` more than 60 s from now. */
const TOLERANCE_MS = 60 * 1000

/** Linear workspace webhooks: hex HMAC of the body; freshness from the signed body field `webhookTimestamp` (ms). */
export const linear: Provider = {
  id: 'linear',
  name: 'Linear',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In Linear open Settings → API → Webhooks → New webhook. URL: {url}; choose the teams and data types. ' +
    "After saving, copy the webhook's signing secret and paste it here as the secret.",
  verify(req, ctx) {
    const signature = verifyBodySignature(req, ctx.secrets, SCHEME)
    if (!signature.ok) return signature
    const timestamp = fieldAt(parseJsonBody(req.body), 'webhookTimestamp')
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp))
      return rejected('body has no numeric webhookTimestamp')
    const stale = staleness(timestamp, ctx.now(), TOLERANCE_MS)
    return stale ? rejected(stale) : signature
  },
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['linear-delivery'] ?? null,
  eventType: (req, json) =>
    dotted(textAt(json, 'type') ?? req.headers['linear-event'] ?? null, textAt(json, 'action')),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        action: 'create',
        type: 'Issue',
        createdAt: new Date(ctx.now()).toISOString(),
        data: { id: randomUUID(), identifier: 'TEST-1', title: 'Sample issue from Switchboard' },
        url: 'https://linear.app/switchboard/issue/TEST-1',
        organizationId: randomUUID(),
        webhookTimestamp: ctx.now(),
        webhookId: randomUUID(),
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'linear-delivery': randomUUID(),
        'linear-event': 'Issue',
        'linear-signature': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
