/**
 * HTTP + Server-Sent Events transport, for the UI served by the headless server on the control API's origin.
 *
 * Authentication is the HttpOnly session cookie set by `/login?token=…`, so requests go same-origin with
 * credentials and the browser adds the Origin header mutating requests must carry. Routes come from the
 * contract: `:param` segments are filled from the input, GET and DELETE inputs become the query string (the
 * control API reads no body on those), anything else is the JSON body.
 */
import type { Change, OperationArgs, OperationName, OperationResult } from '../../../shared/contract'
import { ApiError, operations } from '../../../shared/contract'
import { codeForStatus, errorFromEnvelope } from './api-errors'
import type { StreamHandlers, StreamStatus, Transport } from './client'
import { browserTabSharing, joinSharedStream, type StreamFeed, type TabSharing } from './tab-share'

/** What one operation becomes on the wire. */
export interface HttpRequestShape {
  method: string
  /** Path plus query string, relative to the API origin. */
  url: string
  /** JSON text, or undefined when the request has no body. */
  body: string | undefined
}

function queryValue(value: unknown): string[] {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value.flatMap(queryValue)
  if (typeof value === 'object') return [JSON.stringify(value)]
  return [String(value)]
}

/**
 * Shape an operation call as an HTTP request. Path parameters are taken out of the input (the server merges
 * them back); a missing one is a `bad_request` naming it, thrown before anything is sent.
 */
export function shapeRequest<K extends OperationName>(name: K, args: OperationArgs<K>): HttpRequestShape {
  const spec = operations[name]
  const rest: Record<string, unknown> = { ...((args ?? {}) as Record<string, unknown>) }
  const path = spec.path.replace(/:([A-Za-z_]+)/g, (_match, param: string) => {
    const value = rest[param]
    if (value === undefined || value === null || value === '') {
      throw new ApiError('bad_request', `${param}: required`, {
        issues: [{ path: param, message: 'required' }],
      })
    }
    delete rest[param]
    return encodeURIComponent(String(value))
  })
  if (spec.method === 'GET' || spec.method === 'DELETE') {
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(rest)) for (const v of queryValue(value)) query.append(key, v)
    const qs = query.toString()
    return { method: spec.method, url: qs ? `${path}?${qs}` : path, body: undefined }
  }
  return { method: spec.method, url: path, body: JSON.stringify(rest) }
}

function base64FromBytes(bytes: Uint8Array): string {
  let binary = ''
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk))
  }
  return btoa(binary)
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return (
    errorFromEnvelope(parsed, response.status) ??
    new ApiError(
      codeForStatus(response.status),
      text.trim().slice(0, 300) || `HTTP ${response.status} ${response.statusText}`.trim(),
    )
  )
}

export interface HttpTransportOptions {
  /** Origin (and base path) of the control API; '' means the page's own origin. */
  baseUrl?: string
  fetch?: typeof fetch
  EventSource?: typeof EventSource
  /** Delay before reopening a stream the browser gave up on (non-200 answer). */
  reopenDelayMs?: number
  /** How tabs share one change stream (see tab-share.ts); null: each opens its own. The browser's by default. */
  tabSharing?: TabSharing | null
}

/** The browser transport: fetch for operations, one EventSource for the change stream, shared by the tabs. */
export function createHttpTransport(options: HttpTransportOptions = {}): Transport {
  const baseUrl = options.baseUrl ?? ''
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init))
  const EventSourceImpl = options.EventSource ?? globalThis.EventSource
  const reopenDelayMs = options.reopenDelayMs ?? 3000
  const sharing = options.tabSharing === undefined ? browserTabSharing() : options.tabSharing

  async function call<K extends OperationName>(name: K, args: OperationArgs<K>): Promise<OperationResult<K>> {
    const shape = shapeRequest(name, args)
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (shape.body !== undefined) headers['Content-Type'] = 'application/json'
    let response: Response
    try {
      response = await doFetch(baseUrl + shape.url, {
        method: shape.method,
        headers,
        body: shape.body,
        credentials: 'same-origin',
      })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ApiError('unavailable', `Cannot reach the Switchboard server (${reason})`)
    }
    if (!response.ok) throw await errorFromResponse(response)
    if (name === 'events.body') {
      // The route answers the raw bytes with their original content type, not JSON.
      const bytes = new Uint8Array(await response.arrayBuffer())
      const truncated = /^(1|true)$/i.test(response.headers.get('x-switchboard-truncated') ?? '')
      const result = {
        contentType: response.headers.get('content-type'),
        base64: base64FromBytes(bytes),
        truncated,
      }
      return result as OperationResult<K>
    }
    if (response.status === 204) return undefined as OperationResult<K>
    const text = await response.text()
    if (!text) return undefined as OperationResult<K>
    try {
      return JSON.parse(text) as OperationResult<K>
    } catch {
      throw new ApiError('internal', `The server answered ${name} with something that is not JSON`)
    }
  }

  const subscribers = new Set<StreamHandlers>()
  let status: StreamStatus = 'offline'
  /** This tab's views. */
  const local: StreamFeed = {
    change: (change) => {
      for (const s of subscribers) s.onChange(change)
    },
    status: (next) => {
      if (next === status) return
      status = next
      for (const s of subscribers) s.onStatus?.(next)
    },
    resync: () => {
      for (const s of subscribers) s.onResync?.()
    },
  }

  /**
   * Open an EventSource on the change stream, delivering into `feed`, and reopen it when the browser gives up
   * on it; after a gap (or when `afterGap`), `feed.resync` once it is open again. Returns the close function.
   */
  function openOwnStream(feed: StreamFeed, afterGap: boolean): () => void {
    if (!EventSourceImpl) {
      feed.status('offline')
      return () => {}
    }
    let source: EventSource | null = null
    let hadGap = afterGap
    let reopenTimer: ReturnType<typeof setTimeout> | null = null
    const open = () => {
      feed.status(hadGap ? 'reconnecting' : 'connecting')
      const es = new EventSourceImpl(`${baseUrl}/api/stream`, { withCredentials: true })
      source = es
      es.onopen = () => {
        feed.status('live')
        if (hadGap) {
          hadGap = false
          feed.resync()
        }
      }
      es.onmessage = (message: MessageEvent) => {
        let change: Change
        try {
          change = JSON.parse(String(message.data)) as Change
        } catch {
          return // a keep-alive or something we do not understand: not a change
        }
        if (!change || typeof change !== 'object' || typeof change.type !== 'string') return
        feed.change(change)
      }
      es.onerror = () => {
        hadGap = true
        if (es.readyState === 2 /* CLOSED: the browser will not retry by itself */) {
          es.close()
          source = null
          feed.status('offline')
          reopenTimer ??= setTimeout(() => {
            reopenTimer = null
            if (source === null) open()
          }, reopenDelayMs)
        } else {
          feed.status('reconnecting')
        }
      }
    }
    open()
    return () => {
      if (reopenTimer !== null) clearTimeout(reopenTimer)
      reopenTimer = null
      source?.close()
      source = null
    }
  }

  /** Leaves the stream: this tab's own, or its share of the one another tab holds. */
  let leave: (() => void) | null = null

  function subscribe(handlers: StreamHandlers): () => void {
    subscribers.add(handlers)
    handlers.onStatus?.(status)
    leave ??= sharing
      ? joinSharedStream({
          name: `switchboard-changes ${baseUrl}`,
          sharing,
          local,
          openOwn: openOwnStream,
        })
      : openOwnStream(local, false)
    return () => {
      subscribers.delete(handlers)
      if (subscribers.size === 0) {
        leave?.()
        leave = null
        status = 'offline'
      }
    }
  }

  return { kind: 'http', call, subscribe, ready: () => {} }
}
