import { useState } from 'react'
import { useStore } from 'zustand'
import { useApp } from '../app-context'
import { formatAgo, formatTime } from '../format'
import { CopyButton } from './copy-button'

const STATE_TEXT = {
  off: 'Tunnel off',
  connecting: 'Tunnel connecting',
  online: 'Tunnel online',
  degraded: 'Tunnel degraded',
  reconnecting: 'Tunnel reconnecting',
  failed: 'Tunnel failed',
} as const

/** The tunnel's state and public URL, always in the header; opens its history. */
export function TunnelBadge() {
  const { system } = useApp()
  const tunnel = useStore(system.store, (s) => s.tunnel)
  const loadError = useStore(system.store, (s) => s.tunnelError)
  const [open, setOpen] = useState(false)

  if (!tunnel) {
    return (
      <span className="tunnel tunnel-unknown" role="status">
        {loadError ? `Tunnel: unknown (${loadError})` : 'Tunnel…'}
      </span>
    )
  }
  return (
    <div className="tunnel-wrap">
      <button
        type="button"
        className={`tunnel tunnel-${tunnel.state}`}
        aria-expanded={open}
        aria-controls="tunnel-details"
        onClick={() => setOpen((o) => !o)}
        aria-label={`${STATE_TEXT[tunnel.state]}${tunnel.url ? `: ${tunnel.url}` : ''}. Show tunnel history`}
      >
        <span className="dot" aria-hidden="true" />
        <span className="tunnel-state">{STATE_TEXT[tunnel.state]}</span>
        {tunnel.url && <span className="tunnel-url">{tunnel.url}</span>}
      </button>
      {open && (
        <div id="tunnel-details" className="popover" role="dialog" aria-label="Tunnel details">
          <dl className="facts">
            <dt>Mode</dt>
            <dd>{tunnel.mode}</dd>
            <dt>URL</dt>
            <dd>
              {tunnel.url ? (
                <>
                  <code>{tunnel.url}</code> <CopyButton text={tunnel.url} />
                </>
              ) : (
                'none'
              )}
            </dd>
            {tunnel.host && (
              <>
                <dt>Relay</dt>
                <dd>{tunnel.host}</dd>
              </>
            )}
            <dt>Last probe</dt>
            <dd>
              {tunnel.lastProbeAt
                ? `${formatAgo(tunnel.lastProbeAt)} — ${tunnel.lastProbeOk ? 'reached us' : 'did not reach us'}`
                : 'not yet'}
            </dd>
            {tunnel.error && (
              <>
                <dt>Error</dt>
                <dd className="error-text">{tunnel.error}</dd>
              </>
            )}
          </dl>
          <h3>History</h3>
          {tunnel.history.length === 0 ? (
            <p className="empty">No history yet.</p>
          ) : (
            <ol className="tunnel-history">
              {[...tunnel.history].reverse().map((h, i) => (
                <li key={`${h.at}-${i}`}>
                  <time dateTime={new Date(h.at).toISOString()}>{formatTime(h.at)}</time>{' '}
                  <span className={`badge tunnel-${h.state}`}>{h.state}</span> {h.url && <code>{h.url}</code>}{' '}
                  {h.message}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  )
}
