import type { DedupRelease } from '../events/dedup-index'
import type { Db } from '../store/database'
import type { MonitorSettingsStore } from './monitor-settings'

const DAY = 24 * 60 * 60 * 1000

export interface RetentionReport {
  deleted: number
  /** Finished dry runs (workflow tests) deleted for their age. */
  dryRuns: number
  /** Events past their limit but kept: an unresolved dead letter, a run in progress, or a pending job. */
  kept: number
  compaction: 'none' | 'incremental'
}

/** Jobs read per page when retention looks for the events and runs they still refer to. */
const JOB_PAGE = 5000

export interface RetentionOptions {
  /** Events read (and deleted) per transaction; the job yields to the receiver between batches. */
  batchSize?: number
  /** Resolved alerts older than this are deleted too. */
  resolvedAlertsKeepMs?: number
  /** Finished dry runs older than this are deleted (a dry run on a sample event belongs to no stored event). */
  dryRunsKeepMs?: number
  /** Told, after each committed batch, which events' dedup keys went with them (the in-memory dedup index). */
  onKeysDeleted?: (events: DedupRelease[]) => void
}

interface Candidate {
  seq: number
  id: string
  dedup_id: string
  received_at: number
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Retention: per source, events older than `maxAgeDays` or beyond the newest `maxEvents` are deleted, oldest
 * first, with their dedup keys, (by trigger) their full-text rows, and, in the same transaction, the runs they
 * started with everything hanging off those runs (steps, attempts, waits, wait answers, notifications), so no
 * run is left pointing at a deleted event. Never deleted: an event with a run in progress (queued, running,
 * waiting, dry runs included), with an unresolved dead letter (a dead run that is not a dry run), or with a run
 * a job still refers to (a cancelled run whose request is being cut off), and an event a job still refers to.
 * Finished dry runs (workflow tests, often on a sample event that was never stored) go after `dryRunsKeepMs`.
 * Afterwards the file is compacted (see `compact`).
 */
export class Retention {
  private readonly batchSize: number
  private readonly options: Required<Omit<RetentionOptions, 'onKeysDeleted'>>
  private readonly onKeysDeleted: (events: DedupRelease[]) => void
  private running: Promise<RetentionReport> | null = null

  constructor(
    private readonly db: Db,
    private readonly settings: MonitorSettingsStore,
    options: RetentionOptions = {},
  ) {
    this.options = {
      // Each event's delete also deletes its full-text terms: 500 a batch held intake for 45–70 ms at a million
      // events (measured); a batch of a hundred does a fifth of that work.
      batchSize: 100,
      resolvedAlertsKeepMs: 90 * DAY,
      dryRunsKeepMs: 7 * DAY,
      ...options,
    }
    this.onKeysDeleted = options.onKeysDeleted ?? (() => {})
    this.batchSize = this.options.batchSize
  }

  /** Apply retention once (a second call while one runs joins it). */
  run(now: number): Promise<RetentionReport> {
    this.running ??= this.apply(now).finally(() => (this.running = null))
    return this.running
  }

  private async apply(now: number): Promise<RetentionReport> {
    const db = this.db
    const report: RetentionReport = { deleted: 0, dryRuns: 0, kept: 0, compaction: 'none' }
    const hasTable = (name: string) =>
      db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined
    const hasRuns = hasTable('runs')
    // Read in pages between which intake goes on: after a flood the queue can hold 200k jobs (0.5 s in one read,
    // measured).
    const jobPage = db.prepare(
      `SELECT id, json_extract(payload, '$.eventId') AS e, json_extract(payload, '$.runId') AS r FROM jobs
       WHERE id > ? AND json_valid(payload) ORDER BY id LIMIT ?`,
    )
    const jobRefs: Array<{ e: unknown; r: unknown }> = []
    for (let after = 0; ;) {
      const rows = jobPage.all(after, JOB_PAGE) as Array<{ id: number; e: unknown; r: unknown }>
      for (const row of rows) jobRefs.push(row)
      if (rows.length < JOB_PAGE) break
      after = rows[rows.length - 1]!.id
      await yieldToIo()
    }
    const referenced = new Set(jobRefs.map((j) => j.e).filter((e): e is string => typeof e === 'string'))
    const referencedRuns = JSON.stringify(
      jobRefs.map((j) => j.r).filter((r): r is string => typeof r === 'string'),
    )
    const busyRuns = hasRuns
      ? db.prepare(
          `SELECT DISTINCT event_id FROM runs WHERE event_id IN (SELECT value FROM json_each(?))
             AND (status IN ('queued','running','waiting')
               OR (status = 'dead' AND resolved_at IS NULL AND dry_run = 0)
               OR id IN (SELECT value FROM json_each(?)))`,
        )
      : null
    const runDeleter = hasRuns ? this.runDeleter(hasTable('wait_answers')) : null
    const deleteRunsOf = runDeleter?.ofEvent
    const page = db.prepare(
      `SELECT seq, id, dedup_id, received_at FROM events WHERE source_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
    const countCutoff = db.prepare(
      `SELECT seq FROM events WHERE source_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
    )
    const deleteEvent = db.prepare(`DELETE FROM events WHERE seq = ?`)
    const deleteKey = db.prepare(`DELETE FROM dedup_keys WHERE event_seq = ?`)

    for (const sourceId of this.sourceIds()) {
      const { maxAgeDays, maxEvents } = this.settings.forSource(sourceId).retention
      if (maxAgeDays === null && maxEvents === null) continue
      const ageBefore = maxAgeDays === null ? -Infinity : now - maxAgeDays * DAY
      // The newest `maxEvents` events are kept: those before the maxEvents-th newest are over the count.
      const nth =
        maxEvents === null
          ? undefined
          : (countCutoff.get(sourceId, maxEvents - 1) as { seq: number } | undefined)
      const countSeq = nth ? nth.seq - 1 : -Infinity
      // Events are walked oldest first; receipt time follows seq, so the first one within both limits ends it.
      let after = 0
      let done = false
      while (!done) {
        const rows = page.all(sourceId, after, this.batchSize) as Candidate[]
        if (rows.length < this.batchSize) done = true
        const due: Candidate[] = []
        for (const row of rows) {
          if (row.received_at >= ageBefore && row.seq > countSeq) {
            done = true
            break
          }
          due.push(row)
        }
        if (due.length === 0) break
        after = due[due.length - 1]!.seq
        const busy = busyRuns
          ? new Set(
              (
                busyRuns.all(JSON.stringify(due.map((r) => r.id)), referencedRuns) as Array<{
                  event_id: string
                }>
              ).map((r) => r.event_id),
            )
          : new Set<string>()
        const released: DedupRelease[] = []
        db.transaction(() => {
          for (const row of due) {
            if (busy.has(row.id) || referenced.has(row.id)) {
              report.kept++
              continue
            }
            deleteRunsOf?.(row.id)
            deleteEvent.run(row.seq)
            if (deleteKey.run(row.seq).changes > 0)
              released.push({ seq: row.seq, sourceId, dedupId: row.dedup_id })
            report.deleted++
          }
        }).immediate()
        this.onKeysDeleted(released)
        await yieldToIo()
      }
    }
    db.prepare(`DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?`).run(
      now - this.options.resolvedAlertsKeepMs,
    )
    if (runDeleter)
      report.dryRuns = await this.deleteDryRuns(now - this.options.dryRunsKeepMs, runDeleter.run)
    if (report.deleted > 0 || report.dryRuns > 0) report.compaction = await this.compact()
    return report
  }

  /** Delete finished dry runs created before `before`, in batches that yield to the receiver between them. */
  private async deleteDryRuns(before: number, deleteRun: (runId: string) => void): Promise<number> {
    const due = this.db.prepare(
      `SELECT id FROM runs INDEXED BY runs_dry
       WHERE dry_run = 1 AND status IN ('succeeded', 'dead', 'cancelled') AND created_at < ? LIMIT ?`,
    )
    let deleted = 0
    for (;;) {
      const ids = due.pluck().all(before, this.batchSize) as string[]
      this.db.transaction(() => ids.forEach(deleteRun)).immediate()
      deleted += ids.length
      if (ids.length < this.batchSize) return deleted
      await yieldToIo()
    }
  }

  /** Deleters of an event's runs, or of one run, with what hangs off them (call inside a retention transaction). */
  private runDeleter(hasWaitAnswers: boolean): {
    ofEvent: (eventId: string) => void
    run: (runId: string) => void
  } {
    const db = this.db
    const runsOf = db.prepare(`SELECT id FROM runs WHERE event_id = ?`).pluck()
    const perRun = [
      `DELETE FROM attempts WHERE run_id = ?`,
      `DELETE FROM steps WHERE run_id = ?`,
      `DELETE FROM waits WHERE run_id = ?`,
      ...(hasWaitAnswers ? [`DELETE FROM wait_answers WHERE run_id = ?`] : []),
      `DELETE FROM notifications WHERE run_id = ?`,
      `DELETE FROM runs WHERE id = ?`,
    ].map((sql) => db.prepare(sql))
    const run = (runId: string) => {
      for (const stmt of perRun) stmt.run(runId)
    }
    return {
      ofEvent: (eventId) => {
        for (const runId of runsOf.all(eventId) as string[]) run(runId)
      },
      run,
    }
  }

  /**
   * Give freed pages back to the file system, in steps between which intake goes on. That needs incremental
   * auto-vacuum, which a new store gets while it is small (`preferIncrementalVacuum`). A file without it keeps
   * its free pages for new rows: converting it takes a full VACUUM, which rewrites the whole file on the thread
   * that answers webhooks (26 s at a million events, measured), so the running engine never does that.
   */
  async compact(): Promise<RetentionReport['compaction']> {
    const db = this.db
    if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) return 'none'
    let result: RetentionReport['compaction'] = 'none'
    while ((db.pragma('freelist_count', { simple: true }) as number) > 0) {
      db.pragma('incremental_vacuum(2000)')
      result = 'incremental'
      await yieldToIo()
    }
    if (result !== 'none') db.pragma('wal_checkpoint(TRUNCATE)')
    return result
  }

  /** Every source with stored events (also deleted sources' leftovers), by a skip-scan of the source index. */
  private sourceIds(): string[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE s(id) AS (
           SELECT MIN(source_id) FROM events
           UNION ALL
           SELECT (SELECT MIN(source_id) FROM events WHERE source_id > s.id) FROM s WHERE s.id IS NOT NULL
         ) SELECT id FROM s WHERE id IS NOT NULL`,
      )
      .all() as Array<{ id: string }>
    return rows.map((r) => r.id)
  }
}

/**
 * On a new, still small database, switch to incremental auto-vacuum now (the VACUUM that makes it stick is
 * cheap while the file is small). A large file without it is left as it is: see `Retention.compact`.
 */
export function preferIncrementalVacuum(db: Db, maxPages = 4096): boolean {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 0) return false
  if ((db.pragma('page_count', { simple: true }) as number) > maxPages) return false
  db.pragma('auto_vacuum = INCREMENTAL')
  db.exec('VACUUM')
  return true
}
