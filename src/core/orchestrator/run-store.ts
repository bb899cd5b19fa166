import type { AttemptRecord, Page, RunStatus, RunSummary, StepRecord, StepStatus } from '../../shared/domain'
import type { Db } from '../store/database'

export interface RunRow {
  seq: number
  id: string
  event_id: string
  source_id: string
  workflow_id: string
  workflow_version: number
  workflow_name: string
  status: RunStatus
  current_step: string | null
  error: string | null
  hop: number
  resolved_at: number | null
  created_at: number
  updated_at: number
  finished_at: number | null
  dry_run: number
  /** events.seq after which events may answer this run's waits (null: only events after a wait registered). */
  events_after: number | null
}

export interface StepRow {
  run_id: string
  step_id: string
  seq: number
  kind: string
  status: StepStatus
  input: string | null
  output: string | null
  error: string | null
  attempt_base: number
  wake_at: number | null
  started_at: number | null
  finished_at: number | null
}

/** What expressions see as `steps`: each succeeded step's output by step id. */
export function succeededOutputs(rows: Iterable<StepRow>): Record<string, unknown> {
  const steps: Record<string, unknown> = {}
  for (const s of rows) {
    if (s.status === 'succeeded')
      steps[s.step_id] = s.output === null ? null : (JSON.parse(s.output) as unknown)
  }
  return steps
}

export interface WaitRow {
  run_id: string
  step_id: string
  source_id: string
  types: string | null
  match: string | null
  created_at: number
  expires_at: number
}

/** An event a waiting run may take that arrived before its wait registered (see `RunStore.earlierEvents`). */
export interface EarlierEventRow {
  seq: number
  id: string
  type: string | null
}

interface AttemptRow {
  step_id: string
  n: number
  started_at: number
  finished_at: number | null
  ok: number
  error: string | null
  request: string | null
  response: string | null
  retry_at: number | null
}

function toAttempt(a: AttemptRow): AttemptRecord {
  return {
    n: a.n,
    startedAt: a.started_at,
    finishedAt: a.finished_at,
    ok: a.ok === 1,
    error: a.error,
    request: a.request ? (JSON.parse(a.request) as AttemptRecord['request']) : null,
    response: a.response ? (JSON.parse(a.response) as AttemptRecord['response']) : null,
    retryAt: a.retry_at,
  }
}

/** How many of the newest events on a source a wait looks back at when it registers. */
export const EARLIER_EVENTS_LIMIT = 200

export interface RunFilter {
  status?: RunStatus
  workflow?: string
  source?: string
  resolved?: boolean
}

/** Runs, their steps and attempts, and the waits that correlate later events. Writers run inside transactions. */
export class RunStore {
  private readonly stmt

  constructor(private readonly db: Db) {
    this.stmt = {
      insertRun: db.prepare(
        `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status, hop,
           created_at, updated_at, dry_run, events_after)
         VALUES (@id, @eventId, @sourceId, @workflowId, @version, @name, @status, @hop, @now, @now, @dryRun,
           CASE WHEN @replay = 1 THEN (SELECT MAX(seq) FROM events) ELSE (SELECT seq FROM events WHERE id = @eventId) END)`,
      ),
      get: db.prepare(`SELECT * FROM runs WHERE id = ?`),
      forEvent: db.prepare(`SELECT * FROM runs WHERE event_id = ? AND dry_run = 0 ORDER BY seq`),
      update: db.prepare(
        `UPDATE runs SET status = @status, current_step = @currentStep, error = @error, updated_at = @now,
           finished_at = @finishedAt, resolved_at = @resolvedAt, workflow_version = @version, workflow_name = @name
         WHERE id = @id`,
      ),
      // Most updates move a running run from step to step: its status, version and name stay, and so do the
      // runs_status and runs_workflow index entries that this narrower statement leaves untouched.
      progress: db.prepare(
        `UPDATE runs SET current_step = @currentStep, error = @error, updated_at = @now, finished_at = @finishedAt,
           resolved_at = @resolvedAt WHERE id = @id`,
      ),
      countRunning: db.prepare(
        `SELECT COUNT(*) AS n FROM runs WHERE workflow_id = ? AND status = 'running' AND dry_run = 0`,
      ),
      oldestQueued: db.prepare(
        `SELECT id FROM runs WHERE workflow_id = ? AND status = 'queued' AND dry_run = 0 ORDER BY seq LIMIT 1`,
      ),
      steps: db.prepare(`SELECT * FROM steps WHERE run_id = ? ORDER BY seq`),
      step: db.prepare(`SELECT * FROM steps WHERE run_id = ? AND step_id = ?`),
      // A new step row takes the next seq of its run (the order the run reached its steps); an existing one keeps
      // its seq (the conflict clause leaves it alone). One statement: no read before the write.
      upsertStep: db.prepare(
        `INSERT INTO steps (run_id, step_id, seq, kind, status, input, output, error, wake_at, started_at, finished_at)
         VALUES (@runId, @stepId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE run_id = @runId), @kind,
           @status, @input, @output, @error, @wakeAt, @startedAt, @finishedAt)
         ON CONFLICT (run_id, step_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
           input = COALESCE(excluded.input, steps.input), output = excluded.output, error = excluded.error,
           wake_at = excluded.wake_at, started_at = COALESCE(steps.started_at, excluded.started_at),
           finished_at = excluded.finished_at
         RETURNING *`,
      ),
      resetStep: db.prepare(
        `UPDATE steps SET status = 'pending', error = NULL, finished_at = NULL, wake_at = NULL,
           attempt_base = (SELECT COUNT(*) FROM attempts a WHERE a.run_id = steps.run_id AND a.step_id = steps.step_id)
         WHERE run_id = ? AND step_id = ?`,
      ),
      attempts: db.prepare(`SELECT * FROM attempts WHERE run_id = ? ORDER BY step_id, n`),
      stepAttempts: db.prepare(`SELECT * FROM attempts WHERE run_id = ? AND step_id = ? ORDER BY n`),
      attemptCount: db.prepare(`SELECT COUNT(*) AS n FROM attempts WHERE run_id = ? AND step_id = ?`),
      insertAttempt: db.prepare(
        `INSERT INTO attempts (run_id, step_id, n, started_at, finished_at, ok, error, request, response, retry_at)
         VALUES (@runId, @stepId, @n, @startedAt, @finishedAt, @ok, @error, @request, @response, @retryAt)`,
      ),
      insertWait: db.prepare(
        `INSERT OR REPLACE INTO waits (run_id, step_id, source_id, types, match, created_at, expires_at)
         VALUES (@runId, @stepId, @sourceId, @types, @match, @now, @expiresAt)`,
      ),
      waitsFor: db.prepare(`SELECT * FROM waits WHERE source_id = ? ORDER BY created_at, run_id`),
      removeWait: db.prepare(`DELETE FROM waits WHERE run_id = ? AND step_id = ?`),
      removeWaits: db.prepare(`DELETE FROM waits WHERE run_id = ?`),
      wait: db.prepare(`SELECT * FROM waits WHERE run_id = ? AND step_id = ?`),
      eventSeq: db.prepare(`SELECT seq FROM events WHERE id = ?`),
      newestSeqOn: db.prepare(`SELECT seq FROM events WHERE source_id = ? ORDER BY seq DESC LIMIT 1`),
      insertNotification: db.prepare(
        `INSERT INTO notifications (id, at, title, body, run_id, event_id) VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      addAnswer: db.prepare(
        `INSERT OR IGNORE INTO wait_answers (run_id, event_id, step_id, at) VALUES (?, ?, ?, ?)`,
      ),
    }
  }

  insertRun(run: {
    id: string
    eventId: string
    sourceId: string
    workflowId: string
    version: number
    name: string
    hop: number
    now: number
    dryRun: boolean
    /** A replay: the run's waits take only events newer than now, not the ones around its (old) event. */
    replay?: boolean
    /** `running` for a run whose first step starts in the same job (default `queued`). */
    status?: 'queued' | 'running'
  }): void {
    const { replay, status, ...fields } = run
    this.stmt.insertRun.run({
      ...fields,
      status: status ?? 'queued',
      dryRun: run.dryRun ? 1 : 0,
      replay: replay ? 1 : 0,
    })
  }

  get(id: string): RunRow | null {
    return (this.stmt.get.get(id) as RunRow | undefined) ?? null
  }

  forEvent(eventId: string): RunRow[] {
    return this.stmt.forEvent.all(eventId) as RunRow[]
  }

  countsForEvents(eventIds: string[]): Map<string, number> {
    const counts = new Map<string, number>()
    for (let i = 0; i < eventIds.length; i += 500) {
      const chunk = eventIds.slice(i, i + 500)
      const rows = this.db
        .prepare(
          `SELECT event_id, COUNT(*) AS n FROM runs WHERE dry_run = 0 AND event_id IN (${chunk.map(() => '?').join(',')})
           GROUP BY event_id`,
        )
        .all(...chunk) as Array<{ event_id: string; n: number }>
      for (const row of rows) counts.set(row.event_id, row.n)
    }
    return counts
  }

  /** Change a run's state; fields not given keep their values. Returns the updated row. */
  update(
    row: RunRow,
    change: Partial<
      Pick<
        RunRow,
        | 'status'
        | 'current_step'
        | 'error'
        | 'finished_at'
        | 'resolved_at'
        | 'workflow_version'
        | 'workflow_name'
      >
    >,
    now: number,
  ): RunRow {
    const next: RunRow = { ...row, ...change, updated_at: now }
    const values = {
      id: row.id,
      currentStep: next.current_step,
      error: next.error,
      now,
      finishedAt: next.finished_at,
      resolvedAt: next.resolved_at,
    }
    if (
      next.status === row.status &&
      next.workflow_version === row.workflow_version &&
      next.workflow_name === row.workflow_name
    ) {
      this.stmt.progress.run(values)
    } else {
      this.stmt.update.run({
        ...values,
        status: next.status,
        version: next.workflow_version,
        name: next.workflow_name,
      })
    }
    return next
  }

  countRunning(workflowId: string): number {
    return (this.stmt.countRunning.get(workflowId) as { n: number }).n
  }

  oldestQueued(workflowId: string): string | null {
    return (this.stmt.oldestQueued.get(workflowId) as { id: string } | undefined)?.id ?? null
  }

  steps(runId: string): StepRow[] {
    return this.stmt.steps.all(runId) as StepRow[]
  }

  step(runId: string, stepId: string): StepRow | null {
    return (this.stmt.step.get(runId, stepId) as StepRow | undefined) ?? null
  }

  /** Insert or update a step's row; `input` keeps its stored value when null is given. Returns the row written. */
  writeStep(step: {
    runId: string
    stepId: string
    kind: string
    status: StepStatus
    input?: unknown
    output?: unknown
    error?: string | null
    wakeAt?: number | null
    startedAt?: number | null
    finishedAt?: number | null
  }): StepRow {
    return this.stmt.upsertStep.get({
      runId: step.runId,
      stepId: step.stepId,
      kind: step.kind,
      status: step.status,
      input: step.input === undefined ? null : JSON.stringify(step.input),
      output: step.output === undefined ? null : JSON.stringify(step.output),
      error: step.error ?? null,
      wakeAt: step.wakeAt ?? null,
      startedAt: step.startedAt ?? null,
      finishedAt: step.finishedAt ?? null,
    }) as StepRow
  }

  /** Give a failed step a fresh attempt budget (its attempt history stays). */
  resetStep(runId: string, stepId: string): void {
    this.stmt.resetStep.run(runId, stepId)
  }

  attemptCount(runId: string, stepId: string): number {
    return (this.stmt.attemptCount.get(runId, stepId) as { n: number }).n
  }

  insertAttempt(runId: string, stepId: string, attempt: AttemptRecord): void {
    this.stmt.insertAttempt.run({
      runId,
      stepId,
      n: attempt.n,
      startedAt: attempt.startedAt,
      finishedAt: attempt.finishedAt,
      ok: attempt.ok ? 1 : 0,
      error: attempt.error,
      request: attempt.request ? JSON.stringify(attempt.request) : null,
      response: attempt.response ? JSON.stringify(attempt.response) : null,
      retryAt: attempt.retryAt,
    })
  }

  addWait(wait: {
    runId: string
    stepId: string
    sourceId: string
    types: string[] | undefined
    match: string | undefined
    now: number
    expiresAt: number
  }): void {
    this.stmt.insertWait.run({
      ...wait,
      types: wait.types ? JSON.stringify(wait.types) : null,
      match: wait.match ?? null,
    })
  }

  waitsFor(sourceId: string): WaitRow[] {
    return this.stmt.waitsFor.all(sourceId) as WaitRow[]
  }

  removeWait(runId: string, stepId: string): void {
    this.stmt.removeWait.run(runId, stepId)
  }

  removeWaits(runId: string): void {
    this.stmt.removeWaits.run(runId)
  }

  wait(runId: string, stepId: string): WaitRow | null {
    return (this.stmt.wait.get(runId, stepId) as WaitRow | undefined) ?? null
  }

  /** An event's position in arrival order (events.seq), or null when it is gone. */
  eventSeq(eventId: string): number | null {
    return (this.stmt.eventSeq.get(eventId) as { seq: number } | undefined)?.seq ?? null
  }

  /** The newest event's seq on a source (an index lookup on events_source), or null when it has none. */
  newestSeqOn(sourceId: string): number | null {
    return (this.stmt.newestSeqOn.get(sourceId) as { seq: number } | undefined)?.seq ?? null
  }

  /** Record a notification a run's notify step raised. */
  insertNotification(n: {
    id: string
    at: number
    title: string
    body: string | null
    runId: string
    eventId: string
  }): void {
    this.stmt.insertNotification.run(n.id, n.at, n.title, n.body, n.runId, n.eventId)
  }

  /**
   * Record that `eventId` answered the run's wait on `stepId`. Returns false (and records nothing) when the
   * event already answered a wait of this run: an event answers a run at most once.
   */
  addAnswer(runId: string, eventId: string, stepId: string, now: number): boolean {
    return this.stmt.addAnswer.run(runId, eventId, stepId, now).changes === 1
  }

  /**
   * Events on `sourceId` with seq in (`after`, `upTo`] that a wait of `runId` may still take: accepted, of one
   * of the `types` globs (all types when none), not already an answer to this run. Only the `limit` newest
   * events of the source in that range are looked at, whatever their status or type, so the scan touches at
   * most `limit` rows of the events_source index. Oldest first (the order in which they would have resumed it).
   */
  earlierEvents(
    runId: string,
    sourceId: string,
    after: number,
    upTo: number,
    types: string[] | undefined,
    limit = EARLIER_EVENTS_LIMIT,
  ): EarlierEventRow[] {
    // typeMatches' globs know only `*`; SQLite GLOB also treats `?` and `[` specially, so those are bracketed.
    const globs = (types ?? []).map((t) => t.replace(/[[?]/g, (c) => `[${c}]`))
    const typeClause = globs.length ? `AND (${globs.map(() => 'recent.type GLOB ?').join(' OR ')})` : ''
    return this.db
      .prepare(
        `SELECT recent.seq, recent.id, recent.type FROM (
           SELECT seq, id, type, status FROM events
           WHERE source_id = ? AND seq > ? AND seq <= ? ORDER BY seq DESC LIMIT ?
         ) AS recent
         WHERE recent.status = 'accepted' ${typeClause}
           AND NOT EXISTS (SELECT 1 FROM wait_answers a WHERE a.run_id = ? AND a.event_id = recent.id)
         ORDER BY recent.seq`,
      )
      .all(sourceId, after, upTo, limit, ...globs, runId) as EarlierEventRow[]
  }

  summary(row: RunRow): RunSummary {
    return {
      id: row.id,
      eventId: row.event_id,
      workflowId: row.workflow_id,
      workflowVersion: row.workflow_version,
      workflowName: row.workflow_name,
      status: row.status,
      currentStep: row.current_step,
      error: row.error,
      resolvedAt: row.resolved_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      finishedAt: row.finished_at,
      dryRun: row.dry_run === 1,
    }
  }

  stepRecord(row: StepRow, attempts: AttemptRecord[]): StepRecord {
    return {
      runId: row.run_id,
      stepId: row.step_id,
      kind: row.kind,
      status: row.status,
      input: row.input === null ? null : (JSON.parse(row.input) as unknown),
      output: row.output === null ? null : (JSON.parse(row.output) as unknown),
      error: row.error,
      attempts,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
    }
  }

  /** Every step of a run with its attempts, in the order the run reached them. */
  stepRecords(runId: string): StepRecord[] {
    const byStep = new Map<string, AttemptRecord[]>()
    for (const a of this.stmt.attempts.all(runId) as AttemptRow[]) {
      const list = byStep.get(a.step_id) ?? []
      list.push(toAttempt(a))
      byStep.set(a.step_id, list)
    }
    return this.steps(runId).map((s) => this.stepRecord(s, byStep.get(s.step_id) ?? []))
  }

  /** One step's attempts, oldest first. */
  attemptsOf(runId: string, stepId: string): AttemptRecord[] {
    return (this.stmt.stepAttempts.all(runId, stepId) as AttemptRow[]).map(toAttempt)
  }

  /** Runs, newest first. Dead runs the user resolved are left out unless `resolved` is asked for. */
  list(filter: RunFilter, limit: number, before?: string): Page<RunSummary> {
    const rows = this.matching('*', filter, limit + 1, before).all() as RunRow[]
    const page = rows.slice(0, limit)
    return {
      items: page.map((r) => this.summary(r)),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    }
  }

  /** Ids of runs matching a filter (for bulk retry), oldest first, bounded. */
  idsMatching(filter: RunFilter, max: number): string[] {
    return (this.matching('id', filter, max).pluck().all() as string[]).reverse()
  }

  /** The runs a filter selects, newest first, as a statement bound to its parameters. */
  private matching(columns: string, filter: RunFilter, limit: number, before?: string) {
    const where = ['dry_run = 0', 'seq < @before']
    const openDeadLetters = filter.status === 'dead' && !filter.resolved
    // Open dead letters have their own small index (by status alone, every resolved one would be read too); its
    // condition is written out so SQLite can see the query implies it.
    if (openDeadLetters) where.push(`status = 'dead'`, 'resolved_at IS NULL')
    else if (filter.status) where.push('status = @status')
    if (filter.workflow) where.push('workflow_id = @workflow')
    if (filter.source) where.push('source_id = @source')
    const from = openDeadLetters && !filter.workflow ? 'runs INDEXED BY runs_dead_open' : 'runs'
    return this.db
      .prepare(`SELECT ${columns} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`)
      .bind({
        before: before ? Number(before) : Number.MAX_SAFE_INTEGER,
        status: filter.status ?? null,
        workflow: filter.workflow ?? null,
        source: filter.source ?? null,
        limit,
      })
  }
}
