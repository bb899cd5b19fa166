import type { Db } from '../store/database'

export interface DeadJob {
  id: number
  kind: string
  payload: unknown
  attempts: number
  lastError: string | null
  updatedAt: number
}

/** Dead jobs: kept, with their reason, until the user retries or removes them. */
export function listDeadJobs(db: Db, limit = 100): DeadJob[] {
  const rows = db
    .prepare(
      `SELECT id, kind, payload, attempts, last_error, updated_at FROM jobs WHERE status = 'dead' ORDER BY id DESC LIMIT ?`,
    )
    .all(limit) as Array<{
    id: number
    kind: string
    payload: string
    attempts: number
    last_error: string | null
    updated_at: number
  }>
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    payload: JSON.parse(r.payload),
    attempts: r.attempts,
    lastError: r.last_error,
    updatedAt: r.updated_at,
  }))
}

/** Put a dead job back in the queue with a fresh attempt budget. Returns false if it is not dead. */
export function requeueDeadJob(db: Db, id: number, now: number): boolean {
  return (
    db
      .prepare(
        `UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?, last_error = NULL, updated_at = ? WHERE id = ? AND status = 'dead'`,
      )
      .run(now, now, id).changes === 1
  )
}
