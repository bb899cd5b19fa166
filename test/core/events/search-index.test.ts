import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'

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

  it('catches up by itself shortly after a burst', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => http(`${t.url}/hooks/shop`, { body: `{"n":${i}}` })),
    )
    for (let i = 0; i < 100 && indexed() < 30; i++) await new Promise((r) => setTimeout(r, 20))
    expect(indexed()).toBe(30)
  })
})
