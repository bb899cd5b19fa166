import { performance } from 'node:perf_hooks'
import type { Db } from '../store/database'

const POINTER = 'search.indexedSeq'

export interface SearchIndexerOptions {
  /** Events per batch when intake is quiet. */
  batch?: number
  /** Events per batch while intake is busy: small, so one batch never holds an acknowledgement up for long. */
  busyBatch?: number
  /** The share of the event loop the indexer may take while intake is busy (0..1). */
  busyShare?: number
  /** Whether webhooks are arriving now; the indexer yields to them. */
  isBusy?: () => boolean
}

/**
 * Keeps the full-text index (events_fts) up with the events table, in batches, after the events have been
 * acknowledged. A search sees an event a moment after its ack. The pointer and the rows it covers commit
 * together, so a crash never skips or doubles an event.
 *
 * Indexing a 1 KB body costs more than storing it, and it runs on the thread that answers webhooks: while
 * intake is busy the indexer takes small batches and a bounded share of the loop, and catches up when intake
 * is quiet. Under sustained intake it falls behind (measured: a third of the events indexed after 15 s at full
 * speed). A search does not wait for the quiet: `catchUp` indexes what it is missing, in batches that give
 * the loop back between them, so a search during a flood takes longer but never stops the acknowledgements.
 */
export class SearchIndexer {
  private readonly stmt
  private scheduled = false
  private stopped = false
  /** The catch-up a search is waiting on, and the newest seq it must reach. */
  private catchingUp: Promise<void> | null = null
  private catchUpTarget = 0
  private readonly batch: number
  private readonly busyBatch: number
  private readonly busyShare: number
  private readonly isBusy: () => boolean

  constructor(
    private readonly db: Db,
    options: SearchIndexerOptions = {},
  ) {
    this.batch = options.batch ?? 500
    this.busyBatch = options.busyBatch ?? 100
    this.busyShare = options.busyShare ?? 0.1
    this.isBusy = options.isBusy ?? (() => false)
    this.stmt = {
      pointer: db.prepare(`SELECT value FROM settings WHERE key = '${POINTER}'`).pluck(),
      last: db.prepare(`SELECT MAX(seq) FROM events`).pluck(),
      newest: db
        .prepare(`SELECT MAX(seq) FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?)`)
        .pluck(),
      index: db.prepare(
        `INSERT INTO events_fts (rowid, body, headers)
         SELECT seq, CASE WHEN instr(body, x'00') = 0 THEN substr(CAST(body AS TEXT), 1, 65536) END, headers
         FROM events WHERE seq > ? AND seq <= ?`,
      ),
      save: db.prepare(
        `INSERT INTO settings (key, value) VALUES ('${POINTER}', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ),
    }
  }

  /** Index up to one batch of not-yet-indexed events; returns how many were indexed. */
  indexBatch(limit = this.batch): number {
    return this.db
      .transaction(() => {
        const from = Number(this.stmt.pointer.get() ?? 0)
        const to = this.stmt.newest.get(from, limit) as number | null
        if (to === null) return 0
        const { changes } = this.stmt.index.run(from, to)
        this.stmt.save.run(String(to))
        return changes
      })
      .immediate()
  }

  /** Index everything pending now, in one go (tests, set-up). */
  indexAll(): number {
    let total = 0
    for (let n = this.indexBatch(); n > 0; n = this.indexBatch()) total += n
    return total
  }

  /**
   * Resolves once every event committed before the call is indexed. The work goes in batches (small ones
   * while webhooks arrive), each followed by a turn of the event loop, so intake goes on meanwhile; searches
   * that ask at the same time share one catch-up.
   */
  catchUp(): Promise<void> {
    const target = (this.stmt.last.get() as number | null) ?? 0
    if (this.indexedUpTo() >= target) return Promise.resolve()
    this.catchUpTarget = Math.max(this.catchUpTarget, target)
    return (this.catchingUp ??= this.runCatchUp().finally(() => (this.catchingUp = null)))
  }

  private indexedUpTo(): number {
    return Number(this.stmt.pointer.get() ?? 0)
  }

  private async runCatchUp(): Promise<void> {
    while (!this.stopped && this.indexedUpTo() < this.catchUpTarget) {
      const limit = this.isBusy() ? this.busyBatch : this.batch
      if (this.indexBatch(limit) === 0) break
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Ask for the pending events to be indexed soon; bursts coalesce into batches, between other work. */
  schedule(delayMs = 50): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setTimeout(() => this.drain(), delayMs).unref()
  }

  stop(): void {
    this.stopped = true
  }

  private drain(): void {
    this.scheduled = false
    if (this.stopped) return
    const busy = this.isBusy()
    const limit = busy ? this.busyBatch : this.batch
    const started = performance.now()
    let indexed: number
    try {
      indexed = this.indexBatch(limit)
    } catch {
      // Store unavailable (disk full): the next commit schedules another try.
      return
    }
    if (indexed < limit) return
    // More is pending. While webhooks arrive, rest long enough that indexing keeps to its share of the loop.
    const took = performance.now() - started
    this.schedule(busy ? Math.max(20, (took * (1 - this.busyShare)) / this.busyShare) : 0)
  }
}
