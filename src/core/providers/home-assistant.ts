import { randomUUID } from 'node:crypto'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { pathBelowHook } from './public-url'
import { acceptedTokens, matchesAnyToken, missingTokenMessage } from './shared-token'
import type { Provider } from './types'
import { accepted, rejected } from './verdict'
import { z } from 'zod'

const PATH_WHAT = 'the secret last path segment of the URL Home Assistant calls'

/**
 * Home Assistant calling Switchboard (rest_command, automations). Like Home Assistant's own webhook trigger,
 * the secret is part of the URL: `{url}/<secret path>`.
 */
export const homeAssistant: Provider = {
  id: 'home-assistant',
  name: 'Home Assistant',
  methods: ['POST', 'PUT', 'GET'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: false,
  options: optionsObject({
    secretPath: z
      .string({ error: 'options.secretPath must be a string' })
      .regex(/^[A-Za-z0-9_-]{16,256}$/, {
        error: 'options.secretPath must be 16–256 letters, digits, _ or -',
      })
      .optional(),
  }),
  secretOptions: ['secretPath'],
  validateSetup: (options, hasSecret) =>
    typeof options.secretPath === 'string' || hasSecret ? null : missingTokenMessage('secretPath', PATH_WHAT),
  optionDocs: [
    {
      name: 'secretPath',
      required: true,
      description: `${PATH_WHAT} (16+ random letters/digits); may be given as the secret instead.`,
    },
    publicUrlDoc,
  ],
  setup:
    'Pick a long random secret path (letters and digits) and set it here (options.secretPath or the secret). In ' +
    'Home Assistant add to configuration.yaml: rest_command: switchboard: {url: "{url}/<secret path>", ' +
    'method: POST, content_type: "application/json", payload: \'{"event_type": "…", "data": …}\'} and call ' +
    'rest_command.switchboard from your automations. Anyone who knows the full URL can send events.',
  verify(req, ctx) {
    const tokens = acceptedTokens(ctx.options.secretPath, ctx.secrets)
    if (tokens.length === 0) return rejected('no secret path configured for this source')
    const below = pathBelowHook(req.path, ctx.id)
    if (below.length < 2) return rejected('URL has no secret path segment')
    let segment: string
    try {
      segment = decodeURIComponent(below.slice(1))
    } catch {
      return rejected('secret path segment is not valid percent-encoding')
    }
    return matchesAnyToken(segment, tokens) ? accepted : rejected('secret path does not match')
  },
  dedupId: () => null,
  eventType: (_req, json) => textAt(json, 'event_type') ?? textAt(json, 'event') ?? textAt(json, 'type'),
  sample(ctx) {
    const secret = acceptedTokens(ctx.options.secretPath, ctx.secrets)[0] ?? ''
    const body = Buffer.from(
      JSON.stringify({
        event_type: 'switchboard_test',
        data: {
          entity_id: 'sensor.sample',
          state: '21.5',
          at: new Date(ctx.now()).toISOString(),
          id: randomUUID(),
        },
      }),
    )
    return {
      method: 'POST',
      pathSuffix: `/${encodeURIComponent(secret)}`,
      headers: { 'content-type': 'application/json' },
      body,
    }
  },
}
