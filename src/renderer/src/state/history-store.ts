/**
 * The history of user actions (retry, replay, resolve, bulk retry, secret rotations, test events, alert webhook
 * changes), newest first: one page loaded when the view opens, more on demand, and new ones as they are pushed.
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { ActionRecord } from '../../../shared/domain'
import { describeError } from '../api/api-errors'
import { FIRST_LOAD, loadNextPage, type PagedState } from './paging'

export interface HistoryState extends PagedState {
  items: ActionRecord[]
  error: string | null
}

export const HISTORY_PAGE = 100

export type HistoryStore = ReturnType<typeof createHistoryStore>

export function createHistoryStore(client: Pick<ApiClient, 'actions.list'>) {
  const store = createStore<HistoryState>(() => ({
    items: [],
    phase: 'idle',
    error: null,
    nextCursor: null,
    loadingMore: false,
    loadMoreError: null,
  }))
  let generation = 0

  async function load(): Promise<void> {
    const mine = ++generation
    store.setState({ phase: 'loading', error: null, ...FIRST_LOAD })
    try {
      const page = await client['actions.list']({ limit: HISTORY_PAGE })
      if (mine !== generation) return
      // Actions pushed while the page loaded are newer than it: keep them on top, once.
      const pushed = store.getState().items
      const known = new Set(page.items.map((a) => a.id))
      store.setState({
        items: [...pushed.filter((a) => !known.has(a.id)), ...page.items],
        nextCursor: page.nextCursor,
        phase: 'ready',
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
      (_, before) => client['actions.list']({ before, limit: HISTORY_PAGE }),
      (page, state) => {
        const known = new Set(state.items.map((a) => a.id))
        return { items: [...state.items, ...page.items.filter((a) => !known.has(a.id))] }
      },
    )
  }

  function applyChanges(changes: readonly Change[]): void {
    const fresh: ActionRecord[] = []
    for (const change of changes) if (change.type === 'action') fresh.unshift(change.action)
    if (!fresh.length) return
    const known = new Set(store.getState().items.map((a) => a.id))
    const added = fresh.filter((a) => !known.has(a.id))
    if (added.length) store.setState({ items: [...added, ...store.getState().items] })
  }

  return { store, load, loadMore, applyChanges }
}
