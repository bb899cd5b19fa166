import { randomUUID } from 'node:crypto'
import { tokensEqual } from './hmac'
import { dotted, textAt } from './json-fields'
import { optionalText, optionsObject, publicUrlDoc, requiredText } from './option-schemas'
import { acceptedTokens, matchesAnyToken, missingTokenMessage } from './shared-token'
import type { Provider } from './types'
import { accepted, rejected } from './verdict'

/** `user:password` from an `Authorization: Basic …` header, or null. */
function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match) return null
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? null : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** Pipedrive webhooks sign nothing; the webhook's HTTP Basic credentials are the check. */
export const pipedrive: Provider = {
  id: 'pipedrive',
  name: 'Pipedrive',
  methods: ['POST'],
  requiresJson: true,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({
    username: requiredText('username', 'the HTTP auth username set on the Pipedrive webhook'),
    password: optionalText('password'),
  }),
  secretOptions: ['password'],
  validateSetup: (options, hasSecret) =>
    typeof options.password === 'string' || hasSecret
      ? null
      : missingTokenMessage('password', 'the HTTP auth password set on the Pipedrive webhook'),
  optionDocs: [
    { name: 'username', required: true, description: 'HTTP auth username set on the Pipedrive webhook.' },
    {
      name: 'password',
      required: true,
      description: 'HTTP auth password set on the Pipedrive webhook; may be given as the secret instead.',
    },
    publicUrlDoc,
  ],
  setup:
    'Choose a username and a long random password and set them here (options.username, and options.password ' +
    'or the secret). In Pipedrive open Tools and apps → Webhooks → Create new webhook: Endpoint URL {url}, ' +
    'the event action and object, and the same HTTP Auth username and password.',
  verify(req, ctx) {
    const passwords = acceptedTokens(ctx.options.password, ctx.secrets)
    const username = ctx.options.username
    if (typeof username !== 'string' || passwords.length === 0)
      return rejected('no username/password configured for this source')
    const credentials = basicCredentials(req.headers.authorization)
    if (!credentials) return rejected('missing HTTP Basic Authorization header')
    const userOk = tokensEqual(credentials.username, username)
    const passwordOk = matchesAnyToken(credentials.password, passwords)
    return userOk && passwordOk ? accepted : rejected('HTTP Basic credentials do not match')
  },
  // v2 meta.id names the event and survives retries; v1's meta.id is the object's id, so v1 falls back to the body hash.
  dedupId: (_req, json) => (textAt(json, 'meta', 'version') === '2.0' ? textAt(json, 'meta', 'id') : null),
  eventType: (_req, json) =>
    dotted(textAt(json, 'meta', 'entity'), textAt(json, 'meta', 'action')) ?? textAt(json, 'event'),
  sample(ctx) {
    const username = typeof ctx.options.username === 'string' ? ctx.options.username : ''
    const password = acceptedTokens(ctx.options.password, ctx.secrets)[0] ?? ''
    const body = Buffer.from(
      JSON.stringify({
        data: { id: 1, title: 'Sample deal from Switchboard', value: 1000, currency: 'EUR', status: 'open' },
        previous: null,
        meta: {
          action: 'create',
          entity: 'deal',
          entity_id: '1',
          id: randomUUID(),
          timestamp: new Date(ctx.now()).toISOString(),
          type: 'general',
          version: '2.0',
          attempt: 1,
        },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      },
      body,
    }
  },
}
