import { randomBytes } from 'node:crypto'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { signTimestamped, verifyTimestampedSignature } from './timestamped-signature'
import type { TimestampedSignatureScheme } from './timestamped-signature'
import { unixSeconds } from './timestamp'
import type { Provider } from './types'

/** 300 s is the Stripe SDK's default tolerance; the `whsec_…` secret is the HMAC key as a literal string. */
const SCHEME: TimestampedSignatureScheme = {
  header: 'stripe-signature',
  label: 'Stripe-Signature',
  toleranceMs: 300 * 1000,
}

/** Stripe webhook endpoints: `Stripe-Signature: t=…,v1=…[,v1=…]`. */
export const stripe: Provider = {
  id: 'stripe',
  name: 'Stripe',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In the Stripe Dashboard open Developers → Webhooks → Add endpoint. Endpoint URL: {url}; select the events. ' +
    "Then reveal the endpoint's signing secret (whsec_…) and paste it here as the secret. Requests more than " +
    '5 minutes off the current time are refused.',
  verify: (req, ctx) => verifyTimestampedSignature(req, ctx.secrets, ctx.now(), SCHEME),
  dedupId: (_req, json) => textAt(json, 'id'),
  eventType: (_req, json) => textAt(json, 'type'),
  sample(ctx) {
    const timestamp = unixSeconds(ctx.now())
    const body = Buffer.from(
      JSON.stringify(
        {
          id: `evt_${randomBytes(12).toString('hex')}`,
          object: 'event',
          api_version: '2025-09-30.clover',
          created: timestamp,
          type: 'payment_intent.succeeded',
          livemode: false,
          pending_webhooks: 1,
          data: {
            object: {
              id: `pi_${randomBytes(12).toString('hex')}`,
              object: 'payment_intent',
              amount: 1000,
              currency: 'usd',
            },
          },
        },
        null,
        2,
      ),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'stripe-signature': signTimestamped(ctx.secrets[0] ?? '', timestamp, body),
      },
      body,
    }
  },
}
