import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventStore, type NewEvent } from '../../src/core/events/event-store'
import { newId } from '../../src/core/ids'
import type { Engine } from '../../src/core/engine'
import { exportRoute } from '../../src/server/export-route'
import { startHeadless, type Headless } from '../../src/server/headless'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'

let server: Headless
let dir: ReturnType<typeof tempDir>

beforeAll(async () => {
  dir = tempDir()
  server = await startHeadless({
    engine: { dataDir: join(dir.path, 'data'), receiver: { port: 0 }, tunnel: { mode: 'off' } },
    apiPort: 0,
    rendererDir: null,
  })
  await server.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
  await server.engine.call('sources.create', { id: 'cam', name: 'Camera', provider: 'none' })
  const post = (source: string, body: string | Buffer, contentType = 'application/json') =>
    http(`${server.receiverUrl}/hooks/${source}`, { headers: { 'content-type': contentType }, body })
  await post('shop', '{"order":"A-1","note":"gift wrap"}')
  await post('shop', '{"order":"A-2"}')
  await post('cam', Buffer.from([0, 1, 2, 250]), 'application/octet-stream')
})
afterAll(async () => {
  await server.stop()
  dir.remove()
})

const auth = () => ({ authorization: `Bearer ${server.token}` })

/** An accepted event as the receiver would store it, for writing straight to the store. */
const storedEvent = (sourceId: string, dedupId: string, body: Buffer): NewEvent => ({
  id: newId('evt'),
  sourceId,
  provider: 'none',
  receivedAt: Date.now(),
  method: 'POST',
  path: `/hooks/${sourceId}`,
  query: '',
  headers: {},
  contentType: 'application/json',
  body,
  bodySize: body.length,
  bodyTruncated: false,
  dedupId,
  duplicateOf: null,
  type: null,
  status: 'accepted',
  verification: 'unsigned',
  reason: null,
  hop: 0,
  summary: '',
  bodySha256: null,
})
const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)

describe('GET /api/events/export', () => {
  it('streams every event as NDJSON with headers and body, newest first', async () => {
    const res = await http(`${server.apiUrl}/api/events/export`, { headers: auth() })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/)
    const rows = lines(res.text)
    expect(rows.map((r) => r.sourceId)).toEqual(['cam', 'shop', 'shop'])
    expect(rows[2]).toMatchObject({
      status: 'accepted',
      body: '{"order":"A-1","note":"gift wrap"}',
      bodyBase64: null,
    })
    expect((rows[2]!.headers as Record<string, string>)['content-type']).toBe('application/json')
    expect(rows[0]).toMatchObject({ body: null, bodyBase64: Buffer.from([0, 1, 2, 250]).toString('base64') })
  })

  it('applies the same filters and search as the event list', async () => {
    const bySource = lines(
      (await http(`${server.apiUrl}/api/events/export?source=cam`, { headers: auth() })).text,
    )
    expect(bySource.map((r) => r.sourceId)).toEqual(['cam'])
    const searched = lines(
      (await http(`${server.apiUrl}/api/events/export?q=gift%20wrap&source=shop`, { headers: auth() })).text,
    )
    expect(searched.map((r) => r.body)).toEqual(['{"order":"A-1","note":"gift wrap"}'])
    const none = await http(`${server.apiUrl}/api/events/export?status=rejected`, { headers: auth() })
    expect(none.status).toBe(200)
    expect(none.text).toBe('')
  })

  it('pages through more events than one page holds', async () => {
    const store = new EventStore(server.engine.db)
    const body = Buffer.from('{"bulk":true}')
    server.engine.db.transaction(() => {
      for (let i = 0; i < 1234; i++) {
        store.insert(storedEvent('bulk', `bulk-${i}`, body))
      }
    })()
    const rows = lines(
      (await http(`${server.apiUrl}/api/events/export?source=bulk`, { headers: auth() })).text,
    )
    expect(rows).toHaveLength(1234)
    expect(new Set(rows.map((r) => r.id)).size).toBe(1234)
  })

  it('gives the event loop back between pages, also when a filtered walk answers empty pages', async () => {
    // An engine whose every page is empty but has a cursor, as a bounded walk over a rare filter answers.
    const pages = 20
    let served = 0
    const engine = {
      db: server.engine.db,
      call: async (_name: string, input: { before?: string }) => {
        served++
        const n = Number(input.before ?? pages)
        return { items: [], nextCursor: n > 1 ? String(n - 1) : null }
      },
    } as unknown as Engine
    const route = exportRoute(engine)
    const httpServer = createServer((req, res) => void route(req, res, new URL(req.url!, 'http://127.0.0.1')))
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    const seenAtTurns: number[] = []
    let ticking = true
    const tick = () => {
      seenAtTurns.push(served)
      if (ticking) setImmediate(tick)
    }
    try {
      setImmediate(tick)
      const res = await http(
        `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/api/events/export`,
      )
      expect(res.status).toBe(200)
      expect(res.text).toBe('')
    } finally {
      ticking = false
      await new Promise((resolve) => httpServer.close(resolve))
    }
    expect(served).toBe(pages)
    // The loop turned while the export was between its first page and its last.
    expect(seenAtTurns.some((n) => n > 0 && n < pages)).toBe(true)
  })

  it('refuses bad filters and missing credentials', async () => {
    const bad = await http(`${server.apiUrl}/api/events/export?status=nope`, { headers: auth() })
    expect(bad.status).toBe(400)
    expect(bad.json).toMatchObject({ error: { code: 'bad_request' } })
    const unknown = await http(`${server.apiUrl}/api/events/export?color=red`, { headers: auth() })
    expect(unknown.status).toBe(400)
    expect((await http(`${server.apiUrl}/api/events/export`)).status).toBe(401)
  })
})

describe('GET /api/metrics?format=prometheus', () => {
  it('answers the text exposition format, and JSON without the format', async () => {
    const text = await http(`${server.apiUrl}/api/metrics?format=prometheus`, { headers: auth() })
    expect(text.status).toBe(200)
    expect(text.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(text.text).toMatch(/^# TYPE switchboard_webhook_requests_total counter$/m)
    expect(text.text).toMatch(
      /^switchboard_webhook_requests_total\{source="shop",type="",outcome="accepted"\} 2$/m,
    )
    const json = await http(`${server.apiUrl}/api/metrics`, { headers: auth() })
    expect(json.json).toMatchObject({ totals: { accepted: 3 } })
    expect((await http(`${server.apiUrl}/api/metrics?format=prometheus`)).status).toBe(401)
  })
})

// Last: it adds events the metrics counts above do not expect.
describe('GET /api/events/export with large bodies', () => {
  it('streams large bodies in pieces, every line whole', async () => {
    await server.engine.call('sources.create', { id: 'big', name: 'Big', provider: 'none' })
    const big = (i: number) => JSON.stringify({ n: i, pad: String(i).repeat(200_000) })
    for (let i = 1; i <= 4; i++) {
      await http(`${server.receiverUrl}/hooks/big`, {
        headers: { 'content-type': 'application/json', 'idempotency-key': `big-${i}` },
        body: big(i),
      })
    }
    const res = await http(`${server.apiUrl}/api/events/export?source=big`, { headers: auth() })
    const rows = lines(res.text)
    expect(rows.map((r) => r.body)).toEqual([4, 3, 2, 1].map(big))
  })
})

describe('GET /api/events/export while the search index is far behind', () => {
  it('answers 503 with Retry-After to a search it could not see whole, and the export once it can', async () => {
    const own = tempDir()
    const behind = await startHeadless({
      engine: {
        dataDir: join(own.path, 'data'),
        receiver: { port: 0 },
        tunnel: { mode: 'off' },
        searchWaitMs: 1,
      },
      apiPort: 0,
      rendererDir: null,
    })
    try {
      const store = new EventStore(behind.engine.db)
      // Written straight to the store, no webhook: the index learns of them only when a search asks.
      behind.engine.db.transaction(() => {
        for (let i = 0; i < 20_000; i++) {
          const body = Buffer.from(`{"n":${i},"word":"${i === 0 ? 'quince' : 'pear'}"}`)
          store.insert(storedEvent('orchard', `orchard-${i}`, body))
        }
      })()
      const headers = { authorization: `Bearer ${behind.token}` }
      const early = await http(`${behind.apiUrl}/api/events/export?q=quince`, { headers })
      expect(early.status).toBe(503)
      expect(early.headers['retry-after']).toBe('10')
      expect(early.json).toMatchObject({ error: { code: 'unavailable' } })
      expect((early.json as { error: { message: string } }).error.message).toMatch(/not indexed yet/)

      for (let i = 0; i < 500 && behind.engine.searchIndexedUpTo() < 20_000; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      const late = await http(`${behind.apiUrl}/api/events/export?q=quince`, { headers })
      expect(late.status).toBe(200)
      expect(lines(late.text).map((r) => r.body)).toEqual(['{"n":0,"word":"quince"}'])
      // Without a search nothing waits for the index.
      expect(lines((await http(`${behind.apiUrl}/api/events/export`, { headers })).text)).toHaveLength(20_000)
    } finally {
      await behind.stop()
      own.remove()
    }
  })
})
