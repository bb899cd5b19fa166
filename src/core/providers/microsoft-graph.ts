import { randomUUID } from 'node:crypto'
import { fieldAt, parseJsonBody, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { acceptedTokens, matchesAnyToken, missingTokenMessage } from './shared-token'
import type { Provider } from './types'
import { accepted, rejected } from './verdict'
import { z } from 'zod'

const CLIENT_STATE_WHAT = 'the clientState given when creating the subscription'

/** Microsoft Graph change notifications (Outlook calendar, mail, …): every notification repeats clientState. */
export const microsoftGraph: Provider = {
  id: 'microsoft-graph',
  name: 'Microsoft Graph',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({
    clientState: z
      .string({ error: 'options.clientState must be a string' })
      .min(1, { error: 'options.clientState must not be empty' })
      .max(128, { error: 'options.clientState is at most 128 characters (a Graph limit)' })
      .optional(),
  }),
  secretOptions: ['clientState'],
  validateSetup: (options, hasSecret) =>
    typeof options.clientState === 'string' || hasSecret
      ? null
      : missingTokenMessage('clientState', CLIENT_STATE_WHAT),
  optionDocs: [
    {
      name: 'clientState',
      required: true,
      description: `The secret clientState (${CLIENT_STATE_WHAT}, ≤ 128 characters); may be given as the secret instead.`,
    },
    publicUrlDoc,
  ],
  setup:
    'Pick a random clientState (at most 128 characters) and set it here (options.clientState or the secret). ' +
    'Then create the subscription: POST https://graph.microsoft.com/v1.0/subscriptions with ' +
    '{"changeType": "created,updated,deleted", "notificationUrl": "{url}", "resource": "me/events", ' +
    '"expirationDateTime": "<within the resource\'s limit>", "clientState": "<the clientState>"}. Graph validates ' +
    'the URL first (Switchboard echoes the validationToken). Renew the subscription before it expires.',
  /** Subscription creation (and lifecycle re-validation): echo validationToken as text/plain within 10 s. */
  handshake(req) {
    const token = new URLSearchParams(req.query).get('validationToken')
    if (token === null) return null
    return {
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      body: token,
    }
  },
  verify(req, ctx) {
    const tokens = acceptedTokens(ctx.options.clientState, ctx.secrets)
    if (tokens.length === 0) return rejected('no clientState configured for this source')
    const items = fieldAt(parseJsonBody(req.body), 'value')
    if (!Array.isArray(items) || items.length === 0) return rejected('body has no notifications in "value"')
    for (const [index, item] of items.entries()) {
      const presented = textAt(item, 'clientState')
      if (presented === null) return rejected(`value[${index}] has no clientState`)
      if (!matchesAnyToken(presented, tokens)) return rejected(`value[${index}].clientState does not match`)
    }
    return accepted
  },
  // No notification id: a retry resends the same body, whose hash deduplicates.
  dedupId: () => null,
  eventType: (_req, json) =>
    textAt(json, 'value', 0, 'lifecycleEvent') ?? textAt(json, 'value', 0, 'changeType'),
  sample(ctx) {
    const clientState = acceptedTokens(ctx.options.clientState, ctx.secrets)[0] ?? ''
    const eventId = randomUUID()
    const body = Buffer.from(
      JSON.stringify({
        value: [
          {
            subscriptionId: randomUUID(),
            subscriptionExpirationDateTime: new Date(ctx.now() + 2 * 86_400_000).toISOString(),
            changeType: 'created',
            resource: `Users/me/Events/${eventId}`,
            resourceData: {
              '@odata.type': '#Microsoft.Graph.Event',
              '@odata.id': `Users/me/Events/${eventId}`,
              id: eventId,
            },
            clientState,
            tenantId: randomUUID(),
          },
        ],
      }),
    )
    return { method: 'POST', headers: { 'content-type': 'application/json' }, body }
  },
}
