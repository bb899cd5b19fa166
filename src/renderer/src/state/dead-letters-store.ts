/**
 * Dead letters: the unresolved dead runs matching a filter, kept current by run changes, and the bulk retry
 * (confirm, then retry in chunks so progress is real, then the outcome).
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { RunSummary } from '../../../shared/domain'
import { describeError } from '../api/api-errors'

export interface DeadFilter {
  source?: string
  workflow?: string
}

export interface BulkRetry {
  phase: 'idle' | 'counting' | 'confirm' | 'running' | 'done' | 'error'
  /** Ids the confirmation covers. */
  ids: string[]
  done: number
  retried: string[]
  skipped: Array<{ id: string; reason: string }>
  error: string | null
}

export interface DeadLettersState {
  filter: DeadFilter
  items: RunSummary[]
  phase: 'idle' | 'loading' | 'ready' | 'error'
  error: string | null
  bulk: BulkRetry
}

const IDLE: BulkRetry = { phase: 'idle', ids: [], done: 0, retried: [], skipped: [], error: null }
/** Ids per `runs.retryBulk` request: small enough to show progress, large enough to be quick. */
export const BULK_CHUNK = 25
const MAX_BULK = 10_000
/** Runs dying in a burst cost one reload, not one each. */
const RELOAD_DELAY_MS = 250

export type DeadLettersStore = ReturnType<typeof createDeadLettersStore>

export function createDeadLettersStore(client: Pick<ApiClient, 'runs.list' | 'runs.retryBulk'>) {
  const store = createStore<DeadLettersState>(() => ({
    filter: {},
    items: [],
    phase: 'idle',
    error: null,
    bulk: IDLE,
  }))
  let generation = 0

  function matches(run: RunSummary, filter: DeadFilter): boolean {
    if (run.status !== 'dead' || run.resolvedAt || run.dryRun) return false
    if (filter.workflow && run.workflowId !== filter.workflow) return false
    return true
  }

  function runFilter(filter: DeadFilter) {
    return {
      status: 'dead' as const,
      ...(filter.source ? { source: filter.source } : {}),
      ...(filter.workflow ? { workflow: filter.workflow } : {}),
    }
  }

  async function load(): Promise<void> {
    const mine = ++generation
    store.setState({ phase: 'loading', error: null })
    try {
      const page = await client['runs.list']({ ...runFilter(store.getState().filter), limit: 500 })
      if (mine !== generation) return
      store.setState({ items: page.items.filter((r) => !r.resolvedAt && !r.dryRun), phase: 'ready' })
    } catch (error) {
      if (mine !== generation) return
      store.setState({ phase: 'error', error: describeError(error) })
    }
  }

  function setFilter(filter: DeadFilter): Promise<void> {
    store.setState({ filter: { ...filter } })
    return load()
  }

  let reloadTimer: ReturnType<typeof setTimeout> | null = null
  function reloadSoon(): void {
    if (reloadTimer !== null) return
    reloadTimer = setTimeout(() => {
      reloadTimer = null
      void load()
    }, RELOAD_DELAY_MS)
  }

  /**
   * Keep the list current. A run that turns dead is added directly when the filter has no source; with a
   * source filter the list is reloaded instead, because a run summary does not name its source.
   */
  function applyChanges(changes: readonly Change[]): void {
    const { items, filter, phase } = store.getState()
    if (phase === 'idle') return
    let next = items
    for (const change of changes) {
      if (change.type !== 'run') continue
      const run = change.run
      const at = next.findIndex((r) => r.id === run.id)
      const keep = matches(run, filter)
      if (at >= 0) {
        next = keep ? next.map((r, i) => (i === at ? run : r)) : next.filter((_, i) => i !== at)
      } else if (keep && !filter.source) {
        next = [run, ...next]
      } else if (keep) {
        reloadSoon()
      }
    }
    if (next !== items) store.setState({ items: next })
  }

  /** Count every dead run the filter covers, then wait for the user's confirmation. */
  async function prepareBulk(): Promise<void> {
    store.setState({ bulk: { ...IDLE, phase: 'counting' } })
    try {
      const filter = runFilter(store.getState().filter)
      const ids: string[] = []
      let before: string | undefined
      do {
        const page = await client['runs.list']({ ...filter, limit: 500, ...(before ? { before } : {}) })
        for (const run of page.items) if (!run.resolvedAt && !run.dryRun) ids.push(run.id)
        before = page.nextCursor ?? undefined
      } while (before && ids.length < MAX_BULK)
      store.setState({ bulk: { ...IDLE, phase: ids.length ? 'confirm' : 'done', ids } })
    } catch (error) {
      store.setState({ bulk: { ...IDLE, phase: 'error', error: describeError(error) } })
    }
  }

  function cancelBulk(): void {
    store.setState({ bulk: IDLE })
  }

  /** Retry the confirmed ids in chunks, reporting progress after each. */
  async function runBulk(): Promise<void> {
    const { bulk } = store.getState()
    if (bulk.phase !== 'confirm') return
    const ids = bulk.ids
    let state: BulkRetry = { ...bulk, phase: 'running', done: 0 }
    store.setState({ bulk: state })
    for (let i = 0; i < ids.length; i += BULK_CHUNK) {
      const chunk = ids.slice(i, i + BULK_CHUNK)
      try {
        const result = await client['runs.retryBulk']({ ids: chunk })
        state = {
          ...state,
          done: state.done + chunk.length,
          retried: [...state.retried, ...result.retried],
          skipped: [...state.skipped, ...result.skipped],
        }
      } catch (error) {
        state = { ...state, phase: 'error', error: describeError(error) }
        store.setState({ bulk: state })
        return
      }
      store.setState({ bulk: state })
    }
    store.setState({ bulk: { ...state, phase: 'done' } })
  }

  return { store, load, setFilter, applyChanges, prepareBulk, cancelBulk, runBulk }
}
