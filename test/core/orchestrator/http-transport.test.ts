import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createHttpTransport,
  fetchTransport,
  transportFor,
  type HttpTransport,
  type TransportRequest,
} from '../../../src/core/orchestrator/http-transport'
import { send } from '../../../src/core/orchestrator/outbound'

interface Seen {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: string
}

interface TestServer {
  url: string
  seen: Seen[]
  /** TCP connections accepted so far. */
  connections: number
  /** TCP connections open now. */
  open: number
  close(): Promise<void>
}

const open: Array<{ close(): unknown }> = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  keepAliveTimeout = 5000,
): Promise<TestServer> {
  const seen: Seen[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      seen.push({ method: req.method!, path: req.url!, headers: req.headers, body })
      handler(req, res, body)
    })
  })
  server.keepAliveTimeout = keepAliveTimeout
  const test: TestServer = {
    url: '',
    seen,
    connections: 0,
    open: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  server.on('connection', (socket) => {
    test.connections++
    test.open++
    socket.once('close', () => test.open--)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  test.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  open.push(test)
  return test
}

function transport(): HttpTransport {
  const t = createHttpTransport()
  open.push(t)
  return t
}

/** A self-signed certificate for 127.0.0.1, made for this test (trusted by nobody). */
const SELF_SIGNED = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHD3v+7mVHH17dBZk
wKOJx+7oe9H6VN46g78RUFykTTyhRANCAATnWwk7RIrSHETiR+FUzOBuEC3ikmsP
ZGS2kcUAQ70wQs9UpuMnsjkkvmD3//UyYy4buclWsnLxCnA+OXSy9N1l
-----END PRIVATE KEY-----`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUUSBPTwPdzdETU+o6Gm7q6xEGhtswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyODA3MjQxMVoYDzIxMjYxMTA0
MDcyNDExWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATnWwk7RIrSHETiR+FUzOBuEC3ikmsPZGS2kcUAQ70wQs9UpuMnsjkk
vmD3//UyYy4buclWsnLxCnA+OXSy9N1lo28wbTAdBgNVHQ4EFgQUC9ihRNlMKvef
bF6H7eInE0b8EKQwHwYDVR0jBBgwFoAUC9ihRNlMKvefbF6H7eInE0b8EKQwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIhAMbmYqcTl3DSvS+pYClqU4arp6/4i3gyouymSj62G+z/AiAq
SrnwvR24W/yCPT5e0LrQK3zJjg5ZeTTajXRpqgwpCw==
-----END CERTIFICATE-----`,
}

const options = () => ({ signal: new AbortController().signal, maxBytes: 1024 * 1024 })
const post = (url: string, body: string, headers: Record<string, string> = {}): TransportRequest => ({
  method: 'POST',
  url,
  headers: { 'content-type': 'application/json', ...headers },
  body,
})

describe('the node:http transport', () => {
  it('sends what fetch sends and answers what fetch answers', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(201, { 'content-type': 'application/json', 'x-many': ['a', 'b'] }).end('{"ok":true}'),
    )
    const request = post(`${server.url}/orders?x=1`, '{"n":1}', { 'idempotency-key': 'run_1:a' })
    const viaFetch = await fetchTransport(fetch)(request, options())
    const viaHttp = await transport().send(request, options())

    for (const answer of [viaFetch, viaHttp]) {
      expect(answer.status).toBe(201)
      expect(answer.body).toBe('{"ok":true}')
      expect(answer.headers['content-type']).toBe('application/json')
      expect(answer.headers['x-many']).toBe('a, b')
    }
    const [fromFetch, fromHttp] = server.seen
    expect(fromHttp!.method).toBe(fromFetch!.method)
    expect(fromHttp!.path).toBe('/orders?x=1')
    expect(fromHttp!.body).toBe(fromFetch!.body)
    const { host: _h1, ...fetchHeaders } = fromFetch!.headers
    const { host: _h2, ...httpHeaders } = fromHttp!.headers
    expect(httpHeaders).toEqual(fetchHeaders)
  })

  it('keeps connections alive between requests, but not past the keep-alive time the server announces', async () => {
    const lasting = await serve((_req, res) => res.end('ok'), 5000)
    const t = transport()
    for (let i = 0; i < 3; i++) await t.send(post(lasting.url, '{}'), options())
    expect(lasting.connections).toBe(1)

    // "Keep-Alive: timeout=1": too short to reuse safely (the server may close it as a request goes out).
    const brief = await serve((_req, res) => res.end('ok'), 1000)
    for (let i = 0; i < 3; i++) await t.send(post(brief.url, '{}'), options())
    expect(brief.connections).toBe(3)
  })

  it('follows redirects as fetch does: 301/302 after a POST and 303 become a GET without the body; 307/308 resend it', async () => {
    const server = await serve((req, res) => {
      const hop = /^\/(\d{3})$/.exec(req.url!)
      if (hop) res.writeHead(Number(hop[1]), { location: '/end' }).end()
      else res.end(`${req.method} ${req.headers['content-type'] ?? '-'}`)
    })
    const t = transport()
    for (const [status, expected] of [
      ['301', 'GET -'],
      ['302', 'GET -'],
      ['303', 'GET -'],
      ['307', 'POST application/json'],
      ['308', 'POST application/json'],
    ] as const) {
      const answer = await t.send(post(`${server.url}/${status}`, '{"n":1}'), options())
      expect([status, answer.status, answer.body]).toEqual([status, 200, expected])
      expect(server.seen.at(-1)!.body).toBe(expected.startsWith('POST') ? '{"n":1}' : '')
    }
    // A PUT keeps its method and body on 301/302 (only POST is turned into a GET).
    const put = await t.send({ ...post(`${server.url}/302`, 'x'), method: 'PUT' }, options())
    expect(put.body).toBe('PUT application/json')
  })

  it('does not carry credentials to another origin, and gives up after 20 redirects', async () => {
    const other = await serve((req, res) => res.end(String(req.headers.authorization ?? 'none')))
    const server = await serve((req, res) => {
      if (req.url === '/same') res.writeHead(302, { location: '/echo' }).end()
      else if (req.url === '/away') res.writeHead(302, { location: `${other.url}/echo` }).end()
      else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end()
      else res.end(String(req.headers.authorization ?? 'none'))
    })
    const t = transport()
    const withAuth = (path: string) => ({
      method: 'GET',
      url: `${server.url}${path}`,
      headers: { authorization: 'Bearer s3cret' },
      body: null,
    })
    expect((await t.send(withAuth('/same'), options())).body).toBe('Bearer s3cret')
    expect((await t.send(withAuth('/away'), options())).body).toBe('none')
    await expect(t.send(withAuth('/loop'), options())).rejects.toThrow(/redirect count exceeded/)
    expect(server.seen.filter((s) => s.path === '/loop')).toHaveLength(21)
  })

  it('decodes gzip, deflate (wrapped or raw) and br answers', async () => {
    const text = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i })) })
    const bodies: Record<string, Buffer> = {
      gzip: gzipSync(text),
      deflate: deflateSync(text),
      'deflate-raw': deflateRawSync(text),
      br: brotliCompressSync(text),
    }
    const server = await serve((req, res) => {
      const coding = req.url!.slice(1)
      res.writeHead(200, { 'content-encoding': coding.replace('-raw', '') }).end(bodies[coding])
    })
    const t = transport()
    for (const coding of Object.keys(bodies)) {
      const answer = await t.send(
        { method: 'GET', url: `${server.url}/${coding}`, headers: {}, body: null },
        options(),
      )
      expect([coding, answer.body]).toEqual([coding, text])
    }
  })

  it('reads an answer only up to the limit, and no body for HEAD or 204', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/empty') res.writeHead(204).end()
      else res.end('x'.repeat(100_000))
    })
    const t = transport()
    const cut = await t.send(
      { method: 'GET', url: `${server.url}/big`, headers: {}, body: null },
      {
        signal: new AbortController().signal,
        maxBytes: 1000,
      },
    )
    expect(cut.body).toBe('x'.repeat(1000))
    const head = await t.send(
      { method: 'HEAD', url: `${server.url}/big`, headers: {}, body: null },
      options(),
    )
    expect(head.body).toBeNull()
    const empty = await t.send(
      { method: 'GET', url: `${server.url}/empty`, headers: {}, body: null },
      options(),
    )
    expect([empty.status, empty.body]).toEqual([204, null])
  })

  it('closes the connection when the signal aborts, before or during the answer', async () => {
    // One server that never answers, one that answers only part of its body.
    let held: ServerResponse | null = null
    const server = await serve((_req, res) => (held = res))
    const waiting = await serve((_req, res) => {
      res.writeHead(200)
      res.write('part of it')
    })
    const t = transport()
    const before = new AbortController()
    const pending = t.send(post(server.url, '{}'), { signal: before.signal, maxBytes: 1000 })
    while (!held) await new Promise((r) => setTimeout(r, 5))
    before.abort()
    await expect(pending).rejects.toThrow()

    const during = new AbortController()
    const reading = t.send(post(waiting.url, '{}'), { signal: during.signal, maxBytes: 1000 })
    while (waiting.seen.length === 0) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 20))
    during.abort()
    await expect(reading).rejects.toThrow()
  })

  it('reports a refused connection as a retryable failure with its reason', async () => {
    const server = await serve((_req, res) => res.end())
    const url = server.url
    await server.close()
    open.pop()
    const result = await send(
      transport().send,
      { method: 'POST', url, headers: {}, body: '{}' },
      {
        timeoutMs: 5000,
        signal: new AbortController().signal,
        now: () => Date.now(),
      },
    )
    expect(result).toMatchObject({ ok: false, retryable: true })
    expect(result.error).toMatch(/^request failed: connect ECONNREFUSED/)
  })

  it('cuts a request off at its time limit, on a cancel and on an engine stop, each reported as such', async () => {
    const silent = await serve(() => undefined)
    const t = transport()
    const request = post(silent.url, '{}')
    const base = { timeoutMs: 60_000, signal: new AbortController().signal, now: () => Date.now() }

    const late = await send(t.send, request, { ...base, timeoutMs: 100 })
    expect(late).toMatchObject({ ok: false, retryable: true, error: 'no answer within 100 ms' })

    const cancel = new AbortController()
    const cancelled = send(t.send, request, { ...base, cancel: cancel.signal })
    setTimeout(() => cancel.abort(), 50)
    expect(await cancelled).toMatchObject({ ok: false, retryable: false, aborted: true })

    const engine = new AbortController()
    const stopping = send(t.send, request, { ...base, signal: engine.signal })
    setTimeout(() => engine.abort(), 50)
    await expect(stopping).rejects.toThrow()
    // Each of the three requests arrived, and each connection was closed when its request was cut off.
    await new Promise((r) => setTimeout(r, 50))
    expect(silent.seen).toHaveLength(3)
    expect(silent.open).toBe(0)
  })

  it('refuses, as fetch does, an https server whose certificate it cannot verify', async () => {
    const server = createTlsServer(SELF_SIGNED, (_req, res) => res.end('should not be read'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) })
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
    const base = { timeoutMs: 5000, signal: new AbortController().signal, now: () => Date.now() }
    for (const via of [transport().send, fetchTransport(fetch)]) {
      const result = await send(via, { method: 'GET', url, headers: {}, body: null }, base)
      expect(result).toMatchObject({ ok: false, retryable: true })
      expect(result.error).toMatch(/^request failed: self[- ]signed certificate/)
    }
  })

  it('is used for the platform fetch only: any other fetch (a fake, a recorder) is used as given', async () => {
    const server = await serve((_req, res) => res.end('from the server'))
    const calls: string[] = []
    const fake = (async (url: string | URL | Request) => {
      calls.push(String(url))
      return new Response('from the fake')
    }) as typeof fetch
    const viaFake = transportFor(fake)
    const viaPlatform = transportFor(fetch)
    open.push(viaFake, viaPlatform)
    expect((await viaFake.send(post(server.url, '{}'), options())).body).toBe('from the fake')
    expect(calls).toEqual([server.url])
    expect((await viaPlatform.send(post(server.url, '{}'), options())).body).toBe('from the server')
  })
})
