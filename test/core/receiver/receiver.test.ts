import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Change } from '../../../src/shared/contract'
import { EventStore } from '../../../src/core/events/event-store'
import type { ReceiverLimits } from '../../../src/core/receiver/receiver'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { sampleEvent } from '../monitor/fixture'

let t: TestEngine

beforeEach(async () => {
  t = await startTestEngine({
    receiver: { port: 0, host: '127.0.0.1', limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } },
  })
  await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
})
afterEach(() => t.close())

/** A workflow on the shop source, so that its accepted events are dispatched. */
const listen = (engine: TestEngine['engine']) =>
  engine.call('workflows.create', {
    id: 'tell',
    name: 'Tell me',
    trigger: { source: 'shop' },
    steps: [{ id: 'note', kind: 'notify', title: 'got {{ type }}' }],
  })

function storedBody(id: string): Buffer {
  const row = t.engine.db.prepare(`SELECT body FROM events WHERE id = ?`).get(id) as { body: Buffer }
  return row.body
}

/** Start the test engine again, with these receiver limits (and no sources). */
async function restartWithLimits(limits: Partial<ReceiverLimits>): Promise<void> {
  await t.close()
  t = await startTestEngine({ receiver: { port: 0, host: '127.0.0.1', limits } })
}

/** Write raw bytes to the receiver over one socket; resolves with the status line of its answer. */
function statusLineOf(write: (socket: Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () => write(socket))
    let data = ''
    socket.on('data', (d) => {
      data += d
      if (data.includes('\r\n')) {
        resolve(data.split('\r\n')[0]!)
        socket.destroy()
      }
    })
    socket.on('error', reject)
  })
}

function count(sql: string, ...params: unknown[]): number {
  return (t.engine.db.prepare(sql).get(...params) as { n: number }).n
}

describe('receiver', () => {
  it('stores JSON, form and binary bodies byte for byte and answers after commit', async () => {
    const bodies: Array<[string, Buffer]> = [
      [
        'application/json',
        Buffer.from('{"type":"order.placed",  "items":[{"sku":"A","qty":2}], "note":"ünïcødé"}\n'),
      ],
      ['application/x-www-form-urlencoded', Buffer.from('a=1&b=%20two&b=three&empty=')],
      ['application/octet-stream', randomBytes(4096)],
      ['text/plain; charset=latin1', Buffer.from([0xe9, 0x74, 0xe9, 0x00, 0xff])],
    ]
    for (const [type, body] of bodies) {
      const res = await http(`${t.url}/hooks/shop`, { headers: { 'content-type': type }, body })
      expect(res.status).toBe(200)
      const { id, duplicate } = res.json as { id: string; duplicate: boolean }
      expect(duplicate).toBe(false)
      // The 2xx came after the commit: the row is there, identical, the moment we look.
      expect(storedBody(id).equals(body)).toBe(true)
      const detail = await t.engine.call('events.get', { id })
      expect(detail.contentType).toBe(type)
      expect(Buffer.from((await t.engine.call('events.body', { id })).base64, 'base64').equals(body)).toBe(
        true,
      )
    }
  })

  it('keeps method, path suffix, query and headers as received', async () => {
    const res = await http(`${t.url}/hooks/shop/runs/r1?b=2&a=1&a=%20x`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-custom': 'yes' },
      body: '{"type":"x"}',
    })
    const detail = await t.engine.call('events.get', { id: (res.json as { id: string }).id })
    expect(detail.method).toBe('PUT')
    expect(detail.path).toBe('/hooks/shop/runs/r1')
    expect(detail.query).toBe('b=2&a=1&a=%20x')
    expect(detail.headers['x-custom']).toBe('yes')
    expect(detail.type).toBe('x')
  })

  it('answers a duplicate delivery with duplicate: true and enqueues it once', async () => {
    // No workers: the dispatch jobs stay in the table where the test can count them.
    await t.close()
    t = await startTestEngine({ workers: 0 })
    await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    await listen(t.engine)
    const send = () =>
      http(`${t.url}/hooks/shop`, {
        headers: { 'content-type': 'application/json', 'idempotency-key': 'delivery-1' },
        body: '{"type":"a","n":1}',
      })
    const first = await send()
    const again = await Promise.all([send(), send()])
    const firstId = (first.json as { id: string }).id
    expect((first.json as { duplicate: boolean }).duplicate).toBe(false)
    for (const res of again) {
      expect(res.status).toBe(200)
      expect(res.json).toMatchObject({ duplicate: true, duplicateOf: firstId })
    }
    expect(count(`SELECT COUNT(*) n FROM events WHERE source_id = 'shop'`)).toBe(3)
    expect(count(`SELECT COUNT(*) n FROM events WHERE status = 'duplicate'`)).toBe(2)
    const jobs = t.engine.db.prepare(`SELECT payload FROM jobs WHERE kind = 'dispatch'`).all() as Array<{
      payload: string
    }>
    expect(jobs.map((j) => JSON.parse(j.payload))).toEqual([{ eventId: firstId }])
  })

  it('enqueues no dispatch job for an event nothing listens to', async () => {
    await t.close()
    t = await startTestEngine({ workers: 0 })
    await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    const dispatched = () => count(`SELECT COUNT(*) n FROM jobs WHERE kind = 'dispatch'`)
    await http(`${t.url}/hooks/shop`, { body: '{"n":1}' })
    expect(dispatched()).toBe(0)
    await listen(t.engine)
    await http(`${t.url}/hooks/shop`, { body: '{"n":2}' })
    expect(dispatched()).toBe(1)
  })

  it('deduplicates concurrent deliveries inside one group commit', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        http(`${t.url}/hooks/shop`, {
          headers: { 'content-type': 'application/json', 'idempotency-key': 'same' },
          body: '{"type":"a"}',
        }),
      ),
    )
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(results.filter((r) => !(r.json as { duplicate: boolean }).duplicate)).toHaveLength(1)
    expect(count(`SELECT COUNT(*) n FROM dedup_keys`)).toBe(1)
  })

  it('accepts a body exactly at the limit and refuses one byte more with 413, storing nothing', async () => {
    await t.engine.call('sources.update', { id: 'shop', maxBodyBytes: 1000 })
    const at = await http(`${t.url}/hooks/shop`, { body: Buffer.alloc(1000, 0x61) })
    expect(at.status).toBe(200)
    const before = count(`SELECT COUNT(*) n FROM events`)
    const over = await http(`${t.url}/hooks/shop`, { body: Buffer.alloc(1001, 0x61) })
    expect(over.status).toBe(413)
    expect((over.json as { error: { code: string } }).error.code).toBe('payload_too_large')
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(before)
  })

  it('refuses an oversize chunked body that declares no length', async () => {
    await t.engine.call('sources.update', { id: 'shop', maxBodyBytes: 100 })
    const status = await statusLineOf((socket) => {
      socket.write('POST /hooks/shop HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
      socket.write(`c8\r\n${'b'.repeat(200)}\r\n0\r\n\r\n`)
    })
    expect(status).toBe('HTTP/1.1 413 Payload Too Large')
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(0)
  })

  it('holds at most its budget of request bodies at once, answering 503 past it and taking them again after', async () => {
    await restartWithLimits({ maxBufferedBytes: 100_000, headersTimeoutMs: 5000, requestTimeoutMs: 10_000 })
    await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    /** A slow upload: 60 KB of a 70 KB body now, the rest when `finish` is called; resolves the status line. */
    const upload = () => {
      let finish = () => {}
      const status = statusLineOf((socket) => {
        socket.write(
          `POST /hooks/shop HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n${'a'.repeat(60_000)}`,
        )
        finish = () => socket.write('a'.repeat(10_000))
      })
      return { status, finish: () => finish() }
    }
    const first = upload()
    await new Promise((r) => setTimeout(r, 100))
    // 60 KB held; another 60 KB would pass the 100 KB budget.
    expect(await upload().status).toBe('HTTP/1.1 503 Service Unavailable')
    first.finish()
    expect(await first.status).toBe('HTTP/1.1 200 OK')
    // Released: the next upload fits again.
    const third = upload()
    await new Promise((r) => setTimeout(r, 50))
    third.finish()
    expect(await third.status).toBe('HTTP/1.1 200 OK')
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(2)
    // The refused upload counts as done: a graceful stop does not wait out its 10 s request timeout.
    const outcome = await Promise.race([
      t.close().then(() => 'stopped'),
      new Promise((r) => setTimeout(() => r('still waiting'), 5000)),
    ])
    expect(outcome).toBe('stopped')
    t = await startTestEngine()
  })

  it('answers 404 for an unknown source and anything outside /hooks, and stores nothing', async () => {
    expect((await http(`${t.url}/hooks/nope`, { body: '{}' })).status).toBe(404)
    expect((await http(`${t.url}/`, {})).status).toBe(404)
    expect((await http(`${t.url}/api/health`, {})).status).toBe(404)
    expect((await http(`${t.url}/api/sources`, {})).status).toBe(404)
    expect((await http(`${t.url}/hooks/%E0%A4%A`, { body: '{}' })).status).toBe(404)
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(0)
  })

  it('answers 404 for a disabled source', async () => {
    await t.engine.call('sources.update', { id: 'shop', enabled: false })
    expect((await http(`${t.url}/hooks/shop`, { body: '{}' })).status).toBe(404)
  })

  it('answers 405 with Allow for a method the preset does not take', async () => {
    const res = await http(`${t.url}/hooks/shop`, { method: 'OPTIONS' })
    expect(res.status).toBe(405)
    expect(res.headers.allow).toContain('POST')
  })

  it('rate limits per source with 429 and Retry-After once configured', async () => {
    await t.engine.call('sources.update', { id: 'shop', rateLimit: { perSecond: 0.5, burst: 2 } })
    const statuses: number[] = []
    let retryAfter: string | undefined
    for (let i = 0; i < 4; i++) {
      const res = await http(`${t.url}/hooks/shop`, { body: `{"i":${i}}` })
      statuses.push(res.status)
      if (res.status === 429) retryAfter = res.headers['retry-after'] as string
    }
    expect(statuses).toEqual([200, 200, 429, 429])
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(2)
  })

  it('stores an event over the hop limit as blocked and starts nothing', async () => {
    await listen(t.engine)
    const ok = await http(`${t.url}/hooks/shop`, { headers: { 'switchboard-hop': '5' }, body: '{"a":1}' })
    const blocked = await http(`${t.url}/hooks/shop`, {
      headers: { 'switchboard-hop': '6' },
      body: '{"a":2}',
    })
    expect(ok.status).toBe(200)
    expect(blocked.status).toBe(200)
    expect(blocked.json).toMatchObject({ blocked: true })
    const detail = await t.engine.call('events.get', { id: (blocked.json as { id: string }).id })
    expect(detail.status).toBe('blocked')
    expect(detail.hop).toBe(6)
    expect(detail.reason).toMatch(/over the limit of 5/)
    // A workflow listens, yet only the event within the limit starts a run.
    const okId = (ok.json as { id: string }).id
    for (let i = 0; i < 100 && (await t.engine.call('events.get', { id: okId })).runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20))
    }
    expect((await t.engine.call('events.get', { id: okId })).runs).toHaveLength(1)
    expect((await t.engine.call('events.get', { id: detail.id })).runs).toEqual([])
  })

  it('answers 503 and never 2xx when the store cannot write, then recovers', async () => {
    t.engine.db.exec(
      `CREATE TRIGGER fail_insert BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    )
    const failed = await Promise.all(
      Array.from({ length: 5 }, (_, i) => http(`${t.url}/hooks/shop`, { body: `{"i":${i}}` })),
    )
    expect(failed.map((r) => r.status)).toEqual([503, 503, 503, 503, 503])
    expect(failed[0]!.headers['retry-after']).toBeDefined()
    t.engine.db.exec(`DROP TRIGGER fail_insert`)
    const ok = await http(`${t.url}/hooks/shop`, { body: '{"i":"again"}' })
    expect(ok.status).toBe(200)
    expect(count(`SELECT COUNT(*) n FROM events`)).toBe(1)
  })

  it('records rejected requests for the feed, bounded in rate and size so a flood cannot fill the disk', async () => {
    await t.engine.call('sources.create', { id: 'gh', name: 'GitHub', provider: 'github', secret: 'right' })
    const flood = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http(`${t.url}/hooks/gh`, {
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-hub-signature-256': 'sha256=' + '0'.repeat(64),
          },
          body: JSON.stringify({ i, pad: 'x'.repeat(10_000) }),
        }),
      ),
    )
    expect(flood.every((r) => r.status === 401)).toBe(true)
    const rows = t.engine.db
      .prepare(
        `SELECT body_size, length(body) AS kept, body_truncated, reason FROM events WHERE source_id = 'gh'`,
      )
      .all() as Array<{ body_size: number; kept: number; body_truncated: number; reason: string }>
    // The default burst is 20 records per source; the rest are answered but not stored.
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThanOrEqual(21)
    for (const row of rows) {
      expect(row.kept).toBe(4096)
      expect(row.body_truncated).toBe(1)
      expect(row.body_size).toBeGreaterThan(10_000)
      expect(row.reason).toMatch(/signature/i)
    }
    expect(count(`SELECT COUNT(*) n FROM jobs WHERE kind = 'dispatch'`)).toBe(0)
  })

  it("keeps each source's newest rejected requests, pruning each source on its own count and a bounded number at a time", async () => {
    await restartWithLimits({ rejectedKeepPerSource: 10, rejectedPerSecond: 10_000, rejectedBurst: 10_000 })
    for (const id of ['gh', 'old']) {
      await t.engine.call('sources.create', { id, name: id, provider: 'github', secret: 'right' })
    }
    const forged = (source: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          http(`${t.url}/hooks/${source}`, {
            headers: {
              'content-type': 'application/json',
              'x-github-event': 'push',
              'x-hub-signature-256': 'sha256=' + '0'.repeat(64),
            },
            body: JSON.stringify({ i }),
          }),
        ),
      )
    const rejected = (source: string) =>
      count(`SELECT COUNT(*) n FROM events WHERE source_id = ? AND status = 'rejected'`, source)
    // A source holds a backlog of 500 rejected requests (from before its limit was lowered).
    const store = new EventStore(t.engine.db)
    t.engine.db.transaction(() => {
      for (let i = 0; i < 500; i++) {
        store.insert(sampleEvent('old', Date.now(), { status: 'rejected', verification: 'failed' }))
      }
    })()
    // Sixty on each source: neither reached its hundredth, so nothing is pruned yet.
    await forged('gh', 60)
    await forged('old', 60)
    expect([rejected('gh'), rejected('old')]).toEqual([60, 560])
    // Forty more each: each source's hundredth prunes it. gh goes down to its newest ten; the backlog loses
    // at most 200 rows a prune, inside the intake transaction, and shrinks over the next prunes.
    await forged('gh', 40)
    await forged('old', 40)
    expect([rejected('gh'), rejected('old')]).toEqual([10, 400])
    const after: number[] = []
    for (let i = 0; i < 4; i++) {
      await forged('old', 100)
      after.push(rejected('old'))
    }
    expect(after).toEqual([300, 200, 100, 10])
  })

  it('keeps a sender-chosen type to 200 characters and a long delivery id as its hash', async () => {
    const long = 'order.' + 'x'.repeat(5000)
    const sent = await http(`${t.url}/hooks/shop`, { body: JSON.stringify({ type: long }) })
    const stored = await t.engine.call('events.get', { id: (sent.json as { id: string }).id })
    expect(stored.type).toBe(long.slice(0, 200))
    // Metric labels carry the cut type too.
    expect(t.engine.prometheus()).toContain(`type="${long.slice(0, 200)}"`)
    expect(t.engine.prometheus()).not.toContain('x'.repeat(200))

    const key = 'k'.repeat(5000)
    const post = (idempotencyKey: string) =>
      http(`${t.url}/hooks/shop`, { headers: { 'idempotency-key': idempotencyKey }, body: '{}' })
    const first = (await post(key)).json as { id: string; duplicate: boolean }
    expect((await t.engine.call('events.get', { id: first.id })).dedupId).toMatch(/^sha256:[0-9a-f]{64}$/)
    // The same id again is a duplicate; another id with the same first thousands of characters is not.
    expect((await post(key)).json).toMatchObject({ duplicate: true, duplicateOf: first.id })
    expect((await post(key + 'z')).json).toMatchObject({ duplicate: false })
  })

  it('answers every unverified handshake but records them like rejected requests, bounded in rate and size', async () => {
    await t.engine.call('sources.create', {
      id: 'graph',
      name: 'Graph',
      provider: 'microsoft-graph',
      options: { clientState: 'state-1' },
    })
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        http(`${t.url}/hooks/graph?validationToken=token-${i}`, { body: 'x'.repeat(100_000) }),
      ),
    )
    expect(answers.map((r) => r.text)).toEqual(Array.from({ length: 40 }, (_, i) => `token-${i}`))
    const rows = t.engine.db
      .prepare(`SELECT length(body) AS kept, body_truncated FROM events WHERE source_id = 'graph'`)
      .all() as Array<{ kept: number; body_truncated: number }>
    // The default burst is 20 records per source.
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThanOrEqual(21)
    expect(rows.every((r) => r.kept === 4096 && r.body_truncated === 1)).toBe(true)
  })

  it('keeps the credentials a sender presents out of what it stores: header tokens and a secret path', async () => {
    const path = 'HaSecretPath0123456789'
    // The secret path given as the source secret (not as options.secretPath), as the design allows.
    await t.engine.call('sources.create', { id: 'ha', name: 'HA', provider: 'home-assistant', secret: path })
    await t.engine.call('sources.create', {
      id: 'cal',
      name: 'Calendar',
      provider: 'google-calendar',
      options: { channelToken: 'goog-channel-token-1' },
    })
    const stored = async (res: { status: number; json: unknown }) => {
      expect(res.status).toBe(200)
      return t.engine.call('events.get', { id: (res.json as { id: string }).id })
    }
    const plain = await stored(await http(`${t.url}/hooks/ha/${path}`, { body: '{"event_type":"door"}' }))
    expect(plain.path).toBe('/hooks/ha/[secret]')
    // Percent-encoded, it still verifies, and is still masked.
    const encoded = await stored(await http(`${t.url}/hooks/ha/H%61${path.slice(2)}`, { body: '{}' }))
    expect(encoded.path).toBe('/hooks/ha/[secret]')
    const sync = await stored(
      await http(`${t.url}/hooks/cal`, {
        method: 'POST',
        headers: {
          'x-goog-channel-id': 'ch1',
          'x-goog-channel-token': 'goog-channel-token-1',
          'x-goog-message-number': '2',
          'x-goog-resource-state': 'exists',
          'x-note': 'token goog-channel-token-1 again',
        },
      }),
    )
    expect(sync.headers['x-goog-channel-token']).toBe('[redacted]')
    expect(sync.headers['x-note']).toBe('token [secret] again')
    expect(sync.headers['x-goog-channel-id']).toBe('ch1')
  })

  it('emits each committed event on the change stream', async () => {
    const seen: Change[] = []
    const off = t.engine.changes.subscribe((c) => seen.push(c))
    const res = await http(`${t.url}/hooks/shop`, { body: '{"type":"ping","title":"Hello"}' })
    off()
    const change = seen.find((c) => c.type === 'event')
    expect(change).toMatchObject({
      type: 'event',
      event: { id: (res.json as { id: string }).id, summary: 'Hello' },
    })
  })

  it('cuts a client that never finishes its headers (slow loris)', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () => {
        socket.write('POST /hooks/shop HTTP/1.1\r\nHost: x\r\n')
      })
      socket.resume()
      socket.on('close', () => resolve(true))
      socket.on('error', () => {})
      setTimeout(() => resolve(false), 5000).unref()
    })
    expect(closed).toBe(true)
    expect((await http(`${t.url}/hooks/shop`, { body: '{}' })).status).toBe(200)
  })

  it('pages the feed with a cursor, newest first', async () => {
    for (let i = 0; i < 7; i++) await http(`${t.url}/hooks/shop`, { body: `{"type":"t${i % 2}","i":${i}}` })
    const first = await t.engine.call('events.list', { limit: 3 })
    expect(first.items).toHaveLength(3)
    expect(first.nextCursor).not.toBeNull()
    const second = await t.engine.call('events.list', { limit: 3, before: first.nextCursor! })
    const third = await t.engine.call('events.list', { limit: 3, before: second.nextCursor! })
    const ids = [...first.items, ...second.items, ...third.items].map((e) => e.id)
    expect(new Set(ids).size).toBe(7)
    expect([...ids].sort().reverse()).toEqual(ids)
    expect(third.nextCursor).toBeNull()
    const filtered = await t.engine.call('events.list', { type: 't1' })
    expect(filtered.items.every((e) => e.type === 't1')).toBe(true)
    expect(filtered.items).toHaveLength(3)
  })
})
