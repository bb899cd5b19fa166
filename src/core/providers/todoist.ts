import { randomInt, randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'

const SCHEME: BodySignatureScheme = {
  headers: ['x-todoist-hmac-sha256'],
  algorithm: 'sha256',
  encoding: 'base64',
}

/** Todoist app webhooks: base64 HMAC-SHA256 of the body with the app's client secret. */
export const todoist: Provider = {
  id: 'todoist',
  name: 'Todoist',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In the Todoist App Management Console open your app → Webhooks. Webhook callback URL: {url}; choose the ' +
    "events and activate. Paste the app's Client secret here as the secret. Todoist only sends events for users " +
    'who authorized the app.',
  verify: (req, ctx) => verifyBodySignature(req, ctx.secrets, SCHEME),
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['x-todoist-delivery-id'] ?? null,
  eventType: (_req, json) => textAt(json, 'event_name'),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        event_name: 'item:added',
        user_id: '1',
        // Unique, like a real task's id: the same body twice from a Todoist source counts as a replay.
        event_data: { id: String(randomInt(1, 2 ** 47)), content: 'Sample task from Switchboard' },
        initiator: { id: '1', full_name: 'Switchboard' },
        version: '10',
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Todoist-Webhooks',
        'x-todoist-delivery-id': randomUUID(),
        'x-todoist-hmac-sha256': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
