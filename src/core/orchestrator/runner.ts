import type { Transaction } from 'better-sqlite3'
import type { Change } from '../../shared/contract'
import type { AttemptRecord, NotificationRecord } from '../../shared/domain'
import { walkSteps, type Step, type WaitForEventStep, type WorkflowDefinition } from '../../shared/workflow'
import { newId } from '../ids'
import { backoff, parseDuration, type BackoffPolicy } from '../queue/backoff'
import type { JobContext } from '../queue/queue'
import { redactCredentialHeaders } from '../secrets/vault'
import { evaluate, render, renderText, truthy } from './expressions'
import {
  ABORTED_BY_CANCEL,
  buildHttpRequest,
  buildWebhookRequest,
  callTimeout,
  send,
  summarize,
  type OutboundRequest,
} from './outbound'
import { transportFor, type HttpTransport, type Transport } from './http-transport'
import { succeededOutputs, type RunRow, type RunStore, type StepRow } from './run-store'
import { expressionScope, scopeEvent, scopeRun } from './scope'
import type { LoadedEvent, OrchestratorDeps } from './types'
import type { WorkflowStore } from './workflow-store'

/** Job kinds the orchestrator registers. */
export const JOB_RUN = 'run'
export const JOB_TIMER = 'run-timer'
/** A wait just registered looks for an answer among the events that arrived before it (see `Dispatcher`). */
export const JOB_WAIT_SCAN = 'run-wait-scan'

/**
 * How long one job carries a run on from step to step before it hands the run back to the queue (behind the jobs
 * already waiting), so that runs with long chains of slow steps do not keep other events from a worker.
 */
export const DEFAULT_CHAIN_BUDGET_MS = 2000

/** Step retries when a step says nothing: a few attempts, exponential backoff with full jitter. */
export const DEFAULT_STEP_RETRY: BackoffPolicy = {
  attempts: 3,
  kind: 'exponential',
  initialMs: 1000,
  maxMs: 600_000,
}

export interface TimerPayload {
  runId: string
  stepId: string
  kind: 'delay' | 'timeout'
  at: number
}

/**
 * The look-back of a wait that just registered: events on its source with seq in (run.events_after, upTo]
 * arrived before the wait could see them; every later event is dispatched after it and finds it.
 */
export interface WaitScanPayload {
  runId: string
  stepId: string
  upTo: number
}

/** A recorded outgoing call (dry runs). */
export interface RecordedCall {
  stepId: string
  method: string
  url: string
  headers: Record<string, string>
  body: unknown
}

/**
 * How a run advances: as a queue job (durable), or in memory for a dry run. Every `in…` method is called inside
 * the step's transaction.
 */
export interface Driver {
  dry: boolean
  /**
   * Whether `advance` goes on to the next step itself when a step finished and the next one needs no waiting
   * (a queue job: the same job carries the run on). A dry run advances one step per call instead.
   */
  chains: boolean
  /** How http and webhook steps send their requests. */
  transport: Transport
  signal: AbortSignal
  /** Remove the job being handled (throws when its lease was lost, rolling the transaction back). */
  inComplete(): void
  /** Schedule the run's next advance. */
  inContinue(runId: string, runAt?: number): void
  /**
   * A step finished and the run goes on right away. Returns true when the caller goes on with the next step: a
   * chaining driver keeps its job (checking that it still owns it; throws when the lease was lost, rolling the
   * transaction back, so a step commits only while its job is owned), a dry run's loop calls `advance` again.
   * Returns false when the next step was handed to the queue instead (a job that carried its run long enough).
   */
  inNext(runId: string): boolean
  inTimer(payload: TimerPayload): void
  definition(run: RunRow): WorkflowDefinition | null
  event(run: RunRow): LoadedEvent | null
}

class LeaseLost extends Error {
  constructor() {
    super('the job lease was lost; another worker owns it')
  }
}

/** What one `advance` call keeps between the steps it executes. */
interface Memo {
  /** The run's pinned definition (read once). */
  definition?: WorkflowDefinition | null
  /** The run's event (loaded once). */
  event?: LoadedEvent | null
  /**
   * The run and its step rows as the last step's transaction left them (read inside it), for the next step, which
   * starts right after that commit. Every transaction still reads the run again before it writes.
   */
  after?: { run: RunRow; states: Map<string, StepRow> }
}

export function retryPolicy(step: Step): BackoffPolicy {
  const r = step.retry ?? {}
  return {
    attempts: r.attempts ?? DEFAULT_STEP_RETRY.attempts,
    kind: r.backoff ?? DEFAULT_STEP_RETRY.kind,
    initialMs: r.initial === undefined ? DEFAULT_STEP_RETRY.initialMs : parseDuration(r.initial),
    maxMs: r.max === undefined ? DEFAULT_STEP_RETRY.maxMs : parseDuration(r.max),
  }
}

function parse(text: string | null): unknown {
  return text === null ? null : (JSON.parse(text) as unknown)
}

/** The branch a finished control step chose (from its stored output), or null. */
function takenBranch(step: Step, output: unknown): Step[] | null {
  const o = (output ?? {}) as Record<string, unknown>
  switch (step.kind) {
    case 'if':
      return o.branch === 'then' ? step.then : (step.else ?? null)
    case 'switch':
      return o.case === 'default' ? (step.default ?? null) : (step.cases[Number(o.case)]?.steps ?? null)
    case 'waitForEvent':
      return o.timedOut ? (step.onTimeout ?? null) : null
    default:
      return null
  }
}

/**
 * The next step to execute: walk the tree in order, descending into the branch each finished control step
 * chose; the first step without a finished record is next. Completed steps are never executed again.
 */
export function nextStep(steps: Step[], states: Map<string, StepRow>): Step | null {
  for (const step of steps) {
    const state = states.get(step.id)
    if (!state || (state.status !== 'succeeded' && state.status !== 'skipped')) return step
    const branch = takenBranch(step, parse(state.output))
    if (branch) {
      const inner = nextStep(branch, states)
      if (inner) return inner
    }
  }
  return null
}

function findStep(definition: WorkflowDefinition, stepId: string): Step | null {
  return walkSteps(definition.steps).find((s) => s.step.id === stepId)?.step ?? null
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Advances runs step by step. Each step's result, the job's completion and the next job commit together. */
export class Runner {
  /** The request each run has in flight (one at most: a run executes one step at a time), for `abortInFlight`. */
  private readonly inFlight = new Map<string, AbortController>()
  /** Outgoing requests of real runs (the engine's fetch, or its faster equivalent: see `transportFor`). */
  private readonly transport: HttpTransport
  /** One transaction wrapper for every `transact` (better-sqlite3 builds five variants per `transaction` call). */
  private readonly inTransaction: Transaction<
    (fn: (changes: Change[]) => unknown, changes: Change[]) => unknown
  >

  constructor(
    private readonly deps: OrchestratorDeps,
    private readonly runs: RunStore,
    private readonly workflows: WorkflowStore,
  ) {
    this.transport = transportFor(deps.fetch)
    this.inTransaction = deps.db.transaction((fn: (changes: Change[]) => unknown, changes: Change[]) =>
      fn(changes),
    )
  }

  /** Let go of idle outgoing connections (after the queue stopped). */
  close(): void {
    this.transport.close()
  }

  /** The driver for a queue job: durable, with the job removed in the step's transaction. */
  jobDriver(ctx: JobContext): Driver {
    const { queue } = this.deps
    const budget = this.deps.chainBudgetMs ?? DEFAULT_CHAIN_BUDGET_MS
    // Wall time, not the engine clock: this is about sharing workers now, and is never stored.
    const startedAt = performance.now()
    return {
      dry: false,
      chains: true,
      transport: this.transport.send,
      signal: ctx.signal,
      inComplete: () => {
        if (!ctx.completeInTransaction()) throw new LeaseLost()
      },
      inContinue: (runId, runAt) => {
        queue.add(JOB_RUN, { runId }, { key: `run:${runId}`, ...(runAt !== undefined ? { runAt } : {}) })
      },
      inNext: (runId) => {
        // While the engine stops, a run goes back to the queue at its next step rather than start it now; so
        // does a run whose job has had its time, or while other jobs wait for a worker (fair shares).
        if (!queue.stopping && performance.now() - startedAt < budget && !queue.othersWaiting()) {
          if (!ctx.holdInTransaction()) throw new LeaseLost()
          return true
        }
        if (!ctx.completeInTransaction()) throw new LeaseLost()
        queue.add(JOB_RUN, { runId }, { key: `run:${runId}` })
        return false
      },
      inTimer: (payload) => {
        queue.add(JOB_TIMER, payload, {
          runAt: payload.at,
          key: `timer:${payload.runId}:${payload.stepId}:${payload.at}`,
        })
      },
      definition: (run) => this.workflows.version(run.workflow_id, run.workflow_version),
      event: (run) => this.deps.loadEvent(run.event_id),
    }
  }

  /** Run `fn` in one immediate transaction, then publish the changes it collected. */
  transact<T>(fn: (changes: Change[]) => T): T {
    const changes: Change[] = []
    const result = this.inTransaction.immediate(fn, changes) as T
    this.deps.queue.wakeIfAdded()
    for (const change of changes) this.deps.changes.emit(change)
    return result
  }

  private runChange(row: RunRow, changes: Change[], dry: boolean): void {
    if (!dry) changes.push({ type: 'run', run: this.runs.summary(row) })
  }

  /** Publish a step's row as just written (with its attempts, which only http and webhook steps have). */
  private stepChange(row: StepRow, changes: Change[], dry: boolean): void {
    if (dry) return
    const attempts =
      row.kind === 'http' || row.kind === 'webhook' ? this.runs.attemptsOf(row.run_id, row.step_id) : []
    changes.push({ type: 'step', step: this.runs.stepRecord(row, attempts) })
  }

  /**
   * Cut off the request a run has in flight, if any: its connection is closed and the attempt is recorded as
   * aborted, with no retry. Call after committing the run's cancellation.
   */
  abortInFlight(runId: string): void {
    this.inFlight.get(runId)?.abort()
  }

  /** Wake the oldest parked run of a workflow when a slot frees (inside a transaction). */
  inReleaseSlot(run: RunRow): void {
    if (run.dry_run) return
    const next = this.runs.oldestQueued(run.workflow_id)
    if (next) this.deps.queue.add(JOB_RUN, { runId: next }, { key: `run:${next}` })
  }

  /**
   * Callback URL of a run: for the waitForEvent step it waits on, or the next one it will reach. `states` are the
   * run's step rows by step id, when the caller has them.
   */
  callbackUrl(
    run: RunRow,
    definition: WorkflowDefinition | null,
    states?: Map<string, StepRow>,
  ): string | null {
    if (!definition) return null
    const waits = walkSteps(definition.steps)
      .map((s) => s.step)
      .filter((s): s is WaitForEventStep => s.kind === 'waitForEvent')
    if (!waits.length) return null
    states ??= new Map(this.runs.steps(run.id).map((s) => [s.step_id, s]))
    const target =
      waits.find((s) => states.get(s.id)?.status === 'waiting') ??
      waits.find((s) => states.get(s.id)?.status !== 'succeeded') ??
      null
    if (!target) return null
    const base = this.deps.callbackUrl(run.id, target.id)
    if (!base) return null
    return `${base.replace(/\/+$/, '')}/hooks/${encodeURIComponent(target.source)}/runs/${run.id}`
  }

  /**
   * The data a step's expressions see (`expressionScope`, about the trigger event). `states` are the run's step
   * rows by step id; the event is loaded once per `advance` (kept in `memo`).
   */
  context(
    run: RunRow,
    definition: WorkflowDefinition,
    driver: Driver,
    states: Map<string, StepRow>,
    memo: Memo = {},
  ): Record<string, unknown> {
    if (memo.event === undefined) memo.event = driver.event(run)
    const event = memo.event
    return expressionScope(
      event ? scopeEvent(event) : null,
      {
        steps: succeededOutputs(states.values()),
        secrets: this.deps.vault.values(),
        run: scopeRun(run, event, this.callbackUrl(run, definition, states)),
      },
      run.source_id,
    )
  }

  /**
   * Advance a run: one step for a driver that does not chain (returns true when the run goes on right away; dry
   * runs loop on it); for a chaining driver (a queue job), step after step for as long as the next one needs no
   * waiting, each step committed in its own transaction before the next one starts, so a crash resumes from the
   * last finished step. Never throws for a step's own failure; those end in a retry or a dead run. Throws when
   * the driver's signal aborts (the engine is stopping): the job is released and runs again after a restart.
   */
  async advance(runId: string, driver: Driver, event?: LoadedEvent): Promise<boolean> {
    const memo: Memo = event ? { event } : {}
    for (;;) {
      const again = await this.advanceOne(runId, driver, memo)
      if (!again || !driver.chains) return again
      if (driver.signal.aborted)
        throw new Error('stopping: the run goes on from its next step after a restart')
    }
  }

  private async advanceOne(runId: string, driver: Driver, memo: Memo): Promise<boolean> {
    const { clock } = this.deps
    const after = memo.after
    memo.after = undefined
    let run = after ? after.run : this.runs.get(runId)
    if (!run || (run.status !== 'queued' && run.status !== 'running')) {
      this.transact(() => driver.inComplete())
      return false
    }
    if (memo.definition === undefined) memo.definition = driver.definition(run)
    const definition = memo.definition
    if (!definition) {
      this.endDead(
        run,
        null,
        `workflow ${run.workflow_id} version ${run.workflow_version} is missing`,
        driver,
      )
      return false
    }
    if (run.status === 'queued') {
      const limit = definition.concurrency
      const current = run
      const started = this.transact((changes) => {
        if (!driver.dry && limit !== undefined && this.runs.countRunning(current.workflow_id) >= limit) {
          // Parked: stays queued without a job until a running run of this workflow frees its slot.
          driver.inComplete()
          return null
        }
        const next = this.runs.update(current, { status: 'running' }, clock.now())
        this.runChange(next, changes, driver.dry)
        return next
      })
      if (!started) return false
      run = started
    }

    const states = after ? after.states : new Map(this.runs.steps(run.id).map((s) => [s.step_id, s]))
    const step = nextStep(definition.steps, states)
    if (!step) {
      const done = run
      this.transact((changes) => {
        driver.inComplete()
        const next = this.runs.update(
          done,
          { status: 'succeeded', current_step: null, error: null, finished_at: clock.now() },
          clock.now(),
        )
        this.runChange(next, changes, driver.dry)
        this.inReleaseSlot(next)
      })
      return false
    }
    if (states.get(step.id)?.status === 'waiting') {
      // A stale job for a run that is already waiting on this step: the timer or an event resumes it.
      this.transact(() => driver.inComplete())
      return false
    }

    let input: Record<string, unknown>
    try {
      input = this.context(run, definition, driver, states, memo)
    } catch (error) {
      this.endDead(run, step, `cannot evaluate: ${errorText(error)}`, driver)
      return false
    }

    try {
      switch (step.kind) {
        case 'http':
        case 'webhook':
          return await this.call(run, definition, step, input, driver, memo)
        case 'notify': {
          const title = await renderText(step.title, input)
          const body = step.body === undefined ? null : await renderText(step.body, input)
          return this.succeed(
            run,
            definition,
            step,
            { title, body },
            { title, body, dryRun: driver.dry || undefined },
            driver,
            memo,
            (changes) => {
              if (driver.dry) return
              const notification: NotificationRecord = {
                id: newId('ntf', clock.now()),
                at: clock.now(),
                title,
                body,
                runId: run!.id,
                eventId: run!.event_id,
              }
              this.runs.insertNotification({
                id: notification.id,
                at: notification.at,
                title,
                body,
                runId: run!.id,
                eventId: run!.event_id,
              })
              changes.push({ type: 'notification', notification })
            },
          )
        }
        case 'set': {
          const values = (await render(step.values, input)) as Record<string, unknown>
          return this.succeed(run, definition, step, null, values, driver, memo)
        }
        case 'if': {
          const value = await evaluate(step.when, input)
          const branch = truthy(value) ? 'then' : 'else'
          return this.succeed(
            run,
            definition,
            step,
            { when: step.when },
            { branch, value: value ?? null },
            driver,
            memo,
          )
        }
        case 'switch': {
          const value = await evaluate(step.value, input)
          const index = step.cases.findIndex(
            (c) => JSON.stringify(c.equals) === JSON.stringify(value ?? null),
          )
          return this.succeed(
            run,
            definition,
            step,
            { value: step.value },
            { value: value ?? null, case: index >= 0 ? index : 'default' },
            driver,
            memo,
          )
        }
        case 'delay':
          return this.delay(run, definition, step, driver, memo)
        case 'waitForEvent':
          return this.waitForEvent(run, definition, step, driver, memo)
      }
    } catch (error) {
      if (error instanceof LeaseLost || driver.signal.aborted) throw error
      this.endDead(run, step, errorText(error), driver)
      return false
    }
  }

  /**
   * The run is no longer running (cancelled, or cancelled and retried, while this job held it): end the job. A run
   * retried meanwhile is queued without a job of its own (its job could not be added beside this one: same key),
   * so it gets one now.
   */
  private inStop(current: RunRow | null, driver: Driver): void {
    driver.inComplete()
    if (current?.status === 'queued') driver.inContinue(current.id)
  }

  /**
   * After a step succeeded (inside its transaction): when no step is left, the run succeeds and its job ends, in
   * this same transaction; otherwise the run goes on (`inNext`). Returns whether the caller goes on with it.
   */
  private inAfterStep(
    current: RunRow,
    step: Step,
    definition: WorkflowDefinition,
    driver: Driver,
    memo: Memo,
    changes: Change[],
  ): boolean {
    const now = this.deps.clock.now()
    const states = new Map(this.runs.steps(current.id).map((s) => [s.step_id, s]))
    if (!nextStep(definition.steps, states)) {
      driver.inComplete()
      const done = this.runs.update(
        current,
        { status: 'succeeded', current_step: null, error: null, finished_at: now },
        now,
      )
      this.runChange(done, changes, driver.dry)
      this.inReleaseSlot(done)
      return false
    }
    const here = driver.inNext(current.id)
    const next = this.runs.update(current, { current_step: step.id, error: null }, now)
    this.runChange(next, changes, driver.dry)
    if (here) memo.after = { run: next, states }
    return here
  }

  /** Record a finished step and go on (or finish the run), in one transaction. */
  private succeed(
    run: RunRow,
    definition: WorkflowDefinition,
    step: Step,
    input: unknown,
    output: unknown,
    driver: Driver,
    memo: Memo,
    extra?: (changes: Change[]) => void,
  ): boolean {
    const { clock } = this.deps
    const redact = this.deps.vault.redactor()
    return this.transact((changes) => {
      const current = this.runs.get(run.id)
      if (!current || current.status !== 'running') {
        this.inStop(current, driver) // cancelled meanwhile
        return false
      }
      const written = this.runs.writeStep({
        runId: run.id,
        stepId: step.id,
        kind: step.kind,
        status: 'succeeded',
        input: redact(input),
        output: redact(output ?? null),
        error: null,
        startedAt: clock.now(),
        finishedAt: clock.now(),
      })
      extra?.(changes)
      this.stepChange(written, changes, driver.dry)
      return this.inAfterStep(current, step, definition, driver, memo, changes)
    })
  }

  /** End a run as dead with its reason (the step, if any, is marked failed). */
  endDead(run: RunRow, step: Step | null, reason: string, driver: Driver, attempt?: AttemptRecord): void {
    const { clock } = this.deps
    const redact = this.deps.vault.redactor()
    const message = redact(step ? `step ${step.id}: ${reason}` : reason)
    this.transact((changes) => {
      driver.inComplete()
      const current = this.runs.get(run.id)
      if (!current || current.status === 'cancelled' || current.status === 'dead') return
      if (step) {
        if (attempt) this.runs.insertAttempt(run.id, step.id, redact(attempt))
        const written = this.runs.writeStep({
          runId: run.id,
          stepId: step.id,
          kind: step.kind,
          status: 'failed',
          output: null,
          error: redact(reason),
          startedAt: clock.now(),
          finishedAt: clock.now(),
        })
        this.stepChange(written, changes, driver.dry)
      }
      this.runs.removeWaits(run.id)
      const next = this.runs.update(
        current,
        { status: 'dead', current_step: step?.id ?? null, error: message, finished_at: clock.now() },
        clock.now(),
      )
      this.runChange(next, changes, driver.dry)
      this.inReleaseSlot(next)
    })
  }

  private async call(
    run: RunRow,
    definition: WorkflowDefinition,
    step: Step & { kind: 'http' | 'webhook' },
    input: unknown,
    driver: Driver,
    memo: Memo,
  ): Promise<boolean> {
    const { clock } = this.deps
    const redact = this.deps.vault.redactor()
    let request: OutboundRequest
    try {
      const ids = { runId: run.id, hop: run.hop }
      request =
        step.kind === 'http'
          ? await buildHttpRequest(step, input, ids)
          : await buildWebhookRequest(step, input, ids, clock.now())
    } catch (error) {
      this.endDead(run, step, errorText(error), driver)
      return false
    }
    const stored = this.runs.step(run.id, step.id)
    const n = this.runs.attemptCount(run.id, step.id) + 1
    const round = n - (stored?.attempt_base ?? 0)
    const policy = retryPolicy(step)
    const requestSummary = redact({
      ...request,
      headers: redactCredentialHeaders(request.headers),
      body: summarize(request.body),
    })
    const startedAt = clock.now()
    const proceed = this.transact((changes) => {
      const current = this.runs.get(run.id)
      if (!current || current.status !== 'running') {
        // Cancelled while the request was being rendered: nothing is sent.
        this.inStop(current, driver)
        return false
      }
      const written = this.runs.writeStep({
        runId: run.id,
        stepId: step.id,
        kind: step.kind,
        status: 'running',
        input: requestSummary,
        output: null,
        startedAt,
      })
      if (current.current_step !== step.id) {
        this.runChange(this.runs.update(current, { current_step: step.id }, clock.now()), changes, driver.dry)
      }
      this.stepChange(written, changes, driver.dry)
      return true
    })
    if (!proceed) return false

    // Registered in the same turn as the check above, so a cancel committed from now on finds it.
    const cancel = new AbortController()
    this.inFlight.set(run.id, cancel)
    let result: Awaited<ReturnType<typeof send>>
    try {
      result = await send(driver.transport, request, {
        timeoutMs: callTimeout(step),
        signal: driver.signal,
        cancel: cancel.signal,
        now: () => clock.now(),
      })
    } finally {
      if (this.inFlight.get(run.id) === cancel) this.inFlight.delete(run.id)
    }
    const attempt: AttemptRecord = {
      n,
      startedAt,
      finishedAt: clock.now(),
      ok: result.ok,
      error: result.error,
      request: requestSummary,
      response: result.response,
      retryAt: null,
    }
    if (result.aborted) {
      this.transact((changes) => {
        driver.inComplete()
        const current = this.runs.get(run.id)
        if (!current) return
        this.runs.insertAttempt(run.id, step.id, redact(attempt))
        if (current.status === 'queued') {
          // Retried while its request was being cut off: the retry's job could not be added beside this one
          // (same key), so it is added now that this one is done.
          driver.inContinue(run.id)
          return
        }
        const written = this.runs.writeStep({
          runId: run.id,
          stepId: step.id,
          kind: step.kind,
          status: 'pending',
          output: null,
          error: ABORTED_BY_CANCEL,
          finishedAt: clock.now(),
        })
        this.stepChange(written, changes, driver.dry)
      })
      return false
    }
    if (result.ok) {
      return this.transact((changes) => {
        const current = this.runs.get(run.id)
        if (!current) {
          driver.inComplete()
          return false
        }
        // Recorded even when the run was cancelled meanwhile: the call did happen.
        this.runs.insertAttempt(run.id, step.id, redact(attempt))
        if (current.status !== 'running') {
          this.inStop(current, driver)
          return false
        }
        const written = this.runs.writeStep({
          runId: run.id,
          stepId: step.id,
          kind: step.kind,
          status: 'succeeded',
          output: redact(result.output),
          error: null,
          finishedAt: clock.now(),
        })
        this.stepChange(written, changes, driver.dry)
        return this.inAfterStep(current, step, definition, driver, memo, changes)
      })
    }
    if (!result.retryable || round >= policy.attempts) {
      const reason = result.retryable ? `${result.error} (after ${round} attempts)` : result.error!
      this.endDead(run, step, reason, driver, attempt)
      return false
    }
    const retryAt = clock.now() + backoff(round, policy, this.deps.random, result.retryAfterMs)
    this.transact((changes) => {
      driver.inComplete()
      const current = this.runs.get(run.id)
      if (!current) return
      // A run cancelled while this attempt was answered gets no next attempt: its record says none is due.
      const running = current.status === 'running'
      this.runs.insertAttempt(run.id, step.id, redact({ ...attempt, retryAt: running ? retryAt : null }))
      if (!running) return
      const written = this.runs.writeStep({
        runId: run.id,
        stepId: step.id,
        kind: step.kind,
        status: 'pending',
        output: null,
        error: redact(result.error),
      })
      const next = this.runs.update(
        current,
        {
          current_step: step.id,
          error: redact(`step ${step.id}: ${result.error} (attempt ${round} of ${policy.attempts})`),
        },
        clock.now(),
      )
      driver.inContinue(run.id, retryAt)
      this.stepChange(written, changes, driver.dry)
      this.runChange(next, changes, driver.dry)
    })
    return false
  }

  private delay(
    run: RunRow,
    definition: WorkflowDefinition,
    step: Step & { kind: 'delay' },
    driver: Driver,
    memo: Memo,
  ): boolean {
    const ms = parseDuration(step.duration)
    if (driver.dry)
      return this.succeed(
        run,
        definition,
        step,
        { duration: step.duration },
        { waitedMs: ms, dryRun: true },
        driver,
        memo,
      )
    const at = this.deps.clock.now() + ms
    this.enterWaiting(run, step, { duration: step.duration, until: at }, at, driver, () => {
      driver.inTimer({ runId: run.id, stepId: step.id, kind: 'delay', at })
    })
    return false
  }

  /**
   * Put the run in `waiting` on this step until `at`, in one transaction with the job's completion;
   * `register` adds what wakes it (a timer, a wait row), inside the same transaction.
   */
  private enterWaiting(
    run: RunRow,
    step: Step,
    input: Record<string, unknown>,
    at: number,
    driver: Driver,
    register: (current: RunRow) => void,
  ): void {
    const { clock } = this.deps
    this.transact((changes) => {
      driver.inComplete()
      const current = this.runs.get(run.id)
      if (!current || current.status !== 'running') return
      const written = this.runs.writeStep({
        runId: run.id,
        stepId: step.id,
        kind: step.kind,
        status: 'waiting',
        input,
        wakeAt: at,
        startedAt: clock.now(),
      })
      register(current)
      const next = this.runs.update(current, { status: 'waiting', current_step: step.id }, clock.now())
      this.stepChange(written, changes, false)
      this.runChange(next, changes, false)
      this.inReleaseSlot(next)
    })
  }

  private waitForEvent(
    run: RunRow,
    definition: WorkflowDefinition,
    step: WaitForEventStep,
    driver: Driver,
    memo: Memo,
  ): boolean {
    const input = {
      source: step.source,
      types: step.types ?? null,
      match: step.match ?? null,
      timeout: step.timeout,
    }
    if (driver.dry)
      return this.succeed(
        run,
        definition,
        step,
        input,
        { event: null, timedOut: false, dryRun: true },
        driver,
        memo,
      )
    const { clock } = this.deps
    const at = clock.now() + parseDuration(step.timeout)
    this.enterWaiting(run, step, { ...input, until: at }, at, driver, (current) => {
      this.runs.addWait({
        runId: run.id,
        stepId: step.id,
        sourceId: step.source,
        types: step.types,
        match: step.match,
        now: clock.now(),
        expiresAt: at,
      })
      driver.inTimer({ runId: run.id, stepId: step.id, kind: 'timeout', at })
      // An answer may already be here (a 3PL that answers inside its webhook handler, before the run got
      // here): its dispatch found no wait. Events that commit from now on see the wait at dispatch, so the
      // ones up to the source's newest seq are looked at once, by a job (JSONata is async; this transaction
      // is not), which resumes the run just as a dispatch would.
      const upTo = this.runs.newestSeqOn(step.source)
      if (current.events_after !== null && upTo !== null && upTo > current.events_after) {
        const scan: WaitScanPayload = { runId: run.id, stepId: step.id, upTo }
        this.deps.queue.add(JOB_WAIT_SCAN, scan, { key: `wait-scan:${run.id}:${step.id}:${upTo}` })
      }
    })
    return false
  }

  /** A delay ended or a wait timed out (timer job). Stale timers (the step moved on) do nothing. */
  handleTimer(payload: TimerPayload, ctx: JobContext): void {
    const { clock } = this.deps
    this.transact((changes) => {
      if (!ctx.completeInTransaction()) throw new LeaseLost()
      const run = this.runs.get(payload.runId)
      const step = this.runs.step(payload.runId, payload.stepId)
      if (
        !run ||
        run.status !== 'waiting' ||
        !step ||
        step.status !== 'waiting' ||
        step.wake_at !== payload.at
      )
        return
      const now = clock.now()
      let written: StepRow
      if (payload.kind === 'delay') {
        written = this.runs.writeStep({
          runId: run.id,
          stepId: step.step_id,
          kind: step.kind,
          status: 'succeeded',
          output: { waitedUntil: payload.at },
          finishedAt: now,
        })
      } else {
        this.runs.removeWait(run.id, step.step_id)
        const definition = this.workflows.version(run.workflow_id, run.workflow_version)
        const spec = definition ? findStep(definition, step.step_id) : null
        if (!spec || spec.kind !== 'waitForEvent' || !spec.onTimeout) {
          const reason = `timed out waiting for an event after ${spec?.kind === 'waitForEvent' ? String(spec.timeout) : 'its timeout'}`
          const failed = this.runs.writeStep({
            runId: run.id,
            stepId: step.step_id,
            kind: step.kind,
            status: 'failed',
            error: reason,
            finishedAt: now,
          })
          const dead = this.runs.update(
            run,
            { status: 'dead', error: `step ${step.step_id}: ${reason}`, finished_at: now },
            now,
          )
          this.stepChange(failed, changes, false)
          this.runChange(dead, changes, false)
          return
        }
        written = this.runs.writeStep({
          runId: run.id,
          stepId: step.step_id,
          kind: step.kind,
          status: 'succeeded',
          output: { timedOut: true, event: null },
          finishedAt: now,
        })
      }
      const next = this.runs.update(run, { status: 'queued' }, now)
      this.deps.queue.add(JOB_RUN, { runId: run.id }, { key: `run:${run.id}` })
      this.stepChange(written, changes, false)
      this.runChange(next, changes, false)
    })
  }

  /**
   * Resume a run waiting on `stepId` with an event (inside the dispatch or wait-scan transaction). Returns false
   * when the step is no longer waiting (timed out, cancelled or answered meanwhile), or when this event already
   * answered a wait of this run (an event answers a run once; other runs may take it too).
   */
  inResume(runId: string, stepId: string, event: LoadedEvent, changes: Change[]): boolean {
    const { clock } = this.deps
    const run = this.runs.get(runId)
    const step = this.runs.step(runId, stepId)
    if (!run || run.status !== 'waiting' || !step || step.status !== 'waiting') return false
    if (!this.runs.wait(runId, stepId)) return false
    const now = clock.now()
    if (!this.runs.addAnswer(runId, event.summary.id, stepId, now)) return false
    this.runs.removeWait(runId, stepId)
    const written = this.runs.writeStep({
      runId,
      stepId,
      kind: step.kind,
      status: 'succeeded',
      output: this.deps.vault.redactor()({
        timedOut: false,
        event: {
          id: event.summary.id,
          type: event.summary.type,
          source: event.summary.sourceId,
          receivedAt: event.summary.receivedAt,
          body: event.json ?? null,
          headers: event.headers,
        },
      }),
      finishedAt: now,
    })
    const next = this.runs.update(run, { status: 'queued' }, now)
    this.deps.queue.add(JOB_RUN, { runId }, { key: `run:${runId}` })
    this.stepChange(written, changes, false)
    this.runChange(next, changes, false)
    return true
  }
}
