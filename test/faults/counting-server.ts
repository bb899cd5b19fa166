import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One call the counting server received. */
export interface CountedCall {
  key: string | null
  path: string
  body: string
  at: number
}

/**
 * A local fake API for workflow steps: answers 200 `{"ok":true}` to anything and records every call with its
 * `Idempotency-Key`, so a test can count total calls and distinct keys (a repeated completed step shows up as
 * a key seen twice).
 */
export interface CountingServer {
  url: string
  calls: CountedCall[]
  /** Distinct Idempotency-Key values seen. */
  keys(): Set<string>
  /** Called on each call (e.g. to time the first step of a run). */
  onCall?: (call: CountedCall) => void
  close(): Promise<void>
}

export async function startCountingServer(): Promise<CountingServer> {
  const calls: CountedCall[] = []
  const counting: CountingServer = {
    url: '',
    calls,
    keys: () => new Set(calls.map((c) => c.key).filter((k): k is string => k !== null)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const key = req.headers['idempotency-key']
      const call: CountedCall = {
        key: typeof key === 'string' ? key : null,
        path: req.url ?? '/',
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      }
      calls.push(call)
      counting.onCall?.(call)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  counting.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return counting
}
