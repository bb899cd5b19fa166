import { describe, expect, it, vi } from 'vitest'
import type { Change } from '../../src/shared/contract'
import type { EventPage, EventSummary } from '../../src/shared/domain'
import { createFeedStore, runStatusesOf } from '../../src/renderer/src/state/feed-store'
import { createFrameBatcher } from '../../src/renderer/src/state/frame-batcher'
import { makeEvent, makeRun, manualFrames } from './fixtures'

function fakeClient(pages: EventPage[] = [{ items: [], nextCursor: null }]) {
  const calls: unknown[] = []
  const client = {
    'events.list': vi.fn(async (args: unknown) => {
      calls.push(args)
      return pages.shift() ?? { items: [], nextCursor: null }
    }),
    'runs.list': vi.fn(async () => ({ items: [], nextCursor: null })),
  }
  return { client, calls }
}

const eventChange = (event: EventSummary): Change => ({ type: 'event', event })

describe('per-frame batching', () => {
  it('turns a burst of a thousand changes into one store update at the next frame', async () => {
    const { client } = fakeClient()
    const feed = createFeedStore(client)
    await feed.load()
    const frames = manualFrames()
    const batcher = createFrameBatcher<Change>((changes) => feed.applyChanges(changes), frames.schedule)
    const updates = vi.fn()
    feed.store.subscribe(updates)

    const events = Array.from({ length: 1000 }, () => makeEvent())
    for (const e of events) batcher.push(eventChange(e))
    expect(updates).not.toHaveBeenCalled()
    expect(frames.waiting).toBe(1)
    expect(batcher.pending).toBe(1000)

    frames.frame()
    expect(updates).toHaveBeenCalledTimes(1)
    const ids = feed.store.getState().ids
    expect(ids).toHaveLength(1000)
    // Newest first.
    expect(ids[0]).toBe(events[999]!.id)
    expect(ids[999]).toBe(events[0]!.id)

    batcher.push(eventChange(makeEvent()))
    frames.frame()
    expect(updates).toHaveBeenCalledTimes(2)
  })
})

describe('the feed store', () => {
  it('loads the first page with the filter and pages on with the cursor', async () => {
    const first = [makeEvent(), makeEvent()]
    const second = [makeEvent()]
    const { client, calls } = fakeClient([
      { items: first, nextCursor: '17' },
      { items: second, nextCursor: null },
    ])
    const feed = createFeedStore(client)
    await feed.setFilter({ source: 'shop', status: 'accepted', type: '  ', q: ' refund ' })
    expect(calls[0]).toEqual({ source: 'shop', status: 'accepted', q: 'refund', limit: 200 })
    expect(feed.store.getState().ids).toEqual(first.map((e) => e.id))
    await feed.loadMore()
    expect(calls[1]).toEqual({ source: 'shop', status: 'accepted', q: 'refund', before: '17', limit: 200 })
    expect(feed.store.getState().ids).toEqual([...first, ...second].map((e) => e.id))
    expect(feed.store.getState().nextCursor).toBeNull()
  })

  it('pages on after a filter changed while a next page was on its way', async () => {
    let answerStale!: (page: EventPage) => void
    const calls: unknown[] = []
    const client = {
      'events.list': vi.fn((args: { before?: string }) => {
        calls.push(args)
        if (calls.length === 2) return new Promise<EventPage>((resolve) => (answerStale = resolve))
        return Promise.resolve({ items: [makeEvent()], nextCursor: args.before ? null : '50' })
      }),
      'runs.list': vi.fn(async () => ({ items: [], nextCursor: null })),
    }
    const feed = createFeedStore(client)
    await feed.load()
    const stale = feed.loadMore()
    await feed.setFilter({ source: 'shop' })
    answerStale({ items: [makeEvent()], nextCursor: null })
    await stale
    await feed.loadMore()
    expect(calls).toHaveLength(4)
    expect(calls[3]).toEqual({ source: 'shop', before: '50', limit: 200 })
    expect(feed.store.getState().ids).toHaveLength(2)
  })

  it('adds live events only when they match the source, status and type filter', async () => {
    const { client } = fakeClient()
    const feed = createFeedStore(client)
    await feed.setFilter({ source: 'shop', status: 'rejected' })
    const match = makeEvent({ sourceId: 'shop', status: 'rejected' })
    feed.applyChanges([
      eventChange(makeEvent({ sourceId: 'github', status: 'rejected' })),
      eventChange(makeEvent({ sourceId: 'shop', status: 'accepted' })),
      eventChange(match),
    ])
    expect(feed.store.getState().ids).toEqual([match.id])
  })

  it('keeps what a search could not see while the index is being built, until an answer sees everything', async () => {
    const hit = makeEvent()
    const { client } = fakeClient([
      { items: [hit], nextCursor: '40', searchPending: 5000 },
      { items: [], nextCursor: null, searchPending: 1200 },
      { items: [hit], nextCursor: null },
    ])
    const feed = createFeedStore(client)
    await feed.setFilter({ q: 'invoice' })
    expect(feed.store.getState().searchPending).toBe(5000)
    await feed.loadMore()
    expect(feed.store.getState().searchPending).toBe(1200)
    await feed.load()
    expect(feed.store.getState().searchPending).toBe(0)
    expect(feed.store.getState().ids).toEqual([hit.id])
  })

  it('counts live events during a full-text search instead of guessing whether they match', async () => {
    const { client } = fakeClient()
    const feed = createFeedStore(client)
    await feed.setFilter({ q: 'invoice' })
    feed.applyChanges([eventChange(makeEvent()), eventChange(makeEvent())])
    expect(feed.store.getState().ids).toEqual([])
    expect(feed.store.getState().unsearched).toBe(2)
    await feed.load()
    expect(feed.store.getState().unsearched).toBe(0)
  })

  it('holds new events while paused, counts them, and puts them on top on resume', async () => {
    const old = makeEvent()
    const { client } = fakeClient([{ items: [old], nextCursor: null }])
    const feed = createFeedStore(client)
    await feed.load()
    feed.pause()
    const a = makeEvent()
    const b = makeEvent()
    feed.applyChanges([eventChange(a), eventChange(b)])
    expect(feed.store.getState().ids).toEqual([old.id])
    expect(feed.store.getState().held).toEqual([b.id, a.id])

    // Updates to rows already shown still apply in place while paused.
    feed.applyChanges([eventChange({ ...old, runCount: 3 })])
    expect(feed.store.getState().events.get(old.id)!.runCount).toBe(3)

    feed.resume()
    expect(feed.store.getState().ids).toEqual([b.id, a.id, old.id])
    expect(feed.store.getState().held).toEqual([])
    expect(feed.store.getState().paused).toBe(false)
  })

  it('keeps events that arrive during a load on top of the loaded page, once', async () => {
    let release!: (p: EventPage) => void
    const client = {
      'events.list': vi.fn(() => new Promise<EventPage>((r) => (release = r))),
      'runs.list': vi.fn(async () => ({ items: [], nextCursor: null })),
    }
    const feed = createFeedStore(client)
    const loading = feed.load()
    const stored = makeEvent()
    const live = makeEvent()
    feed.applyChanges([eventChange(live), eventChange(stored)])
    release({ items: [stored], nextCursor: null })
    await loading
    expect(feed.store.getState().ids).toEqual([stored.id, live.id])
  })

  it('updates runs in place and summarises them per event', async () => {
    const event = makeEvent()
    const { client } = fakeClient([{ items: [event], nextCursor: null }])
    const feed = createFeedStore(client)
    await feed.load()
    const run = makeRun({ eventId: event.id, status: 'running', updatedAt: 10 })
    feed.applyChanges([{ type: 'run', run }])
    expect(runStatusesOf(feed.store.getState(), event.id)).toBe('running')
    expect(feed.store.getState().events.get(event.id)!.runCount).toBe(1)
    feed.applyChanges([{ type: 'run', run: { ...run, status: 'dead', updatedAt: 20 } }])
    expect(runStatusesOf(feed.store.getState(), event.id)).toBe('dead')
    // A stale update does not undo a newer one.
    feed.applyChanges([{ type: 'run', run: { ...run, status: 'running', updatedAt: 15 } }])
    expect(runStatusesOf(feed.store.getState(), event.id)).toBe('dead')
  })

  it('moves the keyboard selection within the rows', async () => {
    const events = [makeEvent(), makeEvent(), makeEvent()]
    const { client } = fakeClient([{ items: events, nextCursor: null }])
    const feed = createFeedStore(client)
    await feed.load()
    expect(feed.moveSelection(1)).toBe(events[0]!.id)
    expect(feed.moveSelection(1)).toBe(events[1]!.id)
    expect(feed.moveSelection(5)).toBe(events[2]!.id)
    expect(feed.moveSelection(-1)).toBe(events[1]!.id)
  })

  it('shows a load failure as an error state', async () => {
    const client = {
      'events.list': vi.fn(async () => {
        throw new Error('boom')
      }),
      'runs.list': vi.fn(async () => ({ items: [], nextCursor: null })),
    }
    const feed = createFeedStore(client)
    await feed.load()
    expect(feed.store.getState()).toMatchObject({ phase: 'error', error: 'boom' })
  })
})
