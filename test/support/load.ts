import { Agent, request, type RequestOptions } from 'node:http'

/** One request the load generator sends; built per request so bodies, ids and signatures can differ. */
export interface LoadRequest {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: Buffer | string
}

export interface LoadOptions {
  /** Base URL, e.g. `http://127.0.0.1:7770`. Only loopback is expected. */
  url: string
  /** Concurrent keep-alive connections. */
  connections: number
  /** Total requests to send (a bound, never a duration-only run). */
  requests: number
  /** Builds request number `i` (0-based). */
  build(i: number): LoadRequest
  /** Stop sending new requests after this long (requests already sent are still awaited). */
  maxDurationMs?: number
  /** Called with each answered request (status and parsed body text) — e.g. to record acknowledged ids. */
  onResponse?(i: number, status: number, body: string): void
  /** Abort sending new requests when this signal fires (a kill mid-stream makes the rest fail fast). */
  signal?: AbortSignal
  /** Per-request socket timeout; a request that gets no answer by then counts as an error. */
  timeoutMs?: number
}

export interface LoadResult {
  sent: number
  /** Requests answered with any HTTP status. */
  answered: number
  /** Requests with a 2xx answer. */
  ok: number
  statuses: Record<string, number>
  /** Connection errors, resets, timeouts (no HTTP answer). */
  errors: number
  durationMs: number
  /** 2xx answers per second over the run. */
  okPerSecond: number
  /** Latency of every answered request, ms, sorted ascending. */
  latencies: Float64Array
  p50: number
  p99: number
}

/** The node:http options and the body bytes that send one built request to `base` on `agent`. */
export function requestFor(
  base: URL,
  spec: LoadRequest,
  agent: Agent,
  timeoutMs: number,
): { options: RequestOptions; body: Buffer | undefined } {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body)
  return {
    options: {
      host: base.hostname,
      port: base.port,
      method: spec.method ?? 'POST',
      path: spec.path,
      agent,
      headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...spec.headers },
      timeout: timeoutMs,
    },
    body,
  }
}

/** The q-quantile (0..1) of an ascending array; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[index]!
}

/**
 * A small, bounded HTTP load generator on node:http: `connections` keep-alive sockets, each sending its next
 * request as soon as the previous one is answered, until `requests` have been sent. Records every latency.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const base = new URL(options.url)
  const latencies = new Float64Array(options.requests)
  const statuses: Record<string, number> = {}
  let next = 0
  let answered = 0
  let ok = 0
  let errors = 0
  const started = performance.now()
  const deadline = options.maxDurationMs === undefined ? Infinity : started + options.maxDurationMs
  const agents: Agent[] = []

  const one = (agent: Agent, i: number): Promise<void> =>
    new Promise((resolve) => {
      const { options: requestOptions, body } = requestFor(
        base,
        options.build(i),
        agent,
        options.timeoutMs ?? 30_000,
      )
      const t0 = performance.now()
      let settled = false
      const settle = () => {
        if (settled) return false
        settled = true
        resolve()
        return true
      }
      const req = request(requestOptions, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (settled) return
          latencies[answered++] = performance.now() - t0
          statuses[status] = (statuses[status] ?? 0) + 1
          if (status >= 200 && status < 300) ok++
          options.onResponse?.(i, status, Buffer.concat(chunks).toString('utf8'))
          settle()
        })
        res.on('error', () => {
          if (settle()) errors++
        })
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => {
        if (settle()) errors++
      })
      req.end(body)
    })

  const worker = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(agent)
    while (next < options.requests && !options.signal?.aborted && performance.now() < deadline) {
      await one(agent, next++)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.connections) }, worker))
  for (const agent of agents) agent.destroy()
  const durationMs = performance.now() - started
  const sorted = latencies.slice(0, answered).sort()
  return {
    sent: next,
    answered,
    ok,
    statuses,
    errors,
    durationMs,
    okPerSecond: (ok / durationMs) * 1000,
    latencies: sorted,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
  }
}
