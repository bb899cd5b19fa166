import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { EventStatus, EventSummary, Verification } from '../../shared/domain'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import { parseBody, type EventStore, type NewEvent } from '../events/event-store'
import { newId } from '../ids'
import type { HandshakeAnswer, InboundRequest } from '../providers/types'
import type { Queue } from '../queue/queue'
import { isCredentialHeader, redactCredential } from '../secrets/credential-headers'
import type { RuntimeSource, SourceStore } from '../sources/source-store'
import type { Db } from '../store/database'
import { GroupCommit } from './group-commit'
import { RateLimiter } from './rate-limit'
import { summarize } from './summary'

export interface ReceiverLimits {
  /** Time a client has to send its headers. */
  headersTimeoutMs: number
  /** Time a client has to send its whole request. */
  requestTimeoutMs: number
  /** Idle keep-alive sockets are closed after this. */
  keepAliveTimeoutMs: number
  maxConnections: number
  /**
   * Rejected requests and unverified handshakes recorded per source per second (beyond that they are answered
   * but not stored).
   */
  rejectedPerSecond: number
  rejectedBurst: number
  /** Bytes of a rejected request's body kept for the feed. */
  rejectedBodyPrefix: number
  /** Rejected requests kept per source; older ones are pruned as new ones arrive. */
  rejectedKeepPerSource: number
  /**
   * Request bodies held at once, all requests together (read but not yet committed): past it a request is
   * answered 503 with Retry-After, so many slow uploads cannot hold connections × body limit of memory.
   */
  maxBufferedBytes: number
}

export const DEFAULT_LIMITS: ReceiverLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2048,
  rejectedPerSecond: 5,
  rejectedBurst: 20,
  rejectedBodyPrefix: 4096,
  rejectedKeepPerSource: 1000,
  maxBufferedBytes: 128 * 1024 * 1024,
}

/** One request's outcome, for metrics. */
export interface ReceiverObservation {
  sourceId: string | null
  type: string | null
  status:
    EventStatus | 'unknown-source' | 'too-large' | 'rate-limited' | 'bad-method' | 'unsupported' | 'error'
  httpStatus: number
  latencyMs: number
}

export interface ReceiverDeps {
  db: Db
  sources: SourceStore
  events: EventStore
  queue: Queue
  clock: Clock
  changes: ChangeBus
  hopLimit: number
  isPaused(): boolean
  /** Whether anything (a workflow, a waiting run) listens to this source; no dispatch job otherwise. */
  listensTo?: (sourceId: string) => boolean
  observe?: (o: ReceiverObservation) => void
  limits?: Partial<ReceiverLimits>
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: object) => void
}

interface Write {
  event: NewEvent
  adoptSecret?: string
  notice?: string
}

/** A request body being read: held, and counted in Receiver.buffered, until the request is done with. */
interface Upload {
  chunks: Buffer[]
  size: number
  /** Answered 413 or 503 while still arriving: the rest is ignored. */
  refused: boolean
  /** Not yet counted out (see Receiver.finish). */
  open: boolean
}

interface WriteResult {
  status: EventStatus
  duplicateOf: string | null
  reason: string | null
  /** A dispatch job was added: the queue is woken after the commit. */
  enqueued: boolean
}

/** Rejected requests a source records between prunes of its oldest ones, and the most one prune deletes. */
const PRUNE_EVERY = 100
const PRUNE_MOST = 200
const HOOKS = '/hooks/'
const PROBE = '.probe'

/**
 * The public receiver: the only port the tunnel forwards. `ANY /hooks/:sourceId[/...]`; nothing else is served.
 * Every 2xx is sent after the event's transaction has committed (group commit).
 */
export class Receiver {
  private server: Server | null = null
  private readonly limits: ReceiverLimits
  private readonly rateLimiter = new RateLimiter()
  private readonly rejectLimiter = new RateLimiter()
  private readonly commits: GroupCommit<Write, WriteResult>
  private readonly pruneRejected
  private readonly lastTouched = new Map<string, number>()
  /** Adds a job inside the intake transaction (on the intake connection). */
  private readonly enqueue: ReturnType<Queue['adderOn']>
  private readonly rejectedSincePrune = new Map<string, number>()
  private inFlight = 0
  /** Bytes of request bodies held now (see ReceiverLimits.maxBufferedBytes). */
  private buffered = 0
  /** The response each connection is working on, so a protocol error does not answer ahead of it. */
  private readonly answering = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>()
  private drained: (() => void) | null = null

  /** Answers the tunnel's self-probe (set once the tunnel supervisor exists). */
  answerProbe: ((nonce: string) => boolean) | null = null

  constructor(private readonly deps: ReceiverDeps) {
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits }
    this.enqueue = deps.queue.adderOn(deps.db)
    // Inside the intake transaction, so bounded: at most PRUNE_MOST rows a time, found by the source's own index
    // of rejected requests (a backlog beyond the limit shrinks over the next prunes).
    this.pruneRejected = deps.db.prepare(
      `DELETE FROM events WHERE seq IN (
         SELECT seq FROM events INDEXED BY events_rejected
         WHERE source_id = @source AND status = 'rejected' AND seq < (
           SELECT seq FROM events INDEXED BY events_rejected WHERE source_id = @source AND status = 'rejected'
           ORDER BY seq DESC LIMIT 1 OFFSET @keep)
         ORDER BY seq LIMIT ${PRUNE_MOST})`,
    )
    this.commits = new GroupCommit<Write, WriteResult>(
      deps.db,
      (write) => this.write(write),
      (writes, results) => this.afterCommit(writes, results),
      () => deps.events.settle(false),
    )
  }

  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo> {
    const server = createServer(
      {
        headersTimeout: this.limits.headersTimeoutMs,
        requestTimeout: this.limits.requestTimeoutMs,
        keepAliveTimeout: this.limits.keepAliveTimeoutMs,
        // Node checks the two timeouts above only this often (30 s by default): check often enough to matter.
        connectionsCheckingInterval: Math.max(100, Math.min(1000, this.limits.headersTimeoutMs / 2)),
        maxHeaderSize: 32 * 1024,
      },
      (req, res) => this.handle(req, res),
    )
    server.maxConnections = this.limits.maxConnections
    // A client too slow (408) or speaking broken HTTP (400) is answered and cut: not half-closed, since a
    // slow-loris client keeps its side open and would hold the connection. When an earlier request on the same
    // connection still awaits its commit, its answer goes out first (a raw error must not overtake it).
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      const pending = this.answering.get(socket)
      if (pending && pending.req.complete && !pending.res.writableEnded) {
        pending.res.once('finish', () => socket.destroy())
        return
      }
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
          socket.destroy(),
        )
        setTimeout(() => socket.destroy(), 1000).unref()
      } else socket.destroy()
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve(server.address() as AddressInfo)
      })
    })
  }

  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null
  }

  /** Stop accepting, let requests already being read finish and commit, then close. */
  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = null
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise((r) => setTimeout(r, this.limits.requestTimeoutMs).unref()),
      ])
    }
    this.commits.flush()
    server.closeAllConnections()
    await closed
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now()
    this.answering.set(req.socket, { req, res })
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q)
    const query = q === -1 ? '' : rawUrl.slice(q + 1)
    if (!path.startsWith(HOOKS)) {
      this.observe(started, null, null, 'unknown-source', 404)
      return this.refuse(req, res, 404, 'not_found', 'not found')
    }
    const rest = path.slice(HOOKS.length)
    const slash = rest.indexOf('/')
    const sourceId = decodeSegment(slash === -1 ? rest : rest.slice(0, slash))

    if (sourceId === PROBE) {
      const nonce = slash === -1 ? '' : rest.slice(slash + 1)
      if (nonce && this.answerProbe?.(nonce)) {
        req.resume()
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(nonce)
        return
      }
      return this.refuse(req, res, 404, 'not_found', 'not found')
    }

    const source = sourceId === null ? null : this.deps.sources.runtime(sourceId)
    if (!source || !source.enabled) {
      this.observe(started, sourceId, null, 'unknown-source', 404)
      return this.refuse(req, res, 404, 'not_found', 'unknown source')
    }
    const method = req.method ?? 'GET'
    if (!source.provider.methods.includes(method)) {
      this.observe(started, source.id, null, 'bad-method', 405)
      return this.refuse(req, res, 405, 'method_not_allowed', `method ${method} not allowed`, {
        allow: source.provider.methods.join(', '),
      })
    }
    if (this.deps.isPaused()) {
      return this.refuse(req, res, 503, 'unavailable', 'intake is paused', { 'retry-after': '30' })
    }
    const now = this.deps.clock.now()
    if (source.rateLimit) {
      const wait = this.rateLimiter.take(source.id, source.rateLimit.perSecond, source.rateLimit.burst, now)
      if (wait > 0) {
        this.observe(started, source.id, null, 'rate-limited', 429)
        return this.refuse(req, res, 429, 'rate_limited', 'rate limited', {
          'retry-after': String(Math.max(1, Math.ceil(wait / 1000))),
        })
      }
    }
    const limit = source.maxBodyBytes
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limit) {
      this.observe(started, source.id, null, 'too-large', 413)
      return this.refuse(req, res, 413, 'payload_too_large', `body over the ${limit}-byte limit`)
    }

    this.inFlight++
    const upload: Upload = { chunks: [], size: 0, refused: false, open: true }
    req.on('data', (chunk: Buffer) => {
      if (upload.refused) return
      upload.size += chunk.length
      this.buffered += chunk.length
      // A refused request is done here: once its answer is sent, Node drops the rest of the upload and the
      // request may never end or abort, so waiting for that would hold a graceful shutdown for its timeout.
      if (upload.size > limit) {
        upload.refused = true
        this.observe(started, source.id, null, 'too-large', 413)
        this.refuse(req, res, 413, 'payload_too_large', `body over the ${limit}-byte limit`)
        this.finish(upload)
        return
      }
      if (this.buffered > this.limits.maxBufferedBytes) {
        upload.refused = true
        this.observe(started, source.id, null, 'error', 503)
        this.refuse(req, res, 503, 'unavailable', 'too many request bodies in flight, retry later', {
          'retry-after': '1',
        })
        this.finish(upload)
        return
      }
      upload.chunks.push(chunk)
    })
    req.on('error', () => this.finish(upload))
    req.on('aborted', () => this.finish(upload))
    req.on('end', () => {
      if (upload.refused) return this.finish(upload)
      const { chunks } = upload
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, upload.size)
      const inbound: InboundRequest = {
        method,
        path,
        query,
        headers: flattenHeaders(req),
        body,
        receivedAt: now,
      }
      this.accept(source, inbound, res, started).finally(() => this.finish(upload))
    })
  }

  /**
   * One request's outcome, for metrics, timed from when its handling started. (A method rather than a closure
   * made per request: under tsx, which the headless server runs on, every named closure costs a defineProperty.)
   */
  private observe(
    started: number,
    sourceId: string | null,
    type: string | null,
    status: ReceiverObservation['status'],
    httpStatus: number,
  ): void {
    this.deps.observe?.({ sourceId, type, status, httpStatus, latencyMs: performance.now() - started })
  }

  /**
   * The request is done with (answered, refused, or gone): stop holding its body and count it out once, since
   * 'aborted' can follow 'end' when the client leaves while its commit is pending.
   */
  private finish(upload: Upload): void {
    if (!upload.open) return
    upload.open = false
    this.buffered -= upload.size
    upload.size = 0
    upload.chunks.length = 0
    this.done()
  }

  private done(): void {
    this.inFlight--
    if (this.inFlight === 0 && this.drained) {
      this.drained()
      this.drained = null
    }
  }

  private async accept(
    source: RuntimeSource,
    req: InboundRequest,
    res: ServerResponse,
    started: number,
  ): Promise<void> {
    const { provider, ctx } = source
    const contentType = req.headers['content-type'] ?? null
    const json = parseBody(contentType, req.body)

    let handshake: HandshakeAnswer | null
    try {
      handshake = provider.handshake?.(req, ctx, json) ?? null
    } catch (error) {
      handshake = { status: 400, body: `handshake failed: ${(error as Error).message}` }
    }
    if (handshake) {
      // A handshake that changes the source (adopts a secret, leaves a notice) is always recorded with it. The
      // others cost the sender nothing (Graph's validationToken, Trello's HEAD need no credential): they are
      // recorded for the feed the way a rejected request is, bounded in rate and in body size.
      const changesSource = handshake.adoptSecret !== undefined || handshake.notice !== undefined
      if (handshake.status >= 200 && handshake.status < 300 && (changesSource || this.feedRoomFor(source))) {
        const event = this.newEvent(source, req, json, contentType, 'handshake', 'unsigned', null)
        try {
          await this.commits.submit({
            event: changesSource ? event : this.clipForFeed(event),
            adoptSecret: handshake.adoptSecret,
            notice: handshake.notice,
          })
        } catch (error) {
          return this.storeFailed(res, error, source.id, started)
        }
      }
      this.observe(started, source.id, null, 'handshake', handshake.status)
      res.writeHead(handshake.status, { 'cache-control': 'no-store', ...handshake.headers })
      res.end(handshake.body ?? '')
      return
    }

    if (provider.requiresJson && !(contentType ?? '').toLowerCase().includes('json')) {
      this.observe(started, source.id, null, 'unsupported', 415)
      return this.refuse(
        null,
        res,
        415,
        'unsupported_media_type',
        `${provider.name} sends JSON; got ${contentType ?? 'none'}`,
      )
    }

    const verification: Verification = provider.usesSecret ? 'verified' : 'unsigned'
    let reason: string | null = null
    let status: EventStatus = 'accepted'
    let verdict: ReturnType<typeof provider.verify>
    try {
      verdict = provider.verify(req, ctx)
    } catch (error) {
      verdict = { ok: false, reason: `verification error: ${(error as Error).message}` }
    }
    if (!verdict.ok) {
      const type = eventTypeOf(source, req, json)
      this.observe(started, source.id, type, 'rejected', 401)
      this.recordRejected(source, req, json, contentType, verdict.reason)
      return this.refuse(null, res, 401, 'unauthorized', verdict.reason)
    }

    const hop = parseHop(req.headers['switchboard-hop'])
    if (hop > this.deps.hopLimit) {
      status = 'blocked'
      reason = `Switchboard-Hop ${hop} is over the limit of ${this.deps.hopLimit} (a workflow loop?)`
    }
    const event = this.newEvent(source, req, json, contentType, status, verification, reason)
    let result: WriteResult
    try {
      result = await this.commits.submit({ event })
    } catch (error) {
      return this.storeFailed(res, error, source.id, started)
    }
    this.observe(started, source.id, event.type, result.status, 200)
    const answer: Record<string, unknown> = { id: event.id, duplicate: result.status === 'duplicate' }
    if (result.duplicateOf) answer.duplicateOf = result.duplicateOf
    if (result.status === 'blocked') answer.blocked = true
    sendJson(res, 200, answer)
  }

  private newEvent(
    source: RuntimeSource,
    req: InboundRequest,
    json: unknown,
    contentType: string | null,
    status: EventStatus,
    verification: Verification,
    reason: string | null,
  ): NewEvent {
    const { provider, ctx } = source
    const type = status === 'handshake' ? 'handshake' : eventTypeOf(source, req, json)
    const given = safe(() => provider.dedupId(req, json, ctx.options))
    // A delivery id is as long as the sender makes it; a long one is kept as its hash (still one id per id).
    const dedupId =
      given === null ? sha256(req.body) : given.length > MAX_DEDUP_ID_LENGTH ? sha256(given) : given
    return {
      id: newId('evt', req.receivedAt),
      sourceId: source.id,
      provider: provider.id,
      receivedAt: req.receivedAt,
      method: req.method,
      path: maskSecrets(req.path, source.secretValues),
      query: req.query,
      headers: redactCredentials(req.headers, source.secretValues),
      contentType,
      body: req.body,
      bodySize: req.body.length,
      bodyTruncated: false,
      dedupId,
      duplicateOf: null,
      type,
      status,
      verification,
      reason,
      hop: parseHop(req.headers['switchboard-hop']),
      summary: summarize(json, type),
      // Only a verified body can be a replay of one (an empty body identifies nothing: Twilio's GET requests).
      bodySha256:
        provider.bodyIdentifiesEvent && verification === 'verified' && req.body.length > 0
          ? createHash('sha256').update(req.body).digest()
          : null,
    }
  }

  /** Whether this source may record one more unverified request (rejected, or a handshake) for the feed now. */
  private feedRoomFor(source: RuntimeSource): boolean {
    const now = this.deps.clock.now()
    return (
      this.rejectLimiter.take(source.id, this.limits.rejectedPerSecond, this.limits.rejectedBurst, now) === 0
    )
  }

  /** An unverified request's body is kept only as far as the feed needs to show it. */
  private clipForFeed(event: NewEvent): NewEvent {
    const prefix = this.limits.rejectedBodyPrefix
    if (event.body.length > prefix) {
      event.body = Buffer.from(event.body.subarray(0, prefix))
      event.bodyTruncated = true
    }
    return event
  }

  /** Rejected requests are kept for the feed, bounded in rate, size and count so a flood cannot fill the disk. */
  private recordRejected(
    source: RuntimeSource,
    req: InboundRequest,
    json: unknown,
    contentType: string | null,
    reason: string,
  ): void {
    if (!this.feedRoomFor(source)) return
    const event = this.clipForFeed(
      this.newEvent(source, req, json, contentType, 'rejected', 'failed', reason),
    )
    this.commits
      .submit({ event })
      .catch((error) =>
        this.deps.log?.('warn', 'could not record a rejected request', { error: String(error) }),
      )
  }

  /** Runs inside the group-commit transaction. */
  private write(write: Write): WriteResult {
    const { event } = write
    const stored = this.deps.events.insert(event)
    const enqueued =
      stored.status === 'accepted' &&
      (this.deps.listensTo?.(event.sourceId) ?? true) &&
      this.enqueue('dispatch', { eventId: event.id }) !== null
    if (write.adoptSecret) this.deps.sources.adoptSecret(event.sourceId, write.adoptSecret)
    if (write.notice) this.deps.sources.setNotice(event.sourceId, write.notice)
    if (stored.status === 'rejected') {
      // Counted per source: with one count for all, a source was pruned only when its request happened to be
      // the hundredth, and then all at once.
      const since = (this.rejectedSincePrune.get(event.sourceId) ?? 0) + 1
      this.rejectedSincePrune.set(event.sourceId, since % PRUNE_EVERY)
      if (since >= PRUNE_EVERY) {
        this.pruneRejected.run({ source: event.sourceId, keep: this.limits.rejectedKeepPerSource - 1 })
      }
    }
    const last = this.lastTouched.get(event.sourceId) ?? 0
    if (event.receivedAt - last >= 1000) {
      this.lastTouched.set(event.sourceId, event.receivedAt)
      this.deps.sources.touch(event.sourceId, event.receivedAt)
    }
    return { ...stored, enqueued }
  }

  private afterCommit(writes: Write[], results: WriteResult[]): void {
    this.deps.events.settle(true)
    let wake = false
    writes.forEach((write, i) => {
      const result = results[i]!
      if (result.enqueued) wake = true
      if (write.adoptSecret || write.notice) this.deps.sources.refresh(write.event.sourceId)
      this.deps.changes.emit({ type: 'event', event: toSummary(write.event, result) })
    })
    if (wake) this.deps.queue.wake()
  }

  private storeFailed(res: ServerResponse, error: unknown, sourceId: string, started: number): void {
    this.deps.log?.('error', 'store unavailable; answering 503', { error: String(error) })
    this.observe(started, sourceId, null, 'error', 503)
    this.refuse(null, res, 503, 'unavailable', 'storage unavailable, retry later', { 'retry-after': '5' })
  }

  /** Answer an error; when the body is not read, close the connection instead of draining an unwanted upload. */
  private refuse(
    req: IncomingMessage | null,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.headersSent) return
    if (req && !req.complete) headers.connection = 'close'
    sendJson(res, status, { error: { code, message } }, headers)
    if (req && !req.complete) res.once('finish', () => req.socket.destroySoon?.())
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(text)
}

function toSummary(event: NewEvent, result: WriteResult): EventSummary {
  return {
    id: event.id,
    sourceId: event.sourceId,
    provider: event.provider as EventSummary['provider'],
    receivedAt: event.receivedAt,
    method: event.method,
    path: event.path,
    type: event.type,
    status: result.status,
    verification: event.verification,
    reason: result.reason,
    dedupId: event.dedupId,
    duplicateOf: result.duplicateOf,
    hop: event.hop,
    contentType: event.contentType,
    bodySize: event.bodySize,
    summary: event.summary,
    runCount: 0,
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

/**
 * Headers as stored: credentials a sender puts in them (basic auth, Google's channel token, the secret Asana
 * hands over) are verified, then kept out of the feed, the export and workflows; so is any header that carries
 * one of the source's secrets.
 */
function redactCredentials(
  headers: Record<string, string>,
  secrets: readonly string[],
): Record<string, string> {
  let out = headers
  for (const [name, value] of Object.entries(headers)) {
    const kept = value && isCredentialHeader(name) ? redactCredential(name, value) : maskIn(value, secrets)
    if (kept === value) continue
    if (out === headers) out = { ...headers }
    out[name] = kept
  }
  return out
}

/**
 * A secret carried in the URL (Home Assistant's secret path) is verified, then masked in the stored path, also
 * where the sender percent-encoded it.
 */
function maskSecrets(path: string, secrets: readonly string[]): string {
  return path
    .split('/')
    .map((segment) => {
      const masked = maskIn(segment, secrets)
      if (masked !== segment || !segment.includes('%')) return masked
      const decoded = decodeSegment(segment)
      if (decoded === null) return segment
      const maskedDecoded = maskIn(decoded, secrets)
      return maskedDecoded === decoded ? segment : maskedDecoded
    })
    .join('/')
}

/** Every occurrence of a secret (of 6 characters or more: shorter ones are not worth hiding) replaced. */
function maskIn(text: string, secrets: readonly string[]): string {
  let masked = text
  for (const secret of secrets) {
    if (secret.length >= 6 && masked.includes(secret)) masked = masked.split(secret).join('[secret]')
  }
  return masked
}

/** A missing or unreadable hop header counts as 0. */
function parseHop(value: string | undefined): number {
  if (!value) return 0
  const n = Number.parseInt(value, 10)
  return Number.isFinite(n) && n > 0 ? n : 0
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex')
}

/** The longest event type kept: what the feed's type filter takes. */
const MAX_TYPE_LENGTH = 200
/** Delivery ids longer than this are kept as their SHA-256. */
const MAX_DEDUP_ID_LENGTH = 200

/**
 * The event's type as its provider reads it, cut to MAX_TYPE_LENGTH: the sender chooses it (any body field, for
 * some providers), and it is kept in every row, metric label and feed page.
 */
function eventTypeOf(source: RuntimeSource, req: InboundRequest, json: unknown): string | null {
  const type = safe(() => source.provider.eventType(req, json, source.ctx.options))
  if (type === null || type.length <= MAX_TYPE_LENGTH) return type
  // Not between the two halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(type[MAX_TYPE_LENGTH - 1]!) ? MAX_TYPE_LENGTH - 1 : MAX_TYPE_LENGTH
  return type.slice(0, end)
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn() ?? null
  } catch {
    return null
  }
}
