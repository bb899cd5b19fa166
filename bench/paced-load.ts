import { Agent, request } from 'node:http'
import { quantile, requestFor, type LoadRequest } from '../test/support/load'

export interface PacedOptions {
  /** Base URL; loopback only. */
  url: string
  /** Requests a second. */
  rate: number
  /** Requests in all (a bound: the run lasts count / rate seconds, plus the last answers). */
  count: number
  build(i: number): LoadRequest
}

export interface PacedResult {
  ok: number
  /** Non-2xx answers and requests that got no answer. */
  bad: number
  /** Latency of each answered request from when it was due, ms, ascending. */
  latencies: Float64Array
  p50: number
  p99: number
  max: number
}

/**
 * An open loop: request i is due at start + i / rate and goes out then, whatever has come back before, on as
 * many keep-alive connections as are busy. Its latency counts from when it was due, not from when it went
 * out, so a server stall shows in full rather than holding the generator back (no coordinated omission).
 */
export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const base = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 512 })
  const latencies = new Float64Array(options.count)
  let answered = 0
  let ok = 0
  let bad = 0
  const pending: Array<Promise<void>> = []
  const send = (i: number, due: number) =>
    new Promise<void>((resolve) => {
      const { options: requestOptions, body } = requestFor(base, options.build(i), agent, 30_000)
      const req = request(requestOptions, (res) => {
        res.resume()
        res.on('end', () => {
          latencies[answered++] = performance.now() - due
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) ok++
          else bad++
          resolve()
        })
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', () => {
        bad++
        resolve()
      })
      req.end(body)
    })
  const start = performance.now()
  for (let i = 0; i < options.count;) {
    const now = performance.now()
    for (; i < options.count && start + (i * 1000) / options.rate <= now; i++) {
      pending.push(send(i, start + (i * 1000) / options.rate))
    }
    if (i < options.count) {
      const wait = start + (i * 1000) / options.rate - performance.now()
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)))
    }
  }
  await Promise.all(pending)
  agent.destroy()
  const sorted = latencies.slice(0, answered).sort()
  return {
    ok,
    bad,
    latencies: sorted,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  }
}
