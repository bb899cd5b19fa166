import { useEffect } from 'react'
import { useStore } from 'zustand'
import type { ActionRecord } from '../../../shared/domain'
import { describeError } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatTime } from '../format'

/** Where the alert webhook's actions point (the engine records them with this target). */
const ALERT_WEBHOOK = 'alerts.webhook'

/** What the action was, in words. */
export function describeAction(action: ActionRecord): string {
  const d = action.detail
  switch (action.kind) {
    case 'retry':
      return `Retried a run${typeof d.fromStep === 'string' ? ` from step ${d.fromStep}` : ''}${d.latest ? ' on the latest workflow version' : ''}`
    case 'bulk-retry': {
      const count = Array.isArray(d.ids) ? d.ids.length : 0
      return `Retried ${count} dead run${count === 1 ? '' : 's'} at once`
    }
    case 'replay': {
      const count = Array.isArray(d.runs) ? d.runs.length : 0
      return `Replayed an event (${count} run${count === 1 ? '' : 's'} started)`
    }
    case 'resolve':
      return 'Resolved a dead letter'
    case 'rotate-secret':
      return `Rotated ${action.target === ALERT_WEBHOOK ? 'the alert webhook’s' : 'a source’s'} secret${typeof d.graceSeconds === 'number' && d.graceSeconds > 0 ? `, the old one valid ${d.graceSeconds} s more` : ''}`
    case 'test-event':
      return action.target === ALERT_WEBHOOK
        ? `Sent a test alert (${d.ok ? 'delivered' : 'failed'}${typeof d.status === 'number' ? `, ${d.status}` : ''})`
        : `Sent a test event${typeof d.status === 'number' ? ` (answered ${d.status})` : ''}`
    case 'alert-webhook':
      return d.change === 'off'
        ? 'Turned the alert webhook off'
        : `Set the alert webhook${typeof d.host === 'string' ? ` to ${d.host}` : ''}${d.newSecret ? ' with a new secret' : ''}`
  }
}

function ActionTarget({ action }: { action: ActionRecord }) {
  const { router, client, system } = useApp()
  const go =
    (view: 'activity' | 'sources' | 'metrics', id: string | null = null) =>
    (e: React.MouseEvent) => {
      e.preventDefault()
      router.go({ view, id })
    }
  if (action.target === ALERT_WEBHOOK)
    return (
      <a href="#/metrics" onClick={go('metrics')}>
        Alert webhook
      </a>
    )
  switch (action.kind) {
    case 'replay':
      return (
        <a href={`#/activity/${encodeURIComponent(action.target)}`} onClick={go('activity', action.target)}>
          Open event
        </a>
      )
    case 'test-event': {
      const eventId = typeof action.detail.eventId === 'string' ? action.detail.eventId : null
      return eventId ? (
        <a href={`#/activity/${encodeURIComponent(eventId)}`} onClick={go('activity', eventId)}>
          Open event
        </a>
      ) : (
        <a href="#/sources" onClick={go('sources')}>
          Source {action.target}
        </a>
      )
    }
    case 'rotate-secret':
      return (
        <a href="#/sources" onClick={go('sources')}>
          Source {action.target}
        </a>
      )
    case 'retry':
    case 'resolve':
      return (
        <a
          href="#/activity"
          onClick={(e) => {
            e.preventDefault()
            client['runs.get']({ id: action.target }).then(
              (run) => router.go({ view: 'activity', id: run.eventId }),
              (error) =>
                system.report('error', `Could not open run ${action.target}: ${describeError(error)}`),
            )
          }}
        >
          Open run
        </a>
      )
    default:
      return <span className="muted">—</span>
  }
}

/** The history of what the user did, newest first, live. */
export function HistoryView() {
  const { history } = useApp()
  const items = useStore(history.store, (s) => s.items)
  const phase = useStore(history.store, (s) => s.phase)
  const error = useStore(history.store, (s) => s.error)
  const hasMore = useStore(history.store, (s) => s.nextCursor !== null)
  const loadingMore = useStore(history.store, (s) => s.loadingMore)
  const loadMoreError = useStore(history.store, (s) => s.loadMoreError)

  useEffect(() => {
    void history.load()
  }, [history])

  return (
    <section className="page" aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      {phase === 'error' ? (
        <div className="state-box" role="alert">
          <p>Could not load the history: {error}</p>
          <button type="button" onClick={() => void history.load()}>
            Try again
          </button>
        </div>
      ) : phase !== 'ready' && items.length === 0 ? (
        <p className="state-box" role="status">
          Loading the history…
        </p>
      ) : items.length === 0 ? (
        <p className="empty">
          Nothing yet. Retries, replays, resolved dead letters, secret rotations and test events appear here.
        </p>
      ) : (
        <table className="list" aria-label="Actions, newest first">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">On</th>
            </tr>
          </thead>
          <tbody>
            {items.map((action) => (
              <tr key={action.id} data-action-kind={action.kind}>
                <td>
                  <time dateTime={new Date(action.at).toISOString()}>{formatTime(action.at)}</time>
                </td>
                <td>{describeAction(action)}</td>
                <td>
                  <ActionTarget action={action} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loadMoreError && <p role="alert">Could not load older actions: {loadMoreError}</p>}
      {hasMore && (
        <button type="button" onClick={() => void history.loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Show older'}
        </button>
      )}
    </section>
  )
}
