import { useState } from 'react'
import type { AttemptRecord, RunDetail, StepRecord } from '../../../shared/domain'
import { useApp } from '../app-context'
import { formatDuration, formatTime } from '../format'
import { useAction } from './use-action'

function clip(text: string | null, max = 2000): string {
  if (text === null) return ''
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text
}

function Attempt({ attempt }: { attempt: AttemptRecord }) {
  const took = attempt.finishedAt !== null ? attempt.finishedAt - attempt.startedAt : null
  return (
    <li className={attempt.ok ? 'attempt ok' : 'attempt failed'}>
      <details>
        <summary>
          Attempt {attempt.n}: {attempt.ok ? 'ok' : 'failed'}
          {attempt.request && (
            <>
              {' '}
              · <code>{attempt.request.method}</code> <span className="url">{attempt.request.url}</span>
            </>
          )}
          {attempt.response && <> → {attempt.response.status}</>} · {formatDuration(took)}
          {attempt.error && <span className="error-text"> · {attempt.error}</span>}
          {attempt.retryAt && <span className="muted"> · next try {formatTime(attempt.retryAt)}</span>}
        </summary>
        {attempt.request && (
          <div className="exchange">
            <h5>Request</h5>
            <pre>
              {`${attempt.request.method} ${attempt.request.url}\n`}
              {Object.entries(attempt.request.headers)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n')}
              {attempt.request.body ? `\n\n${clip(attempt.request.body)}` : ''}
            </pre>
          </div>
        )}
        {attempt.response && (
          <div className="exchange">
            <h5>Response</h5>
            <pre>
              {`${attempt.response.status}\n`}
              {Object.entries(attempt.response.headers)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n')}
              {attempt.response.body ? `\n\n${clip(attempt.response.body)}` : ''}
            </pre>
          </div>
        )}
        {!attempt.request && !attempt.response && !attempt.error && (
          <p className="muted">No request was made.</p>
        )}
      </details>
    </li>
  )
}

/** One step: status, timing, error, and each attempt's request and response. */
export function Step({ step }: { step: StepRecord }) {
  const took = step.startedAt !== null && step.finishedAt !== null ? step.finishedAt - step.startedAt : null
  return (
    <li className={`step step-${step.status}`} data-step-id={step.stepId}>
      <div className="step-head">
        <span className={`badge step-${step.status}`}>{step.status}</span> <strong>{step.stepId}</strong>{' '}
        <span className="muted">{step.kind}</span>
        <span className="muted"> · {formatDuration(took)}</span>
        {step.attempts.length > 1 && <span className="muted"> · {step.attempts.length} attempts</span>}
      </div>
      {step.error && <p className="error-text">{step.error}</p>}
      {step.attempts.length > 0 && (
        <ol className="attempts" aria-label={`Attempts of step ${step.stepId}`}>
          {step.attempts.map((a) => (
            <Attempt key={a.n} attempt={a} />
          ))}
        </ol>
      )}
    </li>
  )
}

/** One run: status, the retry/resolve/cancel controls, and its steps in order with their attempts. */
export function RunCard({ run }: { run: RunDetail }) {
  const { client, inspector } = useApp()
  const [latest, setLatest] = useState(false)
  const retry = useAction(
    () => client['runs.retry']({ id: run.id, ...(latest ? { latest: true } : {}) }),
    (r) => `Run ${r.id} retried from ${run.currentStep ?? 'its failed step'}: now ${r.status}`,
  )
  const resolve = useAction(
    () => client['runs.resolve']({ id: run.id }),
    (r) => `Dead run ${r.id} resolved (dismissed)`,
  )
  const cancel = useAction(
    () => client['runs.cancel']({ id: run.id }),
    (r) => `Run ${r.id} cancelled`,
  )
  const dead = run.status === 'dead'
  const active = run.status === 'queued' || run.status === 'running' || run.status === 'waiting'
  return (
    <article
      className={`run run-${run.status}`}
      aria-label={`Run of ${run.workflowName}: ${run.status}`}
      data-run-id={run.id}
    >
      <header className="run-head">
        <span className={`badge run-${dead && run.resolvedAt ? 'resolved' : run.status}`}>
          {dead && run.resolvedAt ? 'resolved' : run.status}
        </span>{' '}
        <strong>{run.workflowName}</strong> <span className="muted">v{run.workflowVersion}</span>{' '}
        <span className="muted">
          · started {formatTime(run.createdAt)}
          {run.finishedAt && ` · finished ${formatTime(run.finishedAt)}`}
        </span>
      </header>
      {run.error && <p className="error-text">{run.error}</p>}
      {run.callbackUrl && (
        <p className="muted">
          Callback URL: <code>{run.callbackUrl}</code>
        </p>
      )}
      <div className="actions">
        {dead && (
          <>
            <button
              type="button"
              onClick={() => void retry.run().then(() => inspector.refreshRun(run.id))}
              disabled={retry.pending}
            >
              {retry.pending ? 'Retrying…' : `Retry from ${run.currentStep ?? 'failed step'}`}
            </button>
            <label className="inline">
              <input type="checkbox" checked={latest} onChange={(e) => setLatest(e.target.checked)} /> on the
              latest workflow version
            </label>
            {!run.resolvedAt && (
              <button type="button" onClick={() => void resolve.run()} disabled={resolve.pending}>
                Resolve
              </button>
            )}
          </>
        )}
        {active && (
          <button type="button" onClick={() => void cancel.run()} disabled={cancel.pending}>
            Cancel run
          </button>
        )}
      </div>
      {run.steps.length === 0 ? (
        <p className="empty">No step has started yet.</p>
      ) : (
        <ol className="timeline" aria-label="Steps">
          {run.steps.map((s) => (
            <Step key={s.stepId} step={s} />
          ))}
        </ol>
      )}
    </article>
  )
}
