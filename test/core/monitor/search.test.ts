import { afterEach, describe, expect, it } from 'vitest'
import { EventStore } from '../../../src/core/events/event-store'
import { monitorFixture, type MonitorFixture } from './fixture'

let f: MonitorFixture
afterEach(() => f?.close())

const json = (value: unknown) => Buffer.from(JSON.stringify(value))

function seed(): Record<string, string> {
  f = monitorFixture()
  const ids: Record<string, string> = {}
  ids.order = f.addEvent('shop', {
    body: json({ kind: 'order', customer: 'Ada Lovelace', sku: 'TEA-42' }),
    type: 'order.placed',
  }).id
  ids.refund = f.addEvent('shop', {
    body: json({ kind: 'refund', customer: 'Ada Lovelace' }),
    type: 'order.refunded',
  }).id
  ids.forged = f.addEvent('shop', {
    body: json({ kind: 'order', customer: 'Ada Lovelace' }),
    status: 'rejected',
    verification: 'failed',
  }).id
  ids.push = f.addEvent('github', {
    body: json({ ref: 'refs/heads/main', pusher: 'Grace Hopper' }),
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'abc-123' },
    type: 'push',
  }).id
  ids.binary = f.addEvent('camera', {
    body: Buffer.from([0x00, 0x01, 0x02, ...Buffer.from('lovelace')]),
    contentType: 'application/octet-stream',
    type: null,
  }).id
  ids.form = f.addEvent('forms', {
    body: Buffer.from('name=Caf%C3%A9&note=r%C3%A9sum%C3%A9 ready'),
    contentType: 'application/x-www-form-urlencoded',
  }).id
  return ids
}

const search = (filter: Record<string, unknown>) =>
  f.events.list({ limit: 50, ...filter }).items.map((e) => e.id)

describe('full-text search through events.list', () => {
  it('finds events by words in their body, newest first', () => {
    const ids = seed()
    expect(search({ q: 'lovelace' })).toEqual([ids.forged, ids.refund, ids.order])
    expect(search({ q: 'TEA-42' })).toEqual([ids.order])
  })

  it('finds events by header names and values', () => {
    const ids = seed()
    expect(search({ q: 'x-github-delivery' })).toEqual([ids.push])
    expect(search({ q: 'abc-123' })).toEqual([ids.push])
  })

  it('ANDs words, whatever their case', () => {
    const ids = seed()
    expect(search({ q: 'ADA refund' })).toEqual([ids.refund])
    expect(search({ q: 'grace ada' })).toEqual([])
  })

  it('combines search with source, status and type filters', () => {
    const ids = seed()
    expect(search({ q: 'lovelace', status: 'accepted' })).toEqual([ids.refund, ids.order])
    expect(search({ q: 'lovelace', status: 'rejected' })).toEqual([ids.forged])
    expect(search({ q: 'lovelace', type: 'order.placed' })).toEqual([ids.order])
    expect(search({ q: 'lovelace', type: 'order.*' })).toEqual([ids.refund, ids.order])
    expect(search({ q: 'lovelace', source: 'github' })).toEqual([])
    expect(search({ q: 'main', source: 'github' })).toEqual([ids.push])
  })

  it('pages through matches with the cursor', () => {
    const ids = seed()
    const first = f.events.list({ q: 'lovelace', limit: 2 })
    expect(first.items.map((e) => e.id)).toEqual([ids.forged, ids.refund])
    expect(first.nextCursor).not.toBeNull()
    const second = f.events.list({ q: 'lovelace', limit: 2, before: first.nextCursor! })
    expect(second.items.map((e) => e.id)).toEqual([ids.order])
    expect(second.nextCursor).toBeNull()
  })

  it('bounds the matches a filtered page examines, and goes on from where it stopped', () => {
    f = monitorFixture()
    const rare = f.addEvent('rare', { body: json({ note: 'common word' }) }).id
    for (let i = 0; i < 22; i++) f.addEvent('busy', { body: json({ note: 'common word', i }) })
    const newest = f.addEvent('rare', { body: json({ note: 'common word' }) }).id
    // Five matches a page: the newest is found at once, the oldest four pages of walking later.
    const store = new EventStore(f.db, f.dedup, 5)
    store.useSearchIndex(f.searchIndex.reader)
    const pages: string[][] = []
    let before: string | undefined
    do {
      const page = store.list({ q: 'common', source: 'rare', limit: 10, ...(before ? { before } : {}) })
      pages.push(page.items.map((e) => e.id))
      before = page.nextCursor ?? undefined
    } while (before && pages.length < 20)
    expect(pages).toEqual([[newest], [], [], [], [rare]])
    // Without a filter every match passes, so a page fills without a bound.
    expect(store.list({ q: 'common', limit: 30 }).items).toHaveLength(24)
    // The default bound leaves a small store's search to one page.
    expect(f.events.list({ q: 'common', source: 'rare', limit: 10 })).toMatchObject({ nextCursor: null })
  })

  it('does not index binary bodies, but folds accents in text', () => {
    const ids = seed()
    expect(search({ q: 'lovelace', source: 'camera' })).toEqual([])
    expect(search({ q: 'cafe' })).toEqual([])
    // A form body is searched as sent (URL-encoded), so its plain words match.
    expect(search({ q: 'ready' })).toEqual([ids.form])
  })

  it('treats query syntax as plain words (no injection, no errors)', () => {
    const ids = seed()
    expect(search({ q: 'lovelace OR hopper' })).toEqual([])
    expect(search({ q: 'refund"' })).toEqual([ids.refund])
    expect(search({ q: 'NEAR(ada grace)' })).toEqual([])
    expect(search({ q: '*' })).toEqual([])
    expect(search({ q: '"' })).toEqual([])
    expect(search({ q: 'kind:order' })).toEqual([ids.forged, ids.order])
  })

  it('forgets deleted events', () => {
    const ids = seed()
    f.db.prepare(`DELETE FROM events WHERE id = ?`).run(ids.refund)
    expect(search({ q: 'lovelace' })).toEqual([ids.forged, ids.order])
    f.searchIndex.indexAll()
    expect(f.searchIndex.reader.prepare(`SELECT COUNT(*) AS n FROM search.events_fts`).get()).toEqual({
      n: 5,
    })
  })
})
