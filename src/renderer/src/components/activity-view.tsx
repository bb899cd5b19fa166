import { useEffect } from 'react'
import { useStore } from 'zustand'
import { useApp } from '../app-context'
import { EventInspector } from './event-inspector'
import { FeedList } from './feed-list'
import { FeedToolbar } from './feed-toolbar'

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

/** The live feed with its filters, and the inspector beside it for the event in the route. */
export function ActivityView() {
  const { router, feed, inspector } = useApp()
  const openId = useStore(router.store, (s) => (s.view === 'activity' ? s.id : null))

  useEffect(() => {
    if (openId) {
      feed.select(openId)
      void inspector.open(openId)
    } else {
      inspector.close()
    }
  }, [openId, feed, inspector])

  // j/k or arrows move through the feed, Enter opens the selected event, Esc closes the inspector.
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.altKey || e.ctrlKey || e.metaKey) return
      if (e.key === 'Escape') {
        if (router.store.getState().id) {
          e.preventDefault()
          router.go({ view: 'activity', id: null })
        }
        return
      }
      if (typingIn(e.target)) return
      if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault()
        feed.moveSelection(1)
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault()
        feed.moveSelection(-1)
      } else if (e.key === 'Enter') {
        const id = feed.store.getState().selectedId
        if (id && !(e.target instanceof HTMLButtonElement) && !(e.target instanceof HTMLAnchorElement)) {
          e.preventDefault()
          router.go({ view: 'activity', id })
        }
      } else if (e.key === '/') {
        e.preventDefault()
        document.getElementById('feed-search')?.focus()
      }
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [feed, router])

  return (
    <div className={openId ? 'activity with-inspector' : 'activity'}>
      <section className="feed-pane" aria-label="Activity feed">
        <FeedToolbar />
        <FeedList />
      </section>
      {openId && <EventInspector />}
    </div>
  )
}
