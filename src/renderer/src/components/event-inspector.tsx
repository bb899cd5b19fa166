import { useStore } from 'zustand'
import { useApp } from '../app-context'
import { formatBytes, formatDateTime } from '../format'
import { BodyView } from './body-view'
import { ProviderIcon } from './provider-icon'
import { RunCard } from './run-timeline'
import { useAction } from './use-action'

const VERIFICATION_TEXT = {
  verified: 'Signature verified',
  failed: 'Verification failed',
  unsigned: 'Not signed (this preset has no check)',
} as const

/** Everything about one event: what arrived, whether it was trusted, and what the assistant did with it. */
export function EventInspector() {
  const { inspector, router, client, catalog } = useApp()
  const state = useStore(inspector.store)
  const sources = useStore(catalog.store, (s) => s.sources)
  const replay = useAction(
    (id: string) => client['events.replay']({ id }),
    (r) =>
      r.runs.length === 0
        ? 'Replayed: no current workflow matches this event'
        : `Replayed: started ${r.runs.length} run${r.runs.length === 1 ? '' : 's'}`,
  )
  const close = () => router.go({ view: 'activity', id: null })
  const event = state.detail

  return (
    <aside className="inspector" aria-label="Event inspector">
      <header className="inspector-head">
        <h2>
          {event ? (
            <>
              <ProviderIcon provider={event.provider} /> {event.type ?? 'Event'}
            </>
          ) : (
            'Event'
          )}
        </h2>
        {event && (
          <button type="button" onClick={() => void replay.run(event.id)} disabled={replay.pending}>
            {replay.pending ? 'Replaying…' : 'Replay event'}
          </button>
        )}
        <button type="button" className="small" onClick={close} aria-label="Close inspector (Esc)">
          ×
        </button>
      </header>
      {state.phase === 'loading' && <p role="status">Loading event…</p>}
      {state.phase === 'error' && (
        <div role="alert" className="state-box">
          <p>Could not load this event: {state.error}</p>
          <button type="button" onClick={() => void inspector.reload()}>
            Try again
          </button>
        </div>
      )}
      {event && (
        <div className="inspector-body">
          <p className="inspector-summary">{event.summary}</p>
          <section aria-labelledby="insp-overview">
            <h3 id="insp-overview">Overview</h3>
            <dl className="facts">
              <dt>Id</dt>
              <dd>
                <code>{event.id}</code>
              </dd>
              <dt>Received</dt>
              <dd>{formatDateTime(event.receivedAt)}</dd>
              <dt>Source</dt>
              <dd>{sources.find((s) => s.id === event.sourceId)?.name ?? event.sourceId}</dd>
              <dt>Request</dt>
              <dd>
                <code>
                  {event.method} {event.path}
                  {event.query ? `?${event.query.replace(/^\?/, '')}` : ''}
                </code>
              </dd>
              <dt>Status</dt>
              <dd>
                <span className={`badge status-${event.status}`}>{event.status}</span>
                {event.reason && <> — {event.reason}</>}
              </dd>
              <dt>Verification</dt>
              <dd className={event.verification === 'failed' ? 'error-text' : undefined}>
                {VERIFICATION_TEXT[event.verification]}
                {event.verification === 'failed' && event.reason && <> — {event.reason}</>}
              </dd>
              <dt>Dedup</dt>
              <dd>
                key <code>{event.dedupId}</code>
                {event.duplicateOf ? (
                  <>
                    {' '}
                    — duplicate of{' '}
                    <a
                      href={`#/activity/${encodeURIComponent(event.duplicateOf)}`}
                      onClick={(e) => {
                        e.preventDefault()
                        router.go({ view: 'activity', id: event.duplicateOf })
                      }}
                    >
                      {event.duplicateOf}
                    </a>{' '}
                    (stored, triggered nothing)
                  </>
                ) : (
                  ' — first delivery'
                )}
              </dd>
              <dt>Hops</dt>
              <dd>{event.hop}</dd>
              <dt>Body</dt>
              <dd>
                {event.contentType ?? 'no content type'}, {formatBytes(event.bodySize)}
              </dd>
            </dl>
          </section>
          <section aria-labelledby="insp-body">
            <h3 id="insp-body">Body</h3>
            <BodyView event={event} />
          </section>
          <section aria-labelledby="insp-headers">
            <h3 id="insp-headers">Headers</h3>
            <table className="kv" aria-label="Request headers">
              <tbody>
                {Object.entries(event.headers).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{k}</th>
                    <td>{v}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="insp-runs">
            <h3 id="insp-runs">Runs</h3>
            {state.runsError && <p className="error-text">Could not load every run: {state.runsError}</p>}
            {state.runs.length === 0 && event.runs.length === 0 ? (
              <p className="empty">
                {event.status === 'accepted'
                  ? 'No workflow ran for this event.'
                  : `A ${event.status} event starts no workflow.`}
              </p>
            ) : state.runs.length === 0 ? (
              <p role="status">Loading runs…</p>
            ) : (
              state.runs.map((run) => <RunCard key={run.id} run={run} />)
            )}
          </section>
        </div>
      )}
    </aside>
  )
}
