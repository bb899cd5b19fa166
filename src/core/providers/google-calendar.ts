import { randomUUID } from 'node:crypto'
import { optionalText, optionsObject, publicUrlDoc } from './option-schemas'
import { acceptedTokens, matchesAnyToken, missingTokenMessage } from './shared-token'
import type { InboundRequest, Provider, SourceContext } from './types'
import { accepted, rejected } from './verdict'

const TOKEN_WHAT = 'the token passed to events.watch()'

/** Google signs nothing: the channel token chosen at watch() time comes back on every notification. */
function checkToken(req: InboundRequest, ctx: SourceContext) {
  const tokens = acceptedTokens(ctx.options.channelToken, ctx.secrets)
  if (tokens.length === 0) return rejected('no channel token configured for this source')
  const presented = req.headers['x-goog-channel-token']
  if (presented === undefined) return rejected('missing X-Goog-Channel-Token header')
  return matchesAnyToken(presented, tokens) ? accepted : rejected('X-Goog-Channel-Token does not match')
}

/** Google Calendar push notifications (events.watch channels). */
export const googleCalendar: Provider = {
  id: 'google-calendar',
  name: 'Google Calendar',
  methods: ['POST'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({ channelToken: optionalText('channelToken') }),
  secretOptions: ['channelToken'],
  validateSetup: (options, hasSecret) =>
    typeof options.channelToken === 'string' || hasSecret
      ? null
      : missingTokenMessage('channelToken', TOKEN_WHAT),
  optionDocs: [
    {
      name: 'channelToken',
      required: true,
      description: `The channel token (${TOKEN_WHAT}); may be given as the secret instead.`,
    },
    publicUrlDoc,
  ],
  setup:
    'Pick a long random channel token and set it here (options.channelToken or the secret). Then call the Calendar ' +
    'API events.watch for your calendar with {"id": "<a new uuid>", "type": "web_hook", "address": "{url}", ' +
    '"token": "<the channel token>"}. Channels expire (about a week): renew them before X-Goog-Channel-Expiration. ' +
    'Notifications carry no event details; fetch changes with the sync token.',
  /** The `sync` message right after watch() only needs a 200 (with the right token). */
  handshake(req, ctx) {
    if (req.headers['x-goog-resource-state'] !== 'sync') return null
    return checkToken(req, ctx).ok ? { status: 200 } : null
  },
  verify: checkToken,
  dedupId(req) {
    const channel = req.headers['x-goog-channel-id']
    const message = req.headers['x-goog-message-number']
    return channel && message ? `${channel}:${message}` : null
  },
  eventType: (req) => req.headers['x-goog-resource-state'] ?? null,
  sample(ctx) {
    const token = acceptedTokens(ctx.options.channelToken, ctx.secrets)[0] ?? ''
    return {
      method: 'POST',
      headers: {
        'x-goog-channel-id': randomUUID(),
        'x-goog-channel-token': token,
        'x-goog-channel-expiration': new Date(ctx.now() + 7 * 86_400_000).toUTCString(),
        'x-goog-message-number': String(ctx.now()),
        'x-goog-resource-id': 'switchboard-sample-resource',
        'x-goog-resource-state': 'exists',
        'x-goog-resource-uri': 'https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json',
      },
      body: Buffer.alloc(0),
    }
  },
}
