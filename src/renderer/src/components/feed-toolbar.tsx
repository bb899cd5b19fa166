import { useEffect, useState } from 'react'
import { useStore } from 'zustand'
import { EVENT_STATUSES } from '../../../shared/contract'
import type { EventStatus } from '../../../shared/domain'
import { useApp } from '../app-context'

/** Filters (source, status, type), full-text search, and live/paused with the "N new" marker. */
export function FeedToolbar() {
  const { feed, catalog } = useApp()
  const filter = useStore(feed.store, (s) => s.filter)
  const paused = useStore(feed.store, (s) => s.paused)
  const held = useStore(feed.store, (s) => s.held.length)
  const unsearched = useStore(feed.store, (s) => s.unsearched)
  const searchPending = useStore(feed.store, (s) => s.searchPending)
  const sources = useStore(catalog.store, (s) => s.sources)
  const [q, setQ] = useState(filter.q ?? '')
  const [type, setType] = useState(filter.type ?? '')

  // Search and type apply a moment after typing stops, so each keystroke is not a query.
  useEffect(() => {
    const current = feed.store.getState().filter
    if ((current.q ?? '') === q.trim() && (current.type ?? '') === type.trim()) return
    const timer = setTimeout(() => void feed.setFilter({ q, type }), 300)
    return () => clearTimeout(timer)
  }, [q, type, feed])

  return (
    <div className="toolbar" role="toolbar" aria-label="Feed filters">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault()
          void feed.setFilter({ q, type })
        }}
      >
        <input
          id="feed-search"
          type="search"
          placeholder="Search bodies and headers  ( / )"
          aria-label="Search events"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </form>
      <label>
        <span className="visually-hidden">Source</span>
        <select
          aria-label="Filter by source"
          value={filter.source ?? ''}
          onChange={(e) => void feed.setFilter({ source: e.target.value || undefined })}
        >
          <option value="">All sources</option>
          {sources.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="visually-hidden">Status</span>
        <select
          aria-label="Filter by status"
          value={filter.status ?? ''}
          onChange={(e) =>
            void feed.setFilter({ status: (e.target.value || undefined) as EventStatus | undefined })
          }
        >
          <option value="">Any status</option>
          {EVENT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <input
        type="text"
        placeholder="Event type"
        aria-label="Filter by event type"
        value={type}
        onChange={(e) => setType(e.target.value)}
        className="type-filter"
      />
      <span className="spacer" />
      {held > 0 && (
        <button type="button" className="new-marker" onClick={() => feed.resume()}>
          {held} new
        </button>
      )}
      {unsearched > 0 && (
        <button
          type="button"
          className="new-marker"
          onClick={() => void feed.load()}
          title="New events arrived; run the search again to see which match"
        >
          {unsearched} new — refresh search
        </button>
      )}
      {searchPending > 0 && (
        <button
          type="button"
          className="new-marker"
          onClick={() => void feed.load()}
          title="The search index is being built; events it has not reached yet were not searched"
        >
          {searchPending.toLocaleString()} not indexed yet — search again
        </button>
      )}
      <button
        type="button"
        aria-pressed={paused}
        onClick={() => (paused ? feed.resume() : feed.pause())}
        title={paused ? 'Show new events as they arrive' : 'Hold new events so the list stays still'}
      >
        {paused ? 'Resume live' : 'Pause'}
      </button>
    </div>
  )
}
