import net from 'node:net'
import type { LookupFunction } from 'node:net'
import type { Clock } from '../clock'

/** What the pool reports. It never throws and never emits an unhandled `error`. */
export type SocketPoolEvent =
  /** A socket to the relay connected; `live` counts connected sockets. */
  | { type: 'connected'; live: number }
  /** A socket to the relay closed (the pool opens a replacement). */
  | { type: 'disconnected'; live: number; error: string | null }
  /** Forwarding to the local receiver failed (refused, reset, …); the request got a 502, the slot is reopened. */
  | { type: 'local-error'; error: string }
  /** No socket is connected and the relay refuses new ones: the lease is gone. Emitted once. */
  | { type: 'lost'; error: string }

export interface SocketPoolOptions {
  remoteHost: string
  remotePort: number
  /** Sockets to keep open (the relay's `max_conn_count`). */
  size: number
  localHost: string
  localPort: () => number
  clock: Clock
  lookup?: LookupFunction
  /** TCP keep-alive idle time before the OS starts probing a silent socket (the stock client uses the OS default, hours). */
  keepAliveMs?: number
  /** Deadline for a socket to the relay to connect. */
  connectTimeoutMs?: number
  /** Connections to the relay that fail in a row, with none connected, before `lost` (a refusal is enough). */
  failureLimit?: number
  onEvent: (event: SocketPoolEvent) => void
}

export interface SocketPool {
  /** Connected sockets right now. */
  live(): number
  /** Destroys every socket and stops reopening them. */
  close(): void
}

/** A socket that closes sooner than this without carrying a request counts as a failure. */
const SHORT_LIVED_MS = 1000

const BAD_GATEWAY_BODY = 'the local receiver is down\n'
const BAD_GATEWAY =
  'HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n' +
  `content-length: ${BAD_GATEWAY_BODY.length}\r\n\r\n${BAD_GATEWAY_BODY}`

/**
 * Keeps `size` plain TCP sockets open to a relay's client port and forwards whatever HTTP/1.1 bytes arrive on
 * each to a fresh connection to the local receiver, byte for byte (no Host rewriting, so binary bodies stay
 * intact). Every closed socket is replaced, with a growing pause while sockets keep failing; when none is
 * connected and the relay refuses or keeps dropping new ones, the pool reports `lost` once and the caller
 * re-registers. Every socket has an `error` listener, the local side included.
 */
export function openSocketPool(options: SocketPoolOptions): SocketPool {
  const keepAliveMs = options.keepAliveMs ?? 15_000
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000
  const failureLimit = options.failureLimit ?? 3
  const sockets = new Set<net.Socket>()
  const connected = new Set<net.Socket>()
  const timers = new Set<unknown>()
  let closed = false
  let failures = 0
  let lostReported = false

  const emit = (event: SocketPoolEvent): void => {
    if (closed) return
    try {
      options.onEvent(event)
    } catch {
      // The listener's own failure must not break the sockets.
    }
  }

  const later = (ms: number, fn: () => void): void => {
    const handle = options.clock.setTimeout(() => {
      timers.delete(handle)
      fn()
    }, ms)
    timers.add(handle)
  }

  /**
   * A slot ended. `strikes` counts how often this slot in a row ended badly (never connected, or dropped at
   * once without carrying a request) and sets its pause; `failures` counts connections to the relay that
   * failed in a row across the pool and, with nothing connected, decides that the lease is lost.
   */
  const slotClosed = (
    strikes: number,
    connectFailed: boolean,
    error: string | null,
    refused: boolean,
  ): void => {
    if (closed) return
    failures = connectFailed ? failures + 1 : 0
    if (connected.size === 0 && !lostReported && connectFailed && (refused || failures >= failureLimit)) {
      lostReported = true
      emit({ type: 'lost', error: error ?? 'the relay keeps refusing the tunnel sockets' })
      return
    }
    if (lostReported) return
    const pause = strikes === 0 ? 0 : Math.min(100 * 2 ** (strikes - 1), 5000)
    later(pause, () => openSlot(strikes))
  }

  function openSlot(strikes = 0): void {
    if (closed) return
    const remote = net.connect({ host: options.remoteHost, port: options.remotePort, lookup: options.lookup })
    sockets.add(remote)
    let connectedAt: number | null = null
    let carried = false
    let lastError: NodeJS.ErrnoException | null = null
    let local: net.Socket | null = null
    const connectTimer = options.clock.setTimeout(
      () => remote.destroy(new Error(`connecting to the relay timed out after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    )

    remote.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err
    })
    remote.once('connect', () => {
      options.clock.clearTimeout(connectTimer)
      connectedAt = options.clock.now()
      failures = 0
      remote.setKeepAlive(true, keepAliveMs)
      remote.setNoDelay(true)
      connected.add(remote)
      emit({ type: 'connected', live: connected.size })
    })
    remote.once('data', (first: Buffer) => {
      carried = true
      remote.pause()
      local = forwardLocally(remote, first)
    })
    remote.once('close', () => {
      options.clock.clearTimeout(connectTimer)
      sockets.delete(remote)
      local?.destroy()
      const wasConnected = connected.delete(remote)
      const error = lastError ? (lastError as Error).message : null
      if (wasConnected) emit({ type: 'disconnected', live: connected.size, error })
      const bad = connectedAt === null || (!carried && options.clock.now() - connectedAt < SHORT_LIVED_MS)
      slotClosed(bad ? strikes + 1 : 0, connectedAt === null, error, lastError?.code === 'ECONNREFUSED')
    })
  }

  function forwardLocally(remote: net.Socket, first: Buffer): net.Socket {
    const local = net.connect({ host: options.localHost, port: options.localPort() })
    let localConnected = false
    local.setNoDelay(true)
    local.once('connect', () => {
      localConnected = true
      local.write(first)
      remote.pipe(local)
      local.pipe(remote)
    })
    local.on('error', (err) => {
      emit({ type: 'local-error', error: `forwarding to ${options.localHost}: ${err.message}` })
      // Refused before the request got through: answer it, so the sender sees a 5xx and retries later.
      if (!localConnected && !remote.destroyed) remote.end(BAD_GATEWAY)
      else remote.destroy()
    })
    return local
  }

  for (let i = 0; i < options.size; i++) openSlot()

  return {
    live: () => connected.size,
    close() {
      if (closed) return
      closed = true
      for (const handle of timers) options.clock.clearTimeout(handle)
      timers.clear()
      for (const socket of sockets) socket.destroy()
      sockets.clear()
      connected.clear()
    },
  }
}
