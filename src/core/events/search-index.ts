import type { Db } from '../store/database'

const POINTER = 'search.indexedSeq'

/**
 * Keeps the full-text index (events_fts) up with the events table, in batches, after the events have been
 * acknowledged. A search sees an event a moment after its ack. The pointer and the rows it covers commit
 * together, so a crash never skips or doubles an event.
 */
export class SearchIndexer {
  private readonly stmt
  private scheduled = false
  private stopped = false

  constructor(
    private readonly db: Db,
    private readonly batch = 500,
  ) {
    this.stmt = {
      pointer: db.prepare(`SELECT value FROM settings WHERE key = '${POINTER}'`).pluck(),
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
  indexBatch(): number {
    return this.db
      .transaction(() => {
        const from = Number(this.stmt.pointer.get() ?? 0)
        const to = this.stmt.newest.get(from, this.batch) as number | null
        if (to === null) return 0
        const { changes } = this.stmt.index.run(from, to)
        this.stmt.save.run(String(to))
        return changes
      })
      .immediate()
  }

  /** Index everything pending now (tests, start-up). */
  indexAll(): number {
    let total = 0
    for (let n = this.indexBatch(); n > 0; n = this.indexBatch()) total += n
    return total
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
    try {
      if (this.indexBatch() === this.batch) this.schedule(0)
    } catch {
      // Store unavailable (disk full): the next commit schedules another try.
    }
  }
}
