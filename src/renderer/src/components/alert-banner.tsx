import { useStore } from 'zustand'
import { useApp } from '../app-context'
import { formatAgo } from '../format'

/** Open alerts across the top, most severe first; each can be hidden until it changes. */
export function AlertBanner() {
  const { system } = useApp()
  const alerts = useStore(system.store, (s) => s.alerts)
  const dismissed = useStore(system.store, (s) => s.dismissedAlerts)
  const order = { critical: 0, warning: 1, info: 2 } as const
  const shown = alerts
    .filter((a) => !a.resolvedAt && !dismissed.includes(a.id))
    .sort((a, b) => order[a.severity] - order[b.severity] || b.openedAt - a.openedAt)
  if (shown.length === 0) return null
  return (
    <section className="alerts" aria-label="Alerts">
      {shown.map((alert) => (
        <div key={alert.id} className={`alert alert-${alert.severity}`} role="alert">
          <strong>{alert.title}</strong> <span>{alert.message}</span>{' '}
          <span className="muted">opened {formatAgo(alert.openedAt)}</span>
          <button
            type="button"
            className="small"
            aria-label={`Hide alert: ${alert.title}`}
            onClick={() => system.dismissAlert(alert.id)}
          >
            Hide
          </button>
        </div>
      ))}
    </section>
  )
}
