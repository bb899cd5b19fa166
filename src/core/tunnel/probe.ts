import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { Clock } from '../clock'

/** The receiver's reserved path for the tunnel's self-probe; the receiver answers it, never stores it. */
export const PROBE_PATH_PREFIX = '/hooks/.probe/'

export interface ProbeRequest {
  /** The public URL (tunnel or external), without a trailing slash. */
  publicUrl: string
  nonce: string
  timeoutMs: number
  clock: Clock
  /** Resolves the public name (tests map the relay's names to 127.0.0.1); the probe never bypasses the URL. */
  lookup?: LookupFunction
}

export interface PendingProbe {
  promise: Promise<void>
  cancel(): void
}

/**
 * Sends `GET <publicUrl>/hooks/.probe/<nonce>` through the public URL, on a fresh connection, and resolves
 * only when the answer is 200 with the nonce as its body within the deadline. Rejects with a readable reason
 * otherwise (timeout, network error, another status — e.g. the relay's 404 for an id it no longer knows).
 */
export function probePublicUrl(request: ProbeRequest): PendingProbe {
  let cancel: () => void = () => {}
  const promise = new Promise<void>((resolve, reject) => {
    let target: URL
    try {
      target = new URL(request.publicUrl + PROBE_PATH_PREFIX + encodeURIComponent(request.nonce))
    } catch {
      reject(new Error(`the public URL is not a URL: ${JSON.stringify(request.publicUrl)}`))
      return
    }
    const client = target.protocol === 'https:' ? https : http
    let settled = false
    const finish = (error: Error | null): void => {
      if (settled) return
      settled = true
      request.clock.clearTimeout(timer)
      req.destroy()
      if (error) reject(error)
      else resolve()
    }
    const req = client.request(target, {
      method: 'GET',
      agent: false,
      lookup: request.lookup,
      headers: {
        'user-agent': 'switchboard-tunnel-probe',
        // The public relay answers browser-like clients with a reminder page unless this header is present.
        'bypass-tunnel-reminder': '1',
      },
    })
    const timer = request.clock.setTimeout(
      () =>
        finish(
          new Error(
            `the self-probe got no answer through ${request.publicUrl} within ${request.timeoutMs} ms`,
          ),
        ),
      request.timeoutMs,
    )
    cancel = () => finish(new Error('probe cancelled'))
    req.on('error', (err) =>
      finish(new Error(`the self-probe through ${request.publicUrl} failed: ${err.message}`)),
    )
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('error', (err) => finish(new Error(`the self-probe answer broke off: ${err.message}`)))
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk
      })
      res.on('end', () => {
        if (res.statusCode !== 200)
          finish(new Error(`the self-probe through ${request.publicUrl} got HTTP ${res.statusCode}`))
        else if (body.trim() !== request.nonce)
          finish(new Error('the self-probe got an answer that is not ours'))
        else finish(null)
      })
    })
    req.end()
  })
  return { promise, cancel: () => cancel() }
}
