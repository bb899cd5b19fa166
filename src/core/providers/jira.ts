import { randomInt, randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'

/** Jira Cloud admin webhooks with a secret sign the body WebSub-style (`method=sig`). */
const SCHEME: BodySignatureScheme = {
  headers: ['x-hub-signature'],
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
}

/** Jira Cloud (admin webhook with a secret). The body `timestamp` is the event time, kept across retries, so no replay window. */
export const jira: Provider = {
  id: 'jira',
  name: 'Jira Cloud',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In Jira open Settings → System → WebHooks → Create a WebHook. URL: {url}. Secret: generate one and paste ' +
    'the same value here as the secret. Choose the events (and an optional JQL filter) and save.',
  verify: (req, ctx) => verifyBodySignature(req, ctx.secrets, SCHEME),
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['x-atlassian-webhook-identifier'] ?? null,
  eventType: (_req, json) => textAt(json, 'webhookEvent'),
  sample(ctx) {
    const now = ctx.now()
    const body = Buffer.from(
      JSON.stringify({
        timestamp: now,
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_generic',
        // A body of its own for every sample: the same body twice from a Jira source counts as a replay.
        issue: {
          id: String(randomInt(10_000, 2 ** 47)),
          key: 'TEST-1',
          fields: { summary: 'Sample issue from Switchboard' },
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-atlassian-webhook-identifier': randomUUID(),
        'x-hub-signature': signBody(ctx.secrets[0] ?? '', body, SCHEME),
      },
      body,
    }
  },
}
