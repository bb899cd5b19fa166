import Database from 'better-sqlite3'
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { createEngine, type EngineConfig } from '../../../src/core/engine'
import { outsideAsar, SearchIndex } from '../../../src/core/events/search-index'
import { EventStore, type NewEvent } from '../../../src/core/events/event-store'
import { openDatabase, type Db } from '../../../src/core/store/database'
import { tempDir } from '../../support/temp-dir'
import { sampleEvent } from '../monitor/fixture'

/** Rows in search.db's index, read through a connection of the test's own. */
function indexedRows(indexFile: string): number {
  const db = new Database(indexFile, { readonly: true })
  try {
    return db.prepare(`SELECT COUNT(*) FROM events_fts`).pluck().get() as number
  } finally {
    db.close()
  }
}

/** An engine on `dataDir` with the receiver on a free loopback port and no tunnel (for a restart on the same folder). */
function engineConfig(dataDir: string): EngineConfig {
  return { dataDir, receiver: { port: 0, host: '127.0.0.1' }, tunnel: { mode: 'off' } }
}

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(done()).toBe(true)
}

describe('search index, in its own file and off the intake thread', () => {
  let t: TestEngine
  beforeEach(async () => {
    // A search here always waits for the index to catch up, however slow the machine.
    t = await startTestEngine({ searchWaitMs: 60_000 })
    await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
  })
  afterEach(() => t.close())

  const indexFile = () => join(t.dataDir, 'search.db')

  it('keeps the index in search.db, readable by its owner only, and none in the store', () => {
    expect(existsSync(indexFile())).toBe(true)
    expect(statSync(indexFile()).mode & 0o077).toBe(0)
    expect(t.engine.db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'events_fts%'`).all()).toEqual(
      [],
    )
  })

  it('indexes in the background after the ack, and a search right away finds a committed event', async () => {
    const sent = await http(`${t.url}/hooks/shop`, { body: '{"note":"saffron delivery"}' })
    const { id } = sent.json as { id: string }
    expect((await t.engine.call('events.list', { q: 'saffron' })).items.map((e) => e.id)).toEqual([id])
    const newest = t.engine.db.prepare(`SELECT MAX(seq) FROM events`).pluck().get() as number
    expect(t.engine.searchIndexedUpTo()).toBeGreaterThanOrEqual(newest)
    expect(indexedRows(indexFile())).toBe(1)
  })

  it('catches up by itself shortly after a burst, without a search asking', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => http(`${t.url}/hooks/shop`, { body: `{"n":${i}}` })),
    )
    await waitUntil(() => t.engine.searchIndexedUpTo() >= 30)
    expect(indexedRows(indexFile())).toBe(30)
  })

  it('reports how many committed events are not yet searchable, in the metrics and for Prometheus', async () => {
    // First the worker is up and idle: a webhook and a search see to that, and its settle timer has run out.
    await http(`${t.url}/hooks/shop`, { body: '{"w":"first"}' })
    await t.engine.call('events.list', { q: 'first' })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const store = new EventStore(t.engine.db)
    // Written straight to the store: no webhook nudges the worker, so they wait for a search (or the sweep).
    t.engine.db.transaction(() => {
      for (let i = 0; i < 500; i++) store.insert(sampleEvent('shop', Date.now()))
    })()
    expect((await t.engine.call('metrics.get', {})).totals.searchBacklog).toBe(500)
    expect(t.engine.prometheus()).toMatch(/^switchboard_search_backlog 500$/m)
    await t.engine.call('events.list', { q: 'world' })
    expect((await t.engine.call('metrics.get', {})).totals.searchBacklog).toBe(0)
    expect(t.engine.prometheus()).toMatch(/^switchboard_search_backlog 0$/m)
  })

  it('answers a webhook while the worker indexes a backlog for a search', async () => {
    const store = new EventStore(t.engine.db)
    t.engine.db.transaction(() => {
      for (let i = 0; i < 20_000; i++) {
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
    expect(t.engine.searchIndexedUpTo()).toBeGreaterThanOrEqual(20_000)
  })

  it('answers a search after a bounded wait while the index is far behind, saying how much it could not see', async () => {
    await t.engine.stop()
    const db = openDatabase({ file: join(t.dataDir, 'switchboard.db') })
    const store = new EventStore(db)
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) {
        store.insert(sampleEvent('shop', Date.now(), { body: Buffer.from(`{"n":${i},"w":"saffron"}`) }))
      }
    })()
    db.close()
    // As after an upgrade: the index is rebuilt from nothing.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${indexFile()}${suffix}`, { force: true })
    const again = createEngine({ ...engineConfig(t.dataDir), searchWaitMs: 1 })
    await again.start()
    try {
      const early = await again.call('events.list', { q: 'saffron', limit: 10 })
      expect(early.searchPending).toBeGreaterThan(0)
      expect(early.searchPending).toBeLessThanOrEqual(20_000)
      // What it had indexed was searched (the worker may have gone further than it had reported).
      expect(early.items.length).toBeGreaterThanOrEqual(Math.min(10, 20_000 - early.searchPending!))

      await waitUntil(() => again.searchIndexedUpTo() >= 20_000)
      const late = await again.call('events.list', { q: 'saffron', limit: 10 })
      expect(late.searchPending).toBeUndefined()
      expect(late.items).toHaveLength(10)
    } finally {
      await again.stop()
      t.engine = again
    }
  })

  it('rebuilds the index from the events when search.db is lost', async () => {
    await http(`${t.url}/hooks/shop`, { body: '{"note":"cardamom"}' })
    await t.engine.call('events.list', { q: 'cardamom' })
    await t.engine.stop()
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${indexFile()}${suffix}`, { force: true })
    const again = createEngine(engineConfig(t.dataDir))
    await again.start()
    try {
      expect((await again.call('events.list', { q: 'cardamom' })).items).toHaveLength(1)
    } finally {
      await again.stop()
      t.engine = again
    }
  })
})

describe('search index, damaged', () => {
  it('rebuilds an index file it cannot read instead of refusing to start', async () => {
    const dir = tempDir('switchboard-search-damaged-')
    const config = engineConfig(dir.path)
    try {
      const first = createEngine(config)
      await first.start()
      await first.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
      await http(`${first.receiverUrl()}/hooks/shop`, { body: '{"w":"turmeric"}' })
      await first.stop()
      writeFileSync(join(dir.path, 'search.db'), 'not a database, '.repeat(512))

      const second = createEngine(config)
      await second.start()
      try {
        expect((await second.call('events.list', { q: 'turmeric' })).items).toHaveLength(1)
        expect(statSync(join(dir.path, 'search.db')).mode & 0o077).toBe(0)
      } finally {
        await second.stop()
      }
    } finally {
      dir.remove()
    }
  })
})

describe('search index, stopping in the middle of a backlog', () => {
  it('stops the worker between steps and goes on from where it got on the next start', async () => {
    const dir = tempDir('switchboard-search-stop-')
    const config = engineConfig(dir.path)
    try {
      const first = createEngine(config)
      await first.start()
      const store = new EventStore(first.db)
      first.db.transaction(() => {
        for (let i = 0; i < 30_000; i++) {
          store.insert(sampleEvent('shop', Date.now(), { body: Buffer.from(`{"n":${i},"w":"galangal"}`) }))
        }
      })()
      // A search sets the worker going on the backlog; the engine stops before it is done (and the search, left
      // waiting, fails with the store closed).
      const search = first.call('events.list', { q: 'galangal' }).catch((error: Error) => error)
      await waitUntil(() => first.searchIndexedUpTo() > 0)
      await first.stop()
      expect(first.searchIndexedUpTo()).toBeLessThan(30_000)
      expect(await search).toBeInstanceOf(Error)

      const second = createEngine(config)
      await second.start()
      try {
        const page = await second.call('events.list', { q: 'galangal', limit: 5 })
        expect(page.items).toHaveLength(5)
        expect(second.searchIndexedUpTo()).toBe(30_000)
        expect(indexedRows(join(dir.path, 'search.db'))).toBe(30_000)
      } finally {
        await second.stop()
      }
    } finally {
      dir.remove()
    }
  })
})

describe('search index step (no worker)', () => {
  let dir: ReturnType<typeof tempDir>
  let db: Db
  let store: EventStore
  let index: SearchIndex
  /** A SearchIndex on this store's files, answering the store's searches (as the engine wires it). */
  const openIndex = (): SearchIndex => {
    const opened = new SearchIndex({
      storeFile: join(dir.path, 'switchboard.db'),
      indexFile: join(dir.path, 'search.db'),
      batch: 50,
    })
    store.useSearchIndex(opened.reader)
    return opened
  }
  beforeEach(() => {
    dir = tempDir('switchboard-search-')
    db = openDatabase({ file: join(dir.path, 'switchboard.db') })
    store = new EventStore(db)
    index = openIndex()
  })
  afterEach(async () => {
    await index.stop()
    db.close()
    dir.remove()
  })

  // Rejected requests own no dedup key, so a test may delete them with a bare DELETE.
  const add = (body: string): NewEvent => {
    const event = sampleEvent('shop', Date.now(), {
      body: Buffer.from(body),
      status: 'rejected',
      verification: 'failed',
    })
    db.transaction(() => store.insert(event)).immediate()
    store.settle(true)
    return event
  }
  const search = (q: string) => store.list({ q, limit: 50, status: 'rejected' }).items.map((e) => e.id)
  const rows = () => index.reader.prepare(`SELECT COUNT(*) FROM search.events_fts`).pluck().get() as number
  const forgetLog = () => db.prepare(`SELECT COUNT(*) FROM search_forget`).pluck().get() as number

  it('indexes in batches and records how far it got with the rows', () => {
    for (let i = 0; i < 120; i++) add(`{"n":${i},"w":"nutmeg"}`)
    expect(index.indexAll()).toBe(120)
    expect(rows()).toBe(120)
    expect(index.indexedUpTo()).toBe(120)
    expect(index.indexAll()).toBe(0)
    expect(search('nutmeg')).toHaveLength(50)
  })

  it('removes deleted events from the index and prunes the deletion log behind it', () => {
    const kept = add('{"w":"clove"}')
    const gone = add('{"w":"clove"}')
    index.indexAll()
    db.prepare(`DELETE FROM events WHERE id = ?`).run(gone.id)
    // Before the indexer applies the deletion the event is already out of results (matches join the events)…
    expect(search('clove')).toEqual([kept.id])
    expect(forgetLog()).toBe(1)
    index.indexAll()
    // …and after, its terms are out of the index and the log is pruned.
    expect(rows()).toBe(1)
    expect(forgetLog()).toBe(0)
  })

  it('indexes a reused seq again, whether the deletion is applied before or after the new event comes', () => {
    add('{"w":"anise"}')
    const newest = add('{"w":"fennel"}')
    index.indexAll()
    // Deleting the newest row lets SQLite give its seq to the next event.
    db.prepare(`DELETE FROM events WHERE id = ?`).run(newest.id)
    index.indexAll()
    const reused = add('{"w":"mace"}')
    index.indexAll()
    expect(search('fennel')).toEqual([])
    expect(search('mace')).toEqual([reused.id])

    db.prepare(`DELETE FROM events WHERE id = ?`).run(reused.id)
    const again = add('{"w":"sumac"}')
    index.indexAll()
    expect(search('mace')).toEqual([])
    expect(search('sumac')).toEqual([again.id])
    expect(rows()).toBe(2)
  })

  it('rebuilds an index that does not belong to the store (switchboard.db replaced by another copy)', async () => {
    add('{"w":"anise"}')
    add('{"w":"basil"}')
    const third = add('{"w":"cumin"}')
    index.indexAll()
    await index.stop()
    // Another history for the same seqs, which the index never heard of: the deletion log is bypassed, as it
    // is when the file is swapped for a copy.
    db.exec('DROP TRIGGER events_search_forget')
    db.prepare(`DELETE FROM events WHERE seq >= 2`).run()
    const dill = add('{"w":"dill"}')
    const elder = add('{"w":"elder"}')
    expect(elder.id).not.toBe(third.id)

    index = openIndex()
    expect(index.indexedUpTo()).toBe(0)
    index.indexAll()
    expect(search('basil')).toEqual([])
    expect(search('dill')).toEqual([dill.id])
    expect(rows()).toBe(3)
  })

  it('keeps an index whose newest event was deleted just before a stop, and applies the deletion', async () => {
    const kept = add('{"w":"sorrel"}')
    const newest = add('{"w":"sorrel tarragon"}')
    index.indexAll()
    await index.stop()
    // Retention deletes exactly the event the index reached, and the engine stops before the worker hears of it.
    db.prepare(`DELETE FROM events WHERE id = ?`).run(newest.id)

    index = openIndex()
    // Not rebuilt: the pointer stands…
    expect(index.indexedUpTo()).toBe(2)
    expect(rows()).toBe(2)
    // …and the deletion is applied from the log.
    expect(index.indexAll()).toBe(0)
    expect(rows()).toBe(1)
    expect(search('sorrel')).toEqual([kept.id])
    expect(search('tarragon')).toEqual([])
  })

  it('a crash mid-step loses nothing: the pointer commits with the rows', () => {
    for (let i = 0; i < 10; i++) add(`{"w":"vanilla ${i}"}`)
    // A step that fails inside its transaction (the index file read-only) leaves the pointer where it was.
    index.reader.pragma('search.query_only = 1')
    expect(() => index.indexAll()).toThrow()
    index.reader.pragma('search.query_only = 0')
    expect(index.indexedUpTo()).toBe(0)
    expect(index.indexAll()).toBe(10)
    expect(rows()).toBe(10)
  })
})

describe('the worker in the packaged app', () => {
  it('starts from the files unpacked beside the archive, on every platform', () => {
    expect(outsideAsar('/opt/Switchboard/resources/app.asar/out/main/search-worker.mjs')).toBe(
      '/opt/Switchboard/resources/app.asar.unpacked/out/main/search-worker.mjs',
    )
    expect(outsideAsar('C:\\Program Files\\Switchboard\\resources\\app.asar\\node_modules\\x.js')).toBe(
      'C:\\Program Files\\Switchboard\\resources\\app.asar.unpacked\\node_modules\\x.js',
    )
    // Outside a package, and for a folder merely named like one, the path is left alone.
    expect(outsideAsar('/work/switchboard/src/core/events/search-worker.mjs')).toBe(
      '/work/switchboard/src/core/events/search-worker.mjs',
    )
    expect(outsideAsar('/data/app.asar.backup/x.mjs')).toBe('/data/app.asar.backup/x.mjs')
  })
})
