import { connect, type Socket } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { quantile, runLoad } from '../support/load'
import { startTestEngine, type TestEngine } from '../support/engine'
import { recordFaultResult } from './fault-results'

const HEADERS_TIMEOUT_MS = 1000
const REQUEST_TIMEOUT_MS = 2000

interface Slow {
  socket: Socket
  openedAt: number
  closedAt: number | null
  timer: NodeJS.Timeout | null
}

/** A client that sends its request one byte every `everyMs` and never finishes (headers or body). */
function dribble(url: URL, phase: 'headers' | 'body', everyMs: number): Slow {
  const socket = connect(Number(url.port), url.hostname)
  const slow: Slow = { socket, openedAt: performance.now(), closedAt: null, timer: null }
  const head = `POST /hooks/slow HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n`
  const text =
    phase === 'headers'
      ? head + 'X-Padding: ' + 'a'.repeat(10_000)
      : head + 'Content-Length: 100000\r\n\r\n' + '{"a":"' + 'b'.repeat(99_990)
  let sent = phase === 'body' ? head.length + 26 : 0
  socket.on('connect', () => {
    if (phase === 'body') socket.write(text.slice(0, sent))
    slow.timer = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++]!)
    }, everyMs)
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    slow.closedAt = performance.now()
    if (slow.timer) clearInterval(slow.timer)
  })
  return slow
}

let engine: TestEngine | null = null
afterAll(async () => {
  await engine?.close()
})

describe('a slow-client attack (slowloris)', () => {
  it('keeps serving other senders while slow clients hold connections, and cuts the slow ones', async () => {
    engine = await startTestEngine({
      receiver: {
        port: 0,
        host: '127.0.0.1',
        limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
      },
    })
    await engine.engine.call('sources.create', { id: 'slow', name: 'Slow', provider: 'none' })
    const url = new URL(engine.url)
    const slow = [
      ...Array.from({ length: 300 }, () => dribble(url, 'headers', 200)),
      ...Array.from({ length: 200 }, () => dribble(url, 'body', 200)),
    ]
    await new Promise((r) => setTimeout(r, 300))
    const normal = await runLoad({
      url: engine.url,
      connections: 10,
      requests: 1000,
      timeoutMs: 10_000,
      build: (i) => ({
        path: '/hooks/slow',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'normal', i }),
      }),
    })
    // The slow ones must be cut by the receiver's timeouts (checked every 500 ms): 20 s is ten times the limit.
    const deadline = performance.now() + 20_000
    while (slow.some((s) => s.closedAt === null) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 250))
    const open = slow.filter((s) => s.closedAt === null).length
    for (const s of slow) s.socket.destroy()
    const held = slow
      .filter((s) => s.closedAt !== null)
      .map((s) => s.closedAt! - s.openedAt)
      .sort((x, y) => x - y)
    const stored = engine.engine.db
      .prepare(`SELECT COUNT(*) AS n FROM events WHERE source_id = 'slow'`)
      .get() as {
      n: number
    }
    recordFaultResult('slowloris', {
      faults: slow.length,
      events: normal.ok,
      lost: 0,
      details: {
        slowConnections: slow.length,
        limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS },
        normal: {
          sent: normal.sent,
          ok: normal.ok,
          statuses: normal.statuses,
          errors: normal.errors,
          p50: normal.p50,
          p99: normal.p99,
        },
        slowCut: {
          stillOpen: open,
          medianHeldMs: quantile(held, 0.5),
          maxHeldMs: held[held.length - 1] ?? null,
        },
        stored: stored.n,
      },
    })
    expect(normal.ok).toBe(1000)
    expect(normal.errors).toBe(0)
    expect(stored.n).toBe(1000)
    expect(open).toBe(0)
  }, 120_000)
})
