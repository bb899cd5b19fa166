import { randomUUID } from 'node:crypto'
import { anySignatureMatches, hmac } from './hmac'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc } from './option-schemas'
import { parseIntegerTimestamp, staleness, unixSeconds } from './timestamp'
import type { InboundRequest, Provider } from './types'
import { accepted, rejected } from './verdict'
import type { ProviderId } from '../../shared/domain'

/** The Standard Webhooks reference libraries accept a timestamp 5 minutes either side of now. */
const TOLERANCE_MS = 5 * 60 * 1000

/**
 * The signing key of a Standard Webhooks secret: the base64 text after the `whsec_` prefix, decoded (unlike
 * Stripe, whose `whsec_` secret is used as a literal string).
 */
export function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64')
}

/** `v1,<base64>` for `${id}.${timestamp}.${body}`. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: Buffer): string {
  return `v1,${standardWebhooksDigest(secret, id, String(timestamp), body).toString('base64')}`
}

function standardWebhooksDigest(secret: string, id: string, timestamp: string, body: Buffer): Buffer {
  return hmac('sha256', standardWebhooksKey(secret), `${id}.${timestamp}.`, body)
}

interface SchemeConfig {
  id: ProviderId
  name: string
  /** Header prefixes to read, first with a `-id` header wins (`svix` also accepts `webhook-*`). */
  headerPrefixes: readonly string[]
  setup: string
}

/** A preset for the Standard Webhooks scheme under the given header prefix (Standard Webhooks itself, Svix). */
export function standardWebhooksPreset(config: SchemeConfig): Provider {
  const prefixOf = (req: InboundRequest): string =>
    config.headerPrefixes.find((p) => req.headers[`${p}-id`] !== undefined) ?? config.headerPrefixes[0]!
  const primary = config.headerPrefixes[0]!
  return {
    id: config.id,
    name: config.name,
    methods: ['POST'],
    requiresJson: true,
    usesSecret: true,
    secretRequired: true,
    options: optionsObject({}),
    optionDocs: [publicUrlDoc],
    setup: config.setup,
    verify(req, ctx) {
      if (ctx.secrets.length === 0) return rejected('no secret configured for this source')
      const prefix = prefixOf(req)
      const id = req.headers[`${prefix}-id`]
      const rawTimestamp = req.headers[`${prefix}-timestamp`]
      const signatureHeader = req.headers[`${prefix}-signature`]
      if (!id || !rawTimestamp || !signatureHeader) {
        return rejected(`missing ${prefix}-id, ${prefix}-timestamp or ${prefix}-signature header`)
      }
      const timestamp = parseIntegerTimestamp(rawTimestamp)
      if (timestamp === null) return rejected(`malformed ${prefix}-timestamp header`)
      const stale = staleness(timestamp * 1000, ctx.now(), TOLERANCE_MS)
      if (stale) return rejected(stale)
      // Space-separated `v1,<sig>` entries: several while the sender rolls its secret; other versions ignored.
      const presented = signatureHeader
        .split(' ')
        .filter((entry) => entry.startsWith('v1,'))
        .map((entry) => entry.slice(3))
      if (presented.length === 0) return rejected(`${prefix}-signature has no v1 signature`)
      const ok = anySignatureMatches(
        ctx.secrets,
        (secret) => standardWebhooksDigest(secret, id, rawTimestamp.trim(), req.body),
        presented,
        'base64',
      )
      return ok ? accepted : rejected(`${prefix}-signature does not match`)
    },
    dedupId: (req) => req.headers[`${prefixOf(req)}-id`] ?? null,
    eventType: (_req, json) => textAt(json, 'type'),
    sample(ctx) {
      const id = `msg_${randomUUID().replaceAll('-', '')}`
      const timestamp = unixSeconds(ctx.now())
      const body = Buffer.from(
        JSON.stringify({
          type: 'switchboard.test',
          timestamp: new Date(ctx.now()).toISOString(),
          data: { message: 'Hello from Switchboard' },
        }),
      )
      return {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [`${primary}-id`]: id,
          [`${primary}-timestamp`]: String(timestamp),
          [`${primary}-signature`]: signStandardWebhook(ctx.secrets[0] ?? '', id, timestamp, body),
        },
        body,
      }
    },
  }
}
