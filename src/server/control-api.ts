import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiError } from '../shared/contract'
import type { Engine } from '../core/engine'
import { authenticate, hostAllowed, loopbackOrigins, safeEqual, SESSION_COOKIE, sessionValue } from './auth'
import { matchRoute } from './routes'
import { openChangeStream } from './change-stream'
import { serveStatic } from './static-files'

const MAX_JSON_BYTES = 2 * 1024 * 1024

/** Routes the control API serves beyond the contract's JSON operations (raw bytes, text formats, streams). */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>

export interface ControlApiOptions {
  engine: Engine
  token: string
  /** Folder of the built renderer (index.html + assets), served at `/`; null to serve no UI. */
  rendererDir: string | null
  /** Extra authenticated routes, tried before the contract's. */
  extraRoutes?: ExtraRoute[]
}

/**
 * The control API: loopback only, bearer token on every route but /api/health, or the session cookie set by
 * /login (then changes must carry a matching Origin). Routes and validation come from the contract.
 */
export class ControlApi {
  private server: Server | null = null
  private port = 0
  private readonly streams = new Set<ServerResponse>()

  constructor(private readonly options: ControlApiOptions) {}

  listen(port: number): Promise<AddressInfo> {
    const server = createServer({ headersTimeout: 10_000, requestTimeout: 60_000 }, (req, res) => {
      this.handle(req, res).catch((error) => this.fail(res, error))
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      // Loopback only, whatever the receiver's --host: the control API is never exposed.
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        const address = server.address() as AddressInfo
        this.port = address.port
        resolve(address)
      })
    })
  }

  async close(): Promise<void> {
    for (const res of this.streams) res.end()
    const server = this.server
    this.server = null
    if (!server) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff')
    res.setHeader('referrer-policy', 'no-referrer')
    if (!hostAllowed(req.headers.host, this.port)) {
      throw new ApiError('forbidden', 'this server answers only on its loopback address')
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${this.port}`)
    const method = req.method ?? 'GET'

    if (url.pathname === '/login') return this.login(url, res)

    const match = url.pathname.startsWith('/api/') ? matchRoute(method, url.pathname) : null
    const isPublic = match?.route?.public === true
    const credential = authenticate(req, this.options.token)

    if (!isPublic && !credential) {
      if (!url.pathname.startsWith('/api/') && method === 'GET') return this.loginHint(res)
      throw new ApiError('unauthorized', 'missing or wrong token (Authorization: Bearer <token>)')
    }
    if (credential === 'cookie' && method !== 'GET' && method !== 'HEAD') {
      const origin = req.headers.origin
      if (!origin || !loopbackOrigins(this.port).has(origin)) {
        throw new ApiError('forbidden', 'a change made with the session cookie must come from this origin')
      }
    }

    if (url.pathname === '/api/stream' && method === 'GET')
      return openChangeStream(req, res, this.options.engine, this.streams)
    for (const extra of this.options.extraRoutes ?? []) if (await extra(req, res, url)) return
    if (match && match.route?.name === 'events.body' && 'params' in match)
      return this.rawBody(res, match.params.id!)

    if (match) {
      if (!match.route) {
        if (match.allowed.length === 0) throw new ApiError('not_found', `no route ${method} ${url.pathname}`)
        res.setHeader('allow', [...new Set(match.allowed)].join(', '))
        throw new ApiError('method_not_allowed', `${method} is not allowed on ${url.pathname}`)
      }
      const input: Record<string, unknown> = {}
      if (method === 'GET' || method === 'DELETE' || method === 'HEAD') {
        for (const [key, value] of url.searchParams) input[key] = value
      } else {
        const body = await readJson(req)
        if (body !== undefined) {
          if (typeof body !== 'object' || body === null || Array.isArray(body)) {
            throw new ApiError('bad_request', 'the request body must be a JSON object')
          }
          Object.assign(input, body)
        }
      }
      Object.assign(input, match.params)
      const result = await this.options.engine.call(match.route.name, input)
      const status = method === 'POST' && match.route.name.endsWith('.create') ? 201 : 200
      return sendJson(res, status, result)
    }

    if (method === 'GET' || method === 'HEAD') {
      if (this.options.rendererDir && (await serveStatic(this.options.rendererDir, url.pathname, res))) return
    }
    throw new ApiError('not_found', `no route ${method} ${url.pathname}`)
  }

  /** `/login?token=…` sets the session cookie (EventSource cannot send a header) and redirects to the UI. */
  private login(url: URL, res: ServerResponse): void {
    const token = url.searchParams.get('token') ?? ''
    if (!safeEqual(token, this.options.token)) throw new ApiError('unauthorized', 'wrong token')
    res.writeHead(303, {
      location: '/',
      'set-cookie': `${SESSION_COOKIE}=${sessionValue(this.options.token)}; HttpOnly; SameSite=Strict; Path=/`,
      'cache-control': 'no-store',
    })
    res.end()
  }

  private loginHint(res: ServerResponse): void {
    const html =
      '<!doctype html><meta charset="utf-8"><title>Switchboard</title>' +
      '<p>Open the login link that <code>npm run serve</code> printed (it ends in <code>/login?token=…</code>).</p>'
    res.writeHead(401, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'",
    })
    res.end(html)
  }

  /** The raw body with its original content type, sandboxed so a stored HTML body can never run on this origin. */
  private async rawBody(res: ServerResponse, id: string): Promise<void> {
    const { contentType, base64 } = await this.options.engine.call('events.body', { id })
    const body = Buffer.from(base64, 'base64')
    res.writeHead(200, {
      'content-type': contentType ?? 'application/octet-stream',
      'content-length': body.length,
      'content-security-policy': 'sandbox',
      'content-disposition': 'attachment',
      'cache-control': 'no-store',
    })
    res.end(body)
  }

  private fail(res: ServerResponse, error: unknown): void {
    const apiError = error instanceof ApiError ? error : new ApiError('internal', 'internal error')
    if (!(error instanceof ApiError)) console.error('control API error:', error)
    if (res.headersSent) {
      res.end()
      return
    }
    sendJson(res, apiError.status, apiError.toJSON())
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_JSON_BYTES)
      throw new ApiError('payload_too_large', `request body over ${MAX_JSON_BYTES} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  const type = req.headers['content-type'] ?? ''
  if (!type.includes('json'))
    throw new ApiError('unsupported_media_type', 'send JSON (Content-Type: application/json)')
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError('bad_request', 'the request body is not valid JSON')
  }
}
