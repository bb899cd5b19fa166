import { afterEach, describe, expect, it } from 'vitest'
import { EventStore } from '../../../src/core/events/event-store'
import type { EventStatus } from '../../../src/shared/domain'
import { monitorFixture, type MonitorFixture } from '../monitor/fixture'

let f: MonitorFixture
afterEach(() => f?.close())

type Filter = { source?: string; status?: EventStatus; type?: string }

/** Every page of a filter, following the cursor, with a walk bound of `bound` rows a page. */
function allPages(store: EventStore, filter: Filter, limit: number): string[][] {
  const pages: string[][] = []
  let before: string | undefined
  do {
    const page = store.list({ ...filter, limit, ...(before ? { before } : {}) })
    expect(page.items.length).toBeLessThanOrEqual(limit)
    pages.push(page.items.map((e) => e.id))
    before = page.nextCursor ?? undefined
  } while (before && pages.length < 500)
  return pages
}

/** What the filter means, straight from the table: newest first. */
function expected(filter: Filter): string[] {
  const rows = f.db
    .prepare(`SELECT id, source_id, status, type FROM events ORDER BY seq DESC`)
    .all() as Array<{ id: string; source_id: string; status: string; type: string | null }>
  const pattern = filter.type?.includes('*')
    ? new RegExp(
        `^${filter.type
          .split('*')
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      )
    : null
  return rows
    .filter(
      (r) =>
        (!filter.source || r.source_id === filter.source) &&
        (!filter.status || r.status === filter.status) &&
        (!filter.type || (pattern ? pattern.test(r.type ?? '') : r.type === filter.type)),
    )
    .map((r) => r.id)
}

describe('filtered event pages, bounded like a filtered search', () => {
  it('walks at most the bound a page when two conditions rarely meet, and goes on from where it stopped', () => {
    f = monitorFixture()
    const oldest = f.addEvent('shop', { type: 'push' }).id
    for (let i = 0; i < 22; i++) {
      f.addEvent('github', { type: 'push' })
      f.addEvent('shop', { type: 'order.paid' })
    }
    const newest = f.addEvent('shop', { type: 'push' }).id
    const store = new EventStore(f.db, f.dedup, 5)
    // 24 shop events and 24 pushes, interleaved: five rows a page whichever leads, so five pages, and the two
    // matches at both ends.
    const pages = allPages(store, { source: 'shop', type: 'push' }, 10)
    expect(pages).toEqual([[newest], [], [], [], [oldest]])
    // The default bound leaves a small store to one page.
    expect(f.events.list({ source: 'shop', type: 'push', limit: 10 })).toMatchObject({ nextCursor: null })
  })

  it('follows the rarest condition, so a rare status among a busy source fills its page at once', () => {
    f = monitorFixture()
    const rejected = [f.addEvent('shop', { status: 'rejected', verification: 'failed' }).id]
    for (let i = 0; i < 30; i++) f.addEvent('shop', {})
    rejected.unshift(f.addEvent('shop', { status: 'rejected', verification: 'failed' }).id)
    const store = new EventStore(f.db, f.dedup, 5)
    expect(store.list({ source: 'shop', status: 'rejected', limit: 10 })).toMatchObject({
      items: rejected.map((id) => ({ id })),
      nextCursor: null,
    })
  })

  it('walks the newest rows for a lone type pattern with more matches than the bound', () => {
    f = monitorFixture()
    for (let i = 0; i < 12; i++) f.addEvent('shop', { type: i % 3 === 0 ? 'refund.created' : `order.${i}` })
    const store = new EventStore(f.db, f.dedup, 4)
    const pages = allPages(store, { type: 'order.*' }, 3)
    expect(pages.flat()).toEqual(expected({ type: 'order.*' }))
    expect(pages.every((p) => p.length <= 3)).toBe(true)
    // A pattern with few matches is answered from its index in one page.
    expect(store.list({ type: 'refund.*', limit: 10 })).toMatchObject({ nextCursor: null })
    expect(store.list({ type: 'refund.*', limit: 10 }).items.map((e) => e.id)).toEqual(
      expected({ type: 'refund.*' }),
    )
  })

  it('never counts a pattern with no literal prefix (its range is the whole index): it walks the newest rows', () => {
    f = monitorFixture()
    for (let i = 0; i < 12; i++) f.addEvent('shop', { type: `order.${i % 3}` })
    const store = new EventStore(f.db, f.dedup, 5)
    expect(allPages(store, { type: '*.never' }, 10)).toEqual([[], [], []])
    expect(allPages(store, { type: '*.1' }, 10).flat()).toEqual(expected({ type: '*.1' }))
  })

  it('pages every combination of filters to exactly what the table holds, in order, once each', () => {
    f = monitorFixture()
    // A deterministic mix of sources, statuses and types.
    let state = 7
    const next = (n: number) => {
      state = (state * 1103515245 + 12345) % 2147483648
      return state % n
    }
    const sources = ['shop', 'github', 'home']
    const types = ['order.paid', 'order.refunded', 'push', null]
    const statuses: EventStatus[] = ['accepted', 'accepted', 'accepted', 'duplicate', 'rejected']
    for (let i = 0; i < 200; i++) {
      const status = statuses[next(statuses.length)]!
      f.addEvent(sources[next(sources.length)]!, {
        type: types[next(types.length)]!,
        status,
        verification: status === 'rejected' ? 'failed' : 'verified',
        dedupId: `d${i}`,
      })
    }
    const store = new EventStore(f.db, f.dedup, 9)
    const filters: Filter[] = []
    for (const source of [undefined, 'shop', 'home']) {
      for (const status of [undefined, 'accepted', 'rejected'] as const) {
        for (const type of [undefined, 'push', 'order.*', '*.paid', 'order.paid']) {
          filters.push({
            ...(source ? { source } : {}),
            ...(status ? { status } : {}),
            ...(type ? { type } : {}),
          })
        }
      }
    }
    for (const filter of filters) {
      for (const limit of [1, 7]) {
        expect({ filter, limit, ids: allPages(store, filter, limit).flat() }).toEqual({
          filter,
          limit,
          ids: expected(filter),
        })
      }
    }
  })
})
