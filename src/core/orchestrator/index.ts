import { ApiError, type OperationHandlers, type OperationInput } from '../../shared/contract'
import type { EventSummary, RunDetail, RunSummary } from '../../shared/domain'
import { validateWorkflow, workflowJsonSchema, type WorkflowDefinition } from '../../shared/workflow'
import { newId } from '../ids'
import type { Job, JobContext } from '../queue/queue'
import { redactCredentialHeaders } from '../secrets/vault'
import { Dispatcher } from './dispatch'
import { fetchTransport } from './http-transport'
import { RunStore, type RunRow } from './run-store'
import {
  JOB_RUN,
  JOB_TIMER,
  JOB_WAIT_SCAN,
  nextStep,
  Runner,
  type Driver,
  type RecordedCall,
  type TimerPayload,
  type WaitScanPayload,
} from './runner'
import type { LoadedEvent, OrchestratorDeps } from './types'
import { WorkflowStore } from './workflow-store'

export type { LoadedEvent, OrchestratorDeps, OrchestratorLog } from './types'
export { JOB_RUN, JOB_TIMER, JOB_WAIT_SCAN } from './runner'

/** The job kind the receiver adds (in the same transaction as each accepted event). */
export const JOB_DISPATCH = 'dispatch'

type OrchestratorOperations = Pick<
  OperationHandlers,
  | 'workflows.list'
  | 'workflows.schema'
  | 'workflows.create'
  | 'workflows.get'
  | 'workflows.put'
  | 'workflows.setEnabled'
  | 'workflows.delete'
  | 'workflows.versions'
  | 'workflows.test'
  | 'runs.list'
  | 'runs.get'
  | 'runs.retry'
  | 'runs.retryBulk'
  | 'runs.resolve'
  | 'runs.cancel'
  | 'secrets.list'
  | 'secrets.put'
  | 'secrets.delete'
  | 'notifications.list'
  | 'events.replay'
>

export interface Orchestrator {
  operations: OrchestratorOperations
  /** Runs started by an event, for the event detail (EventDetail.runs) and runCount. */
  runsForEvent(eventId: string): RunSummary[]
  /** Number of runs each event started (EventSummary.runCount); fits the event store's `setRunCounter`. */
  runCounts(eventIds: string[]): Map<string, number>
  /**
   * Whether an event from this source could start or resume anything right now: an enabled workflow triggers
   * on it, or a run waits on it. When not, the receiver enqueues no dispatch job (a wait registered later
   * looks back at earlier events; replay starts any event over).
   */
  listensTo(sourceId: string): boolean
  /**
   * Refuse (409 `conflict`, naming them in the message and in `details.workflows` / `details.runs`) to let a
   * source go while enabled workflows trigger on it or runs wait for its events: call before deleting a source.
   * Disabled workflows do not hold it; they stay, and cannot be enabled again until they name a source that exists.
   */
  checkSourceRemovable(sourceId: string): void
  /** Register the job handlers and wake runs left queued by a previous process. Call before `queue.start()`. */
  start(): void
  stop(): Promise<void>
}

const MAX_DRY_STEPS = 1000
/** Queued runs given their jobs per transaction at start-up. */
const REQUEUE_PAGE = 1000
/**
 * Runs a bulk retry retries per transaction: a run whose rows are not in the page cache took up to 0.9 ms
 * (measured on a store of 500k runs); parts held intake 10–30 ms there. The UI sends this many at a time too.
 */
export const BULK_RETRY_PART = 25

/** The problem with a trigger's source, when it names none that exists. */
function missingSourceIssue(
  raw: unknown,
  sourceExists: (id: string) => boolean,
): { path: string; message: string } | null {
  const source = (raw as { trigger?: { source?: unknown } } | null)?.trigger?.source
  if (typeof source !== 'string' || source === '' || sourceExists(source)) return null
  return {
    path: 'trigger.source',
    message: `no source "${source}" exists (create the source first, or name an existing source id)`,
  }
}

/**
 * Validate a workflow document, and check that its trigger names an existing source. Every problem is reported
 * at once, each pointing at its field (`details.issues`), the first one in the message.
 */
function parseWorkflow(raw: unknown, sourceExists: (id: string) => boolean): WorkflowDefinition {
  const result = validateWorkflow(raw)
  const issues = result.ok ? [] : [...result.issues]
  const missing = missingSourceIssue(raw, sourceExists)
  if (missing && !issues.some((i) => i.path === missing.path)) issues.push(missing)
  if (issues.length || !result.ok) {
    const first = issues[0]!
    throw new ApiError('bad_request', `${first.path || 'workflow'}: ${first.message}`, { issues })
  }
  return result.workflow
}

/** Refuse, like a validation error at `trigger.source`, a stored workflow whose source is gone. */
function requireSource(definition: WorkflowDefinition, sourceExists: (id: string) => boolean): void {
  const missing = missingSourceIssue(definition, sourceExists)
  if (missing) throw new ApiError('bad_request', `${missing.path}: ${missing.message}`, { issues: [missing] })
}

/**
 * The orchestrator: workflows (versioned), runs advanced step by step as durable queue jobs, waits that
 * correlate later events, retries with backoff, dead letters, secrets, notifications. It registers the
 * `dispatch` job (added by the receiver for every accepted event) and its own `run`, `run-timer` and
 * `run-wait-scan` jobs.
 */
export function createOrchestrator(deps: OrchestratorDeps): Orchestrator {
  const { db, clock, queue } = deps
  const workflows = new WorkflowStore(db)
  const runs = new RunStore(db)
  const runner = new Runner(deps, runs, workflows)
  const dispatcher = new Dispatcher(deps, runs, workflows, runner)
  let started = false
  const listens = db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM workflows WHERE source_id = ? AND enabled = 1)
           OR EXISTS (SELECT 1 FROM waits WHERE source_id = ?)`,
    )
    .pluck()
  const runsWaitingOn = db
    .prepare(`SELECT DISTINCT run_id FROM waits WHERE source_id = ? ORDER BY run_id`)
    .pluck()

  const requireRun = (id: string): RunRow => {
    const run = runs.get(id)
    if (!run) throw new ApiError('not_found', `no run ${id}`)
    return run
  }

  const detail = (run: RunRow): RunDetail => ({
    ...runs.summary(run),
    steps: runs.stepRecords(run.id),
    callbackUrl: run.dry_run
      ? null
      : runner.callbackUrl(run, workflows.version(run.workflow_id, run.workflow_version)),
  })

  /** Resume a dead (or cancelled) run from the step that did not finish; inside a transaction. */
  const inRetry = (run: RunRow, latest: boolean): RunSummary => {
    if (run.status !== 'dead' && run.status !== 'cancelled') {
      throw new ApiError(
        'conflict',
        `run ${run.id} is ${run.status}; only dead or cancelled runs can be retried`,
      )
    }
    let version = run.workflow_version
    let name = run.workflow_name
    if (latest) {
      const current = workflows.get(run.workflow_id)
      if (!current)
        throw new ApiError(
          'conflict',
          `workflow ${run.workflow_id} no longer exists; retry on the pinned version`,
        )
      version = current.version
      name = current.name
    }
    for (const step of runs.steps(run.id)) {
      if (step.status !== 'succeeded' && step.status !== 'skipped') runs.resetStep(run.id, step.step_id)
    }
    const now = clock.now()
    const next = runs.update(
      run,
      {
        status: 'queued',
        error: null,
        finished_at: null,
        resolved_at: null,
        workflow_version: version,
        workflow_name: name,
      },
      now,
    )
    queue.add(JOB_RUN, { runId: run.id }, { key: `run:${run.id}` })
    return runs.summary(next)
  }

  const dryRun = async (
    input: OperationInput<'workflows.test'>,
  ): Promise<{ run: RunDetail; calls: RecordedCall[]; matched: boolean }> => {
    let definition: WorkflowDefinition
    let version = 0
    if (input.definition) {
      definition = parseWorkflow({ ...input.definition, id: input.id }, deps.sourceExists)
    } else {
      const stored = workflows.get(input.id)
      if (!stored) throw new ApiError('not_found', `no workflow ${input.id}`)
      definition = stored.definition as unknown as WorkflowDefinition
      version = stored.version
      requireSource(definition, deps.sourceExists)
    }
    let event: LoadedEvent
    if (input.eventId) {
      const loaded = deps.loadEvent(input.eventId)
      if (!loaded) throw new ApiError('not_found', `no event ${input.eventId}`)
      event = loaded
    } else {
      const json = input.event ?? {}
      const type =
        json && typeof json === 'object' && typeof (json as { type?: unknown }).type === 'string'
          ? (json as { type: string }).type
          : (definition.trigger.types?.find((t) => !t.includes('*')) ?? null)
      const body = Buffer.from(JSON.stringify(json))
      const summary: EventSummary = {
        id: 'sample',
        sourceId: definition.trigger.source,
        provider: null,
        receivedAt: clock.now(),
        method: 'POST',
        path: `/hooks/${definition.trigger.source}`,
        type,
        status: 'accepted',
        verification: 'unsigned',
        reason: null,
        dedupId: 'sample',
        duplicateOf: null,
        hop: 0,
        contentType: 'application/json',
        bodySize: body.length,
        summary: 'sample event',
        runCount: 0,
      }
      event = { summary, headers: input.headers ?? {}, json, body, query: '', path: summary.path }
    }
    const matched = await dispatcher.triggerMatches(definition, event)
    const calls: RecordedCall[] = []
    const recorder = (async (url: string | URL | Request, init?: RequestInit) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries())
      const text = typeof init?.body === 'string' ? init.body : null
      let body: unknown = text
      if (text && /json/i.test(headers['content-type'] ?? '')) {
        try {
          body = JSON.parse(text) as unknown
        } catch {
          body = text
        }
      }
      calls.push({
        stepId: currentStep,
        method: init?.method ?? 'GET',
        url: String(url),
        headers: redactCredentialHeaders(headers),
        body,
      })
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } })
    }) as typeof fetch
    let currentStep = ''
    const runId = newId('run', clock.now())
    const driver: Driver = {
      dry: true,
      // One step per advance, so each recorded call is attributed to the step the loop below names.
      chains: false,
      transport: fetchTransport(recorder),
      signal: new AbortController().signal,
      inComplete: () => undefined,
      inContinue: () => undefined,
      inNext: () => true,
      inTimer: () => undefined,
      definition: () => definition,
      event: () => event,
    }
    db.transaction(() =>
      runs.insertRun({
        id: runId,
        eventId: event.summary.id,
        sourceId: event.summary.sourceId,
        workflowId: definition.id,
        version,
        name: definition.name,
        hop: event.summary.hop,
        now: clock.now(),
        dryRun: true,
      }),
    ).immediate()
    const redact = deps.vault.redactor()
    // Each advance executes one step; it asks to continue until the run ends.
    for (let i = 0; i < MAX_DRY_STEPS; i++) {
      const states = new Map(runs.steps(runId).map((s) => [s.step_id, s]))
      currentStep = nextStep(definition.steps, states)?.id ?? ''
      if (!(await runner.advance(runId, driver))) break
    }
    return { run: detail(runs.get(runId)!), calls: redact(calls), matched }
  }

  const operations: OrchestratorOperations = {
    'workflows.list': () => ({ items: workflows.list() }),
    'workflows.schema': () => workflowJsonSchema(),
    'workflows.create': (raw) => {
      const candidate = { ...raw, id: raw.id ?? newId('wf', clock.now()) }
      const definition = parseWorkflow(candidate, deps.sourceExists)
      return runner.transact((list) => {
        if (workflows.get(definition.id))
          throw new ApiError('conflict', `workflow ${definition.id} already exists`)
        const { record } = workflows.save(definition, clock.now())
        list.push({ type: 'workflow', workflow: record })
        return record
      })
    },
    'workflows.get': ({ id }) => {
      const record = workflows.get(id)
      if (!record) throw new ApiError('not_found', `no workflow ${id}`)
      return record
    },
    'workflows.put': (raw) => {
      const definition = parseWorkflow(raw, deps.sourceExists)
      return runner.transact((list) => {
        const { record, changed } = workflows.save(definition, clock.now())
        if (changed) list.push({ type: 'workflow', workflow: record })
        return record
      })
    },
    'workflows.setEnabled': ({ id, enabled }) =>
      runner.transact((list) => {
        const stored = workflows.get(id)
        if (!stored) throw new ApiError('not_found', `no workflow ${id}`)
        // Disabling always works; enabling a workflow whose source was deleted meanwhile is refused.
        if (enabled) requireSource(stored.definition as unknown as WorkflowDefinition, deps.sourceExists)
        const record = workflows.setEnabled(id, enabled, clock.now())
        if (!record) throw new ApiError('not_found', `no workflow ${id}`)
        list.push({ type: 'workflow', workflow: record })
        return record
      }),
    'workflows.delete': ({ id }) =>
      runner.transact((list) => {
        if (!workflows.remove(id)) throw new ApiError('not_found', `no workflow ${id}`)
        list.push({ type: 'workflow-deleted', id })
        return { deleted: true as const }
      }),
    'workflows.versions': ({ id }) => {
      if (!workflows.get(id) && workflows.versions(id).length === 0)
        throw new ApiError('not_found', `no workflow ${id}`)
      return { items: workflows.versions(id) }
    },
    'workflows.test': (input) => dryRun(input),

    'runs.list': ({ before, limit, ...filter }) => runs.list(filter, limit, before),
    'runs.get': ({ id }) => detail(requireRun(id)),
    'runs.retry': ({ id, latest }) =>
      runner.transact((list) => {
        const run = requireRun(id)
        const fromStep = run.current_step
        const summary = inRetry(run, latest ?? false)
        const action = deps.actions.record(
          'retry',
          id,
          { fromStep, latest: latest ?? false, version: summary.workflowVersion },
          clock.now(),
        )
        list.push({ type: 'run', run: summary }, { type: 'action', action })
        return summary
      }),
    'runs.retryBulk': async (input) => {
      const latest = input.latest ?? false
      const ids =
        'ids' in input
          ? input.ids
          : runs.idsMatching({ ...input.filter, status: input.filter.status ?? 'dead' }, 1000)
      const retried: string[] = []
      const skipped: Array<{ id: string; reason: string }> = []
      // A transaction per part, with a turn of the loop between: a thousand runs whose rows were not in the page
      // cache held intake 0.3–0.4 s in one (measured on stores of 100k and 500k runs). Each part is recorded as
      // an action of its own, so the history never claims a retry that a crash undid.
      for (let from = 0; from < ids.length; from += BULK_RETRY_PART) {
        if (from > 0) await new Promise((resolve) => setImmediate(resolve))
        const part = runner.transact((list) => {
          const done: string[] = []
          const refused: Array<{ id: string; reason: string }> = []
          for (const id of ids.slice(from, from + BULK_RETRY_PART)) {
            const run = runs.get(id)
            if (!run) {
              refused.push({ id, reason: 'no such run' })
              continue
            }
            try {
              const summary = inRetry(run, latest)
              done.push(id)
              list.push({ type: 'run', run: summary })
            } catch (error) {
              refused.push({ id, reason: error instanceof Error ? error.message : String(error) })
            }
          }
          if (done.length) {
            const action = deps.actions.record(
              'bulk-retry',
              done.join(','),
              { ids: done, latest },
              clock.now(),
            )
            list.push({ type: 'action', action })
          }
          return { done, refused }
        })
        retried.push(...part.done)
        skipped.push(...part.refused)
      }
      return { retried, skipped }
    },
    'runs.resolve': ({ id }) =>
      runner.transact((list) => {
        const run = requireRun(id)
        if (run.status !== 'dead')
          throw new ApiError('conflict', `run ${id} is ${run.status}; only dead runs can be resolved`)
        const next = runs.update(run, { resolved_at: clock.now() }, clock.now())
        const action = deps.actions.record('resolve', id, {}, clock.now())
        const summary = runs.summary(next)
        list.push({ type: 'run', run: summary }, { type: 'action', action })
        return summary
      }),
    'runs.cancel': ({ id }) => {
      const summary = runner.transact((list) => {
        const run = requireRun(id)
        if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting') {
          throw new ApiError('conflict', `run ${id} is ${run.status}; it can no longer be cancelled`)
        }
        runs.removeWaits(id)
        const next = runs.update(run, { status: 'cancelled', finished_at: clock.now() }, clock.now())
        if (run.status === 'running') runner.inReleaseSlot(next)
        const summary = runs.summary(next)
        list.push({ type: 'run', run: summary })
        return summary
      })
      // Committed: now cut off the request the run may have in flight (recorded as aborted, not retried).
      runner.abortInFlight(id)
      return summary
    },

    'secrets.list': () => ({ items: deps.vault.list() }),
    'secrets.put': ({ name, value }) => deps.vault.put(name, value),
    'secrets.delete': ({ name }) => {
      if (!deps.vault.delete(name)) throw new ApiError('not_found', `no secret ${name}`)
      return { deleted: true as const }
    },

    'notifications.list': ({ limit }) => ({
      items: (
        db
          .prepare(
            `SELECT id, at, title, body, run_id, event_id FROM notifications ORDER BY seq DESC LIMIT ?`,
          )
          .all(limit) as Array<{
          id: string
          at: number
          title: string
          body: string | null
          run_id: string | null
          event_id: string | null
        }>
      ).map((r) => ({
        id: r.id,
        at: r.at,
        title: r.title,
        body: r.body,
        runId: r.run_id,
        eventId: r.event_id,
      })),
    }),

    'events.replay': async ({ id }) => {
      const event = deps.loadEvent(id)
      if (!event) throw new ApiError('not_found', `no event ${id}`)
      if (event.summary.status !== 'accepted' && event.summary.status !== 'duplicate') {
        throw new ApiError(
          'conflict',
          `event ${id} is ${event.summary.status}; only accepted events can be replayed`,
        )
      }
      const matches = await dispatcher.matchingWorkflows(event)
      return runner.transact((list) => {
        const { started } = dispatcher.inStartRuns(event, matches, list, true)
        const action = deps.actions.record('replay', id, { runs: started.map((r) => r.id) }, clock.now())
        list.push({ type: 'action', action })
        return { runs: started }
      })
    },
  }

  return {
    operations,
    runsForEvent: (eventId) => runs.forEvent(eventId).map((r) => runs.summary(r)),
    runCounts: (eventIds) => runs.countsForEvents(eventIds),
    listensTo: (sourceId) => listens.get(sourceId, sourceId) === 1,
    checkSourceRemovable(sourceId) {
      const triggered = workflows.enabledFor(sourceId).map((w) => w.definition.id)
      const waiting = runsWaitingOn.all(sourceId) as string[]
      if (!triggered.length && !waiting.length) return
      const reasons = [
        ...(triggered.length
          ? [
              triggered.length > 1
                ? `enabled workflows ${triggered.join(', ')} trigger on it`
                : `enabled workflow ${triggered[0]} triggers on it`,
            ]
          : []),
        ...(waiting.length
          ? [
              waiting.length > 1
                ? `runs ${waiting.join(', ')} wait for its events`
                : `run ${waiting[0]} waits for its events`,
            ]
          : []),
      ]
      throw new ApiError(
        'conflict',
        `source ${sourceId} is in use: ${reasons.join('; ')}. Disable or change those workflows (and cancel ` +
          `those runs) first; nothing was deleted`,
        { workflows: triggered, runs: waiting },
      )
    },
    start() {
      if (started) return
      started = true
      /** Advance a run as the job `job` (a run job, or a dispatch job that became one). */
      const carry = async (runId: string, job: Job, ctx: JobContext, event?: LoadedEvent): Promise<void> => {
        try {
          await runner.advance(runId, runner.jobDriver(ctx), event)
        } catch (error) {
          // Step failures never get here; this is the store or a bug. On the job's last try, end the run as
          // dead (with the reason) rather than leave it "running" behind a dead job.
          if (ctx.signal.aborted || job.attempts < job.maxAttempts) throw error
          const run = runs.get(runId)
          if (run && (run.status === 'queued' || run.status === 'running')) {
            runner.endDead(
              run,
              null,
              `internal error: ${error instanceof Error ? error.message : String(error)}`,
              {
                ...runner.jobDriver(ctx),
                inComplete: () => undefined,
              },
            )
          }
          throw error
        }
      }
      queue.register<{ eventId: string }>(JOB_DISPATCH, async (job, ctx) => {
        const carried = await dispatcher.dispatch(job.payload.eventId, {
          complete: () => ctx.completeInTransaction(),
          becomeRun: (runId) => ctx.replaceInTransaction(JOB_RUN, { runId }, `run:${runId}`),
        })
        // The job is now the run job of the event's first run: its first step starts here, without a new claim.
        if (carried) await carry(carried.runId, job, ctx, carried.event)
      })
      queue.register<{ runId: string }>(JOB_RUN, (job, ctx) => carry(job.payload.runId, job, ctx))
      queue.register<TimerPayload>(JOB_TIMER, async (job, ctx) => runner.handleTimer(job.payload, ctx))
      queue.register<WaitScanPayload>(JOB_WAIT_SCAN, (job, ctx) =>
        dispatcher.answerFromEarlierEvents(job.payload, () => ctx.completeInTransaction()),
      )
      // Runs parked by the concurrency limit have no job; give each queued run one (a key makes this idempotent).
      // After a flood there can be a great many, and the receiver is already listening: a thousand per
      // transaction, with intake running between them.
      const queued = db.prepare(
        `SELECT seq, id FROM runs WHERE status = 'queued' AND dry_run = 0 AND seq > ? ORDER BY seq LIMIT ?`,
      )
      const enqueueQueued = async (): Promise<void> => {
        for (let after = 0; db.open;) {
          const rows = queued.all(after, REQUEUE_PAGE) as Array<{ seq: number; id: string }>
          db.transaction(() => {
            for (const { id } of rows) queue.add(JOB_RUN, { runId: id }, { key: `run:${id}` })
          }).immediate()
          queue.wake()
          if (rows.length < REQUEUE_PAGE) return
          after = rows[rows.length - 1]!.seq
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      enqueueQueued().catch((error: unknown) =>
        deps.log?.('error', 'could not give queued runs their jobs', { error: String(error) }),
      )
    },
    async stop() {
      // The queue owns in-flight jobs: stopping it aborts their signals and releases their leases. What is left
      // here is the idle keep-alive connections of outgoing requests.
      runner.close()
    },
  }
}
