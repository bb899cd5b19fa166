/**
 * The activity feed's state: the events shown (newest first), their runs, the filter, live/paused.
 *
 * Fed from outside React: `applyChanges` takes a frame's worth of changes at once. The maps are mutated in
 * place and `version` is bumped instead of copying them, because the feed may hold 100,000 events and a copy
 * per frame would cost more than the frame; rows select their own event object, which is replaced (never
 * mutated) when it changes, so only changed rows re-render.
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { EventStatus, EventSummary, RunSummary } from '../../../shared/domain'
import { describeError } from '../api/api-errors'
import { FIRST_LOAD, loadNextPage, type PagedState } from './paging'

export interface FeedFilter {
  source?: string
  status?: EventStatus
  type?: string
  /** Full-text search, answered by the server (`events.list` `q`). */
  q?: string
}

export interface FeedState extends PagedState {
  /** Ids of the events shown, newest first. */
  ids: string[]
  events: Map<string, EventSummary>
  runs: Map<string, RunSummary>
  /** Run ids per event id, oldest first. */
  runsByEvent: Map<string, string[]>
  /** Bumped whenever a map above changes in place. */
  version: number
  filter: FeedFilter
  error: string | null
  paused: boolean
  /** New matching events held back while paused, newest first; shown as "N new". */
  held: string[]
  /** Events that arrived while a full-text search is active (the server decides if they match). */
  unsearched: number
  /** Events the search could not see because the full-text index is still being built (at most this many). */
  searchPending: number
  selectedId: string | null
}

export const PAGE_SIZE = 200

/** Whether an event passes the filter's structured part (the `q` part is the server's to judge). */
export function matchesFilter(event: EventSummary, filter: FeedFilter): boolean {
  if (filter.source && event.sourceId !== filter.source) return false
  if (filter.status && event.status !== filter.status) return false
  if (filter.type && event.type !== filter.type) return false
  return true
}

function cleanFilter(filter: FeedFilter): FeedFilter {
  const out: FeedFilter = {}
  if (filter.source) out.source = filter.source
  if (filter.status) out.status = filter.status
  if (filter.type?.trim()) out.type = filter.type.trim()
  if (filter.q?.trim()) out.q = filter.q.trim()
  return out
}

/** A compact description of an event's runs for a row: `status` per run, in start order. */
export function runStatusesOf(state: FeedState, eventId: string): string {
  const ids = state.runsByEvent.get(eventId)
  if (!ids) return ''
  return ids
    .map((id) => state.runs.get(id))
    .filter((r): r is RunSummary => !!r && !r.dryRun)
    .map((r) => (r.status === 'dead' && r.resolvedAt ? 'resolved' : r.status))
    .join(' ')
}

export type FeedStore = ReturnType<typeof createFeedStore>

export function createFeedStore(client: Pick<ApiClient, 'events.list' | 'runs.list'>) {
  const store = createStore<FeedState>(() => ({
    ids: [],
    events: new Map(),
    runs: new Map(),
    runsByEvent: new Map(),
    version: 0,
    filter: {},
    phase: 'idle',
    error: null,
    nextCursor: null,
    loadingMore: false,
    loadMoreError: null,
    paused: false,
    held: [],
    unsearched: 0,
    searchPending: 0,
    selectedId: null,
  }))
  // Each load gets a number; answers to a superseded load (the filter changed meanwhile) are dropped.
  let generation = 0

  function indexRun(state: FeedState, run: RunSummary): boolean {
    const known = state.runs.get(run.id)
    if (known && known.updatedAt > run.updatedAt) return false
    state.runs.set(run.id, run)
    if (!known) {
      const list = state.runsByEvent.get(run.eventId)
      state.runsByEvent.set(run.eventId, list ? [...list, run.id] : [run.id])
    }
    return true
  }

  async function load(): Promise<void> {
    const mine = ++generation
    const filter = store.getState().filter
    store.setState({
      phase: 'loading',
      error: null,
      ids: [],
      held: [],
      unsearched: 0,
      searchPending: 0,
      ...FIRST_LOAD,
    })
    try {
      const page = await client['events.list']({ ...filter, limit: PAGE_SIZE })
      if (mine !== generation) return
      const state = store.getState()
      for (const event of page.items) state.events.set(event.id, event)
      // Events that arrived live while the page loaded are newer than it: keep them on top, once.
      const seen = new Set<string>()
      const ids: string[] = []
      for (const id of [...state.ids, ...page.items.map((e) => e.id)]) {
        if (!seen.has(id)) {
          seen.add(id)
          ids.push(id)
        }
      }
      store.setState({
        ids,
        phase: 'ready',
        nextCursor: page.nextCursor,
        searchPending: page.searchPending ?? 0,
        version: state.version + 1,
      })
    } catch (error) {
      if (mine !== generation) return
      store.setState({ phase: 'error', error: describeError(error) })
    }
  }

  function loadMore(): Promise<void> {
    return loadNextPage(
      store,
      () => generation,
      (state, before) => client['events.list']({ ...state.filter, before, limit: PAGE_SIZE }),
      (page, now) => {
        const present = new Set(now.ids)
        const more: string[] = []
        for (const event of page.items) {
          now.events.set(event.id, event)
          if (!present.has(event.id)) more.push(event.id)
        }
        return {
          ids: more.length ? [...now.ids, ...more] : now.ids,
          // The newest answer knows best how far the index has come.
          searchPending: page.searchPending ?? 0,
          version: now.version + 1,
        }
      },
    )
  }

  /** Load recent runs so history rows show what their runs did (live changes keep them current). */
  async function loadRuns(): Promise<void> {
    try {
      const page = await client['runs.list']({ limit: 500 })
      const state = store.getState()
      let changed = false
      for (const run of page.items) changed = indexRun(state, run) || changed
      if (changed) store.setState({ version: state.version + 1 })
    } catch {
      // Rows still show each event's run count; the inspector loads runs on demand.
    }
  }

  /** Apply one frame's worth of changes in a single store update. */
  function applyChanges(changes: readonly Change[]): void {
    const state = store.getState()
    const fresh: string[] = []
    let changed = false
    let unsearched = 0
    const searching = !!state.filter.q
    for (const change of changes) {
      if (change.type === 'event') {
        const event = change.event
        if (state.events.has(event.id)) {
          state.events.set(event.id, event)
          changed = true
        } else if (searching) {
          unsearched++
        } else if (matchesFilter(event, state.filter)) {
          state.events.set(event.id, event)
          fresh.push(event.id)
          changed = true
        }
      } else if (change.type === 'run') {
        if (indexRun(state, change.run)) {
          changed = true
          const event = state.events.get(change.run.eventId)
          const count = state.runsByEvent.get(change.run.eventId)?.length ?? 0
          if (event && event.runCount < count) state.events.set(event.id, { ...event, runCount: count })
        }
      }
    }
    if (!changed && unsearched === 0) return
    // Changes arrive oldest first; the feed shows newest first.
    fresh.reverse()
    const patch: Partial<FeedState> = { version: state.version + 1 }
    if (unsearched) patch.unsearched = state.unsearched + unsearched
    if (fresh.length) {
      if (state.paused) patch.held = [...fresh, ...state.held]
      else patch.ids = [...fresh, ...state.ids]
    }
    store.setState(patch)
  }

  function setFilter(patch: FeedFilter): Promise<void> {
    const next = cleanFilter({ ...store.getState().filter, ...patch })
    store.setState({ filter: next })
    return load()
  }

  function pause(): void {
    store.setState({ paused: true })
  }

  /** Go live again: held events join the top of the feed. */
  function resume(): void {
    const state = store.getState()
    const present = new Set(state.ids)
    const held = state.held.filter((id) => !present.has(id))
    store.setState({ paused: false, held: [], ids: held.length ? [...held, ...state.ids] : state.ids })
  }

  function select(id: string | null): void {
    store.setState({ selectedId: id })
  }

  /** Move the keyboard selection by `delta` rows (clamped); selects the first row when none is. */
  function moveSelection(delta: number): string | null {
    const { ids, selectedId } = store.getState()
    if (ids.length === 0) return null
    const at = selectedId ? ids.indexOf(selectedId) : -1
    const next = at < 0 ? 0 : Math.min(ids.length - 1, Math.max(0, at + delta))
    const id = ids[next] ?? null
    store.setState({ selectedId: id })
    return id
  }

  /** Hold an event we fetched elsewhere (inspector, test event) so rows and the inspector agree. */
  function remember(event: EventSummary, runs: RunSummary[] = []): void {
    const state = store.getState()
    state.events.set(event.id, event)
    for (const run of runs) indexRun(state, run)
    store.setState({ version: state.version + 1 })
  }

  return {
    store,
    load,
    loadMore,
    loadRuns,
    applyChanges,
    setFilter,
    pause,
    resume,
    select,
    moveSelection,
    remember,
  }
}
