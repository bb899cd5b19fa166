import type { RunStatus, RunSummary, StepRecord } from '../../shared/domain'
import type { ReceiverObservation } from '../receiver/receiver'
import type { Db } from '../store/database'
import { ACK_BOUNDS, Histogram, STEP_BOUNDS } from './histogram'

export const MINUTE = 60_000

/** Outcomes of runs, as counted: a run `failed` each time one of its steps failed (it may retry or die). */
export type RunOutcome = 'started' | 'succeeded' | 'failed' | 'dead'

/** Per-minute series kept (memory, then the metric_minutes table): events by outcome and runs by outcome. */
export type SeriesName =
  'events.received' | 'events.accepted' | 'events.rejected' | 'events.duplicate' | `runs.${RunOutcome}`

/** Request outcomes that stand for a stored event; others (404, 405, 413, 429, 503, …) are refused requests. */
const STORED = new Set(['accepted', 'duplicate', 'rejected', 'blocked', 'handshake'])
/** Types are labels only for requests whose content passed verification (a forger must not mint labels). */
const TYPED = new Set(['accepted', 'duplicate', 'blocked', 'handshake'])
/** Distinct event types kept per source; the rest count under OTHER_TYPE (label cardinality stays bounded). */
const MAX_TYPES_PER_SOURCE = 100
export const OTHER_TYPE = '(other)'
/** Requests for unknown sources are counted under this source label (the path is caller-chosen). */
export const UNKNOWN_SOURCE = ''
const MAX_TRACKED_RUNS = 20_000

export interface RequestCount {
  sourceId: string
  type: string | null
  outcome: ReceiverObservation['status']
  count: number
}

interface TrackedRun {
  status: RunStatus
  sourceId: string
  type: string | null
}

/**
 * Counts what the receiver and the orchestrator report. Cumulative counters and histograms live in memory
 * (since start, like any Prometheus exporter); per-minute counts are flushed to `metric_minutes` once their
 * minute is over, so charts and alert windows survive a restart.
 */
export class MetricRecorder {
  readonly requests = new Map<string, RequestCount>()
  readonly ackLatency = new Map<string, Histogram>()
  readonly runs = new Map<
    string,
    { sourceId: string; type: string | null; outcome: RunOutcome; count: number }
  >()
  readonly stepLatency = new Map<string, Histogram>()
  private readonly typesBySource = new Map<string, Set<string>>()
  private readonly trackedRuns = new Map<string, TrackedRun>()
  private readonly seenSteps = new Set<string>()
  /** minute start → "name\u0000sourceId" → count; only minutes not yet flushed. */
  private readonly pending = new Map<number, Map<string, number>>()
  private readonly stmt

  constructor(
    private readonly db: Db,
    private readonly startedAt: number,
    /** Looks up an event's source and type (runs carry only the event id). */
    private readonly eventOrigin: (eventId: string) => { sourceId: string; type: string | null } | null,
  ) {
    this.stmt = {
      add: db.prepare(
        `INSERT INTO metric_minutes (minute, name, source_id, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (minute, name, source_id) DO UPDATE SET value = value + excluded.value`,
      ),
      sum: db.prepare(
        `SELECT COALESCE(SUM(value), 0) AS n FROM metric_minutes WHERE minute >= ? AND name = ? AND source_id = ?`,
      ),
      range: db.prepare(
        `SELECT minute, name, source_id, value FROM metric_minutes WHERE minute >= ? AND minute <= ?`,
      ),
      prune: db.prepare(`DELETE FROM metric_minutes WHERE minute < ?`),
    }
  }

  /** One receiver request. */
  observe(o: ReceiverObservation, now: number): void {
    const known = o.status !== 'unknown-source' && o.sourceId !== null
    const sourceId = known ? o.sourceId! : UNKNOWN_SOURCE
    const type = TYPED.has(o.status) && known ? this.typeLabel(sourceId, o.type) : null
    const key = `${sourceId}\u0000${type ?? ''}\u0000${o.status}`
    const entry = this.requests.get(key)
    if (entry) entry.count++
    else this.requests.set(key, { sourceId, type, outcome: o.status, count: 1 })
    if (!known) return
    let histogram = this.ackLatency.get(sourceId)
    if (!histogram) this.ackLatency.set(sourceId, (histogram = new Histogram(ACK_BOUNDS)))
    histogram.observe(o.latencyMs / 1000)
    this.bump('events.received', sourceId, now)
    if (o.status === 'accepted') this.bump('events.accepted', sourceId, now)
    else if (o.status === 'rejected') this.bump('events.rejected', sourceId, now)
    else if (o.status === 'duplicate') this.bump('events.duplicate', sourceId, now)
  }

  /** A run change: counts started (first seen), succeeded and dead transitions, once each. */
  run(run: RunSummary, now: number): void {
    if (run.dryRun) return
    let tracked = this.trackedRuns.get(run.id)
    if (!tracked) {
      const origin = this.eventOrigin(run.eventId) ?? { sourceId: UNKNOWN_SOURCE, type: null }
      tracked = { status: run.status, sourceId: origin.sourceId, type: origin.type }
      this.track(run.id, tracked)
      // A run first seen already finished was started before this process only if it was created before it.
      if (run.createdAt >= this.startedAt || !isFinished(run.status)) this.countRun(tracked, 'started', now)
      if (run.status === 'succeeded') this.countRun(tracked, 'succeeded', now)
      if (run.status === 'dead') this.countRun(tracked, 'dead', now)
      return
    }
    if (tracked.status === run.status) return
    tracked.status = run.status
    if (run.status === 'succeeded') this.countRun(tracked, 'succeeded', now)
    if (run.status === 'dead') this.countRun(tracked, 'dead', now)
  }

  /** A step change: a finished step's duration goes to the step latency histogram; a failure counts. */
  step(step: StepRecord, now: number): void {
    if (step.status !== 'succeeded' && step.status !== 'failed') return
    const key = `${step.runId}\u0000${step.stepId}\u0000${step.finishedAt ?? ''}\u0000${step.status}`
    if (this.seenSteps.has(key)) return
    this.seenSteps.add(key)
    if (this.seenSteps.size > MAX_TRACKED_RUNS) this.seenSteps.delete(this.seenSteps.values().next().value!)
    if (step.startedAt !== null && step.finishedAt !== null) {
      let histogram = this.stepLatency.get(step.kind)
      if (!histogram) this.stepLatency.set(step.kind, (histogram = new Histogram(STEP_BOUNDS)))
      histogram.observe((step.finishedAt - step.startedAt) / 1000)
    }
    if (step.status === 'failed') {
      const tracked = this.trackedRuns.get(step.runId) ?? {
        status: 'running' as const,
        sourceId: UNKNOWN_SOURCE,
        type: null,
      }
      this.countRun(tracked, 'failed', now)
    }
  }

  /** The sum of a series over minutes starting at or after `since` (memory and table together). */
  windowSum(name: SeriesName, sourceId: string, since: number): number {
    const from = Math.floor(since / MINUTE) * MINUTE
    let n = (this.stmt.sum.get(from, name, sourceId) as { n: number }).n
    for (const [minute, counts] of this.pending)
      if (minute >= from) n += counts.get(`${name}\u0000${sourceId}`) ?? 0
    return n
  }

  /**
   * Per-minute points for the last `minutes` minutes (the current one included), zeros filled in, as
   * series name → source id → values aligned with the returned minute starts.
   */
  series(now: number, minutes: number): { xs: number[]; values: Map<string, Map<string, number[]>> } {
    const last = Math.floor(now / MINUTE) * MINUTE
    const first = last - (minutes - 1) * MINUTE
    const xs = Array.from({ length: minutes }, (_, i) => first + i * MINUTE)
    const values = new Map<string, Map<string, number[]>>()
    const add = (minute: number, name: string, sourceId: string, value: number) => {
      if (minute < first || minute > last) return
      let bySource = values.get(name)
      if (!bySource) values.set(name, (bySource = new Map()))
      let points = bySource.get(sourceId)
      if (!points) bySource.set(sourceId, (points = new Array<number>(minutes).fill(0)))
      points[(minute - first) / MINUTE]! += value
    }
    const rows = this.stmt.range.all(first, last) as Array<{
      minute: number
      name: string
      source_id: string
      value: number
    }>
    for (const r of rows) add(r.minute, r.name, r.source_id, r.value)
    for (const [minute, counts] of this.pending) {
      for (const [key, value] of counts) {
        const [name, sourceId] = key.split('\u0000') as [string, string]
        add(minute, name, sourceId, value)
      }
    }
    return { xs, values }
  }

  /** Write finished minutes to the table (and drop rollups older than `keepMs`). */
  flush(now: number, keepMs: number, all = false): void {
    const current = Math.floor(now / MINUTE) * MINUTE
    const done = [...this.pending.keys()].filter((m) => all || m < current)
    if (done.length === 0) return
    this.db
      .transaction(() => {
        for (const minute of done) {
          for (const [key, value] of this.pending.get(minute)!) {
            const [name, sourceId] = key.split('\u0000') as [string, string]
            this.stmt.add.run(minute, name, sourceId, value)
          }
        }
        this.stmt.prune.run(current - keepMs)
      })
      .immediate()
    for (const minute of done) this.pending.delete(minute)
  }

  private countRun(run: TrackedRun, outcome: RunOutcome, now: number): void {
    // The same bound on types as the request counters: the sender chooses them.
    const type = this.typeLabel(run.sourceId, run.type)
    const key = `${run.sourceId}\u0000${type ?? ''}\u0000${outcome}`
    const entry = this.runs.get(key)
    if (entry) entry.count++
    else this.runs.set(key, { sourceId: run.sourceId, type, outcome, count: 1 })
    this.bump(`runs.${outcome}`, run.sourceId, now)
  }

  private track(id: string, run: TrackedRun): void {
    this.trackedRuns.set(id, run)
    if (this.trackedRuns.size > MAX_TRACKED_RUNS)
      this.trackedRuns.delete(this.trackedRuns.keys().next().value!)
  }

  private bump(name: SeriesName, sourceId: string, now: number): void {
    const minute = Math.floor(now / MINUTE) * MINUTE
    let counts = this.pending.get(minute)
    if (!counts) this.pending.set(minute, (counts = new Map()))
    const key = `${name}\u0000${sourceId}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }

  private typeLabel(sourceId: string, type: string | null): string | null {
    if (type === null) return null
    let types = this.typesBySource.get(sourceId)
    if (!types) this.typesBySource.set(sourceId, (types = new Set()))
    if (types.has(type)) return type
    if (types.size >= MAX_TYPES_PER_SOURCE) return OTHER_TYPE
    types.add(type)
    return type
  }
}

function isFinished(status: RunStatus): boolean {
  return status === 'succeeded' || status === 'dead' || status === 'cancelled'
}

export { STORED as STORED_OUTCOMES }
