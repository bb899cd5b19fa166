import type { StoreApi } from 'zustand/vanilla'
import { describeError } from '../api/api-errors'

/** The part of a list's state that paging through it newest first needs. */
export interface PagedState {
  phase: 'idle' | 'loading' | 'ready' | 'error'
  nextCursor: string | null
  loadingMore: boolean
  loadMoreError: string | null
}

/**
 * What a new first load resets: a next page still on its way belongs to the load before, and its answer will be
 * dropped, so it must not keep the list "loading more" (which would stop paging for good).
 */
export const FIRST_LOAD = { nextCursor: null, loadingMore: false, loadMoreError: null } as const

/**
 * Load a list's next page: only when the first page is in, there is a cursor and no other next page is on its
 * way. An answer that arrives after a new first load began (`generation` moved on: a filter changed) is dropped.
 * `merge` turns the page into the rest of the state to set, given the state as it is when the page arrives.
 */
export async function loadNextPage<S extends PagedState, P extends { nextCursor: string | null }>(
  store: StoreApi<S>,
  generation: () => number,
  fetch: (state: S, cursor: string) => Promise<P>,
  merge: (page: P, state: S) => Partial<S>,
): Promise<void> {
  const state = store.getState()
  if (!state.nextCursor || state.loadingMore || state.phase !== 'ready') return
  const mine = generation()
  store.setState({ loadingMore: true, loadMoreError: null } as Partial<S>)
  try {
    const page = await fetch(state, state.nextCursor)
    if (mine !== generation()) return
    store.setState({
      ...merge(page, store.getState()),
      nextCursor: page.nextCursor,
      loadingMore: false,
    } as Partial<S>)
  } catch (error) {
    if (mine !== generation()) return
    store.setState({ loadingMore: false, loadMoreError: describeError(error) } as Partial<S>)
  }
}
