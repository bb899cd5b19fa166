import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import zlib from 'node:zlib'

/** One outgoing request as a transport sends it (already rendered, headers lower-case). */
export interface TransportRequest {
  method: string
  url: string
  headers: Record<string, string>
  body: string | null
}

/** The final answer (after redirects): status, headers (lower-case names) and the body text, cut at `maxBytes`. */
export interface TransportResponse {
  status: number
  headers: Record<string, string>
  body: string | null
}

/**
 * Performs one HTTP exchange for a step. Rejects on a network failure or when `signal` aborts (the connection is
 * closed, whether the request was still being sent or its answer read).
 */
export type Transport = (
  request: TransportRequest,
  options: { signal: AbortSignal; maxBytes: number },
) => Promise<TransportResponse>

/** fetch's redirect limit. */
const MAX_REDIRECTS = 20
const REDIRECTS = new Set([301, 302, 303, 307, 308])
/** Headers that describe a request body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
]
/** Credentials that do not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie']
/** The headers fetch (undici) sends unless told otherwise, so that a server sees the same request either way. */
const DEFAULT_HEADERS: Record<string, string> = {
  accept: '*/*',
  'accept-language': '*',
  'sec-fetch-mode': 'cors',
  'user-agent': 'node',
  'accept-encoding': 'gzip, deflate',
}

/** A transport over any fetch implementation (an injected fake, a dry run's recorder). */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (request, { signal, maxBytes }) => {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? undefined,
      redirect: 'follow',
      signal,
    })
    const headers: Record<string, string> = {}
    response.headers.forEach((value, name) => (headers[name] = value))
    if (!response.body) return { status: response.status, headers, body: null }
    const reader = response.body.getReader()
    const chunks: Buffer[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      chunks.push(Buffer.from(value))
      if (size >= maxBytes) {
        await reader.cancel().catch(() => undefined)
        break
      }
    }
    return {
      status: response.status,
      headers,
      body: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'),
    }
  }
}

/** A transport with connections of its own to let go of: `close()` ends its idle keep-alive connections. */
export interface HttpTransport {
  send: Transport
  close(): void
}

/** The platform's fetch as it was when this module loaded (a fetch swapped in later is someone's fake). */
const PLATFORM_FETCH = globalThis.fetch

/**
 * The transport for the orchestrator's `fetch` dependency: the platform's own fetch is replaced by the
 * node:http(s) transport below (the same behaviour where a step can see it, at a fraction of the CPU per
 * request); any other fetch (a test's fake, a dry run's recorder) is used as given.
 */
export function transportFor(fetchImpl: typeof fetch): HttpTransport {
  if (fetchImpl === PLATFORM_FETCH) return createHttpTransport()
  return { send: fetchTransport(fetchImpl), close: () => undefined }
}

/**
 * The transport for real runs: node:http(s) with keep-alive pools, which costs a fraction of the CPU of the
 * platform's fetch per request, with fetch's behaviour where a step can see it: its default request headers,
 * redirects followed (at most 20; 301/302 after a POST and 303 become a GET without the body; credentials are not
 * sent to another origin), gzip and deflate answers decoded, and the connection closed when `signal` aborts. Idle
 * connections are closed before the server's announced keep-alive time runs out (Node's agent reads the hint),
 * so a request is not sent on a connection the server is closing.
 */
export function createHttpTransport(): HttpTransport {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  }
  let closed = false
  for (const agent of Object.values(agents)) {
    // Once closed, a connection that finishes its request is closed rather than kept for another one.
    const keep = agent.keepSocketAlive.bind(agent)
    agent.keepSocketAlive = (socket) => !closed && keep(socket)
  }
  const send: Transport = async (request, { signal, maxBytes }) => {
    let url = new URL(request.url)
    let method = request.method.toUpperCase()
    let body = request.body
    const headers: Record<string, string> = { ...DEFAULT_HEADERS, ...request.headers }
    for (let redirects = 0; ; redirects++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`cannot follow a redirect to ${url.protocol} URL ${url.href}`)
      if (body !== null) headers['content-length'] = String(Buffer.byteLength(body))
      else delete headers['content-length']
      const response = await exchange(agents, url, method, headers, body, signal)
      const location = response.headers.location
      if (!REDIRECTS.has(response.statusCode ?? 0) || !location) {
        return {
          status: response.statusCode ?? 0,
          headers: flatten(response.headers),
          body: await readText(response, method, maxBytes),
        }
      }
      response.resume()
      if (redirects >= MAX_REDIRECTS) throw new Error('redirect count exceeded')
      const next = new URL(location, url)
      const status = response.statusCode!
      if (
        (status === 303 && method !== 'GET' && method !== 'HEAD') ||
        ((status === 301 || status === 302) && method === 'POST')
      ) {
        method = 'GET'
        body = null
        for (const name of BODY_HEADERS) delete headers[name]
      }
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name]
      url = next
    }
  }
  return {
    send,
    // Requests still in flight finish (the queue gives them their grace); only idle connections close now.
    close: () => {
      closed = true
      for (const agent of Object.values(agents)) {
        for (const sockets of Object.values(agent.freeSockets))
          for (const socket of sockets ?? []) socket.destroy()
      }
    },
  }
}

function exchange(
  agents: { 'http:': http.Agent; 'https:': https.Agent },
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | null,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { method, headers, signal }
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...options, agent: agents['https:'] })
        : http.request(url, { ...options, agent: agents['http:'] })
    req.once('response', resolve)
    req.once('error', reject)
    req.end(body ?? undefined)
  })
}

/** Response headers as one string per name (repeated ones joined with ", ", as fetch's Headers has them). */
function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/** Statuses whose answer has no body (fetch gives them a null body). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** A decoder for a content coding, as fetch applies it; null for identity or a coding it leaves alone. */
function decoderFor(
  coding: string,
  first: Buffer,
): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress | null {
  if (coding === 'gzip' || coding === 'x-gzip') return zlib.createGunzip()
  // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate: the first byte tells them apart.
  if (coding === 'deflate')
    return (first[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw()
  if (coding === 'br') return zlib.createBrotliDecompress()
  return null
}

/**
 * The body as text, decoded as fetch decodes it (gzip, deflate, br), cut at `maxBytes` of decoded bytes (the
 * rest is not read: the connection is closed). Null for a HEAD request or a status without a body.
 */
function readText(response: IncomingMessage, method: string, maxBytes: number): Promise<string | null> {
  if (method === 'HEAD' || NULL_BODY.has(response.statusCode ?? 0)) {
    response.resume()
    return Promise.resolve(null)
  }
  const coding = (response.headers['content-encoding'] ?? '').trim().toLowerCase()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    let received = false
    let decoder: ReturnType<typeof decoderFor> | undefined
    const finish = () => {
      if (settled) return
      settled = true
      resolve(Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'))
    }
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      decoder?.destroy()
      reject(error)
    }
    const collect = (chunk: Buffer) => {
      if (settled) return
      chunks.push(chunk)
      size += chunk.length
      if (size >= maxBytes) {
        finish()
        decoder?.destroy()
        response.destroy()
      }
    }
    response.on('data', (chunk: Buffer) => {
      if (decoder === undefined) {
        decoder = decoderFor(coding, chunk)
        decoder?.on('data', collect).once('end', finish).once('error', fail)
      }
      if (decoder) decoder.write(chunk)
      else collect(chunk)
    })
    response.once('end', () => {
      received = true
      if (decoder) decoder.end()
      else finish()
    })
    response.once('error', fail)
    // A connection cut (or an abort) while the answer is read: no "end", only "close".
    response.once('close', () => {
      if (!received) fail(new Error('the connection closed before the answer was complete'))
    })
  })
}
