import { useEffect, useMemo, useState } from 'react'
import { useStore } from 'zustand'
import type { Metrics, ProviderId, ProviderPreset, Source } from '../../../shared/domain'
import { describeError, issuesOf } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatAgo, formatPercent } from '../format'
import { CopyButton } from './copy-button'
import { ProviderIcon } from './provider-icon'
import { useAction } from './use-action'
import { SecretOnce } from './secret-once'

const PROVIDER_SECRET = 'copy it into the provider'

/** A fresh signing secret in the same form the server generates (`whsec_` + 32 random bytes, base64). */
export function generateSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return `whsec_${btoa(String.fromCharCode(...bytes))}`
}

/** Setup text with `{url}` filled in (or a placeholder until the source exists). */
export function setupText(preset: ProviderPreset, url: string | null): string {
  return preset.setup.replaceAll('{url}', url ?? '<the URL shown after you add the source>')
}

interface SourceHealth {
  received: number
  rejected: number
}

/** Sum the per-source counters the metrics report (`received`, `rejected`), when it reports them. */
export function healthFromMetrics(metrics: Metrics | null): Map<string, SourceHealth> {
  const out = new Map<string, SourceHealth>()
  for (const row of metrics?.perSource ?? []) {
    const received = typeof row.received === 'number' ? row.received : null
    if (received === null) continue
    const h = out.get(row.sourceId) ?? { received: 0, rejected: 0 }
    h.received += received
    h.rejected += typeof row.rejected === 'number' ? row.rejected : 0
    out.set(row.sourceId, h)
  }
  return out
}

function SourceCard({
  source,
  preset,
  health,
}: {
  source: Source
  preset?: ProviderPreset
  health?: SourceHealth
}) {
  const { client, catalog, router, feed } = useApp()
  const [secret, setSecret] = useState<string | null>(null)
  const [testResult, setTestResult] = useState<{ status: number; eventId: string | null } | null>(null)
  const toggle = useAction(
    () => client['sources.update']({ id: source.id, enabled: !source.enabled }),
    (s) => `${s.name} ${s.enabled ? 'enabled' : 'disabled'}`,
  )
  const rotate = useAction(
    () => client['sources.rotateSecret']({ id: source.id }),
    (r) =>
      `New secret for ${r.source.name}; the old one keeps verifying until ${
        r.source.previousSecretUntil ? new Date(r.source.previousSecretUntil).toLocaleString() : 'now'
      }`,
  )
  const sendTest = useAction(
    () => client['sources.sendTest']({ id: source.id }),
    (r) => `Test event for ${source.name}: the receiver answered ${r.status}`,
  )
  const remove = useAction(
    () => client['sources.delete']({ id: source.id }),
    () => `Source ${source.name} deleted`,
  )
  const url = source.publicUrl ?? source.url
  const errorRate = health && health.received > 0 ? health.rejected / health.received : null

  return (
    <article className="card source" aria-label={`Source ${source.name}`} data-source-id={source.id}>
      <header className="card-head">
        <ProviderIcon provider={source.provider} />
        <h2>{source.name}</h2>
        <span className="muted">{preset?.name ?? source.provider}</span>
        <span className="spacer" />
        <label className="switch">
          <input
            type="checkbox"
            checked={source.enabled}
            disabled={toggle.pending}
            onChange={async () => {
              const s = await toggle.run()
              if (s) catalog.putSource(s)
            }}
          />{' '}
          Enabled
        </label>
      </header>
      {source.notice && (
        <p className="notice" role="note">
          {source.notice}
        </p>
      )}
      <dl className="facts">
        <dt>Public URL</dt>
        <dd>
          {source.publicUrl ? (
            <>
              <code>{source.publicUrl}</code> <CopyButton text={source.publicUrl} label="Copy public URL" />
            </>
          ) : (
            <span className="muted">none (the tunnel is off or not connected)</span>
          )}
        </dd>
        <dt>Local URL</dt>
        <dd>
          <code>{source.url}</code> <CopyButton text={source.url} label="Copy local URL" />
        </dd>
        <dt>Secret</dt>
        <dd>
          {source.hasSecret ? 'set' : 'none'}
          {source.previousSecretUntil &&
            ` · previous one verifies until ${new Date(source.previousSecretUntil).toLocaleString()}`}
        </dd>
        <dt>Last received</dt>
        <dd>{formatAgo(source.lastReceivedAt)}</dd>
        <dt>Error rate</dt>
        <dd>
          {errorRate === null
            ? 'no data yet'
            : `${formatPercent(errorRate)} rejected of ${health!.received} received`}
        </dd>
      </dl>
      {secret && <SecretOnce secret={secret} where={PROVIDER_SECRET} onDone={() => setSecret(null)} />}
      {testResult && (
        <p role="status" className={testResult.status < 300 ? 'ok-text' : 'error-text'}>
          Test event answered {testResult.status}.{' '}
          {testResult.eventId && (
            <a
              href={`#/activity/${encodeURIComponent(testResult.eventId)}`}
              onClick={(e) => {
                e.preventDefault()
                router.go({ view: 'activity', id: testResult.eventId })
              }}
            >
              Open it
            </a>
          )}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          disabled={sendTest.pending}
          onClick={async () => {
            const r = await sendTest.run()
            if (r) setTestResult(r)
          }}
        >
          {sendTest.pending ? 'Sending…' : 'Send a test event'}
        </button>
        {preset?.usesSecret !== false && (
          <button
            type="button"
            disabled={rotate.pending}
            onClick={async () => {
              if (
                !window.confirm(`Rotate the secret of ${source.name}? The old one keeps verifying for a day.`)
              )
                return
              const r = await rotate.run()
              if (r) {
                setSecret(r.secret)
                catalog.putSource(r.source)
              }
            }}
          >
            {source.hasSecret ? 'Rotate secret' : 'Generate secret'}
          </button>
        )}
        <button
          type="button"
          className="danger"
          disabled={remove.pending}
          onClick={async () => {
            if (!window.confirm(`Delete source ${source.name}? Its URL stops working.`)) return
            if (await remove.run()) {
              catalog.removeSource(source.id)
              if (feed.store.getState().filter.source === source.id)
                void feed.setFilter({ source: undefined })
            }
          }}
        >
          Delete
        </button>
      </div>
      {preset && (
        <details className="setup">
          <summary>Setup instructions for {preset.name}</summary>
          <p className="setup-text">{setupText(preset, url)}</p>
        </details>
      )}
    </article>
  )
}

function AddSource({ presets, onDone }: { presets: ProviderPreset[]; onDone: () => void }) {
  const { client, catalog, system } = useApp()
  const [provider, setProvider] = useState<ProviderId>(presets[0]?.id ?? 'standard-webhooks')
  const [name, setName] = useState('')
  const [secret, setSecret] = useState('')
  /** The secret the Generate button made, if any: the provider has not seen that one yet. */
  const [generated, setGenerated] = useState<string | null>(null)
  const [options, setOptions] = useState<Record<string, string>>({})
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [formError, setFormError] = useState<string | null>(null)
  const [pending, setPending] = useState(false)
  const [created, setCreated] = useState<{ source: Source; secret: string | null } | null>(null)
  const preset = presets.find((p) => p.id === provider)

  async function submit(e: React.FormEvent) {
    e.preventDefault()
    setPending(true)
    setErrors({})
    setFormError(null)
    const opts = Object.fromEntries(Object.entries(options).filter(([, v]) => v.trim() !== ''))
    try {
      const source = await client['sources.create']({
        name,
        provider,
        ...(secret ? { secret } : {}),
        ...(Object.keys(opts).length ? { options: opts } : {}),
      })
      catalog.putSource(source)
      system.report('ok', `Source ${source.name} added`)
      // A secret pasted from the provider is not shown back; one made here must reach the provider.
      setCreated({ source, secret: secret && secret === generated ? secret : null })
    } catch (error) {
      const issues = issuesOf(error)
      setErrors(Object.fromEntries(issues.map((i) => [i.path, i.message])))
      setFormError(describeError(error))
    } finally {
      setPending(false)
    }
  }

  if (created) {
    const url = created.source.publicUrl ?? created.source.url
    return (
      <section className="card" aria-label="Source added">
        <h2>{created.source.name} is ready</h2>
        <p>
          Point {preset?.name ?? 'the provider'} at <code>{url}</code>{' '}
          <CopyButton text={url} label="Copy URL" />
        </p>
        {created.secret && (
          <SecretOnce
            secret={created.secret}
            where={PROVIDER_SECRET}
            onDone={() => setCreated({ ...created, secret: null })}
          />
        )}
        {preset && <p className="setup-text">{setupText(preset, url)}</p>}
        <button type="button" onClick={onDone}>
          Close
        </button>
      </section>
    )
  }

  const field = (key: string) =>
    errors[key] ? (
      <span className="field-error" id={`err-${key}`}>
        {errors[key]}
      </span>
    ) : null

  return (
    <form className="card add-source" onSubmit={submit} aria-label="Add a source">
      <h2>Add a source</h2>
      <label>
        Provider
        <select value={provider} onChange={(e) => setProvider(e.target.value as ProviderId)}>
          {presets.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Name
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          aria-invalid={!!errors.name}
          aria-describedby={errors.name ? 'err-name' : undefined}
          placeholder="e.g. My shop"
        />
        {field('name')}
      </label>
      {preset?.usesSecret && (
        <label>
          Signing secret {preset.secretRequired ? '(required)' : '(optional)'}
          <span className="row">
            <input
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              aria-invalid={!!errors.secret}
              aria-describedby={errors.secret ? 'err-secret' : undefined}
              autoComplete="off"
              spellCheck={false}
              placeholder="paste the provider's secret, or generate one"
            />
            <button
              type="button"
              className="small"
              onClick={() => {
                const fresh = generateSecret()
                setGenerated(fresh)
                setSecret(fresh)
              }}
            >
              Generate
            </button>
          </span>
          {field('secret')}
        </label>
      )}
      {preset?.options.map((o) => (
        <label key={o.name}>
          {o.name} {o.required ? '(required)' : '(optional)'}
          <input
            value={options[o.name] ?? ''}
            onChange={(e) => setOptions({ ...options, [o.name]: e.target.value })}
            required={o.required}
            aria-invalid={!!errors[`options.${o.name}`]}
            aria-describedby={`help-${o.name}`}
          />
          <span className="help" id={`help-${o.name}`}>
            {o.description}
          </span>
          {field(`options.${o.name}`)}
        </label>
      ))}
      {preset && (
        <details className="setup" open>
          <summary>How to set up {preset.name}</summary>
          <p className="setup-text">{setupText(preset, null)}</p>
        </details>
      )}
      {formError && (
        <p className="error-text" role="alert">
          {formError}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={pending}>
          {pending ? 'Adding…' : 'Add source'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  )
}

/** Configured sources: their URLs, secrets, health, and a form to add one from a provider preset. */
export function SourcesView() {
  const { catalog, client } = useApp()
  const state = useStore(catalog.store)
  const [adding, setAdding] = useState(false)
  const [metrics, setMetrics] = useState<Metrics | null>(null)
  useEffect(() => {
    let live = true
    client['metrics.get']({}).then(
      (m) => live && setMetrics(m),
      () => live && setMetrics(null),
    )
    return () => {
      live = false
    }
  }, [client, state.sources.length])
  const health = useMemo(() => healthFromMetrics(metrics), [metrics])

  return (
    <section className="page" aria-labelledby="sources-title">
      <div className="page-head">
        <h1 id="sources-title">Sources</h1>
        {!adding && (
          <button
            type="button"
            className="primary"
            onClick={() => setAdding(true)}
            disabled={state.presets.length === 0}
          >
            Add source
          </button>
        )}
      </div>
      {adding && <AddSource presets={state.presets} onDone={() => setAdding(false)} />}
      {state.phase === 'loading' && <p role="status">Loading sources…</p>}
      {state.phase === 'error' && (
        <div role="alert" className="state-box">
          <p>Could not load sources: {state.error}</p>
          <button type="button" onClick={() => void catalog.load()}>
            Try again
          </button>
        </div>
      )}
      {state.phase === 'ready' && state.sources.length === 0 && !adding && (
        <p className="empty">
          No sources yet. Add one for each provider account that should send webhooks here.
        </p>
      )}
      <div className="cards">
        {state.sources.map((s) => (
          <SourceCard
            key={s.id}
            source={s}
            preset={state.presets.find((p) => p.id === s.provider)}
            health={health.get(s.id)}
          />
        ))}
      </div>
    </section>
  )
}
