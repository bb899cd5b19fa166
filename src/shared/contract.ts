/**
 * The one contract between the engine and everything that talks to it.
 *
 * Every operation names its HTTP route (control API), its input schema (parsed where it enters, by the
 * control API and the IPC bridge alike) and its result type. The server's routes, the IPC channels, the
 * preload's methods and the renderer's client are all derived from `operations`; no route or channel
 * string appears anywhere else.
 */
import { z } from 'zod'
import type {
  ActionRecord,
  Alert,
  AlertWebhookDelivery,
  AlertWebhookSettings,
  EventDetail,
  EventPage,
  EventSummary,
  Health,
  Metrics,
  MonitorSettings,
  NotificationRecord,
  Page,
  ProviderPreset,
  RunDetail,
  RunSummary,
  Source,
  StepRecord,
  TunnelStatus,
  WorkflowRecord,
  WorkflowSummary,
  WorkflowVersion,
} from './domain'
import { PROVIDER_IDS } from './domain'

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be letters, digits, and _ . : - (not first)')
const limit = z.coerce.number().int().min(1).max(500).default(50)
const cursor = z
  .string()
  .max(64)
  .regex(/^[0-9]+$/, 'must be a cursor returned as nextCursor')
const flag = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
])

export const rateLimitSchema = z
  .object({
    perSecond: z.number().positive().max(100_000),
    burst: z.number().int().min(1).max(100_000),
  })
  .strict()

export const sourceCreateSchema = z
  .object({
    id: id.optional(),
    name: z.string().trim().min(1).max(200),
    provider: z.enum(PROVIDER_IDS),
    secret: z.string().min(1).max(4096).optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    enabled: z.boolean().optional(),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .optional(),
    rateLimit: rateLimitSchema.nullable().optional(),
  })
  .strict()

/** Any field of a source but its provider, by id. */
export const sourceUpdateSchema = sourceCreateSchema
  .omit({ id: true, provider: true })
  .partial()
  .extend({ id })
  .strict()

export const EVENT_STATUSES = ['accepted', 'duplicate', 'rejected', 'blocked', 'handshake'] as const
export const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'dead', 'cancelled'] as const

export const eventFilterSchema = z
  .object({
    source: id.optional(),
    status: z.enum(EVENT_STATUSES).optional(),
    type: z.string().max(200).optional(),
    q: z.string().max(500).optional(),
  })
  .strict()

export const runFilterSchema = z
  .object({
    status: z.enum(RUN_STATUSES).optional(),
    workflow: id.optional(),
    source: id.optional(),
    /** Include dead runs the user already resolved (default false for status=dead). */
    resolved: flag.optional(),
  })
  .strict()

const minutes = z
  .number()
  .int()
  .min(1)
  .max(7 * 24 * 60)
/** A partial change to monitor settings; `deadLetters` and `store` apply engine-wide (no `source`). */
export const monitorSettingsPatchSchema = z
  .object({
    expectedEveryMinutes: z
      .number()
      .positive()
      .max(366 * 24 * 60)
      .nullable()
      .optional(),
    failureRate: z
      .object({
        enabled: z.boolean(),
        windowMinutes: minutes,
        threshold: z.number().gt(0).max(1),
        minRuns: z.number().int().min(1).max(1_000_000),
      })
      .partial()
      .strict()
      .optional(),
    signatureFailures: z
      .object({
        enabled: z.boolean(),
        windowMinutes: minutes,
        threshold: z.number().int().min(1).max(1_000_000),
      })
      .partial()
      .strict()
      .optional(),
    retention: z
      .object({
        maxAgeDays: z.number().positive().max(36_500).nullable(),
        maxEvents: z.number().int().min(1).max(1_000_000_000).nullable(),
      })
      .partial()
      .strict()
      .optional(),
    deadLetters: z
      .object({
        enabled: z.boolean(),
        windowMinutes: minutes,
        growth: z.number().int().min(1).max(1_000_000),
      })
      .partial()
      .strict()
      .optional(),
    store: z
      .object({
        enabled: z.boolean(),
        limitBytes: z
          .number()
          .int()
          .min(1024 * 1024),
        warnRatio: z.number().gt(0).max(1),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict()

/**
 * Why `value` cannot be the alert webhook's URL, or null when it can: an absolute http or https URL without a
 * user name or password (fetch refuses those, and the URL is shown in the UI). Loopback and private addresses
 * are allowed, as for http steps: a self-hosted push service or home hub lives there.
 */
export function alertWebhookUrlProblem(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL, e.g. https://chat.example.com/hooks/alerts'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `must be an http or https URL, not ${url.protocol.replace(/:$/, '')}`
  if (url.username || url.password) return 'must not carry a user name or password'
  return null
}

export const alertWebhookUrlSchema = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = alertWebhookUrlProblem(value)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

/** A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export const standardWebhooksSecretSchema = z
  .string()
  .regex(
    /^whsec_(?=(?:.{4})+$)[A-Za-z0-9+/]{32,86}={0,2}$/,
    'must be whsec_ followed by the base64 of 24 to 64 random bytes',
  )

interface OperationSpec<I extends z.ZodType, R> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Route with `:param` segments; params, query and JSON body merge into the input. */
  path: string
  input: I
  /** Phantom: the result type. */
  result?: R
  /** Whether the control API serves it without a token (only health). */
  public?: boolean
}

function op<R>() {
  return <I extends z.ZodType>(spec: Omit<OperationSpec<I, R>, 'result'>): OperationSpec<I, R> => spec
}

/** How long a rotated-out secret still verifies: a day unless said, at most thirty. */
const graceSecondsSchema = z
  .number()
  .int()
  .min(0)
  .max(30 * 86400)
  .default(86400)
const empty = z.object({}).strict()
const byId = z.object({ id }).strict()

export const operations = {
  'health.get': op<Health>()({ method: 'GET', path: '/api/health', input: empty, public: true }),

  'providers.list': op<{ items: ProviderPreset[] }>()({
    method: 'GET',
    path: '/api/providers',
    input: empty,
  }),

  'sources.list': op<{ items: Source[] }>()({ method: 'GET', path: '/api/sources', input: empty }),
  'sources.create': op<Source>()({ method: 'POST', path: '/api/sources', input: sourceCreateSchema }),
  'sources.get': op<Source>()({ method: 'GET', path: '/api/sources/:id', input: byId }),
  'sources.update': op<Source>()({ method: 'PATCH', path: '/api/sources/:id', input: sourceUpdateSchema }),
  'sources.delete': op<{ deleted: true }>()({ method: 'DELETE', path: '/api/sources/:id', input: byId }),
  /** Generate a new secret (or set the given one); the old one keeps verifying for `graceSeconds`. */
  'sources.rotateSecret': op<{ source: Source; secret: string }>()({
    method: 'POST',
    path: '/api/sources/:id/rotate-secret',
    input: z
      .object({
        id,
        secret: z.string().min(1).max(4096).optional(),
        graceSeconds: graceSecondsSchema,
      })
      .strict(),
  }),
  /** Send a correctly signed sample request for the source's preset through the real receiver. */
  'sources.sendTest': op<{ status: number; body: unknown; eventId: string | null }>()({
    method: 'POST',
    path: '/api/sources/:id/test',
    input: byId,
  }),

  /**
   * Newest first. Follow `nextCursor` until it is null: a search with filters, or two or more filters, or a
   * type pattern, examines a bounded number of rows per call, so a page may hold fewer than `limit` events
   * (even none) and still have a cursor. A search waits for the full-text index to cover every event committed
   * before it; while the index is being rebuilt it answers after a short wait with `searchPending`.
   */
  'events.list': op<EventPage>()({
    method: 'GET',
    path: '/api/events',
    input: eventFilterSchema.extend({ before: cursor.optional(), limit }).strict(),
  }),
  'events.get': op<EventDetail>()({ method: 'GET', path: '/api/events/:id', input: byId }),
  /** Raw body bytes (base64 here; the HTTP route answers the bytes with the original content type). */
  'events.body': op<{ contentType: string | null; base64: string; truncated: boolean }>()({
    method: 'GET',
    path: '/api/events/:id/body',
    input: byId,
  }),
  'events.replay': op<{ runs: RunSummary[] }>()({
    method: 'POST',
    path: '/api/events/:id/replay',
    input: byId,
  }),

  'runs.list': op<Page<RunSummary>>()({
    method: 'GET',
    path: '/api/runs',
    input: runFilterSchema.extend({ before: cursor.optional(), limit }).strict(),
  }),
  'runs.get': op<RunDetail>()({ method: 'GET', path: '/api/runs/:id', input: byId }),
  'runs.retry': op<RunSummary>()({
    method: 'POST',
    path: '/api/runs/:id/retry',
    input: z.object({ id, latest: z.boolean().optional() }).strict(),
  }),
  'runs.retryBulk': op<{ retried: string[]; skipped: Array<{ id: string; reason: string }> }>()({
    method: 'POST',
    path: '/api/runs/retry',
    input: z.union([
      z.object({ ids: z.array(id).min(1).max(1000), latest: z.boolean().optional() }).strict(),
      z.object({ filter: runFilterSchema, latest: z.boolean().optional() }).strict(),
    ]),
  }),
  /** Mark a dead run as resolved (dismissed) without retrying it. */
  'runs.resolve': op<RunSummary>()({ method: 'POST', path: '/api/runs/:id/resolve', input: byId }),
  'runs.cancel': op<RunSummary>()({ method: 'POST', path: '/api/runs/:id/cancel', input: byId }),

  'workflows.list': op<{ items: WorkflowSummary[] }>()({
    method: 'GET',
    path: '/api/workflows',
    input: empty,
  }),
  'workflows.schema': op<Record<string, unknown>>()({
    method: 'GET',
    path: '/api/workflows/schema',
    input: empty,
  }),
  'workflows.create': op<WorkflowRecord>()({
    method: 'POST',
    path: '/api/workflows',
    input: z.record(z.string(), z.unknown()),
  }),
  'workflows.get': op<WorkflowRecord>()({ method: 'GET', path: '/api/workflows/:id', input: byId }),
  'workflows.put': op<WorkflowRecord>()({
    method: 'PUT',
    path: '/api/workflows/:id',
    input: z.record(z.string(), z.unknown()),
  }),
  'workflows.setEnabled': op<WorkflowRecord>()({
    method: 'POST',
    path: '/api/workflows/:id/enabled',
    input: z.object({ id, enabled: z.boolean() }).strict(),
  }),
  'workflows.delete': op<{ deleted: true }>()({ method: 'DELETE', path: '/api/workflows/:id', input: byId }),
  'workflows.versions': op<{ items: WorkflowVersion[] }>()({
    method: 'GET',
    path: '/api/workflows/:id/versions',
    input: byId,
  }),
  /** Dry run: the workflow (stored, or the given definition) on a sample event; outgoing calls recorded, not sent. */
  'workflows.test': op<{
    run: RunDetail
    calls: Array<{
      stepId: string
      method: string
      url: string
      headers: Record<string, string>
      body: unknown
    }>
    matched: boolean
  }>()({
    method: 'POST',
    path: '/api/workflows/:id/test',
    input: z
      .object({
        id,
        event: z.unknown().optional(),
        eventId: id.optional(),
        headers: z.record(z.string(), z.string()).optional(),
        definition: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
  }),

  'secrets.list': op<{ items: Array<{ name: string; updatedAt: number }> }>()({
    method: 'GET',
    path: '/api/secrets',
    input: empty,
  }),
  'secrets.put': op<{ name: string; updatedAt: number }>()({
    method: 'PUT',
    path: '/api/secrets/:name',
    input: z
      .object({
        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be an identifier (letters, digits, _)'),
        value: z.string().min(1).max(65536),
      })
      .strict(),
  }),
  'secrets.delete': op<{ deleted: true }>()({
    method: 'DELETE',
    path: '/api/secrets/:name',
    input: z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/) }).strict(),
  }),

  'actions.list': op<Page<ActionRecord>>()({
    method: 'GET',
    path: '/api/actions',
    input: z.object({ before: cursor.optional(), limit }).strict(),
  }),
  'notifications.list': op<{ items: NotificationRecord[] }>()({
    method: 'GET',
    path: '/api/notifications',
    input: z.object({ limit }).strict(),
  }),

  'metrics.get': op<Metrics>()({
    method: 'GET',
    path: '/api/metrics',
    input: z.object({ format: z.enum(['json', 'prometheus']).optional() }).strict(),
  }),
  'alerts.list': op<{ items: Alert[] }>()({
    method: 'GET',
    path: '/api/alerts',
    input: z.object({ open: flag.optional() }).strict(),
  }),
  /** Where alerts are sent as signed Standard Webhooks; never shows the secret. */
  'alerts.webhook.get': op<AlertWebhookSettings>()({
    method: 'GET',
    path: '/api/alerts/webhook',
    input: empty,
  }),
  /**
   * Set the URL (null turns the webhook off and forgets its secret). A secret is generated when none is set
   * and none is given; `secret` in the result is the new one, shown only this once (null when unchanged).
   * Refused (409) while the engine's configuration fixes the webhook.
   */
  'alerts.webhook.set': op<{ webhook: AlertWebhookSettings; secret: string | null }>()({
    method: 'PUT',
    path: '/api/alerts/webhook',
    input: z
      .object({ url: alertWebhookUrlSchema.nullable(), secret: standardWebhooksSecretSchema.optional() })
      .strict()
      .superRefine((input, ctx) => {
        if (input.url === null && input.secret !== undefined)
          ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only with a url' })
      }),
  }),
  /** Generate a new secret (or set the given one); deliveries carry both signatures for `graceSeconds`. */
  'alerts.webhook.rotateSecret': op<{ webhook: AlertWebhookSettings; secret: string }>()({
    method: 'POST',
    path: '/api/alerts/webhook/rotate-secret',
    input: z
      .object({
        secret: standardWebhooksSecretSchema.optional(),
        graceSeconds: graceSecondsSchema,
      })
      .strict(),
  }),
  /** Send a test alert (`type: "alert.test"`) to the webhook now and answer how the delivery went. */
  'alerts.webhook.test': op<AlertWebhookDelivery>()({
    method: 'POST',
    path: '/api/alerts/webhook/test',
    input: empty,
  }),

  'monitor.settings': op<MonitorSettings>()({ method: 'GET', path: '/api/monitor/settings', input: empty }),
  /** Change alert thresholds and retention for one source, or the defaults (and global rules) without `source`. */
  'monitor.configure': op<MonitorSettings>()({
    method: 'PUT',
    path: '/api/monitor/settings',
    input: z
      .object({
        source: id.optional(),
        /** A partial patch merged into the stored settings; null clears a source's overrides. */
        settings: monitorSettingsPatchSchema.nullable(),
      })
      .strict(),
  }),

  'tunnel.get': op<TunnelStatus>()({ method: 'GET', path: '/api/tunnel', input: empty }),
  'tunnel.configure': op<TunnelStatus>()({
    method: 'PUT',
    path: '/api/tunnel',
    input: z
      .object({
        mode: z.enum(['tunnel', 'external', 'off']),
        host: z.url().optional(),
        subdomain: z.string().max(63).optional(),
        externalUrl: z.url().optional(),
      })
      .strict(),
  }),

  'intake.get': op<{ paused: boolean }>()({ method: 'GET', path: '/api/intake', input: empty }),
  'intake.set': op<{ paused: boolean }>()({
    method: 'PUT',
    path: '/api/intake',
    input: z.object({ paused: z.boolean() }).strict(),
  }),
} as const

export type Operations = typeof operations
export type OperationName = keyof Operations
export type OperationInput<K extends OperationName> = z.output<Operations[K]['input']>
export type OperationArgs<K extends OperationName> = z.input<Operations[K]['input']>
export type OperationResult<K extends OperationName> =
  Operations[K] extends OperationSpec<z.ZodType, infer R> ? R : never

/** The engine side: one handler per operation, given parsed input. */
export type OperationHandlers = {
  [K in OperationName]: (input: OperationInput<K>) => Promise<OperationResult<K>> | OperationResult<K>
}

/** The client side: one method per operation, same name, taking raw (unparsed) arguments. */
export type ApiClient = {
  [K in OperationName]: (args: OperationArgs<K>) => Promise<OperationResult<K>>
}

export const OPERATION_NAMES = Object.keys(operations) as OperationName[]

/** Every change the feed shows, pushed on the SSE stream and over IPC. */
export type Change =
  | { type: 'event'; event: EventSummary }
  | { type: 'run'; run: RunSummary }
  | { type: 'step'; step: StepRecord }
  | { type: 'source'; source: Source }
  | { type: 'source-deleted'; id: string }
  | { type: 'workflow'; workflow: WorkflowSummary }
  | { type: 'workflow-deleted'; id: string }
  | { type: 'tunnel'; tunnel: TunnelStatus }
  | { type: 'alert'; alert: Alert }
  | { type: 'notification'; notification: NotificationRecord }
  | { type: 'action'; action: ActionRecord }
  | { type: 'intake'; paused: boolean }

export type ChangeType = Change['type']

export const ERROR_CODES = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const
export type ErrorCode = keyof typeof ERROR_CODES

/** The error every operation throws for a refusal; serialized as `{"error": {"code", "message", "details"?}}`. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
  get status(): number {
    return ERROR_CODES[this.code]
  }
  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    }
  }
}

/** Turn a zod failure into a bad_request that names each field. */
export function badInput(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
  const first = issues[0]
  const message = first ? `${first.path || 'input'}: ${first.message}` : 'invalid input'
  return new ApiError('bad_request', message, { issues })
}

/** Parse an operation's raw input; throws ApiError('bad_request') naming the field. */
export function parseInput<K extends OperationName>(name: K, raw: unknown): OperationInput<K> {
  const result = operations[name].input.safeParse(raw ?? {})
  if (!result.success) throw badInput(result.error)
  return result.data as OperationInput<K>
}
