import { useMemo, useState } from 'react'
import type { EventDetail } from '../../../shared/domain'
import { describeError } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatBytes } from '../format'
import { JsonTree } from './json-tree'

type Pretty =
  { kind: 'json'; value: unknown } | { kind: 'form'; fields: Array<[string, string]> } | { kind: 'none' }

/** Decide how to show a body prettily: JSON by content type or by shape, form fields when url-encoded. */
export function prettyBody(contentType: string | null, text: string | null): Pretty {
  if (text === null) return { kind: 'none' }
  const type = (contentType ?? '').toLowerCase()
  if (type.includes('application/x-www-form-urlencoded')) {
    return { kind: 'form', fields: [...new URLSearchParams(text).entries()] }
  }
  const trimmed = text.trim()
  if (type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { kind: 'json', value: JSON.parse(text) }
    } catch {
      return { kind: 'none' }
    }
  }
  return { kind: 'none' }
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16)
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${i.toString(16).padStart(6, '0')}  ${hex.padEnd(47)}  ${ascii}`)
  }
  return lines.join('\n')
}

function BinaryBody({ eventId }: { eventId: string }) {
  const { client } = useApp()
  const [dump, setDump] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  async function load() {
    try {
      const { base64 } = await client['events.body']({ id: eventId })
      const binary = atob(base64)
      const bytes = Uint8Array.from(binary.slice(0, 4096), (c) => c.charCodeAt(0))
      setDump(hexDump(bytes) + (binary.length > 4096 ? `\n… ${binary.length - 4096} more bytes` : ''))
    } catch (e) {
      setError(describeError(e))
    }
  }
  if (error) return <p className="error-text">Could not load the body: {error}</p>
  if (dump !== null) return <pre className="raw-body">{dump}</pre>
  return (
    <p>
      The body is not text.{' '}
      <button type="button" className="small" onClick={load}>
        Show as hex
      </button>
    </p>
  )
}

/** The body, pretty (JSON tree or form fields) or raw, exactly as stored. */
export function BodyView({ event }: { event: EventDetail }) {
  const pretty = useMemo(
    () => prettyBody(event.contentType, event.bodyText),
    [event.contentType, event.bodyText],
  )
  const [mode, setMode] = useState<'pretty' | 'raw'>('pretty')
  const showPretty = mode === 'pretty' && pretty.kind !== 'none'
  return (
    <div className="body-view">
      <div className="segmented" role="group" aria-label="Body view">
        <button
          type="button"
          aria-pressed={showPretty}
          disabled={pretty.kind === 'none'}
          onClick={() => setMode('pretty')}
        >
          Pretty
        </button>
        <button type="button" aria-pressed={!showPretty} onClick={() => setMode('raw')}>
          Raw
        </button>
        <span className="muted">
          {event.contentType ?? 'no content type'} · {formatBytes(event.bodySize)}
          {event.bodyTruncated && ' · only the first part was kept'}
        </span>
      </div>
      {event.bodySize === 0 ? (
        <p className="empty">Empty body.</p>
      ) : event.bodyText === null ? (
        <BinaryBody eventId={event.id} />
      ) : showPretty && pretty.kind === 'json' ? (
        <JsonTree value={pretty.value} />
      ) : showPretty && pretty.kind === 'form' ? (
        <table className="kv" aria-label="Form fields">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {pretty.fields.map(([k, v], i) => (
              <tr key={`${k}-${i}`}>
                <th scope="row">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <pre className="raw-body" aria-label="Raw body">
          {event.bodyText}
        </pre>
      )}
    </div>
  )
}
