/**
 * The event open in the inspector: its detail (headers, body, verification, dedup) and the full detail of
 * each run it started, kept current by event, run and step changes so a retry is watched as it happens.
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { EventDetail, RunDetail, RunSummary, StepRecord } from '../../../shared/domain'
import { describeError } from '../api/api-errors'

export interface InspectorState {
  eventId: string | null
  phase: 'idle' | 'loading' | 'ready' | 'error'
  error: string | null
  detail: EventDetail | null
  /** Run details by run id, in the order the runs started. */
  runs: RunDetail[]
  runsError: string | null
}

function mergeStep(steps: StepRecord[], step: StepRecord): StepRecord[] {
  const at = steps.findIndex((s) => s.stepId === step.stepId)
  if (at < 0) return [...steps, step]
  return steps.map((s, i) => (i === at ? step : s))
}

export type InspectorStore = ReturnType<typeof createInspectorStore>

export function createInspectorStore(client: Pick<ApiClient, 'events.get' | 'runs.get'>) {
  const store = createStore<InspectorState>(() => ({
    eventId: null,
    phase: 'idle',
    error: null,
    detail: null,
    runs: [],
    runsError: null,
  }))
  let generation = 0
  // Runs of the open event that changed while its detail was still loading: fetched once it has loaded.
  let changedWhileLoading = new Set<string>()
  // How many live changes each run has had. A fetch answered by the control API and a change pushed on the
  // stream travel on different connections, so a fetch issued before a change can land after it; a fetch
  // during which the count moved is stale and is made again.
  const changeCounts = new Map<string, number>()
  const changesOf = (runId: string) => changeCounts.get(runId) ?? 0

  async function fetchRuns(summaries: RunSummary[], mine: number): Promise<void> {
    const before = new Map(summaries.map((r) => [r.id, changesOf(r.id)]))
    const results = await Promise.allSettled(summaries.map((r) => client['runs.get']({ id: r.id })))
    if (mine !== generation) return
    const runs: RunDetail[] = []
    let failure: string | null = null
    for (const result of results) {
      if (result.status === 'fulfilled') runs.push(result.value)
      else failure = describeError(result.reason)
    }
    // Live step changes may have landed while we fetched; keep whichever is newer per run.
    const current = new Map(store.getState().runs.map((r) => [r.id, r]))
    const merged = runs.map((r) => {
      const live = current.get(r.id)
      return live && live.updatedAt > r.updatedAt ? live : r
    })
    for (const live of current.values()) if (!merged.some((r) => r.id === live.id)) merged.push(live)
    merged.sort((a, b) => a.createdAt - b.createdAt)
    store.setState({ runs: merged, runsError: failure })
    const stale = summaries.filter((r) => changesOf(r.id) !== before.get(r.id))
    await Promise.all(stale.map((r) => refreshRun(r.id)))
  }

  async function open(eventId: string): Promise<void> {
    const mine = ++generation
    changedWhileLoading = new Set()
    changeCounts.clear()
    store.setState({ eventId, phase: 'loading', error: null, detail: null, runs: [], runsError: null })
    try {
      const detail = await client['events.get']({ id: eventId })
      if (mine !== generation) return
      store.setState({ detail, phase: 'ready' })
      const missed = [...changedWhileLoading].filter((id) => !detail.runs.some((r) => r.id === id))
      changedWhileLoading = new Set()
      await Promise.all([fetchRuns(detail.runs, mine), ...missed.map((id) => refreshRun(id))])
    } catch (error) {
      if (mine !== generation) return
      store.setState({ phase: 'error', error: describeError(error) })
    }
  }

  function close(): void {
    generation++
    store.setState({ eventId: null, phase: 'idle', error: null, detail: null, runs: [], runsError: null })
  }

  function reload(): Promise<void> {
    const { eventId } = store.getState()
    return eventId ? open(eventId) : Promise.resolve()
  }

  async function refreshRun(runId: string): Promise<void> {
    const mine = generation
    try {
      let run: RunDetail
      // Bounded: a run that changes faster than it can be fetched settles on the newest fetch, and the
      // changes that follow keep patching it in place.
      for (let tries = 1; ; tries++) {
        const seen = changesOf(runId)
        run = await client['runs.get']({ id: runId })
        if (mine !== generation) return
        if (changesOf(runId) === seen || tries === 5) break
      }
      const runs = store.getState().runs
      const at = runs.findIndex((r) => r.id === run.id)
      store.setState({ runs: at < 0 ? [...runs, run] : runs.map((r, i) => (i === at ? run : r)) })
    } catch (error) {
      if (mine !== generation) return
      store.setState({ runsError: describeError(error) })
    }
  }

  function applyChanges(changes: readonly Change[]): void {
    const state = store.getState()
    if (!state.eventId) return
    if (!state.detail) {
      for (const change of changes) {
        if (change.type === 'run' && change.run.eventId === state.eventId)
          changedWhileLoading.add(change.run.id)
      }
      return
    }
    let { detail, runs } = state
    const toFetch = new Set<string>()
    for (const change of changes) {
      if (change.type === 'event' && change.event.id === state.eventId) {
        detail = { ...detail, ...change.event }
      } else if (change.type === 'run' && change.run.eventId === state.eventId) {
        const run = change.run
        changeCounts.set(run.id, changesOf(run.id) + 1)
        const at = runs.findIndex((r) => r.id === run.id)
        if (at < 0) toFetch.add(run.id)
        else runs = runs.map((r, i) => (i === at ? { ...r, ...run } : r))
        const known = detail.runs.findIndex((r) => r.id === run.id)
        detail = {
          ...detail,
          runs: known < 0 ? [...detail.runs, run] : detail.runs.map((r, i) => (i === known ? run : r)),
        }
      } else if (change.type === 'step') {
        if (detail.runs.some((r) => r.id === change.step.runId))
          changeCounts.set(change.step.runId, changesOf(change.step.runId) + 1)
        const at = runs.findIndex((r) => r.id === change.step.runId)
        if (at >= 0)
          runs = runs.map((r, i) => (i === at ? { ...r, steps: mergeStep(r.steps, change.step) } : r))
      }
    }
    if (detail !== state.detail || runs !== state.runs) store.setState({ detail, runs })
    for (const id of toFetch) void refreshRun(id)
  }

  return { store, open, close, reload, refreshRun, applyChanges }
}
