import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { SearchIndexer } from '../../../src/core/events/search-index'
import { EventStore } from '../../../src/core/events/event-store'
import { openDatabase } from '../../../src/core/store/database'
import { tempDir } from '../../support/temp-dir'
import { sampleEvent } from '../monitor/fixture'

let t: TestEngine
beforeEach(async () => {
  t = await startTestEngine()
  await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
})
afterEach(() => t.close())

const indexed = () => t.engine.db.prepare(`SELECT COUNT(*) FROM events_fts`).pluck().get() as number
const pointer = () =>
  Number(t.engine.db.prepare(`SELECT value FROM settings WHERE key = 'search.indexedSeq'`).pluck().get())

describe('search index, kept off the acknowledgement path', () => {
  it('indexes in the background after the ack, and a search never misses a committed event', async () => {
    const sent = await http(`${t.url}/hooks/shop`, { body: '{"note":"saffron delivery"}' })
    const { id } = sent.json as { id: string }
    // The ack did not wait for the index…
    expect(indexed()).toBe(0)
    // …yet a search right away finds the event: it catches the index up first.
    expect((await t.engine.call('events.list', { q: 'saffron' })).items.map((e) => e.id)).toEqual([id])
    expect(indexed()).toBe(1)
    expect(pointer()).toBe(t.engine.db.prepare(`SELECT MAX(seq) FROM events`).pluck().get())
  })

  it('answers a search while catching up a backlog without holding up a webhook that arrives meanwhile', async () => {
    const store = new EventStore(t.engine.db)
    t.engine.db.transaction(() => {
      for (let i = 0; i < 5000; i++) {
        store.insert(sampleEvent('shop', Date.now(), { body: Buffer.from(`{"n":${i},"w":"saffron"}`) }))
      }
    })()
    const order: string[] = []
    const search = t.engine.call('events.list', { q: 'saffron', limit: 10 }).then((page) => {
      order.push('search')
      return page
    })
    const ack = await http(`${t.url}/hooks/shop`, { body: '{"w":"saffron"}' })
    order.push('ack')
    expect(ack.status).toBe(200)
    const page = await search
    // The webhook was answered while the index was still catching up for the search…
    expect(order).toEqual(['ack', 'search'])
    // …and the search saw every event committed before it was asked.
    expect(page.items).toHaveLength(10)
    expect(pointer()).toBeGreaterThanOrEqual(5000)
  })

  it('catches up by itself shortly after a burst', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => http(`${t.url}/hooks/shop`, { body: `{"n":${i}}` })),
    )
    for (let i = 0; i < 100 && indexed() < 30; i++) await new Promise((r) => setTimeout(r, 20))
    expect(indexed()).toBe(30)
  })
})

describe('search index, under intake load', () => {
  it('takes small batches while webhooks arrive, catches up when they stop, and a search sees everything', async () => {
    const dir = tempDir('switchboard-search-')
    const db = openDatabase({ file: join(dir.path, 'switchboard.db') })
    const store = new EventStore(db)
    const add = (n: number) =>
      db.transaction(() => {
        for (let i = 0; i < n; i++) {
          store.insert(sampleEvent('shop', Date.now(), { body: Buffer.from(`{"n":${i},"w":"saffron"}`) }))
        }
      })()
    try {
      add(60)
      let busy = true
      const indexer = new SearchIndexer(db, { batch: 500, busyBatch: 10, isBusy: () => busy })
      const count = () => db.prepare(`SELECT COUNT(*) FROM events_fts`).pluck().get() as number
      indexer.schedule(0)
      await waitUntil(() => count() > 0)
      // One busy batch, then a rest: the rest of the backlog waits.
      expect(count()).toBe(10)
      await new Promise((r) => setTimeout(r, 5))
      expect(count()).toBeLessThan(60)
      // Intake goes quiet: the next drain takes everything that is left.
      busy = false
      await waitUntil(() => count() === 60)
      indexer.stop()
      // A search while busy never misses an event: it catches the index up first.
      add(5)
      busy = true
      expect(indexer.indexAll()).toBe(5)
      expect(count()).toBe(65)
    } finally {
      db.close()
      dir.remove()
    }
  })
})

describe('search index, catching up for a search', () => {
  it('indexes what a search is missing in batches, giving the event loop back between them', async () => {
    const dir = tempDir('switchboard-search-')
    const db = openDatabase({ file: join(dir.path, 'switchboard.db') })
    const store = new EventStore(db)
    try {
      db.transaction(() => {
        for (let i = 0; i < 300; i++)
          store.insert(sampleEvent('shop', Date.now(), { body: Buffer.from(`{"n":${i}}`) }))
      })()
      const indexer = new SearchIndexer(db, { batch: 500, busyBatch: 10, isBusy: () => true })
      let turns = 0
      let done = false
      const tick = (): void => {
        turns++
        if (!done) setImmediate(tick)
      }
      setImmediate(tick)
      const first = indexer.catchUp()
      // A second search meanwhile shares the same catch-up.
      expect(indexer.catchUp()).toBe(first)
      await first
      done = true
      expect(db.prepare(`SELECT COUNT(*) FROM events_fts`).pluck().get()).toBe(300)
      // Thirty batches of ten, and the loop turned between them.
      expect(turns).toBeGreaterThanOrEqual(29)
      // Nothing left to do: it answers at once.
      await indexer.catchUp()
      expect(indexer.indexAll()).toBe(0)
    } finally {
      db.close()
      dir.remove()
    }
  })
})

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(done()).toBe(true)
}
