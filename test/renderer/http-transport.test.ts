import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../src/shared/contract'
import { createClient } from '../../src/renderer/src/api/client'
import { createHttpTransport, shapeRequest } from '../../src/renderer/src/api/http-transport'
import { issuesOf } from '../../src/renderer/src/api/api-errors'

interface Seen {
  url: string
  init: RequestInit
}

function fakeFetch(respond: (url: string, init: RequestInit) => Response) {
  const seen: Seen[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push({ url: String(input), init: init ?? {} })
    return respond(String(input), init ?? {})
  })
  return { fetch: fn as unknown as typeof fetch, seen }
}

const json = (value: unknown, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } })

describe('shapeRequest', () => {
  it('puts GET inputs in the query string, skipping undefined values', () => {
    const shape = shapeRequest('events.list', {
      source: 'shop',
      status: 'accepted',
      q: 'a b&c',
      type: undefined,
    })
    expect(shape).toEqual({
      method: 'GET',
      url: '/api/events?source=shop&status=accepted&q=a+b%26c',
      body: undefined,
    })
  })

  it('fills path parameters from the input and leaves them out of the body', () => {
    const shape = shapeRequest('sources.update', { id: 'my source/1', enabled: false })
    expect(shape.method).toBe('PATCH')
    expect(shape.url).toBe('/api/sources/my%20source%2F1')
    expect(JSON.parse(shape.body!)).toEqual({ enabled: false })
  })

  it('sends an empty JSON object for a POST without fields, and no body for a DELETE', () => {
    expect(shapeRequest('runs.retry', { id: 'run_1' })).toEqual({
      method: 'POST',
      url: '/api/runs/run_1/retry',
      body: '{}',
    })
    expect(shapeRequest('sources.delete', { id: 's1' })).toEqual({
      method: 'DELETE',
      url: '/api/sources/s1',
      body: undefined,
    })
  })

  it('refuses a call whose path parameter is missing, naming it', () => {
    expect(() => shapeRequest('runs.get', {} as { id: string })).toThrowError(/id: required/)
  })
})

describe('the HTTP transport', () => {
  it('calls same-origin with credentials and JSON content type, and returns the decoded answer', async () => {
    const { fetch, seen } = fakeFetch(() => json({ id: 'wf', version: 2 }))
    const client = createClient(createHttpTransport({ fetch }))
    const result = await client['workflows.put']({ id: 'wf', name: 'X', steps: [] })
    expect(result).toEqual({ id: 'wf', version: 2 })
    expect(seen).toHaveLength(1)
    expect(seen[0]!.url).toBe('/api/workflows/wf')
    expect(seen[0]!.init.method).toBe('PUT')
    expect(seen[0]!.init.credentials).toBe('same-origin')
    expect((seen[0]!.init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect(JSON.parse(String(seen[0]!.init.body))).toEqual({ name: 'X', steps: [] })
  })

  it('maps an error envelope to an ApiError with code, message and field issues', async () => {
    const { fetch } = fakeFetch(() =>
      json(
        {
          error: {
            code: 'bad_request',
            message: 'steps.0.url: Required',
            details: { issues: [{ path: 'steps.0.url', message: 'Required' }] },
          },
        },
        400,
      ),
    )
    const client = createClient(createHttpTransport({ fetch }))
    const error = await client['workflows.create']({ id: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('bad_request')
    expect((error as ApiError).message).toBe('steps.0.url: Required')
    expect(issuesOf(error)).toEqual([{ path: 'steps.0.url', message: 'Required' }])
  })

  it('maps a non-JSON failure by its status, and a network failure to unavailable', async () => {
    const { fetch } = fakeFetch(() => new Response('nope', { status: 404 }))
    const client = createClient(createHttpTransport({ fetch }))
    const error = await client['runs.get']({ id: 'r' }).catch((e) => e)
    expect(error).toMatchObject({ code: 'not_found', message: 'nope' })

    const failing = (async () => {
      throw new TypeError('Failed to fetch')
    }) as unknown as typeof globalThis.fetch
    const offline = createClient(createHttpTransport({ fetch: failing }))
    const down = await offline['health.get']({}).catch((e) => e)
    expect(down).toMatchObject({ code: 'unavailable' })
    expect(down.message).toMatch(/Failed to fetch/)
  })

  it('keeps an unknown error code readable by falling back to the status', async () => {
    const { fetch } = fakeFetch(() => json({ error: { code: 'teapot', message: 'short and stout' } }, 409))
    const client = createClient(createHttpTransport({ fetch }))
    const error = await client['runs.retry']({ id: 'r' }).catch((e) => e)
    expect(error).toMatchObject({ code: 'conflict', message: 'short and stout' })
  })

  it('reads the raw body route as bytes, not JSON', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    const { fetch } = fakeFetch(
      () => new Response(bytes, { status: 200, headers: { 'content-type': 'application/octet-stream' } }),
    )
    const result = await createClient(createHttpTransport({ fetch }))['events.body']({ id: 'e1' })
    expect(result.contentType).toBe('application/octet-stream')
    expect(Array.from(atob(result.base64), (c) => c.charCodeAt(0))).toEqual([0, 1, 2, 250, 255])
  })
})

class FakeEventSource {
  static instances: FakeEventSource[] = []
  readyState = 0
  onopen: (() => void) | null = null
  onmessage: ((m: MessageEvent) => void) | null = null
  onerror: (() => void) | null = null
  closed = false
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this)
  }
  close() {
    this.closed = true
    this.readyState = 2
  }
  emit(data: string) {
    this.onmessage?.({ data } as MessageEvent)
  }
}

describe('the change stream over SSE', () => {
  it('delivers each JSON change, ignores what is not one, and reports status', async () => {
    FakeEventSource.instances = []
    const transport = createHttpTransport({ EventSource: FakeEventSource as unknown as typeof EventSource })
    const changes: unknown[] = []
    const statuses: string[] = []
    const resyncs: number[] = []
    const stop = transport.subscribe({
      onChange: (c) => changes.push(c),
      onStatus: (s) => statuses.push(s),
      onResync: () => resyncs.push(1),
    })
    const es = FakeEventSource.instances[0]!
    expect(es.url).toBe('/api/stream')
    es.readyState = 1
    es.onopen?.()
    es.emit(JSON.stringify({ type: 'intake', paused: true }))
    es.emit('not json')
    es.emit(JSON.stringify({ nothing: 1 }))
    expect(changes).toEqual([{ type: 'intake', paused: true }])

    // A dropped connection the browser retries: reconnecting, then a resync once it is back.
    es.readyState = 0
    es.onerror?.()
    es.readyState = 1
    es.onopen?.()
    expect(statuses).toEqual(['offline', 'connecting', 'live', 'reconnecting', 'live'])
    expect(resyncs).toHaveLength(1)

    stop()
    expect(es.closed).toBe(true)
  })

  it('reopens a stream the browser gave up on', async () => {
    vi.useFakeTimers()
    try {
      FakeEventSource.instances = []
      const transport = createHttpTransport({
        EventSource: FakeEventSource as unknown as typeof EventSource,
        reopenDelayMs: 1000,
      })
      const stop = transport.subscribe({ onChange: () => {} })
      const first = FakeEventSource.instances[0]!
      first.readyState = 2
      first.onerror?.()
      expect(FakeEventSource.instances).toHaveLength(1)
      vi.advanceTimersByTime(1000)
      expect(FakeEventSource.instances).toHaveLength(2)
      stop()
    } finally {
      vi.useRealTimers()
    }
  })
})
