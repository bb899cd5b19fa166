import type { ActionRecord, Page } from '../../shared/domain'
import { newId } from '../ids'
import type { Db } from './database'

/** The history of explicit user actions (retry, replay, resolve, …). Call `record` inside the action's transaction. */
export class ActionLog {
  private readonly insert
  constructor(private readonly db: Db) {
    this.insert = db.prepare(`INSERT INTO actions (id, at, kind, target, detail) VALUES (?, ?, ?, ?, ?)`)
  }

  record(
    kind: ActionRecord['kind'],
    target: string,
    detail: Record<string, unknown>,
    at: number,
  ): ActionRecord {
    const action: ActionRecord = { id: newId('act', at), at, kind, target, detail }
    this.insert.run(action.id, at, kind, target, JSON.stringify(detail))
    return action
  }

  list(limit: number, before?: string): Page<ActionRecord> {
    const rows = this.db
      .prepare(
        `SELECT seq, id, at, kind, target, detail FROM actions WHERE seq < ? ORDER BY seq DESC LIMIT ?`,
      )
      .all(before ? Number(before) : Number.MAX_SAFE_INTEGER, limit + 1) as Array<{
      seq: number
      id: string
      at: number
      kind: ActionRecord['kind']
      target: string
      detail: string
    }>
    const page = rows.slice(0, limit)
    return {
      items: page.map((r) => ({
        id: r.id,
        at: r.at,
        kind: r.kind,
        target: r.target,
        detail: JSON.parse(r.detail),
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    }
  }
}
