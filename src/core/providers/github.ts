import { randomInt, randomUUID } from 'node:crypto'
import { signBody, verifyBodySignature } from './body-signature'
import type { BodySignatureScheme } from './body-signature'
import { dotted, textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import type { Provider } from './types'

const SHA256: BodySignatureScheme = {
  headers: ['x-hub-signature-256'],
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'sha256=',
}
/** GitHub Enterprise Server before 3.0 sends only the SHA-1 header; used only when the SHA-256 one is absent. */
const SHA1_LEGACY: BodySignatureScheme = {
  headers: ['x-hub-signature'],
  algorithm: 'sha1',
  encoding: 'hex',
  prefix: 'sha1=',
}

/** GitHub repository / organization / app webhooks. */
export const github: Provider = {
  id: 'github',
  name: 'GitHub',
  methods: ['POST'],
  // GitHub delivers application/x-www-form-urlencoded (payload=…) when the hook is set up that way.
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: optionsObject({}),
  optionDocs: [publicUrlDoc],
  setup:
    'In the repository (or organization) open Settings → Webhooks → Add webhook. Payload URL: {url}. ' +
    'Content type: application/json. Secret: a long random string — paste the same string here as the secret. ' +
    'Pick the events you want. GitHub sends a signed "ping" event right away.',
  verify(req, ctx) {
    const scheme =
      req.headers['x-hub-signature-256'] === undefined && req.headers['x-hub-signature'] !== undefined
        ? SHA1_LEGACY
        : SHA256
    return verifyBodySignature(req, ctx.secrets, scheme)
  },
  bodyIdentifiesEvent: true,
  dedupId: (req) => req.headers['x-github-delivery'] ?? null,
  eventType: (req, json) => dotted(req.headers['x-github-event'] ?? null, textAt(json, 'action')),
  sample(ctx) {
    // A body of its own for every sample: the same body twice from a GitHub source counts as a replay.
    const hookId = randomInt(1, 2 ** 47)
    const body = Buffer.from(
      JSON.stringify({
        zen: 'Keep it logically awesome.',
        hook_id: hookId,
        hook: { type: 'Repository', id: hookId, active: true, events: ['push'] },
      }),
    )
    return {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/switchboard-test',
        'x-github-event': 'ping',
        'x-github-delivery': randomUUID(),
        'x-github-hook-id': String(hookId),
        'x-hub-signature-256': signBody(ctx.secrets[0] ?? '', body, SHA256),
      },
      body,
    }
  },
}
