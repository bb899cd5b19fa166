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

/** A finished or running run with what a real one leaves behind: a step, its attempts, a notification, an answer. */
function insertRunWithHistory(
  eventId: string,
  status: RunStatus,
  options: { resolvedAt?: number | null; dryRun?: boolean } = {},
): string {
  const now = f.clock.now()
  const runId = newId('run', now)
  f.db
    .prepare(
      `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status, resolved_at,
         created_at, updated_at, dry_run) VALUES (?, ?, 'shop', 'wf', 1, 'wf', ?, ?, ?, ?, ?)`,
    )
    .run(runId, eventId, status, options.resolvedAt ?? null, now, now, options.dryRun ? 1 : 0)
  f.db
    .prepare(
      `INSERT INTO steps (run_id, step_id, seq, kind, status, started_at) VALUES (?, 'call', 1, 'http', 'succeeded', ?)`,
    )
    .run(runId, now)
  for (const n of [1, 2])
    f.db
      .prepare(
        `INSERT INTO attempts (run_id, step_id, n, started_at, finished_at, ok) VALUES (?, 'call', ?, ?, ?, ?)`,
      )
      .run(runId, n, now, now, n === 2 ? 1 : 0)
  f.db
    .prepare(`INSERT INTO notifications (id, at, title, run_id, event_id) VALUES (?, ?, 'done', ?, ?)`)
    .run(newId('ntf', now), now, runId, eventId)
  f.db
    .prepare(`INSERT INTO wait_answers (run_id, event_id, step_id, at) VALUES (?, ?, 'call', ?)`)
    .run(runId, eventId, now)
  if (status === 'waiting')
    f.db
      .prepare(
        `INSERT INTO waits (run_id, step_id, source_id, created_at, expires_at) VALUES (?, 'call', 'shop', ?, ?)`,
      )
      .run(runId, now, now + 1000 * DAY)
  return runId
}

/** Rows in each run table that belong to `runIds`. */
function rowsOf(runIds: string[]): Record<string, number> {
  const list = JSON.stringify(runIds)
  const count = (sql: string) => (f.db.prepare(sql).get(list) as { n: number }).n
  const inList = `IN (SELECT value FROM json_each(?))`
  return {
    runs: count(`SELECT COUNT(*) AS n FROM runs WHERE id ${inList}`),
    steps: count(`SELECT COUNT(*) AS n FROM steps WHERE run_id ${inList}`),
    attempts: count(`SELECT COUNT(*) AS n FROM attempts WHERE run_id ${inList}`),
    notifications: count(`SELECT COUNT(*) AS n FROM notifications WHERE run_id ${inList}`),
    waitAnswers: count(`SELECT COUNT(*) AS n FROM wait_answers WHERE run_id ${inList}`),
    waits: count(`SELECT COUNT(*) AS n FROM waits WHERE run_id ${inList}`),
  }
}

/** Rows of any run table left pointing at a run or event that no longer exists. */
function orphans(): number {
  return (
    f.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM runs WHERE event_id NOT IN (SELECT id FROM events))
              + (SELECT COUNT(*) FROM steps WHERE run_id NOT IN (SELECT id FROM runs))
              + (SELECT COUNT(*) FROM attempts WHERE run_id NOT IN (SELECT id FROM runs))
              + (SELECT COUNT(*) FROM notifications WHERE run_id NOT IN (SELECT id FROM runs))
              + (SELECT COUNT(*) FROM wait_answers WHERE run_id NOT IN (SELECT id FROM runs))
              + (SELECT COUNT(*) FROM waits WHERE run_id NOT IN (SELECT id FROM runs)) AS n`,
      )
      .get() as { n: number }
  ).n
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
    const keys = f.db
      .prepare(`SELECT e.id AS event_id FROM dedup_keys k JOIN events e ON e.seq = k.event_seq`)
      .all() as Array<{ event_id: string }>
    expect(f.db.prepare(`SELECT COUNT(*) FROM dedup_keys`).pluck().get()).toBe(keys.length)
    // The in-memory index forgot the deleted events' keys too.
    expect(f.dedup.count).toBe(keys.length)
    expect(keys.map((k) => k.event_id).sort()).toEqual(
      [old.running.id, old.waiting.id, old.deadOpen.id, old.pendingJob.id, fresh.id].sort(),
    )
    expect(searchIds('marmalade').sort()).toEqual(keys.map((k) => k.event_id).sort())
    // The deleted events' terms leave the index once the indexer applies the deletion log.
    f.searchIndex.indexAll()
    expect(f.searchIndex.reader.prepare(`SELECT COUNT(*) AS n FROM search.events_fts`).get()).toEqual({
      n: 5,
    })
  })

  it('deletes the finished runs of the events it deletes, with their steps, attempts, notifications and answers', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: 30, maxEvents: null } },
    })
    const old = () => f.addEvent('shop').id
    const gone = {
      succeeded: old(),
      cancelled: old(),
      deadResolved: old(),
      deadDryRun: old(),
      twoRuns: old(),
    }
    const kept = {
      running: old(),
      waiting: old(),
      queued: old(),
      deadOpen: old(),
      cancelledInFlight: old(),
    }
    const goneRuns = [
      insertRunWithHistory(gone.succeeded, 'succeeded'),
      insertRunWithHistory(gone.cancelled, 'cancelled'),
      insertRunWithHistory(gone.deadResolved, 'dead', { resolvedAt: f.clock.now() }),
      // A dead dry run is not a dead letter: it keeps nothing.
      insertRunWithHistory(gone.deadDryRun, 'dead', { dryRun: true }),
      insertRunWithHistory(gone.twoRuns, 'succeeded'),
      insertRunWithHistory(gone.twoRuns, 'cancelled'),
    ]
    const keptRuns = [
      insertRunWithHistory(kept.running, 'running'),
      insertRunWithHistory(kept.waiting, 'waiting'),
      insertRunWithHistory(kept.queued, 'queued', { dryRun: true }),
      insertRunWithHistory(kept.deadOpen, 'dead'),
      insertRunWithHistory(kept.cancelledInFlight, 'cancelled'),
      // Finished runs of an event that a run in progress keeps stay with it.
      insertRunWithHistory(kept.running, 'succeeded'),
    ]
    // The cancelled run's job is still out (its request being cut off): its event and records stay until it is done.
    f.db
      .prepare(
        `INSERT INTO jobs (kind, payload, status, run_at, created_at, updated_at) VALUES ('run', ?, 'running', 0, 0, 0)`,
      )
      .run(JSON.stringify({ runId: keptRuns[4] }))
    f.clock.advance(31 * DAY)
    const fresh = f.addEvent('shop').id
    const freshRun = insertRunWithHistory(fresh, 'succeeded')
    const keptBefore = rowsOf([...keptRuns, freshRun])

    const report = await f.monitor.retain()

    expect(report).toMatchObject({ deleted: 5, kept: 5 })
    for (const id of Object.values(gone)) expect(exists(id)).toBe(false)
    for (const id of [...Object.values(kept), fresh]) expect(exists(id)).toBe(true)
    expect(rowsOf(goneRuns)).toEqual({
      runs: 0,
      steps: 0,
      attempts: 0,
      notifications: 0,
      waitAnswers: 0,
      waits: 0,
    })
    expect(rowsOf([...keptRuns, freshRun])).toEqual(keptBefore)
    expect(keptBefore).toMatchObject({ runs: 7, steps: 7, attempts: 14, waits: 1 })
    expect(orphans()).toBe(0)

    // Once the cancelled run's job is done, its event goes too, with the run.
    f.db.prepare(`DELETE FROM jobs`).run()
    expect(await f.monitor.retain()).toMatchObject({ deleted: 1, kept: 4 })
    expect(exists(kept.cancelledInFlight)).toBe(false)
    expect(rowsOf([keptRuns[4]!]).runs).toBe(0)
    expect(orphans()).toBe(0)
  })

  it('deletes an event and its runs in one transaction: a failure midway leaves both', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.operations['monitor.configure']({
      source: 'shop',
      settings: { retention: { maxAgeDays: 1, maxEvents: null } },
    })
    const event = f.addEvent('shop').id
    const runId = insertRunWithHistory(event, 'succeeded')
    f.clock.advance(2 * DAY)
    const before = rowsOf([runId])
    // The last thing deleted for a run fails: everything deleted before it must come back.
    f.db.exec(
      `CREATE TEMP TRIGGER fail_run_delete BEFORE DELETE ON main.runs BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`,
    )

    await expect(f.monitor.retain()).rejects.toThrow(/disk trouble/)

    expect(exists(event)).toBe(true)
    expect(rowsOf([runId])).toEqual(before)
    f.db.exec(`DROP TRIGGER temp.fail_run_delete`)
    expect(await f.monitor.retain()).toMatchObject({ deleted: 1 })
    expect(rowsOf([runId]).runs).toBe(0)
    expect(orphans()).toBe(0)
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

  it('works through many events in batches and, without incremental auto-vacuum, keeps the free pages for reuse', async () => {
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
    expect(exists(keep.id)).toBe(true)
    // No full VACUUM on the running engine (it would rewrite the whole file on the intake thread)…
    expect(report.compaction).toBe('none')
    expect(f.db.pragma('auto_vacuum', { simple: true })).toBe(0)
    expect(f.db.pragma('freelist_count', { simple: true }) as number).toBeGreaterThan(pagesBefore / 2)
    // …and new events fill the freed pages instead of growing the file.
    f.db.transaction(() => {
      for (let i = 0; i < 1000; i++) f.addEvent('shop', { body: big })
    })()
    expect(f.db.pragma('page_count', { simple: true })).toBe(pagesBefore)
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

  it('deletes finished dry runs after a week, sample event or stored one, and keeps the rest', async () => {
    f = monitorFixture()
    f.addSource('shop')
    const event = f.addEvent('shop')
    const addRun = (id: string, eventId: string, status: string, dryRun: 0 | 1) => {
      const now = f.clock.now()
      f.db
        .prepare(
          `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status,
             created_at, updated_at, dry_run) VALUES (?, ?, 'shop', 'wf', 1, 'wf', ?, ?, ?, ?)`,
        )
        .run(id, eventId, status, now, now, dryRun)
      f.db
        .prepare(
          `INSERT INTO steps (run_id, step_id, seq, kind, status) VALUES (?, 'a', 1, 'set', 'succeeded')`,
        )
        .run(id)
    }
    addRun('run_dry_sample', 'sample', 'succeeded', 1)
    addRun('run_dry_stored', event.id, 'dead', 1)
    addRun('run_real', event.id, 'succeeded', 0)
    f.clock.advance(6 * DAY)
    addRun('run_dry_recent', 'sample', 'succeeded', 1)
    f.clock.advance(2 * DAY)

    const report = await f.monitor.retain()
    expect(report).toMatchObject({ deleted: 0, dryRuns: 2 })
    const ids = (table: string, column: string) =>
      f.db.prepare(`SELECT ${column} FROM ${table} ORDER BY ${column}`).pluck().all()
    expect(ids('runs', 'id')).toEqual(['run_dry_recent', 'run_real'])
    expect(ids('steps', 'run_id')).toEqual(['run_dry_recent', 'run_real'])
    expect((await f.monitor.retain()).dryRuns).toBe(0)
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
