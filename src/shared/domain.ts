/**
 * Domain types shared by the engine, the control API, the IPC bridge and the renderer.
 * Pure: no node, electron or DOM imports. Timestamps are milliseconds since the epoch.
 */

export const PROVIDER_IDS = [
  'standard-webhooks',
  'svix',
  'github',
  'stripe',
  'slack',
  'linear',
  'jira',
  'asana',
  'trello',
  'todoist',
  'notion',
  'google-calendar',
  'microsoft-graph',
  'calendly',
  'cal-com',
  'hubspot',
  'shopify',
  'twilio',
  'zoom',
  'home-assistant',
  'pipedrive',
  'generic-hmac',
  'none',
] as const
export type ProviderId = (typeof PROVIDER_IDS)[number]

/** A configured webhook endpoint: one per provider account. Secrets are never part of it. */
export interface Source {
  id: string
  name: string
  provider: ProviderId
  enabled: boolean
  options: Record<string, unknown>
  /** Whether a signing secret is set (the secret itself is never returned). */
  hasSecret: boolean
  /** Until when the previous secret still verifies after a rotation, or null. */
  previousSecretUntil: number | null
  /** Body size limit in bytes for this source. */
  maxBodyBytes: number
  /** Per-source rate limit; null means off. */
  rateLimit: { perSecond: number; burst: number } | null
  /** Local receiver URL (absolute). */
  url: string
  /** The URL the provider calls (tunnel or configured external URL), or null when there is none. */
  publicUrl: string | null
  createdAt: number
  updatedAt: number
  lastReceivedAt: number | null
  /** Something the provider handed over that the user must act on (Notion verification token, …). */
  notice: string | null
}

/**
 * What happened to an inbound request.
 * - accepted: stored, verified (or the preset has no check), workflows triggered
 * - duplicate: same provider delivery id as an earlier event; stored, triggers nothing
 * - rejected: failed verification; stored (bounded) for the feed, answered 401
 * - blocked: over the hop limit (loop guard); stored, triggers nothing
 * - handshake: a provider's setup handshake, answered with its own response
 */
export type EventStatus = 'accepted' | 'duplicate' | 'rejected' | 'blocked' | 'handshake'

export type Verification = 'verified' | 'failed' | 'unsigned'

export interface EventSummary {
  id: string
  sourceId: string
  provider: ProviderId | null
  receivedAt: number
  method: string
  path: string
  type: string | null
  status: EventStatus
  verification: Verification
  reason: string | null
  dedupId: string
  duplicateOf: string | null
  hop: number
  contentType: string | null
  bodySize: number
  /** One human line derived from the body, for the feed. */
  summary: string
  /** Number of runs this event started. */
  runCount: number
}

export interface EventDetail extends EventSummary {
  query: string
  headers: Record<string, string>
  /** Whether the stored body is only a prefix (rejected requests keep a bounded prefix). */
  bodyTruncated: boolean
  /** The body decoded as UTF-8 when it is text, else null (fetch the raw bytes from the body route). */
  bodyText: string | null
  runs: RunSummary[]
}

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'dead' | 'cancelled'

export interface RunSummary {
  id: string
  eventId: string
  workflowId: string
  workflowVersion: number
  workflowName: string
  status: RunStatus
  /** Id of the step that is current (running, waiting or failed), or null. */
  currentStep: string | null
  error: string | null
  /** Set when a dead run was resolved (dismissed) by the user. */
  resolvedAt: number | null
  createdAt: number
  updatedAt: number
  finishedAt: number | null
  dryRun: boolean
}

export type StepStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'skipped'

export interface AttemptRecord {
  n: number
  startedAt: number
  finishedAt: number | null
  ok: boolean
  error: string | null
  request: { method: string; url: string; headers: Record<string, string>; body: string | null } | null
  response: { status: number; headers: Record<string, string>; body: string | null } | null
  /** When the next attempt is scheduled, if any. */
  retryAt: number | null
}

export interface StepRecord {
  runId: string
  stepId: string
  kind: string
  status: StepStatus
  input: unknown
  output: unknown
  error: string | null
  attempts: AttemptRecord[]
  startedAt: number | null
  finishedAt: number | null
}

export interface RunDetail extends RunSummary {
  steps: StepRecord[]
  /** URL a third party can call to resume a waiting run (callback), when the run has one. */
  callbackUrl: string | null
}

export interface WorkflowSummary {
  id: string
  name: string
  enabled: boolean
  version: number
  trigger: { source: string; types?: string[]; when?: string }
  updatedAt: number
}

export interface WorkflowRecord extends WorkflowSummary {
  /** The workflow document as the user wrote it. */
  definition: Record<string, unknown>
}

export interface WorkflowVersion {
  workflowId: string
  version: number
  createdAt: number
  definition: Record<string, unknown>
}

/** An explicit user action, recorded for the history. */
export interface ActionRecord {
  id: string
  at: number
  kind: 'retry' | 'replay' | 'resolve' | 'bulk-retry' | 'rotate-secret' | 'test-event' | 'alert-webhook'
  target: string
  detail: Record<string, unknown>
}

export type TunnelState = 'off' | 'connecting' | 'online' | 'degraded' | 'reconnecting' | 'failed'

export interface TunnelStatus {
  state: TunnelState
  mode: 'tunnel' | 'external' | 'off'
  url: string | null
  host: string | null
  subdomain: string | null
  error: string | null
  lastProbeAt: number | null
  lastProbeOk: boolean | null
  history: Array<{ at: number; state: TunnelState; url: string | null; message: string | null }>
}

export type AlertSeverity = 'info' | 'warning' | 'critical'

export interface Alert {
  id: string
  rule: string
  sourceId: string | null
  severity: AlertSeverity
  title: string
  message: string
  openedAt: number
  resolvedAt: number | null
  data: Record<string, unknown>
}

/** The outcome of one attempt to send an alert (or a test alert) to the outgoing alert webhook. */
export interface AlertWebhookDelivery {
  at: number
  /** The `webhook-id` header sent (the receiver's dedup key). */
  webhookId: string
  type: 'alert.opened' | 'alert.resolved' | 'alert.test'
  url: string
  /** The target answered 2xx. */
  ok: boolean
  /** The target's HTTP status; null when it never answered (refused, unreachable, timed out). */
  status: number | null
  /** Why it failed; null when ok. */
  error: string | null
}

/**
 * The outgoing alert webhook as the API shows it: never the signing secret itself (that is shown once, when
 * generated or rotated), only whether one is set and its last four characters.
 */
export interface AlertWebhookSettings {
  /** Where alerts go; null when the webhook is off. */
  url: string | null
  hasSecret: boolean
  /** `whsec_…` and the secret's last four characters, to tell secrets apart; null without one. */
  secretHint: string | null
  /** Until then deliveries are also signed with the previous secret (after a rotation). */
  previousSecretUntil: number | null
  /** Set by the engine's configuration (EngineConfig.alertWebhook): it wins, and cannot be changed here. */
  fixedByConfig: boolean
  updatedAt: number | null
  /** The last delivery since the engine started, or null. */
  lastDelivery: AlertWebhookDelivery | null
}

export interface NotificationRecord {
  id: string
  at: number
  title: string
  body: string | null
  runId: string | null
  eventId: string | null
}

export interface ProviderPreset {
  id: ProviderId
  name: string
  /** Whether the preset verifies with a shared secret. */
  usesSecret: boolean
  secretRequired: boolean
  /** Option names this preset understands, with a line each for the UI. */
  options: Array<{ name: string; required: boolean; description: string }>
  /** Step-by-step setup text, with `{url}` standing for the public URL. */
  setup: string
}

/** Observations and estimated quantiles (milliseconds; null before the first observation). */
export interface LatencySummary {
  count: number
  p50Ms: number | null
  p95Ms: number | null
  p99Ms: number | null
}

export interface Metrics {
  at: number
  totals: Record<string, number>
  perSource: Array<{ sourceId: string; type: string | null } & Record<string, number | string | null>>
  series: Array<{ name: string; sourceId: string | null; points: Array<[number, number]> }>
  queueDepth: number
  deadLettersOpen: number
  /** Acknowledgement latency per source since start (estimated from a histogram), in milliseconds. */
  ackLatency?: Array<{ sourceId: string } & LatencySummary>
  /** Step duration per step kind since start, in milliseconds. */
  stepLatency?: Array<{ kind: string } & LatencySummary>
}

/** Alert thresholds and retention for one source (effective values: the defaults with the source's overrides). */
export interface SourceMonitorSettings {
  /** Silence alert when no event arrived for longer than this; null = the source has no expected cadence (off). */
  expectedEveryMinutes: number | null
  /** Dead runs / finished runs over the window, alerted when at or above `threshold` with at least `minRuns`. */
  failureRate: { enabled: boolean; windowMinutes: number; threshold: number; minRuns: number }
  /** Rejected (bad signature) requests within the window, alerted at `threshold` or more. */
  signatureFailures: { enabled: boolean; windowMinutes: number; threshold: number }
  /** Events older than `maxAgeDays` or beyond the newest `maxEvents` are deleted (null = no limit). */
  retention: { maxAgeDays: number | null; maxEvents: number | null }
}

/** Engine-wide monitor settings. */
export interface GlobalMonitorSettings {
  /** Alert when the number of open dead letters grew by `growth` or more within the window. */
  deadLetters: { enabled: boolean; windowMinutes: number; growth: number }
  /** Alert when the database files reach `warnRatio` of `limitBytes` (critical at the limit). */
  store: { enabled: boolean; limitBytes: number; warnRatio: number }
}

export interface MonitorSettings {
  defaults: SourceMonitorSettings
  global: GlobalMonitorSettings
  /** One row per source: what it overrides and what applies. */
  sources: Array<{ sourceId: string; overrides: Record<string, unknown>; effective: SourceMonitorSettings }>
}

export interface Health {
  ok: boolean
  version: string
  uptimeMs: number
  intakePaused: boolean
}

/** A page of a list. Pass `before: nextCursor` for the next page. */
export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** A page of events. */
export interface EventPage extends Page<EventSummary> {
  /**
   * Only on a search the full-text index could not catch up for in time (it is being rebuilt): at most this many
   * events committed before the search are not indexed yet, and their matches are missing from the page.
   */
  searchPending?: number
}
