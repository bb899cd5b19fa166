import { z } from 'zod'
import type { Provider } from './types'

/** No verification: anyone who knows the URL can post. For services that sign nothing and for local tests. */
export const none: Provider = {
  id: 'none',
  name: 'Unsigned (any sender)',
  methods: ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'],
  requiresJson: false,
  usesSecret: false,
  secretRequired: false,
  options: z.object({}).passthrough(),
  optionDocs: [],
  setup:
    'Point the service at {url}. Requests are not verified, so anyone who learns the URL can send events: ' +
    'prefer a signed preset when the service offers one.',
  verify: () => ({ ok: true }),
  dedupId: (req) => req.headers['idempotency-key'] ?? req.headers['x-request-id'] ?? null,
  eventType: (_req, json) => {
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const body = json as Record<string, unknown>
      for (const key of ['type', 'event', 'event_type', 'eventType', 'topic']) {
        if (typeof body[key] === 'string') return body[key]
      }
    }
    return null
  },
  sample: () => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(
      JSON.stringify({ type: 'switchboard.test', message: 'Hello from Switchboard', at: Date.now() }),
    ),
  }),
}
