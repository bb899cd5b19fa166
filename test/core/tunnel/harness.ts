import http from 'node:http'
import type { AddressInfo, LookupFunction } from 'node:net'

/** One request the stand-in receiver got. */
export interface Received {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/**
 * A tiny stand-in for the receiver on 127.0.0.1: answers `/hooks/.probe/<nonce>` with the nonce when `probe`
 * says so (as the real receiver asks the supervisor), and records every other request, answering 200 JSON.
 */
export async function startStandInReceiver(
  probe: (nonce: string) => boolean = () => false,
  port = 0,
): Promise<{
  port: number
  received: Received[]
  probes: number
  close(): Promise<void>
}> {
  const state = { received: [] as Received[], probes: 0 }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      const probeMatch = /^\/hooks\/\.probe\/([^/?]+)$/.exec(path)
      if (probeMatch) {
        state.probes++
        const nonce = decodeURIComponent(probeMatch[1]!)
        if (probe(nonce)) {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.end(nonce)
        } else {
          res.statusCode = 404
          res.end()
        }
        return
      }
      state.received.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks),
      })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: `evt_${state.received.length}`, duplicate: false }))
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    received: state.received,
    get probes() {
      return state.probes
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Sends a webhook to a public URL, resolving its name with `lookup` the way DNS would. */
export function sendWebhook(
  url: string,
  body: Buffer | string,
  lookup: LookupFunction,
  timeoutMs = 3000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      lookup,
      agent: false,
      headers: { 'content-type': 'application/octet-stream', 'bypass-tunnel-reminder': '1' },
    })
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    req.end(body)
  })
}

/** Polls `check` until it returns a truthy value (or stops throwing), within a bound; returns that value. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 8000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown = null
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
