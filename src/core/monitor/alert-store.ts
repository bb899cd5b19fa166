import type { Alert } from '../../shared/domain'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import { newId } from '../ids'
import type { Db } from '../store/database'
import type { AlertInput, AlertSink } from './alert-sink'

interface AlertRow {
  id: string
  rule: string
  key: string
  source_id: string | null
  severity: Alert['severity']
  title: string
  message: string
  data: string
  opened_at: number
  resolved_at: number | null
}

const MAX_RESOLVED_LISTED = 200

/**
 * The alerts table behind the AlertSink: one open alert per (rule, key) (a partial unique index says so too).
 * Opening an open alert updates it in place (emitted again only when its severity or title changes); each open
 * and each resolve is emitted as `{type:'alert'}` on the change stream and handed to `notify` (the webhook). Never throws into the module raising an alert.
 */
export class AlertStore implements AlertSink {
  private readonly open_ = new Map<string, Alert & { key: string }>()
  private readonly stmt

  constructor(
    db: Db,
    private readonly clock: Clock,
    private readonly changes: ChangeBus,
    private readonly notify: (alert: Alert) => void = () => {},
    private readonly log: (message: string, error: unknown) => void = () => {},
  ) {
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO alerts (id, rule, key, source_id, severity, title, message, data, opened_at, updated_at)
         VALUES (@id, @rule, @key, @sourceId, @severity, @title, @message, @data, @at, @at)`,
      ),
      update: db.prepare(
        `UPDATE alerts SET severity = @severity, title = @title, message = @message, data = @data, updated_at = @at
         WHERE id = @id`,
      ),
      resolve: db.prepare(
        `UPDATE alerts SET resolved_at = ?, updated_at = ? WHERE id = ? AND resolved_at IS NULL`,
      ),
      openRows: db.prepare(`SELECT * FROM alerts WHERE resolved_at IS NULL ORDER BY seq`),
      recent: db.prepare(`SELECT * FROM alerts ORDER BY seq DESC LIMIT ?`),
    }
    for (const row of this.stmt.openRows.all() as AlertRow[])
      this.open_.set(slot(row.rule, row.key), { ...toAlert(row), key: row.key })
  }

  open(rule: string, key: string, input: AlertInput): void {
    try {
      const at = this.clock.now()
      const existing = this.open_.get(slot(rule, key))
      const data = input.data ?? {}
      if (existing) {
        // The message may carry live numbers ("quiet for 14 min"): only a new severity or title is news.
        const changed = existing.severity !== input.severity || existing.title !== input.title
        const next = {
          ...existing,
          severity: input.severity,
          title: input.title,
          message: input.message,
          data,
        }
        this.stmt.update.run({
          id: existing.id,
          severity: next.severity,
          title: next.title,
          message: next.message,
          data: JSON.stringify(data),
          at,
        })
        this.open_.set(slot(rule, key), next)
        if (changed) this.changes.emit({ type: 'alert', alert: strip(next) })
        return
      }
      const alert: Alert = {
        id: newId('alr', at),
        rule,
        sourceId: input.sourceId ?? null,
        severity: input.severity,
        title: input.title,
        message: input.message,
        openedAt: at,
        resolvedAt: null,
        data,
      }
      this.stmt.insert.run({ ...alert, key, data: JSON.stringify(data), at })
      this.open_.set(slot(rule, key), { ...alert, key })
      this.changes.emit({ type: 'alert', alert })
      this.notify(alert)
    } catch (error) {
      this.log(`could not open alert ${rule}/${key}`, error)
    }
  }

  resolve(rule: string, key: string): void {
    try {
      const existing = this.open_.get(slot(rule, key))
      if (!existing) return
      const at = this.clock.now()
      this.stmt.resolve.run(at, at, existing.id)
      this.open_.delete(slot(rule, key))
      const alert = { ...strip(existing), resolvedAt: at }
      this.changes.emit({ type: 'alert', alert })
      this.notify(alert)
    } catch (error) {
      this.log(`could not resolve alert ${rule}/${key}`, error)
    }
  }

  isOpen(rule: string, key: string): boolean {
    return this.open_.has(slot(rule, key))
  }

  /** Open alerts with this rule: key → alert. */
  openFor(rule: string): Map<string, Alert> {
    const out = new Map<string, Alert>()
    for (const alert of this.open_.values()) if (alert.rule === rule) out.set(alert.key, strip(alert))
    return out
  }

  /** Open alerts (oldest first), or with `open: false` the recent ones of any state (newest first). */
  list(open?: boolean): Alert[] {
    if (open === true) return [...this.open_.values()].map(strip)
    const rows = (this.stmt.recent.all(MAX_RESOLVED_LISTED) as AlertRow[]).map(toAlert)
    return open === false ? rows.filter((a) => a.resolvedAt !== null) : rows
  }
}

function slot(rule: string, key: string): string {
  return `${rule}\u0000${key}`
}

function strip(alert: Alert & { key?: string }): Alert {
  const { key: _key, ...rest } = alert
  return rest
}

function toAlert(row: AlertRow): Alert {
  return {
    id: row.id,
    rule: row.rule,
    sourceId: row.source_id,
    severity: row.severity,
    title: row.title,
    message: row.message,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
    data: JSON.parse(row.data) as Record<string, unknown>,
  }
}
