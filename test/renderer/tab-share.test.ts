import { describe, expect, it, vi } from 'vitest'
import type { Change } from '../../src/shared/contract'
import { joinSharedStream, type StreamFeed, type TabSharing } from '../../src/renderer/src/api/tab-share'

// BroadcastChannel is Node's global here (happy-dom has none): it delivers between instances as a browser does
// between tabs. Web Locks are faked below (Node has none).

/** Web Locks for one lock name, as the browser grants them: one holder, the rest in line, abortable in line. */
function fakeLocks(): TabSharing['locks'] {
  const line: Array<{ grant: () => void }> = []
  let held = false
  const next = () => {
    if (held) return
    const first = line.shift()
    if (!first) return
    held = true
    first.grant()
  }
  return {
    request: ((_name: string, options: LockOptions, callback: () => Promise<void>) =>
      new Promise<void>((resolve, reject) => {
        const entry = {
          grant: () =>
            void Promise.resolve(callback()).then(() => {
              held = false
              resolve()
              next()
            }),
        }
        options.signal?.addEventListener('abort', () => {
          const at = line.indexOf(entry)
          if (at < 0) return
          line.splice(at, 1)
          reject(new DOMException('aborted', 'AbortError'))
        })
        line.push(entry)
        next()
      })) as TabSharing['locks']['request'],
  }
}

/** What the tabs of one browser share: its locks and its channels. */
const fakeSharing = (): TabSharing => ({ locks: fakeLocks(), BroadcastChannel })

/** One tab: what its views received, and the streams it opened (with whether each followed a gap). */
function tab(sharing: TabSharing) {
  const seen = { changes: [] as Change[], statuses: [] as string[], resyncs: 0 }
  const opened: Array<{ feed: StreamFeed; afterGap: boolean; closed: boolean }> = []
  const local: StreamFeed = {
    change: (c) => seen.changes.push(c),
    status: (s) => seen.statuses.push(s),
    resync: () => seen.resyncs++,
  }
  const leave = joinSharedStream({
    name: 'switchboard-changes test',
    sharing,
    local,
    openOwn: (feed, afterGap) => {
      const stream = { feed, afterGap, closed: false }
      opened.push(stream)
      return () => (stream.closed = true)
    },
  })
  return { seen, opened, leave }
}

const change = (paused: boolean): Change => ({ type: 'intake', paused })

describe('one change stream shared by the tabs', () => {
  it('opens one stream for all tabs, passes on what it hears, and hands it on when its tab leaves', async () => {
    const sharing = fakeSharing()
    const first = tab(sharing)
    await vi.waitFor(() => expect(first.opened).toHaveLength(1))
    expect(first.opened[0]!.afterGap).toBe(false)
    first.opened[0]!.feed.status('live')

    // A tab that joins later learns the status, and opens no stream of its own.
    const second = tab(sharing)
    const third = tab(sharing)
    await vi.waitFor(() => expect(second.seen.statuses.at(-1)).toBe('live'))
    await vi.waitFor(() => expect(third.seen.statuses.at(-1)).toBe('live'))
    expect(second.opened).toHaveLength(0)

    first.opened[0]!.feed.change(change(true))
    expect(first.seen.changes).toEqual([change(true)])
    await vi.waitFor(() => expect(second.seen.changes).toEqual([change(true)]))
    await vi.waitFor(() => expect(third.seen.changes).toEqual([change(true)]))

    // The holder leaves: its stream closes, the others hear it is reconnecting, and the next in line opens one
    // after a gap (so every tab reloads what it may have missed once it is open).
    first.leave()
    expect(first.opened[0]!.closed).toBe(true)
    await vi.waitFor(() => expect(second.opened).toHaveLength(1))
    expect(second.opened[0]!.afterGap).toBe(true)
    await vi.waitFor(() => expect(third.seen.statuses).toContain('reconnecting'))
    expect(third.opened).toHaveLength(0)
    second.opened[0]!.feed.resync()
    await vi.waitFor(() => expect(third.seen.resyncs).toBe(1))
    expect(second.seen.resyncs).toBe(1)

    second.leave()
    await vi.waitFor(() => expect(third.opened).toHaveLength(1))
    third.leave()
  })

  it('leaves quietly while still in line', async () => {
    const sharing = fakeSharing()
    const holder = tab(sharing)
    await vi.waitFor(() => expect(holder.opened).toHaveLength(1))
    const waiting = tab(sharing)
    waiting.leave()
    holder.leave()
    // Nobody is left to take the stream: the tab that left in line never opens one.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(waiting.opened).toHaveLength(0)
  })
})
