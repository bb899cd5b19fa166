import type { Db } from '../store/database'

interface Pending<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: writes that arrive in the same event-loop turn share one transaction (one fsync), and each
 * caller's promise settles only after that transaction has committed. A failed commit rejects every write in
 * it, so nothing is acknowledged that is not on disk.
 */
export class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = []
  private scheduled = false

  /**
   * @param write  runs inside the transaction, once per item, in arrival order
   * @param afterCommit  runs after a successful commit with the items and results (notify, wake workers)
   * @param afterRollback  runs when the transaction failed, before the writers are rejected (undo in-memory state)
   */
  constructor(
    private readonly db: Db,
    private readonly write: (item: T) => R,
    private readonly afterCommit: (items: T[], results: R[]) => void,
    private readonly afterRollback: () => void = () => {},
    private readonly maxBatch = 1000,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject })
      if (this.pending.length >= this.maxBatch) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Commit everything pending now. */
  flush(): void {
    this.scheduled = false
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    let results: R[]
    try {
      results = this.db.transaction(() => batch.map((p) => this.write(p.item))).immediate()
    } catch (error) {
      this.afterRollback()
      for (const p of batch) p.reject(error)
      return
    }
    try {
      this.afterCommit(
        batch.map((p) => p.item),
        results,
      )
    } finally {
      batch.forEach((p, i) => p.resolve(results[i]!))
    }
  }
}
