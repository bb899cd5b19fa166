import { statfsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError, type OperationHandlers } from '../../shared/contract'
import type { ActionRecord, Metrics } from '../../shared/domain'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import type { DedupRelease } from '../events/dedup-index'
import { INDEX_FILE_NAME } from '../events/search-index'
import { newId } from '../ids'
import type { ReceiverObservation } from '../receiver/receiver'
import type { SecretCipher } from '../secrets/cipher'
import type { ActionLog } from '../store/actions'
import { STORE_FILE_NAME, type Db } from '../store/database'
import type { Settings } from '../store/settings'
import type { AlertSink } from './alert-sink'
import { AlertRules, RULES, type SourceRow } from './alert-rules'
import { AlertStore } from './alert-store'
import { AlertWebhook, type AlertWebhookTarget } from './alert-webhook'
import { AlertWebhookSettingsStore } from './alert-webhook-settings'
import { Histogram } from './histogram'
import { MetricRecorder, MINUTE, UNKNOWN_SOURCE } from './metric-recorder'
import { MonitorSettingsStore } from './monitor-settings'
import { renderPrometheus, type Family } from './prometheus'
import { preferIncrementalVacuum, Retention, type RetentionReport } from './retention'

export type { AlertSink } from './alert-sink'
export { RULES } from './alert-rules'

type Log = (level: 'info' | 'warn' | 'error', message: string, data?: object) => void

export interface MonitorDeps {
  db: Db
  clock: Clock
  changes: ChangeBus
  random?: () => number
  settings: Settings
  queueDepth(): number
  /** Dead letters the user has not resolved yet (see `countOpenDeadLetters`). */
  deadLettersOpen(): number
  /** Folder holding switchboard.db and search.db (store size). */
  dataDir: string
  /** Outgoing HTTP for the alert webhook. */
  fetch?: typeof fetch
  /** Seals the alert webhook's secret at rest (the engine's secret cipher). */
  cipher: SecretCipher
  /** An alert webhook fixed by configuration: wins over the one set through the API (null or absent: none). */
  alertWebhook?: AlertWebhookTarget | null
  log?: Log
  /** The history of user actions: setting, rotating and testing the alert webhook are recorded there. */
  actions?: ActionLog
  /** Events committed that the full-text index has not reached yet (it catches up on its own thread). */
  searchBacklog?(): number
  /** Retention deleted these events' dedup keys (the engine's in-memory dedup index forgets them). */
  onDedupKeysDeleted?: (events: DedupRelease[]) => void
  /** Timer periods; defaults: rules every 30 s, retention hourly, per-minute rollups kept 7 days. */
  intervals?: { evaluateMs?: number; retentionMs?: number; rollupKeepMs?: number }
}

export type MonitorOperations = Pick<
  OperationHandlers,
  | 'metrics.get'
  | 'alerts.list'
  | 'alerts.webhook.get'
  | 'alerts.webhook.set'
  | 'alerts.webhook.rotateSecret'
  | 'alerts.webhook.test'
  | 'monitor.settings'
  | 'monitor.configure'
>

export interface Monitor {
  /** The receiver's per-request hook. Never throws. */
  observe(o: ReceiverObservation): void
  /** Where the tunnel supervisor (and others) raise and clear alerts. */
  alerts: AlertSink
  operations: MonitorOperations
  /** Prometheus text exposition (`GET /api/metrics?format=prometheus`). */
  prometheus(): string
  /** Evaluate every alert rule now (the timer does this every 30 s). */
  evaluate(): void
  /** Apply retention now (the timer does this hourly). */
  retain(): Promise<RetentionReport>
  start(): void
  stop(): void
}

const SERIES_MINUTES = 60
/** The `target` of actions on the alert webhook in the history. */
const ALERT_WEBHOOK_TARGET = 'alerts.webhook'
const STORED = new Set(['accepted', 'duplicate', 'rejected', 'blocked', 'handshake'])
const REFUSED = new Set(['too-large', 'rate-limited', 'bad-method', 'unsupported'])

/**
 * The monitor: metrics from the receiver's observations and the run/step change stream, alert rules with
 * self-resolving alerts (listed, pushed on the change stream, optionally sent as a signed webhook), and the
 * retention job that keeps the store bounded and compact.
 */
export function createMonitor(deps: MonitorDeps): Monitor {
  const { db, clock, changes } = deps
  const log: Log = deps.log ?? (() => {})
  const evaluateMs = deps.intervals?.evaluateMs ?? 30_000
  const retentionMs = deps.intervals?.retentionMs ?? 60 * 60_000
  const rollupKeepMs = deps.intervals?.rollupKeepMs ?? 7 * 24 * 60 * 60_000
  const dbFile = join(deps.dataDir, STORE_FILE_NAME)

  const stmt = {
    origin: db.prepare(`SELECT source_id, type FROM events WHERE id = ?`),
    sources: db.prepare(`SELECT id, name, enabled, created_at, last_received_at FROM sources`),
    source: db.prepare(`SELECT id, name, enabled, created_at, last_received_at FROM sources WHERE id = ?`),
  }
  type SourceDbRow = {
    id: string
    name: string
    enabled: number
    created_at: number
    last_received_at: number | null
  }
  const toSource = (r: SourceDbRow): SourceRow => ({
    id: r.id,
    name: r.name,
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    lastReceivedAt: r.last_received_at,
  })

  const settingsStore = new MonitorSettingsStore(db, () => clock.now())
  const recorder = new MetricRecorder(db, clock.now(), (eventId) => {
    const row = stmt.origin.get(eventId) as { source_id: string; type: string | null } | undefined
    return row ? { sourceId: row.source_id, type: row.type } : null
  })
  const webhookSettings = new AlertWebhookSettingsStore(
    deps.settings,
    deps.cipher,
    clock,
    deps.alertWebhook ?? null,
  )
  const webhook = new AlertWebhook(
    () => webhookSettings.target(),
    clock,
    deps.fetch ?? fetch,
    (error) => log('warn', 'alert webhook failed', { error: String(error) }),
  )
  const alerts = new AlertStore(
    db,
    clock,
    changes,
    (alert) => void webhook.send(alert),
    (message, error) => log('error', message, { error: String(error) }),
  )
  // The store and the full-text index beside it (search.db, derived from it, but disk the app uses all the same).
  const indexFile = join(deps.dataDir, INDEX_FILE_NAME)
  const storeBytes = () => {
    let used = 0
    for (const file of [dbFile, `${dbFile}-wal`, indexFile, `${indexFile}-wal`]) {
      try {
        used += statSync(file).size
      } catch {
        // A WAL may not exist (checkpointed and truncated), nor the index before the engine first built it.
      }
    }
    let free: number | null
    try {
      const fs = statfsSync(deps.dataDir)
      free = fs.bavail * fs.bsize
    } catch {
      free = null
    }
    return { used, free }
  }
  const rules = new AlertRules(alerts, recorder, settingsStore, {
    sources: () => (stmt.sources.all() as SourceDbRow[]).map(toSource),
    deadLettersOpen: () => deps.deadLettersOpen(),
    storeBytes,
  })
  const retention = new Retention(db, settingsStore, { onKeysDeleted: deps.onDedupKeysDeleted })

  const guard = (what: string, fn: () => void) => {
    try {
      fn()
    } catch (error) {
      log('error', `monitor: ${what} failed`, { error: String(error) })
    }
  }

  const unsubscribe = changes.subscribe((change) => {
    if (change.type === 'run') guard('run metrics', () => recorder.run(change.run, clock.now()))
    else if (change.type === 'step') guard('step metrics', () => recorder.step(change.step, clock.now()))
  })

  const observe = (o: ReceiverObservation) =>
    guard('observe', () => {
      const now = clock.now()
      recorder.observe(o, now)
      if (o.sourceId === null || !STORED.has(o.status)) return
      if (o.status === 'rejected') {
        if (!alerts.isOpen(RULES.signatureFailures, o.sourceId)) {
          const row = stmt.source.get(o.sourceId) as SourceDbRow | undefined
          if (row) rules.checkSignatureFailures(toSource(row), now)
        }
      } else {
        rules.heard(o.sourceId)
      }
    })

  const quantiles = (h: Histogram) => ({
    count: h.count,
    p50Ms: ms(h.quantile(0.5)),
    p95Ms: ms(h.quantile(0.95)),
    p99Ms: ms(h.quantile(0.99)),
  })

  const metrics = (): Metrics => {
    const now = clock.now()
    const totals: Record<string, number> = {
      received: 0,
      accepted: 0,
      rejected: 0,
      duplicates: 0,
      blocked: 0,
      handshakes: 0,
      refused: 0,
      errors: 0,
      unknownSource: 0,
      runsStarted: 0,
      runsSucceeded: 0,
      runsFailed: 0,
      runsDead: 0,
    }
    type Row = Metrics['perSource'][number]
    const rows = new Map<string, Row>()
    const row = (sourceId: string, type: string | null): Row => {
      const key = `${sourceId}\u0000${type ?? ''}`
      let r = rows.get(key)
      if (!r) {
        r = {
          sourceId,
          type,
          received: 0,
          accepted: 0,
          rejected: 0,
          duplicates: 0,
          blocked: 0,
          refused: 0,
          errors: 0,
          runsStarted: 0,
          runsSucceeded: 0,
          runsFailed: 0,
          runsDead: 0,
        }
        rows.set(key, r)
      }
      return r
    }
    const field: Record<string, string> = {
      accepted: 'accepted',
      rejected: 'rejected',
      duplicate: 'duplicates',
      blocked: 'blocked',
      handshake: 'handshakes',
      error: 'errors',
    }
    for (const c of recorder.requests.values()) {
      if (c.outcome === 'unknown-source') {
        totals.unknownSource! += c.count
        continue
      }
      const name = REFUSED.has(c.outcome) ? 'refused' : field[c.outcome]!
      totals.received! += c.count
      totals[name]! += c.count
      const r = row(c.sourceId, c.type)
      r.received = (r.received as number) + c.count
      r[name] = ((r[name] as number | undefined) ?? 0) + c.count
    }
    const runField = {
      started: 'runsStarted',
      succeeded: 'runsSucceeded',
      failed: 'runsFailed',
      dead: 'runsDead',
    }
    for (const c of recorder.runs.values()) {
      totals[runField[c.outcome]]! += c.count
      const r = row(c.sourceId, c.type)
      r[runField[c.outcome]] = (r[runField[c.outcome]] as number) + c.count
    }
    const allAck = mergeQuantiles([...recorder.ackLatency.values()])
    // Latency quantiles appear once there is a measurement (0 would read as "instant").
    if (allAck.p50 !== null) totals.ackLatencyP50Ms = allAck.p50
    if (allAck.p95 !== null) totals.ackLatencyP95Ms = allAck.p95
    if (allAck.p99 !== null) totals.ackLatencyP99Ms = allAck.p99
    totals.storeBytes = storeBytes().used
    totals.alertsOpen = alerts.list(true).length
    if (deps.searchBacklog) totals.searchBacklog = deps.searchBacklog()

    const { xs, values } = recorder.series(now, SERIES_MINUTES)
    const series: Metrics['series'] = []
    const sourceIds = new Set((stmt.sources.all() as SourceDbRow[]).map((r) => r.id))
    for (const id of values.get('events.received')?.keys() ?? []) if (id !== UNKNOWN_SOURCE) sourceIds.add(id)
    for (const sourceId of [...sourceIds].sort()) {
      const points = values.get('events.received')?.get(sourceId) ?? new Array<number>(xs.length).fill(0)
      series.push({ name: 'events.received', sourceId, points: xs.map((x, i) => [x, points[i]!]) })
    }
    for (const name of ['runs.succeeded', 'runs.failed', 'runs.dead']) {
      const sum = new Array<number>(xs.length).fill(0)
      for (const points of values.get(name)?.values() ?? []) points.forEach((v, i) => (sum[i]! += v))
      series.push({ name, sourceId: null, points: xs.map((x, i) => [x, sum[i]!]) })
    }

    return {
      at: now,
      totals,
      perSource: [...rows.values()].sort(
        (a, b) =>
          a.sourceId.localeCompare(b.sourceId) || String(a.type ?? '').localeCompare(String(b.type ?? '')),
      ),
      series,
      queueDepth: deps.queueDepth(),
      deadLettersOpen: deps.deadLettersOpen(),
      ackLatency: [...recorder.ackLatency].map(([sourceId, h]) => ({ sourceId, ...quantiles(h) })),
      stepLatency: [...recorder.stepLatency].map(([kind, h]) => ({ kind, ...quantiles(h) })),
    }
  }

  const prometheus = (): string => {
    const families: Family[] = [
      {
        name: 'switchboard_webhook_requests_total',
        help: 'Inbound webhook requests by source, event type and outcome (accepted, duplicate, rejected, blocked, handshake, unknown-source, too-large, rate-limited, bad-method, unsupported, error).',
        type: 'counter',
        samples: [...recorder.requests.values()].map((c) => ({
          labels: { source: c.sourceId, type: c.type ?? '', outcome: c.outcome },
          value: c.count,
        })),
      },
      {
        name: 'switchboard_ack_latency_seconds',
        help: 'Time from request start to acknowledgement (after commit), per source.',
        type: 'histogram',
        samples: [...recorder.ackLatency].map(([source, histogram]) => ({ labels: { source }, histogram })),
      },
      {
        name: 'switchboard_runs_total',
        help: 'Workflow runs by source, event type and outcome (started, succeeded, failed = a step failed, dead).',
        type: 'counter',
        samples: [...recorder.runs.values()].map((c) => ({
          labels: { source: c.sourceId, type: c.type ?? '', outcome: c.outcome },
          value: c.count,
        })),
      },
      {
        name: 'switchboard_step_duration_seconds',
        help: 'Workflow step duration (finished minus started), per step kind.',
        type: 'histogram',
        samples: [...recorder.stepLatency].map(([kind, histogram]) => ({ labels: { kind }, histogram })),
      },
      gauge('switchboard_queue_depth', 'Jobs waiting or running in the durable queue.', deps.queueDepth()),
      gauge(
        'switchboard_dead_letters_open',
        'Dead letters not yet resolved by the user.',
        deps.deadLettersOpen(),
      ),
      gauge(
        'switchboard_store_bytes',
        'Bytes taken by the database and full-text index files and their write-ahead logs.',
        storeBytes().used,
      ),
      gauge('switchboard_alerts_open', 'Alerts currently open.', alerts.list(true).length),
      ...(deps.searchBacklog
        ? [
            gauge(
              'switchboard_search_backlog',
              'Committed events the full-text index has not reached yet.',
              deps.searchBacklog(),
            ),
          ]
        : []),
    ]
    return renderPrometheus(families)
  }

  /** Record a user action on the alert webhook (inside the change's transaction when it changes something). */
  const recordAction = (kind: ActionRecord['kind'], detail: Record<string, unknown>) =>
    deps.actions?.record(kind, ALERT_WEBHOOK_TARGET, detail, clock.now()) ?? null
  /** Push a recorded action to the UI (after its transaction committed). */
  const announce = (action: ActionRecord | null) => {
    if (action) changes.emit({ type: 'action', action })
  }

  const operations: MonitorOperations = {
    'metrics.get': () => metrics(),
    'alerts.list': ({ open }) => ({ items: alerts.list(open) }),
    'alerts.webhook.get': () => webhookSettings.view(webhook.lastDelivery),
    'alerts.webhook.set': ({ url, secret }) => {
      // Only the host is logged and recorded: chat services' webhook URLs often carry a token in the path.
      const host = url === null ? null : new URL(url).host
      const [result, action] = db.transaction(() => {
        const set = webhookSettings.set(url, secret)
        const change = url === null ? 'off' : 'set'
        return [set, recordAction('alert-webhook', { change, host, newSecret: set.secret !== null })] as const
      })()
      announce(action)
      log('info', url === null ? 'alert webhook turned off' : 'alert webhook set', host ? { host } : {})
      return { webhook: webhookSettings.view(webhook.lastDelivery), secret: result.secret }
    },
    'alerts.webhook.rotateSecret': ({ secret, graceSeconds }) => {
      const [result, action] = db.transaction(() => {
        const rotated = webhookSettings.rotate(secret, graceSeconds)
        return [rotated, recordAction('rotate-secret', { graceSeconds })] as const
      })()
      announce(action)
      log('info', 'alert webhook secret rotated', { graceSeconds })
      return { webhook: webhookSettings.view(webhook.lastDelivery), secret: result.secret }
    },
    'alerts.webhook.test': async () => {
      const now = clock.now()
      const delivery = await webhook.deliver('alert.test', {
        id: newId('alt', now),
        rule: 'test',
        sourceId: null,
        severity: 'info',
        title: 'Test alert from Switchboard',
        message: 'A test sent from the alert webhook settings: nothing is wrong.',
        openedAt: now,
        resolvedAt: null,
        data: { test: true },
      })
      if (!delivery) throw new ApiError('conflict', 'no alert webhook is set: set its URL first')
      announce(recordAction('test-event', { ok: delivery.ok, status: delivery.status }))
      return delivery
    },
    'monitor.settings': () => settingsStore.view(),
    'monitor.configure': ({ source, settings }) => {
      const view = settingsStore.configure(source, settings)
      guard('evaluate', () => rules.evaluate(clock.now()))
      return view
    },
  }

  const timers = new Map<string, unknown>()
  let running = false
  const every = (name: string, ms: number, fn: () => void | Promise<unknown>, firstMs = ms) => {
    const tick = () => {
      if (!running) return
      const done = () => {
        if (running) timers.set(name, clock.setTimeout(tick, ms))
      }
      try {
        const result = fn()
        if (result instanceof Promise)
          result
            .catch((error) => log('error', `monitor: ${name} failed`, { error: String(error) }))
            .finally(done)
        else done()
      } catch (error) {
        log('error', `monitor: ${name} failed`, { error: String(error) })
        done()
      }
    }
    timers.set(name, clock.setTimeout(tick, firstMs))
  }

  const evaluate = () => guard('evaluate', () => rules.evaluate(clock.now()))
  const retain = async () => {
    const report = await retention.run(clock.now())
    deps.settings.set('monitor.retention.lastRunAt', String(clock.now()))
    if (report.deleted > 0) log('info', 'retention', { ...report })
    return report
  }

  return {
    observe,
    alerts,
    operations,
    prometheus,
    evaluate,
    retain,
    start() {
      if (running) return
      running = true
      guard('auto-vacuum', () => void preferIncrementalVacuum(db))
      every('evaluate', evaluateMs, evaluate)
      // Flush just after each minute ends.
      const toNextMinute = MINUTE - (clock.now() % MINUTE) + 1000
      every('rollup', MINUTE, () => recorder.flush(clock.now(), rollupKeepMs), toNextMinute)
      const lastRun = Number(deps.settings.get('monitor.retention.lastRunAt') ?? 0)
      const firstRetention = Math.max(60_000, Math.min(retentionMs, lastRun + retentionMs - clock.now()))
      every('retention', retentionMs, retain, firstRetention)
    },
    stop() {
      running = false
      for (const handle of timers.values()) clock.clearTimeout(handle)
      timers.clear()
      unsubscribe()
      guard('rollup flush', () => recorder.flush(clock.now(), rollupKeepMs, true))
    },
  }
}

/**
 * Open dead letters for the `deadLettersOpen` dependency: dead runs not resolved by the user (the
 * orchestrator's `runs` table, when it exists) plus dead jobs in the queue.
 */
export function countOpenDeadLetters(db: Db): () => number {
  const hasRuns =
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'`).get() !== undefined
  const stmt = db.prepare(
    hasRuns
      ? `SELECT (SELECT COUNT(*) FROM runs INDEXED BY runs_dead_open
                 WHERE status = 'dead' AND resolved_at IS NULL AND dry_run = 0)
              + (SELECT COUNT(*) FROM jobs WHERE status = 'dead') AS n`
      : `SELECT COUNT(*) AS n FROM jobs WHERE status = 'dead'`,
  )
  return () => (stmt.get() as { n: number }).n
}

function gauge(name: string, help: string, value: number): Family {
  return { name, help, type: 'gauge', samples: [{ labels: {}, value }] }
}

function ms(seconds: number | null): number | null {
  return seconds === null ? null : Math.round(seconds * 1_000_000) / 1000
}

/** Quantiles over several histograms with the same bounds (sum of their buckets). */
function mergeQuantiles(histograms: Histogram[]): {
  p50: number | null
  p95: number | null
  p99: number | null
} {
  if (histograms.length === 0) return { p50: null, p95: null, p99: null }
  const merged = new Histogram(histograms[0]!.bounds)
  for (const h of histograms) merged.add(h)
  return { p50: ms(merged.quantile(0.5)), p95: ms(merged.quantile(0.95)), p99: ms(merged.quantile(0.99)) }
}
