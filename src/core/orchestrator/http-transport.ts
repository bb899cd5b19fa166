import { pipeline, Transform, type Readable } from 'node:stream'
import zlib from 'node:zlib'
import { Agent, buildConnector } from 'undici'

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

/** fetch's redirect limit and the statuses it follows. */
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

/** Statuses whose answer has no body (fetch gives them a null body). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

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
    const body = response.body ? await readText(response.body, maxBytes) : null
    return { status: response.status, headers, body }
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
 * The transport for the orchestrator's `fetch` dependency: the platform's own fetch is replaced by the undici
 * transport below (the same behaviour where a step can see it, at a fraction of the CPU per request); any other
 * fetch (a test's fake, a dry run's recorder) is used as given.
 */
export function transportFor(fetchImpl: typeof fetch): HttpTransport {
  if (fetchImpl === PLATFORM_FETCH) return createHttpTransport()
  return { send: fetchTransport(fetchImpl), close: () => undefined }
}

/**
 * The transport for real runs: undici's `request` over an `Agent` of its own (keep-alive pools; fetch is built on
 * the same, at several times the CPU per request), with fetch's behaviour where a step can see it: its default
 * request headers, redirects followed (at most 20; 301/302 after a POST and 303 become a GET without the body;
 * credentials are not sent to another origin), gzip, deflate and br answers decoded, and the connection closed
 * when `signal` aborts. Idle connections close before the server's announced keep-alive time runs out.
 *
 * Redirects are followed here, not by undici's redirect interceptor, which differs from fetch where a step can
 * see it: it keeps content-type on a POST turned into a GET, and refuses at once a redirect to a URL it has
 * already visited (fetch follows such a loop until its limit).
 */
export function createHttpTransport(): HttpTransport {
  /** The origin of each request under way, once for each (see `connect`). */
  const underWay: string[] = []
  const connector = buildConnector({})
  const agent = new Agent({
    // The step's own time limit is the only one: undici's 300 s header and body time-outs would cut a longer one.
    headersTimeout: 0,
    bodyTimeout: 0,
    // undici 7 opens a new connection for a request aborted while it ran, only to drop the request and keep the
    // connection idle (nodejs/undici#5845): a connection asked for while no request to its origin is under way is
    // that one, and is refused.
    connect: (options, done) => {
      if (underWay.includes(`${options.protocol}//${options.host}`)) connector(options, done)
      else done(new Error('no request to this origin is under way'), null)
    },
  })
  const send: Transport = async (request, options) => {
    const held: string[] = []
    const hold = (origin: string) => void (held.push(origin), underWay.push(origin))
    try {
      return await exchange(agent, request, options, hold)
    } finally {
      for (const origin of held) underWay.splice(underWay.indexOf(origin), 1)
      // undici hands a connection back to its pool one turn of the event loop after the answer ended: a request
      // sent before that turn would open another connection instead of reusing this one.
      await new Promise(setImmediate)
    }
  }
  return {
    send,
    // Requests still in flight finish (the queue gives them their grace); idle connections close now.
    close: () => void agent.close().catch(() => undefined),
  }
}

/** One request and the redirects it leads to; `hold` is told each origin before a request is sent there. */
async function exchange(
  agent: Agent,
  request: TransportRequest,
  { signal, maxBytes }: { signal: AbortSignal; maxBytes: number },
  hold: (origin: string) => void,
): Promise<TransportResponse> {
  let url = new URL(request.url)
  let method = request.method.toUpperCase()
  let body = request.body
  // undici sets content-length from the body (a step's own would be refused if it disagreed).
  const { 'content-length': _, ...given } = request.headers
  const headers: Record<string, string> = { ...DEFAULT_HEADERS, ...given }
  for (let redirects = 0; ; redirects++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`cannot follow a redirect to ${url.protocol} URL ${url.href}`)
    // undici would drop user:password@ silently; fetch refuses such a URL, and so does this.
    if (url.username || url.password)
      throw new Error('a URL with credentials (user:password@) is not sent: use an authorization header')
    hold(url.origin)
    const path = url.pathname + url.search
    const response = await agent.request({ origin: url.origin, path, method, headers, body, signal })
    const { statusCode: status, headers: received, body: answer } = response
    const location = received.location
    if (!REDIRECTS.has(status) || typeof location !== 'string') {
      const empty = method === 'HEAD' || NULL_BODY.has(status)
      // An answer not used is read and dropped, so that its connection can carry the next request.
      if (empty) void answer.dump()
      const coding = String(received['content-encoding'] ?? '')
        .trim()
        .toLowerCase()
      return {
        status,
        headers: flatten(received),
        body: empty ? null : await readText(decoded(answer, coding), maxBytes),
      }
    }
    void answer.dump()
    if (redirects >= MAX_REDIRECTS) throw new Error('redirect count exceeded')
    const next = new URL(location, url)
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

/** Response headers as one string per name (repeated ones joined with ", ", as fetch's Headers has them). */
function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/** The decoders for the content codings fetch decodes; an answer in any other coding is left as it is. */
const DECODERS = new Map<string, () => Transform>([
  ['gzip', zlib.createGunzip],
  ['x-gzip', zlib.createGunzip],
  ['br', zlib.createBrotliDecompress],
  ['deflate', inflate],
])

/** The body decoded (a failure on either side, a cut connection or a corrupt answer, ends both for the reader). */
function decoded(body: Readable, coding: string): Readable {
  const decoder = DECODERS.get(coding)
  return decoder ? pipeline(body, decoder(), () => undefined) : body
}

/** "deflate" is meant to be zlib-wrapped, but some servers send it raw: the first byte tells them apart. */
function inflate(): Transform {
  let inflater: zlib.Inflate | zlib.InflateRaw | undefined
  const out: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      inflater ??= ((chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate() : zlib.createInflateRaw())
        .on('data', (data: Buffer) => out.push(data))
        .once('error', (error) => out.destroy(error))
      inflater.write(chunk, () => done())
    },
    flush(done) {
      if (inflater) inflater.once('end', () => done()).end()
      else done()
    },
    destroy(error, done) {
      inflater?.destroy()
      done(error)
    },
  })
  return out
}

/**
 * The (decoded) body as text, cut at `maxBytes`: the rest is not read (leaving the loop destroys or cancels the
 * body, which closes its connection).
 */
async function readText(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    size += chunk.byteLength
    if (size >= maxBytes) break
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8')
}
