import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { anySignatureMatches, hmac } from './hmac'
import { textAt } from './json-fields'
import { optionsObject, publicUrlDoc, requiredChoice, requiredText } from './option-schemas'
import { signedRequestUrl, sampleRequestUrl } from './public-url'
import { parseIntegerTimestamp, staleness } from './timestamp'
import type { InboundRequest, Provider, SourceContext } from './types'
import { accepted, rejected } from './verdict'

const PLACEHOLDERS = ['body', 'timestamp', 'id', 'method', 'url'] as const
type Placeholder = (typeof PLACEHOLDERS)[number]

const headerName = (name: string) =>
  requiredText(name, 'an HTTP header name').regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, {
    error: `options.${name} must be an HTTP header name`,
  })

const optionalHeaderName = (name: string) =>
  z
    .string({ error: `options.${name} must be a string` })
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: `options.${name} must be an HTTP header name` })
    .optional()

const schema = optionsObject({
  header: headerName('header'),
  algorithm: requiredChoice('algorithm', ['sha1', 'sha256', 'sha512']),
  encoding: requiredChoice('encoding', ['hex', 'base64']),
  prefix: z
    .string({ error: 'options.prefix must be a string' })
    .max(64, { error: 'options.prefix is too long' })
    .optional(),
  signedPayload: z
    .string({ error: 'options.signedPayload must be a string' })
    .max(256, { error: 'options.signedPayload is too long' })
    .refine((t) => t.includes('{body}'), { error: 'options.signedPayload must contain {body}' })
    .refine(
      (t) =>
        [...t.matchAll(/\{([a-z]+)\}/g)].every((m) => (PLACEHOLDERS as readonly string[]).includes(m[1]!)),
      {
        error: `options.signedPayload may only use ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
      },
    )
    .optional(),
  timestampHeader: optionalHeaderName('timestampHeader'),
  timestampUnit: z.enum(['s', 'ms'], { error: 'options.timestampUnit must be s or ms' }).optional(),
  toleranceSeconds: z
    .number({ error: 'options.toleranceSeconds must be a number' })
    .int()
    .min(1, { error: 'options.toleranceSeconds must be at least 1' })
    .max(86_400, { error: 'options.toleranceSeconds is at most 86400' })
    .optional(),
  idHeader: optionalHeaderName('idHeader'),
  typeHeader: optionalHeaderName('typeHeader'),
}).superRefine((options, check) => {
  const template = options.signedPayload ?? '{body}'
  if (template.includes('{timestamp}') && !options.timestampHeader) {
    check.addIssue({
      code: 'custom',
      path: ['timestampHeader'],
      message: 'options.timestampHeader is required when options.signedPayload contains {timestamp}',
    })
  }
  if (template.includes('{id}') && !options.idHeader) {
    check.addIssue({
      code: 'custom',
      path: ['idHeader'],
      message: 'options.idHeader is required when options.signedPayload contains {id}',
    })
  }
})

type GenericHmacOptions = z.output<typeof schema>

/** The signed bytes, in order: literal text and the placeholders' values (the body as raw bytes). */
function signedParts(template: string, values: Record<Placeholder, string | Buffer>): Array<string | Buffer> {
  return template
    .split(/(\{[a-z]+\})/)
    .filter((part) => part !== '')
    .map((part) => {
      const name = /^\{([a-z]+)\}$/.exec(part)?.[1] as Placeholder | undefined
      return name !== undefined && name in values ? values[name] : part
    })
}

function signature(options: GenericHmacOptions, secret: string, parts: Array<string | Buffer>): Buffer {
  return hmac(options.algorithm, secret, ...parts)
}

function verify(req: InboundRequest, ctx: SourceContext) {
  const options = ctx.options as GenericHmacOptions
  if (ctx.secrets.length === 0) return rejected('no secret configured for this source')
  const header = options.header.toLowerCase()
  const value = req.headers[header]?.trim()
  if (!value) return rejected(`missing ${options.header} header`)
  const template = options.signedPayload ?? '{body}'
  let timestamp = ''
  if (template.includes('{timestamp}')) {
    timestamp = (req.headers[options.timestampHeader!.toLowerCase()] ?? '').trim()
    const parsed = parseIntegerTimestamp(timestamp)
    if (parsed === null) return rejected(`missing or malformed ${options.timestampHeader} header`)
    const stale = staleness(
      options.timestampUnit === 'ms' ? parsed : parsed * 1000,
      ctx.now(),
      (options.toleranceSeconds ?? 300) * 1000,
    )
    if (stale) return rejected(stale)
  }
  let url = ''
  if (template.includes('{url}')) {
    const signed = signedRequestUrl(req, ctx)
    if (signed === null) return rejected('no public URL known for this source: set options.publicUrl')
    url = signed
  }
  const id = options.idHeader ? (req.headers[options.idHeader.toLowerCase()] ?? '') : ''
  if (template.includes('{id}') && !id) return rejected(`missing ${options.idHeader} header`)
  const parts = signedParts(template, { body: req.body, timestamp, id, method: req.method, url })
  // Several signatures may be sent separated by spaces or commas (senders rolling their secret).
  const prefix = options.prefix ?? ''
  const presented = [value, ...value.split(/[\s,]+/)]
    .filter((candidate) => candidate.startsWith(prefix) && candidate.length > prefix.length)
    .map((candidate) => candidate.slice(prefix.length))
  const ok = anySignatureMatches(
    ctx.secrets,
    (secret) => signature(options, secret, parts),
    presented,
    options.encoding,
  )
  return ok ? accepted : rejected(`${options.header} does not match`)
}

/** Any sender that signs with a shared-secret HMAC, described by options. */
export const genericHmac: Provider = {
  id: 'generic-hmac',
  name: 'Generic HMAC',
  methods: ['POST', 'PUT', 'PATCH'],
  requiresJson: false,
  usesSecret: true,
  secretRequired: true,
  options: schema,
  optionDocs: [
    { name: 'header', required: true, description: 'Header carrying the signature, e.g. X-Signature.' },
    { name: 'algorithm', required: true, description: 'HMAC hash: sha1, sha256 or sha512.' },
    { name: 'encoding', required: true, description: 'Signature encoding: hex or base64.' },
    {
      name: 'prefix',
      required: false,
      description: 'Text before the digest in the header, e.g. "sha256=" (default none).',
    },
    {
      name: 'signedPayload',
      required: false,
      description:
        'What is signed, default "{body}" (the raw body). May combine {timestamp} {id} {method} {url}, e.g. "{timestamp}.{body}".',
    },
    {
      name: 'timestampHeader',
      required: false,
      description: 'Header with the timestamp, when {timestamp} is signed.',
    },
    { name: 'timestampUnit', required: false, description: 'Timestamp unit: s (default) or ms.' },
    {
      name: 'toleranceSeconds',
      required: false,
      description: 'Replay window either side of now, default 300.',
    },
    {
      name: 'idHeader',
      required: false,
      description: 'Header with a delivery id, for {id} and deduplication.',
    },
    {
      name: 'typeHeader',
      required: false,
      description: 'Header with the event type (default: the body\'s "type").',
    },
    publicUrlDoc,
  ],
  setup:
    'Configure the sender to POST to {url} and to sign each request with a shared secret; paste that secret here. ' +
    'Describe the signature in the options: header, algorithm, encoding, an optional prefix, and what is signed.',
  verify,
  dedupId(req, _json, options) {
    const idHeader = (options as Partial<GenericHmacOptions> | undefined)?.idHeader
    if (idHeader) return req.headers[idHeader.toLowerCase()] ?? null
    return req.headers['idempotency-key'] ?? req.headers['x-request-id'] ?? null
  },
  eventType(req, json, options) {
    const typeHeader = (options as Partial<GenericHmacOptions> | undefined)?.typeHeader
    if (typeHeader) return req.headers[typeHeader.toLowerCase()] ?? null
    return textAt(json, 'type') ?? textAt(json, 'event')
  },
  sample(ctx) {
    const options = ctx.options as GenericHmacOptions
    const now = ctx.now()
    const body = Buffer.from(
      JSON.stringify({ type: 'switchboard.test', id: randomUUID(), at: new Date(now).toISOString() }),
    )
    const timestamp = String(options.timestampUnit === 'ms' ? now : Math.floor(now / 1000))
    const id = randomUUID()
    const parts = signedParts(options.signedPayload ?? '{body}', {
      body,
      timestamp,
      id,
      method: 'POST',
      url: sampleRequestUrl(ctx),
    })
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [options.header.toLowerCase()]:
        (options.prefix ?? '') + signature(options, ctx.secrets[0] ?? '', parts).toString(options.encoding),
    }
    if (options.timestampHeader) headers[options.timestampHeader.toLowerCase()] = timestamp
    if (options.idHeader) headers[options.idHeader.toLowerCase()] = id
    if (options.typeHeader) headers[options.typeHeader.toLowerCase()] = 'switchboard.test'
    return { method: 'POST', headers, body }
  },
}
