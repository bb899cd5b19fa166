import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DedupIndex, dedupKey } from '../../../src/core/events/dedup-index'
import { EventStore } from '../../../src/core/events/event-store'
import { openDatabase, type Db } from '../../../src/core/store/database'
import { createEngine } from '../../../src/core/engine'
import { http } from '../../support/http'
import { openStoreBefore } from '../../support/older-store'
import { tempDir } from '../../support/temp-dir'
import { sampleEvent } from '../monitor/fixture'

const cleanups: Array<() => void | Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

function store(): { db: Db; events: EventStore } {
  const dir = tempDir('switchboard-dedup-')
  const file = join(dir.path, 'switchboard.db')
  const db = openDatabase({ file })
  cleanups.push(() => {
    db.close()
    dir.remove()
  })
  return { db, events: new EventStore(db, DedupIndex.load(db)) }
}

/** Insert events in one transaction and settle it, as the receiver's group commit does. */
function commit(db: Db, events: EventStore, dedupIds: string[], sourceId = 'shop') {
  const results = db.transaction(() =>
    dedupIds.map((dedupId) => events.insert(sampleEvent(sourceId, Date.now(), { dedupId }))),
  )()
  events.settle(true)
  return results
}

describe('dedup index', () => {
  it('answers duplicates within a transaction, across transactions and per source', () => {
    const { db, events } = store()
    const [a, b, a2] = commit(db, events, ['a', 'b', 'a'])
    expect(a!.status).toBe('accepted')
    expect(b!.status).toBe('accepted')
    const ownerOfA = db
      .prepare(`SELECT id FROM events WHERE dedup_id = 'a' AND status = 'accepted'`)
      .pluck()
      .get()
    expect(a2).toEqual({ status: 'duplicate', duplicateOf: ownerOfA, reason: null })
    expect(commit(db, events, ['b'])[0]!.status).toBe('duplicate')
    // The same delivery id from another source is another delivery.
    expect(commit(db, events, ['a'], 'crm')[0]!.status).toBe('accepted')
    expect(db.prepare(`SELECT COUNT(*) FROM dedup_keys`).pluck().get()).toBe(3)
  })

  it('forgets the claims of a transaction that rolled back', () => {
    const { db, events } = store()
    commit(db, events, ['kept'])
    expect(() =>
      db.transaction(() => {
        events.insert(sampleEvent('shop', Date.now(), { dedupId: 'lost' }))
        throw new Error('disk full')
      })(),
    ).toThrow('disk full')
    events.settle(false)
    expect(commit(db, events, ['lost', 'kept']).map((r) => r.status)).toEqual(['accepted', 'duplicate'])
  })

  it('is read back from its table when the store opens again', () => {
    const { db, events } = store()
    commit(
      db,
      events,
      Array.from({ length: 300 }, (_, i) => `k${i}`),
    )
    // A fresh index, built from the table alone, read in pages of 7 rows.
    const index = DedupIndex.load(db, 7)
    expect(index.count).toBe(300)
    const reopened = new EventStore(db, index)
    const again = commit(db, reopened, ['k0', 'k6', 'k7', 'k299', 'new'])
    expect(again.map((r) => r.status)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'accepted',
    ])
  })

  it('confirms a matching key against the owner row, so pairs sharing a key are not confused', () => {
    const { db, events } = store()
    commit(db, events, ['first', 'other'])
    const seqOf = (dedupId: string) =>
      db.prepare(`SELECT seq FROM events WHERE dedup_id = ?`).pluck().get(dedupId) as number
    // Give the pair (shop, second) a slot pointing at another pair's event, as a key collision would.
    db.prepare(`DELETE FROM dedup_keys WHERE event_seq = ?`).run(seqOf('other'))
    const index = DedupIndex.load(db)
    db.transaction(() => index.claim(dedupKey('shop', 'second'), seqOf('other')))()
    index.commit()
    expect(index.owner('shop', 'second')).toBeNull()
    expect(index.owner('shop', 'first')).toEqual({ seq: seqOf('first'), id: expect.stringMatching(/^evt_/) })
  })

  it('stays exact through growth, releases and rollbacks, while a growth moves its entries (checked against a plain map)', () => {
    const { db } = store()
    // A small table, so it grows many times; each growth moves its entries a few slots per claim.
    const index = DedupIndex.load(db, undefined, 64)
    const owners = new Map<string, number>()
    let seq = 0
    let random = 7
    const next = () => (random = (random * 48271) % 2147483647)
    const insert = db.prepare(
      `INSERT INTO events (seq, id, source_id, received_at, method, path, headers, body, body_size, dedup_id,
         status, verification) VALUES (?, ?, 's', 0, 'POST', '/', '{}', x'', 0, ?, 'accepted', 'unsigned')`,
    )
    const remove = db.prepare(`DELETE FROM events WHERE seq = ?`)
    // Some keys each round (owned or not), every key at the end.
    const check = (keys: number) =>
      db.transaction(() => {
        for (let i = 0; i < keys; i++) {
          const dedupId = `d${keys === 40_000 ? i : next() % 40_000}`
          expect(index.owner('s', dedupId)?.seq ?? null).toBe(owners.get(dedupId) ?? null)
        }
      })()
    let rounds = 0
    let movingRounds = 0
    for (let round = 0; round < 60; round++) {
      const fresh: Array<[string, number]> = []
      db.transaction(() => {
        for (let i = 0; i < 500; i++) {
          const dedupId = `d${next() % 40_000}`
          if (owners.has(dedupId) || fresh.some(([d]) => d === dedupId)) continue
          insert.run(++seq, `evt_${seq}`, dedupId)
          index.claim(dedupKey('s', dedupId), seq)
          fresh.push([dedupId, seq])
        }
      })()
      if (round % 7 === 3) {
        // Roll this batch back.
        db.transaction(() => fresh.forEach(([, s]) => remove.run(s)))()
        index.rollback()
      } else {
        index.commit()
        for (const [d, s] of fresh) owners.set(d, s)
      }
      // Release a share of the owners (retention).
      const released = [...owners].filter(() => next() % 20 === 0)
      db.transaction(() => released.forEach(([, s]) => remove.run(s)))()
      index.release(released.map(([dedupId, s]) => ({ seq: s, sourceId: 's', dedupId })))
      released.forEach(([d]) => owners.delete(d))
      // Exact in every state, also while a growth is still moving entries.
      if (index.moving > 0) movingRounds++
      expect(index.count).toBe(owners.size)
      check(400)
      rounds++
    }
    expect(rounds).toBe(60)
    expect(movingRounds).toBeGreaterThan(0)
    expect(owners.size).toBeGreaterThan(2000)
    check(40_000)
  })

  it('moves a grown table a few slots per claim, never all at once', () => {
    const { db } = store()
    const index = DedupIndex.load(db, undefined, 1024)
    const moving: number[] = []
    db.transaction(() => {
      for (let seq = 1; seq <= 3000; seq++) {
        index.claim(dedupKey('s', `k${seq}`), seq)
        moving.push(index.moving)
      }
    })()
    index.commit()
    // The claim that grew the table (the 769th: past 3/4 of 1,024 slots) left all 1,024 old slots to move, and
    // each later claim moved eight of them until none were left.
    expect(moving.slice(0, 768).every((n) => n === 0)).toBe(true)
    expect(moving.slice(768, 772)).toEqual([1024, 1016, 1008, 1000])
    expect(moving[768 + 128]).toBe(0)
    expect(index.count).toBe(3000)
  })

  it('migration 008 carries the keys of an existing store over', () => {
    const dir = tempDir('switchboard-dedup-migrate-')
    cleanups.push(() => dir.remove())
    const { file, db: v7 } = openStoreBefore(dir.path, '008')
    const insert = v7.prepare(
      `INSERT INTO events (id, source_id, received_at, method, path, headers, body, body_size, dedup_id, status,
         verification) VALUES (?, ?, 0, 'POST', '/', '{}', x'', 0, ?, ?, 'unsigned')`,
    )
    insert.run('evt_1', 'shop', 'msg_1', 'accepted')
    insert.run('evt_2', 'shop', 'msg_1', 'duplicate')
    insert.run('evt_3', 'crm', 'msg_1', 'accepted')
    v7.prepare(
      `INSERT INTO dedup_keys (source_id, dedup_id, event_id) VALUES ('shop','msg_1','evt_1'), ('crm','msg_1','evt_3')`,
    ).run()
    expect(v7.pragma('user_version', { simple: true })).toBe(7)
    v7.close()

    const db = openDatabase({ file })
    cleanups.push(() => void db.close())
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(8)
    expect(db.prepare(`SELECT event_seq, key FROM dedup_keys ORDER BY event_seq`).raw().all()).toEqual([
      [1, dedupKey('shop', 'msg_1')],
      [3, dedupKey('crm', 'msg_1')],
    ])
    const events = new EventStore(db, DedupIndex.load(db))
    expect(commit(db, events, ['msg_1'])[0]).toEqual({
      status: 'duplicate',
      duplicateOf: 'evt_1',
      reason: null,
    })
  })
})

describe('dedup across an engine restart', () => {
  it('answers a redelivery after a restart as a duplicate of the first delivery', async () => {
    const dir = tempDir('switchboard-dedup-restart-')
    cleanups.push(() => dir.remove())
    const start = async () => {
      const engine = createEngine({
        dataDir: dir.path,
        receiver: { port: 0, host: '127.0.0.1' },
        tunnel: { mode: 'off' },
      })
      const { receiverUrl } = await engine.start()
      return { engine, url: `${receiverUrl}/hooks/shop` }
    }
    const before = await start()
    await before.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    const first = (await http(before.url, { body: '{"order":1}' })).json as { id: string }
    await before.engine.stop()

    const after = await start()
    cleanups.push(() => after.engine.stop())
    // The none provider's delivery id is the body's hash: the same body is the same delivery.
    expect((await http(after.url, { body: '{"order":1}' })).json).toMatchObject({
      duplicate: true,
      duplicateOf: first.id,
    })
    expect((await http(after.url, { body: '{"order":2}' })).json).toMatchObject({ duplicate: false })
  })
})
