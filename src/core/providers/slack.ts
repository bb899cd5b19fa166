import { randomBytes } from 'node:crypto'
import { formValue, isFormEncoded } from './form-body'
import { parseJsonBody, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { unixSeconds } from './timestamp'
import type { Provider } from './types'
import { signV0, verifyV0 } from './v0-signature'
import type { V0Scheme } from './v0-signature'

const SCHEME: V0Scheme = {
  signatureHeader: 'x-slack-signature',
  timestampHeader: 'x-slack-request-timestamp',
  toleranceMs: 5 * 60 * 1000,
}

/** Slack apps: Events API (JSON), slash commands and interactivity (form-encoded), all signed v0. */
export const slack: Provider = {
  id: 'slack',
  name: 'Slack',
  methods: ['POST'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'At api.slack.com/apps open your app. Basic Information → Signing Secret: paste it here as the secret. ' +
    'Event Subscriptions → Request URL: {url} (Slack checks it at once; Switchboard answers the challenge), then ' +
    'subscribe to bot events. The same URL works for Slash Commands and Interactivity.',
  /** `url_verification` is signed like any event: it is answered only when the signature holds. */
  handshake(req, ctx, json) {
    const challenge = textAt(json, 'challenge')
    if (textAt(json, 'type') !== 'url_verification' || challenge === null) return null
    if (!verifyV0(req, ctx.secrets, ctx.now(), SCHEME).ok) return null
    return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: challenge }
  },
  verify: (req, ctx) => verifyV0(req, ctx.secrets, ctx.now(), SCHEME),
  // Retries (X-Slack-Retry-Num) keep the event_id; commands and interactions are never retried.
  dedupId: (_req, json) => textAt(json, 'event_id'),
  eventType(req, json) {
    const type = textAt(json, 'type')
    if (type === 'event_callback') return textAt(json, 'event', 'type') ?? type
    if (type !== null) return type
    if (!isFormEncoded(req.headers['content-type'])) return null
    const command = formValue(req.body, 'command')
    if (command !== null) return `command:${command}`
    const payload = formValue(req.body, 'payload')
    return payload === null ? null : textAt(parseJsonBody(Buffer.from(payload)), 'type')
  },
  sample(ctx) {
    const timestamp = unixSeconds(ctx.now())
    const body = Buffer.from(
      JSON.stringify({
        token: 'unused',
        team_id: 'T00000000',
        api_app_id: 'A00000000',
        event: {
          type: 'app_mention',
          user: 'U00000000',
          text: '<@U0SWITCH> hello from Switchboard',
          ts: `${timestamp}.000100`,
          channel: 'C00000000',
        },
        type: 'event_callback',
        event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
        event_time: timestamp,
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': signV0(ctx.secrets[0] ?? '', timestamp, body),
      },
      body,
    }
  },
}
