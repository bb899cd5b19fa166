import { describe, expect, it, vi } from 'vitest'
import { createStore } from 'zustand/vanilla'
import { loadNextPage, type PagedState } from '../../src/renderer/src/state/paging'

interface ListState extends PagedState {
  items: number[]
}

const list = (state: Partial<ListState> = {}) =>
  createStore<ListState>(() => ({
    items: [1, 2],
    phase: 'ready',
    nextCursor: '2',
    loadingMore: false,
    loadMoreError: null,
    ...state,
  }))

const append = (page: { items: number[] }, state: ListState) => ({ items: [...state.items, ...page.items] })

describe('loading the next page', () => {
  it('appends the page and takes its cursor', async () => {
    const store = list()
    const fetch = vi.fn(async () => ({ items: [3, 4], nextCursor: null }))
    await loadNextPage(store, () => 0, fetch, append)
    expect(fetch).toHaveBeenCalledWith(expect.objectContaining({ items: [1, 2] }), '2')
    expect(store.getState()).toMatchObject({ items: [1, 2, 3, 4], nextCursor: null, loadingMore: false })
  })

  it('asks nothing without a cursor, before the first page is in, or while a next page is on its way', async () => {
    const fetch = vi.fn(async () => ({ items: [9], nextCursor: null }))
    await loadNextPage(list({ nextCursor: null }), () => 0, fetch, append)
    await loadNextPage(list({ phase: 'loading' }), () => 0, fetch, append)
    await loadNextPage(list({ loadingMore: true }), () => 0, fetch, append)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('drops an answer that arrives after a new first load began, page or error', async () => {
    let generation = 0
    const supersede = <T>(value: T) => {
      generation++
      return value
    }
    const store = list()
    await loadNextPage(
      store,
      () => generation,
      async () => supersede({ items: [3], nextCursor: '3' }),
      append,
    )
    expect(store.getState()).toMatchObject({ items: [1, 2], nextCursor: '2' })
    const failing = list()
    await loadNextPage(
      failing,
      () => generation,
      async () => supersede(Promise.reject(new Error('gone'))),
      append,
    )
    expect(failing.getState().loadMoreError).toBeNull()
  })

  it('keeps what it had and says why when the page cannot be loaded', async () => {
    const store = list()
    await loadNextPage(
      store,
      () => 0,
      async () => Promise.reject(new Error('connection refused')),
      append,
    )
    expect(store.getState()).toMatchObject({ items: [1, 2], nextCursor: '2', loadingMore: false })
    expect(store.getState().loadMoreError).toMatch(/connection refused/)
  })
})
