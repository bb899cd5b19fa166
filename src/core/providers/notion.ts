import { randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { tokensEqual } from './hmac'
import { fieldAt, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'

const SCHEME: BodySignatureScheme = {
  headers: ['x-notion-signature'],
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
}

/**
 * Notion integration webhooks. Creating the subscription makes Notion POST an unsigned
 * `{"verification_token": "secret_…"}`; the user pastes that token back into Notion, and Notion signs every
 * event with it. The token is adopted only while the source has no secret (a stranger cannot replace it).
 */
export const notion: Provider = {
  id: 'notion',
  name: 'Notion',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    "In your Notion integration's settings open Webhooks → Create a subscription. Webhook URL: {url}; choose " +
    'the events. Notion then sends a verification token: Switchboard shows it on this source and keeps it as ' +
    'the secret. Copy it, paste it into Notion\'s "Verify subscription" dialog and confirm.',
  handshake(req, ctx, json) {
    const token = textAt(json, 'verification_token')
    if (token === null || req.method !== 'POST' || fieldAt(json, 'type') !== undefined) return null
    const notice = `Notion verification token — paste it into Notion's "Verify subscription" dialog: ${token}`
    if (ctx.secrets.length === 0) return { status: 200, notice, adoptSecret: token }
    if (ctx.secrets.some((secret) => tokensEqual(token, secret))) return { status: 200, notice }
    return null
  },
  verify: (req, ctx) => verifyBodySignature(req, ctx.secrets, SCHEME),
  // The event id stays the same across attempts (attempt_number grows).
  dedupId: (_req, json) => textAt(json, 'id'),
  eventType: (_req, json) => textAt(json, 'type'),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        id: randomUUID(),
        timestamp: new Date(ctx.now()).toISOString(),
        workspace_id: randomUUID(),
        subscription_id: randomUUID(),
        integration_id: randomUUID(),
        type: 'page.content_updated',
        authors: [{ id: randomUUID(), type: 'person' }],
        attempt_number: 1,
        entity: { id: randomUUID(), type: 'page' },
        data: {},
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-notion-signature': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
