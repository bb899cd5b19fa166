import { useVirtualizer } from '@tanstack/react-virtual'
import { memo, useEffect, useLayoutEffect, useRef } from 'react'
import { useStore } from 'zustand'
import { useApp } from '../app-context'
import { formatTime } from '../format'
import { runStatusesOf } from '../state/feed-store'
import { ProviderIcon } from './provider-icon'

export const ROW_HEIGHT = 44

const FeedRow = memo(function FeedRow({
  id,
  index,
  count,
  start,
  selected,
}: {
  id: string
  index: number
  count: number
  start: number
  selected: boolean
}) {
  const { feed, router } = useApp()
  const event = useStore(feed.store, (s) => s.events.get(id))
  const runs = useStore(feed.store, (s) => runStatusesOf(s, id))
  if (!event) return null
  const label = `${event.type ?? 'event'}: ${event.summary || 'no summary'}, ${event.status}, ${formatTime(event.receivedAt)}`
  return (
    <div
      id={`row-${id}`}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={count}
      aria-label={label}
      data-event-id={id}
      className={`feed-row status-${event.status}${selected ? ' selected' : ''}`}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT }}
      // On press, not on click: during a burst the rows move down under the pointer between press and release,
      // and a click then lands on the list instead of either row.
      onMouseDown={(e) => {
        if (e.button !== 0) return
        feed.select(id)
        router.go({ view: 'activity', id })
      }}
    >
      <ProviderIcon provider={event.provider} />
      <span className="row-type">{event.type ?? '—'}</span>
      <span className="row-summary">{event.summary || `${event.method} ${event.path}`}</span>
      <span className="row-status">
        <span className={`badge status-${event.status}`}>{event.status}</span>
        {runs &&
          runs.split(' ').map((status, i) => (
            <span key={i} className={`badge run-${status}`} title={`run ${status}`}>
              {status}
            </span>
          ))}
        {!runs && event.runCount > 0 && (
          <span className="badge" title="runs started">
            {event.runCount} run{event.runCount === 1 ? '' : 's'}
          </span>
        )}
      </span>
      <time className="row-time" dateTime={new Date(event.receivedAt).toISOString()}>
        {formatTime(event.receivedAt)}
      </time>
    </div>
  )
})

/** The events, newest first, virtualized so a hundred thousand rows cost what a screenful does. */
export function FeedList() {
  const { feed } = useApp()
  const ids = useStore(feed.store, (s) => s.ids)
  const phase = useStore(feed.store, (s) => s.phase)
  const error = useStore(feed.store, (s) => s.error)
  const hasMore = useStore(feed.store, (s) => s.nextCursor !== null)
  const loadingMore = useStore(feed.store, (s) => s.loadingMore)
  const loadMoreError = useStore(feed.store, (s) => s.loadMoreError)
  const selectedId = useStore(feed.store, (s) => s.selectedId)
  const filtered = useStore(feed.store, (s) => Object.keys(s.filter).length > 0)
  const scrollRef = useRef<HTMLDivElement>(null)
  const count = ids.length + (hasMore ? 1 : 0)

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => ids[index] ?? '__more__',
    initialRect: { width: 800, height: 600 },
  })
  const items = virtualizer.getVirtualItems()

  // When rows arrive on top while the user reads further down, keep what they read where it was.
  const firstRef = useRef<string | undefined>(undefined)
  useLayoutEffect(() => {
    const previous = firstRef.current
    firstRef.current = ids[0]
    const el = scrollRef.current
    if (!el || !previous || previous === ids[0] || el.scrollTop <= 0) return
    const shift = ids.indexOf(previous)
    if (shift > 0) el.scrollTop += shift * ROW_HEIGHT
  }, [ids])

  // Page in more history as the end comes into view.
  const lastIndex = items.length ? items[items.length - 1]!.index : -1
  useEffect(() => {
    if (hasMore && !loadingMore && !loadMoreError && lastIndex >= ids.length - 30) void feed.loadMore()
  }, [lastIndex, hasMore, loadingMore, loadMoreError, ids.length, feed])

  // Keep the keyboard selection on screen.
  useEffect(() => {
    if (!selectedId) return
    const index = ids.indexOf(selectedId)
    if (index >= 0) virtualizer.scrollToIndex(index, { align: 'auto' })
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the selection moves
  }, [selectedId])

  if (phase === 'error') {
    return (
      <div className="state-box" role="alert">
        <p>Could not load events: {error}</p>
        <button type="button" onClick={() => void feed.load()}>
          Try again
        </button>
      </div>
    )
  }
  if (phase !== 'ready' && ids.length === 0) {
    return (
      <p className="state-box" role="status">
        Loading events…
      </p>
    )
  }
  if (ids.length === 0) {
    return (
      <div className="state-box" role="status">
        {hasMore && loadMoreError ? (
          <>
            <p>Could not search older events: {loadMoreError}</p>
            <button type="button" onClick={() => void feed.loadMore()}>
              Try again
            </button>
          </>
        ) : hasMore ? (
          // A filtered search answers in bounded steps; it goes on through older events by itself.
          <p>Searching older events…</p>
        ) : filtered ? (
          <p>No events match these filters.</p>
        ) : (
          <p>
            No events yet. Add a source, point a provider at its URL, or send a test event from{' '}
            <a href="#/sources">Sources</a>.
          </p>
        )}
      </div>
    )
  }

  return (
    <div
      ref={scrollRef}
      className="feed-scroll"
      role="listbox"
      aria-label="Events, newest first"
      tabIndex={0}
      aria-activedescendant={selectedId && ids.includes(selectedId) ? `row-${selectedId}` : undefined}
      data-rows={ids.length}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {items.map((item) =>
          item.index < ids.length ? (
            <FeedRow
              key={item.key}
              id={ids[item.index]!}
              index={item.index}
              count={ids.length}
              start={item.start}
              selected={ids[item.index] === selectedId}
            />
          ) : (
            <div
              key={item.key}
              className="feed-row more"
              style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
              role="presentation"
            >
              {loadMoreError ? (
                <>
                  Could not load more: {loadMoreError}{' '}
                  <button
                    type="button"
                    className="small"
                    onClick={() => {
                      feed.store.setState({ loadMoreError: null })
                      void feed.loadMore()
                    }}
                  >
                    Try again
                  </button>
                </>
              ) : (
                'Loading older events…'
              )}
            </div>
          ),
        )}
      </div>
    </div>
  )
}
