import { useEffect } from 'react'
import { useStore } from 'zustand'
import type { RunSummary } from '../../../shared/domain'
import { useApp } from '../app-context'
import { formatTime } from '../format'
import { useAction } from './use-action'

function DeadRow({ run }: { run: RunSummary }) {
  const { client, router } = useApp()
  const retry = useAction(
    () => client['runs.retry']({ id: run.id }),
    (r) => `Run ${r.id} retried: now ${r.status}`,
  )
  const resolve = useAction(
    () => client['runs.resolve']({ id: run.id }),
    (r) => `Dead run ${r.id} resolved`,
  )
  return (
    <tr data-run-id={run.id}>
      <td>{run.workflowName}</td>
      <td>
        <code>{run.currentStep ?? '—'}</code>
      </td>
      <td className="error-text">{run.error ?? '—'}</td>
      <td>{formatTime(run.updatedAt)}</td>
      <td>
        <a
          href={`#/activity/${encodeURIComponent(run.eventId)}`}
          onClick={(e) => {
            e.preventDefault()
            router.go({ view: 'activity', id: run.eventId })
          }}
        >
          Open event
        </a>
      </td>
      <td>
        {/* A flex box inside the cell: a flex cell leaves the table's grid (its row lines drew out of step). */}
        <div className="actions">
          <button type="button" className="small" onClick={() => void retry.run()} disabled={retry.pending}>
            Retry
          </button>
          <button
            type="button"
            className="small"
            onClick={() => void resolve.run()}
            disabled={resolve.pending}
          >
            Resolve
          </button>
        </div>
      </td>
    </tr>
  )
}

/** The filter in words, by the names the user sees in the pickers (their ids when unknown). */
function filterText(
  filter: { source?: string; workflow?: string },
  nameOf: { source(id: string): string; workflow(id: string): string },
): string {
  const parts = [
    filter.source && `source ${nameOf.source(filter.source)}`,
    filter.workflow && `workflow ${nameOf.workflow(filter.workflow)}`,
  ]
  return parts.filter(Boolean).join(' and ') || 'any source and workflow'
}

function BulkRetry() {
  const { dead, system, catalog } = useApp()
  const bulk = useStore(dead.store, (s) => s.bulk)
  const filter = useStore(dead.store, (s) => s.filter)
  const sources = useStore(catalog.store, (s) => s.sources)
  const workflows = useStore(catalog.store, (s) => s.workflows)
  const nameOf = {
    source: (id: string) => sources.find((s) => s.id === id)?.name ?? id,
    workflow: (id: string) => workflows.find((w) => w.id === id)?.name ?? id,
  }

  useEffect(() => {
    if (bulk.phase === 'done' && bulk.ids.length > 0) {
      system.report(
        'ok',
        `Bulk retry: ${bulk.retried.length} retried${bulk.skipped.length ? `, ${bulk.skipped.length} skipped` : ''}`,
      )
    } else if (bulk.phase === 'error' && bulk.error) {
      system.report('error', `Bulk retry stopped: ${bulk.error}`)
    }
  }, [bulk.phase, bulk.ids.length, bulk.retried.length, bulk.skipped.length, bulk.error, system])

  if (bulk.phase === 'idle') {
    return (
      <button type="button" onClick={() => void dead.prepareBulk()}>
        Retry all matching…
      </button>
    )
  }
  if (bulk.phase === 'counting') return <p role="status">Counting dead runs…</p>
  if (bulk.phase === 'confirm') {
    return (
      <div
        className="confirm"
        role="alertdialog"
        aria-label="Confirm bulk retry"
        aria-describedby="bulk-text"
      >
        <p id="bulk-text">
          Retry {bulk.ids.length} dead run{bulk.ids.length === 1 ? '' : 's'} matching{' '}
          {filterText(filter, nameOf)}? Each resumes from its failed step.
        </p>
        <button type="button" className="primary" onClick={() => void dead.runBulk()} autoFocus>
          Retry {bulk.ids.length}
        </button>
        <button type="button" onClick={() => dead.cancelBulk()}>
          Cancel
        </button>
      </div>
    )
  }
  const total = bulk.ids.length
  return (
    <div className="bulk-progress" role="status">
      {bulk.phase === 'running' && (
        <>
          <progress value={bulk.done} max={total} aria-label="Bulk retry progress" /> {bulk.done} / {total}
        </>
      )}
      {bulk.phase === 'done' &&
        (total === 0 ? (
          <span>Nothing to retry: no dead run matches {filterText(filter, nameOf)}.</span>
        ) : (
          <span>
            Retried {bulk.retried.length} of {total}
            {bulk.skipped.length > 0 && `; skipped ${bulk.skipped.length}`}.
          </span>
        ))}
      {bulk.phase === 'error' && (
        <span className="error-text">
          Stopped after {bulk.done} of {total}: {bulk.error}
        </span>
      )}
      {bulk.skipped.length > 0 && (
        <details>
          <summary>Skipped</summary>
          <ul>
            {bulk.skipped.map((s) => (
              <li key={s.id}>
                <code>{s.id}</code>: {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {bulk.phase !== 'running' && (
        <button type="button" className="small" onClick={() => dead.cancelBulk()}>
          Close
        </button>
      )}
    </div>
  )
}

/** Runs that exhausted their retries: retry one, resolve one, or retry everything the filter matches. */
export function DeadLettersView() {
  const { dead, catalog } = useApp()
  const state = useStore(dead.store)
  const sources = useStore(catalog.store, (s) => s.sources)
  const workflows = useStore(catalog.store, (s) => s.workflows)

  useEffect(() => {
    void dead.load()
  }, [dead])

  return (
    <section className="page" aria-labelledby="dead-title">
      <h1 id="dead-title">Dead letters</h1>
      <div className="toolbar" role="toolbar" aria-label="Dead letter filters">
        <select
          aria-label="Filter dead runs by source"
          value={state.filter.source ?? ''}
          onChange={(e) => void dead.setFilter({ ...state.filter, source: e.target.value || undefined })}
        >
          <option value="">All sources</option>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <select
          aria-label="Filter dead runs by workflow"
          value={state.filter.workflow ?? ''}
          onChange={(e) => void dead.setFilter({ ...state.filter, workflow: e.target.value || undefined })}
        >
          <option value="">All workflows</option>
          {workflows.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
        <span className="spacer" />
        <BulkRetry />
      </div>
      {state.phase === 'loading' && state.items.length === 0 && <p role="status">Loading dead runs…</p>}
      {state.phase === 'error' && (
        <div role="alert" className="state-box">
          <p>Could not load dead runs: {state.error}</p>
          <button type="button" onClick={() => void dead.load()}>
            Try again
          </button>
        </div>
      )}
      {state.phase === 'ready' && state.items.length === 0 && (
        <p className="empty">
          {state.filter.source || state.filter.workflow
            ? 'No dead runs match these filters.'
            : 'No dead runs: every run has finished or is still going.'}
        </p>
      )}
      {state.items.length > 0 && (
        <table className="list" aria-label="Dead runs">
          <thead>
            <tr>
              <th scope="col">Workflow</th>
              <th scope="col">Failed step</th>
              <th scope="col">Reason</th>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {state.items.map((run) => (
              <DeadRow key={run.id} run={run} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
