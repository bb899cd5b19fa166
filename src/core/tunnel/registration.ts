import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import type { Clock } from '../clock'

/** What a localtunnel relay grants on registration. */
export interface TunnelLease {
  /** The subdomain granted (may differ from the one asked for when that one is taken). */
  id: string
  /** The public URL, without a trailing slash. */
  url: string
  /** Host to open the socket pool to: the relay's `ip` when it sends one, else the registration host's name. */
  remoteHost: string
  /** TCP port of this client's socket pool on the relay. */
  remotePort: number
  /** How many sockets the relay accepts for this client. */
  maxConnections: number
}

/** The relay answered 4xx: asking again the same way will not help (an invalid or reserved subdomain, …). */
export class RegistrationRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly subdomain: string | null,
    reason: string,
  ) {
    super(
      subdomain === null
        ? `the relay refused a new tunnel (HTTP ${status}): ${reason}`
        : `the relay refused subdomain "${subdomain}" (HTTP ${status}): ${reason}`,
    )
    this.name = 'RegistrationRefusedError'
  }
}

export interface RegistrationRequest {
  /** Relay base URL, e.g. `https://localtunnel.me` or `https://lt.example.org/base`. */
  host: string
  /** Subdomain to ask for, or null for a random one (`/?new`). */
  subdomain: string | null
  timeoutMs: number
  clock: Clock
  lookup?: LookupFunction
}

/** An in-flight registration; `cancel()` aborts it and its promise rejects. */
export interface PendingRegistration {
  promise: Promise<TunnelLease>
  cancel(): void
}

const MAX_ANSWER_BYTES = 64 * 1024

/**
 * Registers a tunnel with a localtunnel relay: `GET <host>/?new` or `GET <host>/<subdomain>`, answered with
 * `{id, port, max_conn_count, url, ip?}`. Unlike the stock client this has a deadline, surfaces a 4xx as a
 * `RegistrationRefusedError` carrying the relay's `message`, and never retries on its own (the caller owns
 * backoff). Rejects with a readable error on a timeout, a network error, a 5xx or a malformed answer.
 */
export function registerTunnel(request: RegistrationRequest): PendingRegistration {
  let cancel: () => void = () => {}
  const promise = new Promise<TunnelLease>((resolve, reject) => {
    let base: URL
    try {
      base = new URL(request.host)
      if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)')
    } catch {
      reject(new Error(`the relay host is not an http(s) URL: ${JSON.stringify(request.host)}`))
      return
    }
    const path =
      base.pathname.replace(/\/+$/, '') +
      (request.subdomain === null ? '/?new' : `/${encodeURIComponent(request.subdomain)}`)
    const client = base.protocol === 'https:' ? https : http
    const hostname = base.hostname.replace(/^\[|\]$/g, '')
    let settled = false
    const finish = (error: Error | null, lease?: TunnelLease): void => {
      if (settled) return
      settled = true
      request.clock.clearTimeout(timer)
      if (error) {
        req.destroy()
        reject(error)
      } else resolve(lease!)
    }
    const req = client.request({
      protocol: base.protocol,
      hostname,
      port: base.port || undefined,
      path,
      method: 'GET',
      agent: false,
      lookup: request.lookup,
      headers: {
        accept: 'application/json',
        'user-agent': 'switchboard-tunnel',
        // The public relay answers browser-like clients with a reminder page unless this header is present.
        'bypass-tunnel-reminder': '1',
      },
    })
    const timer = request.clock.setTimeout(
      () => finish(new Error(`the relay did not answer the registration within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    )
    cancel = () => finish(new Error('registration cancelled'))
    req.on('error', (err) => finish(new Error(`registration with ${base.origin} failed: ${err.message}`)))
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('error', (err) => finish(new Error(`registration answer broke off: ${err.message}`)))
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_ANSWER_BYTES)
          finish(new Error('the relay answered the registration with too much data'))
        else chunks.push(chunk)
      })
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const status = res.statusCode ?? 0
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          body = undefined
        }
        if (status >= 400 && status < 500) {
          const message =
            body && typeof (body as { message?: unknown }).message === 'string'
              ? (body as { message: string }).message
              : text.slice(0, 200) || 'no reason given'
          finish(new RegistrationRefusedError(status, request.subdomain, message))
          return
        }
        if (status !== 200) {
          finish(new Error(`the relay answered the registration with HTTP ${status}`))
          return
        }
        try {
          finish(null, parseLease(body, hostname))
        } catch (err) {
          finish(err as Error)
        }
      })
    })
    req.end()
  })
  return { promise, cancel: () => cancel() }
}

function parseLease(body: unknown, hostname: string): TunnelLease {
  const fail = (why: string): never => {
    throw new Error(`the relay's registration answer is malformed: ${why}`)
  }
  if (!body || typeof body !== 'object') fail('not a JSON object')
  const { id, port, max_conn_count: maxConn, url, ip } = body as Record<string, unknown>
  if (typeof id !== 'string' || id === '') fail('no id')
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail('no valid port')
  if (typeof url !== 'string') fail('no url')
  let parsed: URL
  try {
    parsed = new URL(url as string)
  } catch {
    return fail(`url is not a URL: ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail('url is not http(s)')
  const connections =
    typeof maxConn === 'number' && Number.isInteger(maxConn) && maxConn >= 1 ? Math.min(maxConn, 50) : 1
  return {
    id: id as string,
    url: (url as string).replace(/\/+$/, ''),
    remoteHost: typeof ip === 'string' && ip !== '' ? ip : hostname,
    remotePort: port as number,
    maxConnections: connections,
  }
}
