import { randomInt } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { tokensEqual } from './hmac'
import { dotted, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'
import { rejected } from './verdict'

const SCHEME: BodySignatureScheme = { headers: ['x-hook-signature'], algorithm: 'sha256', encoding: 'hex' }

/**
 * Asana. Creating a webhook makes Asana POST an `X-Hook-Secret` to the URL, which must be echoed back; that
 * secret then signs every event (`X-Hook-Signature`). The secret is adopted only while the source has none, so
 * a stranger who learns the URL cannot replace it; to register a new Asana webhook, create a new source.
 */
export const asana: Provider = {
  id: 'asana',
  name: 'Asana',
  methods: ['POST'],
  // Not JSON-only: a refused X-Hook-Secret (empty body) must reach verify and show in the feed as rejected.
  requiresJson: false,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'Create the webhook with the Asana API: POST https://app.asana.com/api/1.0/webhooks with ' +
    '{"data": {"resource": "<project or workspace gid>", "target": "{url}"}}. Leave the secret empty here: ' +
    'Asana hands one over during creation and Switchboard keeps it. Each source accepts one such handshake.',
  handshake(req, ctx) {
    const offered = req.headers['x-hook-secret']
    if (offered === undefined || req.method !== 'POST') return null
    if (ctx.secrets.length === 0 && offered.length > 0) {
      return { status: 200, headers: { 'x-hook-secret': offered }, adoptSecret: offered }
    }
    // Asana may repeat the handshake with the same secret; anything else falls through to verify (401).
    if (ctx.secrets.some((secret) => tokensEqual(offered, secret))) {
      return { status: 200, headers: { 'x-hook-secret': offered } }
    }
    return null
  },
  verify(req, ctx) {
    if (req.headers['x-hook-secret'] !== undefined) {
      return rejected(
        'X-Hook-Secret handshake refused: this source already holds an Asana secret (create a new source)',
      )
    }
    return verifyBodySignature(req, ctx.secrets, SCHEME)
  },
  // Asana events carry no id; a retry resends the same body, so the body hash deduplicates.
  dedupId: () => null,
  eventType: (_req, json) =>
    dotted(textAt(json, 'events', 0, 'resource', 'resource_type'), textAt(json, 'events', 0, 'action')),
  sample(ctx) {
    const body = Buffer.from(
      JSON.stringify({
        events: [
          {
            action: 'changed',
            created_at: new Date(ctx.now()).toISOString(),
            resource: { gid: String(randomInt(1, 2 ** 47)), resource_type: 'task' },
            user: { gid: '1', resource_type: 'user' },
          },
        ],
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hook-signature': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
