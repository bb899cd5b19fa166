import { randomUUID } from 'node:crypto'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { signTimestamped, verifyTimestampedSignature } from './timestamped-signature'
import type { TimestampedSignatureScheme } from './timestamped-signature'
import { unixSeconds } from './timestamp'
import type { Provider } from './types'

/** Calendly's documentation uses a 3-minute tolerance. */
const SCHEME: TimestampedSignatureScheme = {
  header: 'calendly-webhook-signature',
  label: 'Calendly-Webhook-Signature',
  toleranceMs: 3 * 60 * 1000,
}

/** Calendly webhook subscriptions created with a signing key: `Calendly-Webhook-Signature: t=…,v1=…`. */
export const calendly: Provider = {
  id: 'calendly',
  name: 'Calendly',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'Create the subscription with the Calendly API: POST https://api.calendly.com/webhook_subscriptions with ' +
    '"url": "{url}", the events (invitee.created, invitee.canceled…), the organization/user and scope, and ' +
    '"signing_key": a long random string — paste the same string here as the secret.',
  verify: (req, ctx) => verifyTimestampedSignature(req, ctx.secrets, ctx.now(), SCHEME),
  // No delivery id: the invitee URI plus the event names it (invitee.created and .canceled share the URI).
  dedupId(_req, json) {
    const event = textAt(json, 'event')
    const uri = textAt(json, 'payload', 'uri')
    return event && uri ? `${event}:${uri}` : null
  },
  eventType: (_req, json) => textAt(json, 'event'),
  sample(ctx) {
    const timestamp = unixSeconds(ctx.now())
    const body = Buffer.from(
      JSON.stringify({
        event: 'invitee.created',
        created_at: new Date(ctx.now()).toISOString(),
        created_by: 'https://api.calendly.com/users/SWITCHBOARD',
        payload: {
          uri: `https://api.calendly.com/scheduled_events/${randomUUID()}/invitees/${randomUUID()}`,
          email: 'invitee@example.com',
          name: 'Sample Invitee',
          status: 'active',
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'calendly-webhook-signature': signTimestamped(ctx.secrets[0] ?? '', timestamp, body),
      },
      body,
    }
  },
}
