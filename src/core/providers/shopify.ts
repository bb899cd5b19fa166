import { randomInt, randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { InboundRequest, Provider } from './types'

/** Admin-API webhooks use X-Shopify-*; the newer event deliveries drop the X- prefix. */
const SCHEME: BodySignatureScheme = {
  headers: ['x-shopify-hmac-sha256', 'shopify-hmac-sha256'],
  algorithm: 'sha256',
  encoding: 'base64',
}

const header = (req: InboundRequest, name: string): string | null =>
  req.headers[`x-shopify-${name}`] ?? req.headers[`shopify-${name}`] ?? null

/**
 * Shopify app webhooks. No replay window: X-Shopify-Triggered-At is kept across 4 hours of retries, and the
 * webhook id (stable across retries) deduplicates replays instead.
 */
export const shopify: Provider = {
  id: 'shopify',
  name: 'Shopify',
  methods: ['POST'],
  // Legacy subscriptions may deliver XML.
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    "In your app's configuration (shopify.app.toml or the Partner Dashboard) subscribe to topics with the URI " +
    "{url}. Paste the app's client secret (API secret key) here as the secret. Webhooks created in a store's " +
    'Notifications settings are signed with a different key shown on that page — paste that one instead for those.',
  verify: (req, ctx) => verifyBodySignature(req, ctx.secrets, SCHEME),
  bodyIdentifiesEvent: true,
  dedupId: (req) => header(req, 'webhook-id'),
  eventType: (req) => header(req, 'topic'),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        // Unique, like a real order's id: the same body twice from a Shopify source counts as a replay.
        id: randomInt(1, 2 ** 47),
        name: '#1001',
        email: 'customer@example.com',
        total_price: '10.00',
        currency: 'USD',
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'switchboard-test.myshopify.com',
        'x-shopify-api-version': '2025-10',
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-event-id': randomUUID(),
        'x-shopify-triggered-at': new Date(ctx.now()).toISOString(),
        'x-shopify-hmac-sha256': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
