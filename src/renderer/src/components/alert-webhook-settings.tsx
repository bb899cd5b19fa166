import { useEffect, useState } from 'react'
import { alertWebhookUrlProblem } from '../../../shared/contract'
import type { AlertWebhookDelivery, AlertWebhookSettings } from '../../../shared/domain'
import { describeError, issuesOf } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatTime } from '../format'
import { SecretOnce } from './secret-once'
import { useAction } from './use-action'

/** One line about a delivery attempt: what the target answered, or why it never did. */
export function describeDelivery(d: AlertWebhookDelivery): string {
  const what = d.type === 'alert.test' ? 'Test alert' : d.type === 'alert.opened' ? 'Alert' : 'Resolved alert'
  return d.ok
    ? `${what} delivered at ${formatTime(d.at)}: the target answered ${d.status}`
    : `${what} not delivered at ${formatTime(d.at)}: ${d.error ?? `the target answered ${d.status}`}`
}

/**
 * Where alerts also go as signed Standard Webhooks (a chat or push service): set or change the URL, see
 * whether a secret is set and rotate it (a new one is shown once), turn it off, and send a test alert.
 * When the engine's configuration fixes the webhook, it is shown read-only.
 */
export function AlertWebhookSettingsCard() {
  const { client, system } = useApp()
  const [view, setView] = useState<AlertWebhookSettings | null>(null)
  const [loadError, setLoadError] = useState<string | null>(null)
  const [url, setUrl] = useState('')
  const [urlError, setUrlError] = useState<string | null>(null)
  const [secret, setSecret] = useState<string | null>(null)
  const [delivery, setDelivery] = useState<AlertWebhookDelivery | null>(null)
  const [formError, setFormError] = useState<string | null>(null)
  const [saving, setSaving] = useState(false)

  useEffect(() => {
    let live = true
    client['alerts.webhook.get']({}).then(
      (v) => {
        if (!live) return
        setView(v)
        setUrl(v.url ?? '')
        setDelivery(v.lastDelivery)
      },
      (e) => live && setLoadError(describeError(e)),
    )
    return () => {
      live = false
    }
  }, [client])

  const rotate = useAction(
    () => client['alerts.webhook.rotateSecret']({}),
    () => 'New alert webhook secret; the old one also signs alerts for a day',
  )
  const [testing, setTesting] = useState(false)

  /** Set (or with null, turn off) the webhook; a refusal of the URL shows beside the field. */
  async function apply(next: string | null) {
    setSaving(true)
    setFormError(null)
    try {
      const r = await client['alerts.webhook.set']({ url: next })
      setView(r.webhook)
      setUrl(r.webhook.url ?? '')
      // A new secret replaces the one on screen; a mere URL change leaves it there until dismissed.
      if (r.secret !== null || next === null) setSecret(r.secret)
      system.report(
        'ok',
        r.webhook.url ? `Alerts are now also sent to ${r.webhook.url}` : 'Alert webhook turned off',
      )
    } catch (error) {
      const onUrl = issuesOf(error).find((i) => i.path === 'url')
      if (onUrl) setUrlError(onUrl.message)
      else setFormError(describeError(error))
      system.report('error', describeError(error))
    } finally {
      setSaving(false)
    }
  }

  function submit(e: React.FormEvent) {
    e.preventDefault()
    // The same check the engine makes, for an answer before the round trip.
    const problem = alertWebhookUrlProblem(url.trim())
    setUrlError(problem)
    if (!problem) void apply(url.trim())
  }

  /** The call succeeds whenever an attempt was made; whether the target took it is in the outcome. */
  async function sendTest() {
    setTesting(true)
    try {
      const d = await client['alerts.webhook.test']({})
      setDelivery(d)
      system.report(d.ok ? 'ok' : 'error', describeDelivery(d))
    } catch (error) {
      system.report('error', describeError(error))
    } finally {
      setTesting(false)
    }
  }

  function turnOff() {
    if (
      window.confirm(
        'Turn the alert webhook off? Its secret is forgotten; turning it on again makes a new one.',
      )
    )
      void apply(null)
  }

  const fixed = view?.fixedByConfig === true
  const on = Boolean(view?.url)

  return (
    <section className="card alert-webhook" aria-labelledby="alert-webhook-title">
      <h2 id="alert-webhook-title">Alert webhook</h2>
      <p className="help">
        Every alert that opens or resolves is also sent here as a signed Standard Webhook (a chat or push
        service). Loopback and private addresses are allowed.
      </p>
      {loadError && (
        <p role="alert" className="error-text">
          Could not load the alert webhook: {loadError}
        </p>
      )}
      {!view && !loadError && <p role="status">Loading…</p>}
      {view && (
        <>
          {fixed && (
            <p className="notice" role="note">
              Set by the engine&apos;s configuration: change it there.
            </p>
          )}
          <form onSubmit={submit} aria-label="Set the alert webhook" noValidate>
            <label htmlFor="alert-webhook-url">URL</label>
            <span className="row">
              <input
                id="alert-webhook-url"
                value={url}
                onChange={(e) => {
                  setUrl(e.target.value)
                  setUrlError(null)
                }}
                readOnly={fixed}
                placeholder="https://chat.example.com/hooks/alerts"
                aria-invalid={urlError !== null}
                aria-describedby={urlError ? 'alert-webhook-url-error' : undefined}
                autoComplete="off"
                spellCheck={false}
              />
              {!fixed && (
                <button type="submit" className="primary" disabled={saving}>
                  {saving ? 'Saving…' : on ? 'Save' : 'Turn on'}
                </button>
              )}
            </span>
            {urlError && (
              <span className="field-error" id="alert-webhook-url-error">
                {urlError}
              </span>
            )}
            {formError && (
              <p className="error-text" role="alert">
                {formError}
              </p>
            )}
          </form>
          <dl className="facts">
            <dt>Status</dt>
            <dd>{on ? 'on' : 'off'}</dd>
            <dt>Secret</dt>
            <dd>
              {view.hasSecret ? <code>{view.secretHint ?? 'set'}</code> : 'none'}
              {view.previousSecretUntil &&
                ` · the previous one also signs until ${new Date(view.previousSecretUntil).toLocaleString()}`}
            </dd>
            <dt>Last delivery</dt>
            <dd className={delivery ? (delivery.ok ? 'ok-text' : 'error-text') : undefined}>
              {delivery ? describeDelivery(delivery) : 'none since the engine started'}
            </dd>
          </dl>
          {secret && (
            <SecretOnce
              secret={secret}
              where="put it into the service that receives the alerts"
              onDone={() => setSecret(null)}
            />
          )}
          {on && (
            <div className="actions">
              <button type="button" disabled={testing} onClick={() => void sendTest()}>
                {testing ? 'Sending…' : 'Send a test alert'}
              </button>
              {!fixed && (
                <>
                  <button
                    type="button"
                    disabled={rotate.pending}
                    onClick={async () => {
                      if (
                        !window.confirm(
                          'Rotate the alert webhook secret? Alerts carry both signatures for a day, then only the new one.',
                        )
                      )
                        return
                      const r = await rotate.run()
                      if (r) {
                        setView(r.webhook)
                        setSecret(r.secret)
                      }
                    }}
                  >
                    Rotate secret
                  </button>
                  <button type="button" className="danger" disabled={saving} onClick={turnOff}>
                    Turn off
                  </button>
                </>
              )}
            </div>
          )}
        </>
      )}
    </section>
  )
}
