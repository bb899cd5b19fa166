import { useState } from 'react'

const MAX_CHILDREN = 200

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span className="json-null">null</span>
  if (typeof value === 'string') return <span className="json-string">{JSON.stringify(value)}</span>
  if (typeof value === 'number') return <span className="json-number">{String(value)}</span>
  if (typeof value === 'boolean') return <span className="json-boolean">{String(value)}</span>
  return <span>{String(value)}</span>
}

function Node({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const [limit, setLimit] = useState(MAX_CHILDREN)
  const label = name === null ? null : <span className="json-key">{name}: </span>
  if (!value || typeof value !== 'object') {
    return (
      <li>
        {label}
        <Leaf value={value} />
      </li>
    )
  }
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>)
  const open = Array.isArray(value) ? '[' : '{'
  const close = Array.isArray(value) ? ']' : '}'
  if (entries.length === 0) {
    return (
      <li>
        {label}
        <span className="json-punct">
          {open}
          {close}
        </span>
      </li>
    )
  }
  return (
    <li>
      <details open={depth < 3}>
        <summary>
          {label}
          <span className="json-punct">{open}</span>
          <span className="muted">
            {' '}
            {entries.length} {Array.isArray(value) ? 'items' : 'keys'}
          </span>
        </summary>
        <ul className="json-children">
          {entries.slice(0, limit).map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} />
          ))}
          {entries.length > limit && (
            <li>
              <button type="button" className="small" onClick={() => setLimit((l) => l + MAX_CHILDREN)}>
                Show {Math.min(MAX_CHILDREN, entries.length - limit)} more of {entries.length - limit}
              </button>
            </li>
          )}
        </ul>
        <span className="json-punct">{close}</span>
      </details>
    </li>
  )
}

/** A collapsible view of parsed JSON. Everything is rendered as text nodes. */
export function JsonTree({ value, label = 'JSON body' }: { value: unknown; label?: string }) {
  return (
    <ul className="json-tree" aria-label={label}>
      <Node name={null} value={value} depth={0} />
    </ul>
  )
}
