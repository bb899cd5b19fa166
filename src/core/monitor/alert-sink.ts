import type { AlertSeverity } from '../../shared/domain'

/** What a module reports when it opens an alert; `data` carries machine-readable detail for the UI. */
export interface AlertInput {
  severity: AlertSeverity
  title: string
  message: string
  sourceId?: string | null
  data?: Record<string, unknown>
}

/**
 * Where engine modules raise and clear alerts. An alert is identified by `(rule, key)`: opening one that is
 * already open updates it instead of adding a second; resolving one that is not open does nothing.
 * Implementations must not throw into the caller (a failing alert store must not stop the module raising it).
 */
export interface AlertSink {
  open(rule: string, key: string, alert: AlertInput): void
  resolve(rule: string, key: string): void
}
