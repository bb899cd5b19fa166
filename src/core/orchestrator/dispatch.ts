import type { Change } from '../../shared/contract'
import type { RunSummary } from '../../shared/domain'
import { typeMatches, type WorkflowDefinition } from '../../shared/workflow'
import { newId } from '../ids'
import { evaluate, truthy } from './expressions'
import { EARLIER_EVENTS_LIMIT, succeededOutputs, type RunRow, type RunStore, type WaitRow } from './run-store'
import { JOB_RUN, type Runner, type WaitScanPayload } from './runner'
import { expressionScope, scopeEvent, scopeRun } from './scope'
import type { LoadedEvent, OrchestratorDeps } from './types'
import type { WorkflowStore } from './workflow-store'

/** What the dispatch job lets the dispatcher do with it, inside the dispatch transaction. */
export interface DispatchJob {
  /** End the job; false when its lease was lost. */
  complete(): boolean
  /** Turn the job into the `run` job of a run the event started; false when its lease was lost. */
  becomeRun(runId: string): boolean
}

/** A workflow whose trigger matched an event, pinned to the version current at that moment. */
export interface TriggerMatch {
  version: number
  definition: WorkflowDefinition
}

/** `/hooks/<source>/runs/<runId>` (the run's own callback), with or without a trailing slash. */
export function callbackRunId(event: LoadedEvent): string | null {
  const source = encodeURIComponent(event.summary.sourceId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`^/hooks/${source}/runs/([A-Za-z0-9_]+)/?$`).exec(event.path)
  return match ? match[1]! : null
}

/**
 * Matches events to workflow triggers (fan-out) and to runs waiting for them (fan-in), both when an event is
 * dispatched and, for events that arrived before a wait registered, when the wait looks back at them.
 */
export class Dispatcher {
  constructor(
    private readonly deps: OrchestratorDeps,
    private readonly runs: RunStore,
    private readonly workflows: WorkflowStore,
    private readonly runner: Runner,
  ) {}

  private log(message: string, data: object): void {
    this.deps.log?.('warn', message, data)
  }

  /** Does the trigger (source, type globs, `when`) match? A failing `when` counts as no match, and is logged. */
  async triggerMatches(definition: WorkflowDefinition, event: LoadedEvent): Promise<boolean> {
    if (definition.trigger.source !== event.summary.sourceId) return false
    if (!typeMatches(definition.trigger.types, event.summary.type)) return false
    if (!definition.trigger.when) return true
    try {
      return truthy(
        await evaluate(
          definition.trigger.when,
          expressionScope(scopeEvent(event), { steps: {}, secrets: this.deps.vault.values(), run: null }),
        ),
      )
    } catch (error) {
      this.log(`workflow ${definition.id}: trigger "when" failed`, {
        eventId: event.summary.id,
        error: String(error),
      })
      return false
    }
  }

  /** Enabled workflows whose triggers match the event, by workflow id. */
  async matchingWorkflows(event: LoadedEvent): Promise<TriggerMatch[]> {
    const out: TriggerMatch[] = []
    for (const candidate of this.workflows.enabledFor(event.summary.sourceId)) {
      if (await this.triggerMatches(candidate.definition, event)) out.push(candidate)
    }
    return out
  }

  /**
   * Does this event answer this run's wait? By the run's callback path (`/hooks/<source>/runs/<runId>`), else
   * by type and the JSONata `match`. Only events that arrived after the run's `events_after` point count.
   * A failing `match` counts as no answer, and is logged.
   */
  async waitAccepts(
    wait: WaitRow,
    run: RunRow,
    event: LoadedEvent,
    eventSeq: number | null,
  ): Promise<boolean> {
    if (event.summary.sourceId !== wait.source_id) return false
    if (run.events_after !== null && eventSeq !== null && eventSeq <= run.events_after) return false
    const types = wait.types ? (JSON.parse(wait.types) as string[]) : undefined
    if (!typeMatches(types, event.summary.type)) return false
    const callbackFor = callbackRunId(event)
    if (callbackFor !== null) return callbackFor === run.id
    if (!wait.match) return true
    const runEvent = this.deps.loadEvent(run.event_id)
    // The run's steps are read once: the scope's `steps` and its callback URL both come from them.
    const states = new Map(this.runs.steps(run.id).map((s) => [s.step_id, s]))
    const callbackUrl = this.runner.callbackUrl(
      run,
      this.workflows.version(run.workflow_id, run.workflow_version),
      states,
    )
    try {
      const matched = await evaluate(
        wait.match,
        expressionScope(scopeEvent(event), {
          steps: succeededOutputs(states.values()),
          secrets: this.deps.vault.values(),
          run: scopeRun(run, runEvent, callbackUrl),
        }),
      )
      return truthy(matched)
    } catch (error) {
      this.log(`run ${run.id}: waitForEvent "match" failed`, {
        eventId: event.summary.id,
        error: String(error),
      })
      return false
    }
  }

  /** Waiting runs this event resumes (fan-in: every waiting run it answers). */
  async matchingWaits(event: LoadedEvent): Promise<WaitRow[]> {
    const waits = this.runs.waitsFor(event.summary.sourceId)
    if (!waits.length) return []
    const seq = this.runs.eventSeq(event.summary.id)
    const out: WaitRow[] = []
    for (const [i, wait] of waits.entries()) {
      // Each wait reads its run and may evaluate a JSONata match: with thousands waiting on one source that
      // held intake for most of a second (measured: 715 ms for 5,000), so intake gets a turn every hundred.
      // The resume re-checks each wait inside its transaction.
      if (i > 0 && i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
      const run = this.runs.get(wait.run_id)
      if (run && (await this.waitAccepts(wait, run, event, seq))) out.push(wait)
    }
    return out
  }

  /**
   * The `run-wait-scan` job: a wait registered after events on its source had already arrived (and been
   * dispatched without finding it). Look at them, oldest first, among the newest `EARLIER_EVENTS_LIMIT` in
   * (run.events_after, upTo], skipping the ones this run already took; the first that answers the wait resumes
   * the run, exactly as its dispatch would have, in one transaction with the job's completion.
   */
  async answerFromEarlierEvents(payload: WaitScanPayload, complete: () => boolean): Promise<void> {
    const wait = this.runs.wait(payload.runId, payload.stepId)
    const run = wait ? this.runs.get(payload.runId) : null
    let answer: LoadedEvent | null = null
    if (wait && run && run.status === 'waiting' && run.events_after !== null) {
      const types = wait.types ? (JSON.parse(wait.types) as string[]) : undefined
      const candidates = this.runs.earlierEvents(
        run.id,
        wait.source_id,
        run.events_after,
        payload.upTo,
        types,
        EARLIER_EVENTS_LIMIT,
      )
      for (const candidate of candidates) {
        const event = this.deps.loadEvent(candidate.id)
        if (!event || event.summary.status !== 'accepted') continue
        if (await this.waitAccepts(wait, run, event, candidate.seq)) {
          answer = event
          break
        }
      }
    }
    this.runner.transact((changes) => {
      if (!complete()) throw new Error('the wait-scan job lease was lost')
      if (answer) this.runner.inResume(payload.runId, payload.stepId, answer, changes)
    })
  }

  /**
   * Create one queued run per matched workflow (inside a transaction). A `replay` run's waits take only events
   * that arrive from now on; a run the event started itself takes events that arrived after that event.
   *
   * With `carry` (the dispatch job), the first run whose workflow has no concurrency limit starts at once: it is
   * inserted as running and the dispatch job becomes its run job, so the caller goes on with its first step in the
   * same job (a crash leaves that run job behind). Every other run is queued with a job of its own.
   */
  inStartRuns(
    event: LoadedEvent,
    matches: TriggerMatch[],
    changes: Change[],
    replay = false,
    carry?: DispatchJob,
  ): { started: RunSummary[]; carried: string | null } {
    const now = this.deps.clock.now()
    const started: RunSummary[] = []
    let carried: string | null = null
    for (const match of matches) {
      const id = newId('run', now)
      // A workflow with a limit goes through the queue, where its runs take free slots in the order they came.
      const startNow = carry !== undefined && carried === null && match.definition.concurrency === undefined
      this.runs.insertRun({
        id,
        eventId: event.summary.id,
        sourceId: event.summary.sourceId,
        workflowId: match.definition.id,
        version: match.version,
        name: match.definition.name,
        hop: event.summary.hop,
        now,
        dryRun: false,
        replay,
        status: startNow ? 'running' : 'queued',
      })
      if (startNow) {
        if (!carry.becomeRun(id)) throw new Error('the dispatch job lease was lost')
        carried = id
      } else {
        this.deps.queue.add(JOB_RUN, { runId: id }, { key: `run:${id}` })
      }
      const summary = this.runs.summary(this.runs.get(id)!)
      changes.push({ type: 'run', run: summary })
      started.push(summary)
    }
    return { started, carried }
  }

  /**
   * The `dispatch` job: start the workflows the event triggers and resume the runs waiting for it, in one
   * transaction with the job's completion, or with its change into the run job of the first run it started
   * (whose id it returns, with the event: the caller carries that run on). Events that were not accepted
   * (duplicates, rejected, blocked by the loop guard) trigger nothing.
   */
  async dispatch(eventId: string, job: DispatchJob): Promise<{ runId: string; event: LoadedEvent } | null> {
    const event = this.deps.loadEvent(eventId)
    if (!event || event.summary.status !== 'accepted') {
      this.runner.transact(() => {
        if (!job.complete()) throw new Error('the dispatch job lease was lost')
      })
      return null
    }
    const matches = await this.matchingWorkflows(event)
    const waits = await this.matchingWaits(event)
    const carried = this.runner.transact((changes) => {
      const { carried } = this.inStartRuns(event, matches, changes, false, job)
      if (carried === null && !job.complete()) throw new Error('the dispatch job lease was lost')
      for (const wait of waits) this.runner.inResume(wait.run_id, wait.step_id, event, changes)
      return carried
    })
    return carried === null ? null : { runId: carried, event }
  }
}
