/**
 * One change stream for all the tabs of the UI in a browser. Over HTTP/1.1 a browser keeps at most six connections
 * to one host, for all its tabs together, and each open change stream holds one: with six tabs of the UI open a
 * seventh could not even load its page (measured in Chromium). So one tab, the holder of a Web Lock, opens the
 * stream and passes on what it hears over a BroadcastChannel; the others listen there. When that tab closes, the
 * browser releases its lock, the next tab in line opens the stream, and every tab reloads what it may have missed.
 */
import type { Change } from '../../../shared/contract'
import type { StreamStatus } from './client'

/** Where a tab's stream delivers: the views of this tab, or, in the tab holding the stream, every tab. */
export interface StreamFeed {
  change(change: Change): void
  status(status: StreamStatus): void
  resync(): void
}

/** What the tab holding the stream says to the others; `hello` is a new tab asking for the current status. */
type TabMessage =
  | { kind: 'change'; change: Change }
  | { kind: 'status'; status: StreamStatus }
  | { kind: 'resync' }
  | { kind: 'hello' }

/** The parts of the browser this needs (given, so tests can stand in for them). */
export interface TabSharing {
  locks: Pick<LockManager, 'request'>
  BroadcastChannel: new (name: string) => BroadcastChannel
}

/** The browser's own Web Locks and BroadcastChannel, when it has both (a secure context: the UI is on loopback). */
export function browserTabSharing(): TabSharing | null {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  const Channel = globalThis.BroadcastChannel
  return locks && Channel ? { locks, BroadcastChannel: Channel } : null
}

/**
 * Join the tabs sharing the stream called `name`. `openOwn` opens this tab's own stream into the feed it is given
 * and returns the function that closes it; `afterGap` is true when this tab takes over from another, so the
 * stream it opens may have missed changes. Returns the function that leaves (and hands the stream on).
 */
export function joinSharedStream(options: {
  name: string
  sharing: TabSharing
  local: StreamFeed
  openOwn: (feed: StreamFeed, afterGap: boolean) => () => void
}): () => void {
  const { name, sharing, local, openOwn } = options
  const channel = new sharing.BroadcastChannel(name)
  const say = (message: TabMessage) => channel.postMessage(message)
  const leaving = new AbortController()
  let holding = false
  let heardHolder = false
  let lastStatus: StreamStatus = 'connecting'
  let closeOwn: (() => void) | null = null
  let release = () => {}

  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    const message = event.data
    if (holding) {
      if (message.kind === 'hello') say({ kind: 'status', status: lastStatus })
      return
    }
    if (message.kind === 'hello') return
    heardHolder = true
    if (message.kind === 'change') local.change(message.change)
    else if (message.kind === 'status') local.status(message.status)
    else local.resync()
  }

  local.status('connecting')
  say({ kind: 'hello' })
  sharing.locks
    .request(name, { signal: leaving.signal }, () => {
      holding = true
      closeOwn = openOwn(
        {
          change: (change) => {
            local.change(change)
            say({ kind: 'change', change })
          },
          status: (status) => {
            lastStatus = status
            local.status(status)
            say({ kind: 'status', status })
          },
          resync: () => {
            local.resync()
            say({ kind: 'resync' })
          },
        },
        heardHolder,
      )
      // Held until this tab leaves (or closes: the browser then releases it).
      return new Promise<void>((resolve) => (release = resolve))
    })
    .catch(() => {
      // Aborted while waiting in line: this tab left before its turn.
    })

  return () => {
    closeOwn?.()
    closeOwn = null
    // The others wait for the next tab in line to open the stream.
    if (holding) say({ kind: 'status', status: 'reconnecting' })
    holding = false
    leaving.abort()
    release()
    channel.close()
  }
}
