import { afterEach, describe, expect, it } from 'vitest'
import type { RunStatus } from '../../../src/shared/domain'
import { newId } from '../../../src/core/ids'
import { preferIncrementalVacuum } from '../../../src/core/monitor/retention'
import { monitorFixture, type MonitorFixture } from './fixture'

const DAY = 24 * 60 * 60 * 1000
let f: MonitorFixture
afterEach(() => f?.close())

function insertRun(eventId: string, status: RunStatus, resolvedAt: number | null = null): void {
  const now = f.clock.now()
  f.db
    .prepare(
      `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status, resolved_at,
         created_at, updated_at) VALUES (?, ?, 'shop', 'wf', 1, 'wf', ?, ?, ?, ?)`,
    )
    .run(newId('run', now), eventId, status, resolvedAt, now, now)
}

const exists = (id: string) => f.db.prepare(`SELECT 1 FROM events WHERE id = ?`).get(id) !== undefined
const searchIds = (q: string) => f.events.list({ q, limit: 500 }).items.map((e) => e.id)

describe('retention', () => {
  it('deletes events past the age limit with their dedup keys and search rows, keeping what is still needed', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: 30, maxEvents: null } },
    })
    const body = Buffer.from(JSON.stringify({ note: 'ancient marmalade' }))
    const old = {
      plain: f.addEvent('shop', { body }),
      running: f.addEvent('shop', { body }),
      waiting: f.addEvent('shop', { body }),
      deadOpen: f.addEvent('shop', { body }),
      deadResolved: f.addEvent('shop', { body }),
      succeeded: f.addEvent('shop', { body }),
      pendingJob: f.addEvent('shop', { body }),
    }
    insertRun(old.running.id, 'running')
    insertRun(old.waiting.id, 'waiting')
    insertRun(old.deadOpen.id, 'dead')
    insertRun(old.deadResolved.id, 'dead', f.clock.now())
    insertRun(old.succeeded.id, 'succeeded')
    f.db
      .prepare(
        `INSERT INTO jobs (kind, payload, status, run_at, created_at, updated_at) VALUES ('dispatch', ?, 'queued', 0, 0, 0)`,
      )
      .run(JSON.stringify({ eventId: old.pendingJob.id }))
    f.clock.advance(31 * DAY)
    const fresh = f.addEvent('shop', { body })

    const report = await f.monitor.retain()

    expect(report).toMatchObject({ deleted: 3, kept: 4 })
    expect(exists(old.plain.id)).toBe(false)
    expect(exists(old.deadResolved.id)).toBe(false)
    expect(exists(old.succeeded.id)).toBe(false)
    for (const kept of [old.running, old.waiting, old.deadOpen, old.pendingJob, fresh])
      expect(exists(kept.id)).toBe(true)
    const keys = f.db.prepare(`SELECT event_id FROM dedup_keys`).all() as Array<{ event_id: string }>
    expect(keys.map((k) => k.event_id).sort()).toEqual(
      [old.running.id, old.waiting.id, old.deadOpen.id, old.pendingJob.id, fresh.id].sort(),
    )
    expect(searchIds('marmalade').sort()).toEqual(keys.map((k) => k.event_id).sort())
    expect(f.db.prepare(`SELECT COUNT(*) AS n FROM events_fts`).get()).toEqual({ n: 5 })
  })

  it('keeps the newest events up to the count limit, per source', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.addSource('github')
    f.monitor.operations['monitor.configure']({ settings: { retention: { maxAgeDays: null, maxEvents: 3 } } })
    f.monitor.operations['monitor.configure']({ source: 'github', settings: { retention: { maxEvents: 5 } } })
    const shop = Array.from({ length: 10 }, () => f.addEvent('shop'))
    const github = Array.from({ length: 7 }, () => f.addEvent('github'))
    const few = Array.from({ length: 2 }, () => f.addEvent('forms'))

    const report = await f.monitor.retain()

    expect(report.deleted).toBe(7 + 2)
    const left = (source: string) =>
      (
        f.db.prepare(`SELECT id FROM events WHERE source_id = ? ORDER BY seq`).all(source) as Array<{
          id: string
        }>
      ).map((r) => r.id)
    expect(left('shop')).toEqual(shop.slice(-3).map((e) => e.id))
    expect(left('github')).toEqual(github.slice(-5).map((e) => e.id))
    expect(left('forms')).toEqual(few.map((e) => e.id))
    // Applying it again changes nothing.
    expect((await f.monitor.retain()).deleted).toBe(0)
  })

  it('works through many events in batches and compacts the file', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: 1, maxEvents: null } },
    })
    const big = Buffer.from(JSON.stringify({ filler: 'x'.repeat(4000) }))
    const insert = f.db.transaction(() => {
      for (let i = 0; i < 3000; i++) f.addEvent('shop', { body: big })
    })
    insert()
    f.clock.advance(2 * DAY)
    const keep = f.addEvent('shop')
    const pagesBefore = f.db.pragma('page_count', { simple: true }) as number

    const report = await f.monitor.retain()

    expect(report.deleted).toBe(3000)
    expect(report.compaction).toBe('full')
    expect(exists(keep.id)).toBe(true)
    expect(f.db.pragma('freelist_count', { simple: true })).toBe(0)
    expect(f.db.pragma('page_count', { simple: true }) as number).toBeLessThan(pagesBefore / 4)
    // The file now uses incremental auto-vacuum, so later compactions are cheap steps.
    expect(f.db.pragma('auto_vacuum', { simple: true })).toBe(2)
  })

  it('compacts in incremental steps once the file uses incremental auto-vacuum', async () => {
    f = monitorFixture()
    expect(preferIncrementalVacuum(f.db)).toBe(true)
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: 1, maxEvents: null } },
    })
    const big = Buffer.from(JSON.stringify({ filler: 'y'.repeat(4000) }))
    f.db.transaction(() => {
      for (let i = 0; i < 300; i++) f.addEvent('shop', { body: big })
    })()
    f.clock.advance(2 * DAY)
    const pagesBefore = f.db.pragma('page_count', { simple: true }) as number

    const report = await f.monitor.retain()

    expect(report).toMatchObject({ deleted: 300, compaction: 'incremental' })
    expect(f.db.pragma('freelist_count', { simple: true })).toBe(0)
    expect(f.db.pragma('page_count', { simple: true }) as number).toBeLessThan(pagesBefore / 2)
  })

  it('switches a new, small database to incremental auto-vacuum when the monitor starts', () => {
    f = monitorFixture()
    expect(f.db.pragma('auto_vacuum', { simple: true })).toBe(0)
    f.monitor.start()
    expect(f.db.pragma('auto_vacuum', { simple: true })).toBe(2)
    f.monitor.stop()
  })

  it('never deletes anything when a source sets no limits', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: null, maxEvents: null } },
    })
    f.addEvent('shop')
    f.clock.advance(5000 * DAY)
    expect((await f.monitor.retain()).deleted).toBe(0)
  })
})
