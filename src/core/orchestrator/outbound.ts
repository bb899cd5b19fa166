import { Webhook } from 'standardwebhooks'
import type { HttpStep, WebhookStep } from '../../shared/workflow'
import { parseDuration } from '../queue/backoff'
import { render, renderText } from './expressions'
import type { Transport, TransportRequest, TransportResponse } from './http-transport'

/** An outgoing request, fully rendered: what the transport sends. */
export type OutboundRequest = TransportRequest

/** An answer as an attempt records it (the body cut to a summary). */
export type OutboundResponse = TransportResponse

/** What one attempt came to. */
export interface CallResult {
  ok: boolean
  /** Whether another attempt may help (network error, time-out, 5xx, 408/409/425/429). */
  retryable: boolean
  /** The other side's Retry-After, in ms (0 when none). */
  retryAfterMs: number
  error: string | null
  response: OutboundResponse | null
  /** The step's output on success: status, headers and the body (parsed when JSON). */
  output: { status: number; headers: Record<string, string>; body: unknown } | null
  /** The request was cut off because its run was cancelled: never retried. */
  aborted?: boolean
}

/** What an attempt records when a cancel cut its request off. */
export const ABORTED_BY_CANCEL = 'aborted: the run was cancelled while the request was in flight'

export const DEFAULT_CALL_TIMEOUT_MS = 30_000
const MAX_RESPONSE_BYTES = 1024 * 1024
const SUMMARY_BYTES = 64 * 1024
const RETRYABLE_4XX = new Set([408, 409, 425, 429])

/** Headers every outgoing request carries: the same key on every attempt, and the hop count for the loop guard. */
export function safetyHeaders(runId: string, stepId: string, hop: number): Record<string, string> {
  return { 'idempotency-key': `${runId}:${stepId}`, 'switchboard-hop': String(hop + 1) }
}

async function renderHeaders(
  headers: Record<string, string> | undefined,
  input: unknown,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {}))
    out[name.toLowerCase()] = await renderText(value, input)
  return out
}

function checkUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error(`not a valid URL: ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`URL must be http(s): ${url}`)
  return parsed.toString()
}

/** Render an `http` step into a request. The body is JSON when an object or array, as-is when a string. */
export async function buildHttpRequest(
  step: HttpStep,
  input: unknown,
  ids: { runId: string; hop: number },
): Promise<OutboundRequest> {
  const method = step.method ?? 'GET'
  const url = checkUrl(await renderText(step.url, input))
  const headers = await renderHeaders(step.headers, input)
  let body: string | null = null
  if (step.body !== undefined && method !== 'GET' && method !== 'HEAD') {
    const rendered = await render(step.body, input)
    if (typeof rendered === 'string') body = rendered
    else if (rendered !== undefined) {
      body = JSON.stringify(rendered)
      headers['content-type'] ??= 'application/json'
    }
  }
  return { method, url, headers: { ...headers, ...safetyHeaders(ids.runId, step.id, ids.hop) }, body }
}

/**
 * Render a `webhook` step into a POST signed with Standard Webhooks (`webhook-id` = the idempotency key, so
 * the receiver can dedup retries; a fresh timestamp and signature on every attempt).
 */
export async function buildWebhookRequest(
  step: WebhookStep,
  input: unknown,
  ids: { runId: string; hop: number },
  now: number,
): Promise<OutboundRequest> {
  const url = checkUrl(await renderText(step.url, input))
  const secret = await renderText(step.secret, input)
  if (!secret) throw new Error('the webhook signing secret is empty (is the secret set?)')
  const headers = await renderHeaders(step.headers, input)
  const rendered = step.body === undefined ? {} : await render(step.body, input)
  const body = typeof rendered === 'string' ? rendered : JSON.stringify(rendered ?? null)
  const msgId = `${ids.runId}:${step.id}`
  let signature: string
  try {
    signature = new Webhook(secret).sign(msgId, new Date(now), body)
  } catch (error) {
    throw new Error(`cannot sign with the webhook secret: ${(error as Error).message}`, { cause: error })
  }
  return {
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/json',
      ...headers,
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now / 1000)),
      'webhook-signature': signature,
      ...safetyHeaders(ids.runId, step.id, ids.hop),
    },
    body,
  }
}

/** Retry-After as ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number {
  if (!value) return 0
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? 0 : Math.max(0, at - now)
}

/** Cut a stored summary body to a bounded size. */
export function summarize(text: string | null): string | null {
  if (text === null || text.length <= SUMMARY_BYTES) return text
  return `${text.slice(0, SUMMARY_BYTES)}… [${text.length - SUMMARY_BYTES} more characters]`
}

/**
 * Perform one attempt and classify the outcome. Throws only when `signal` aborts (the engine is stopping: the
 * job is released and runs again later). When `cancel` aborts (the run was cancelled), the request is cut off
 * (its connection closed, whether it was still sending or reading the answer) and the result says `aborted`.
 */
export async function send(
  transport: Transport,
  request: OutboundRequest,
  options: { timeoutMs: number; signal: AbortSignal; cancel?: AbortSignal; now: () => number },
): Promise<CallResult> {
  // One controller for the three reasons to cut the request off (engine stop, run cancelled, time limit): a plain
  // timer and two listeners cost far less per request than AbortSignal.timeout + AbortSignal.any.
  const cutOff = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    cutOff.abort(new Error(`no answer within ${options.timeoutMs} ms`))
  }, options.timeoutMs)
  timer.unref()
  const follow = (signal: AbortSignal | undefined) => {
    if (!signal) return
    if (signal.aborted) cutOff.abort(signal.reason)
    else
      signal.addEventListener('abort', () => cutOff.abort(signal.reason), {
        once: true,
        signal: cutOff.signal,
      })
  }
  follow(options.signal)
  follow(options.cancel)
  let response: TransportResponse
  try {
    response = await transport(request, { signal: cutOff.signal, maxBytes: MAX_RESPONSE_BYTES })
  } catch (error) {
    if (options.signal.aborted) throw error
    if (options.cancel?.aborted) {
      return {
        ok: false,
        retryable: false,
        retryAfterMs: 0,
        error: ABORTED_BY_CANCEL,
        response: null,
        output: null,
        aborted: true,
      }
    }
    const message = timedOut
      ? `no answer within ${options.timeoutMs} ms`
      : `request failed: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`
    return { ok: false, retryable: true, retryAfterMs: 0, error: message, response: null, output: null }
  } finally {
    clearTimeout(timer)
    // Drops the listeners `follow` added (they are bound to this signal).
    cutOff.abort()
  }
  const { headers, body: text } = response
  const summary: OutboundResponse = { status: response.status, headers, body: summarize(text) }
  if (response.status < 400) {
    let body: unknown = text
    if (text && /json/i.test(headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(text) as unknown
      } catch {
        body = text
      }
    }
    return {
      ok: true,
      retryable: false,
      retryAfterMs: 0,
      error: null,
      response: summary,
      output: { status: response.status, headers, body: body === '' ? null : body },
    }
  }
  const retryable = response.status >= 500 || RETRYABLE_4XX.has(response.status)
  return {
    ok: false,
    retryable,
    retryAfterMs: parseRetryAfter(headers['retry-after'] ?? null, options.now()),
    error: `HTTP ${response.status}${retryable ? '' : ' (not retried: the request itself was refused)'}`,
    response: summary,
    output: null,
  }
}

/** A step's per-attempt time limit. */
export function callTimeout(step: HttpStep | WebhookStep): number {
  return step.timeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : parseDuration(step.timeout)
}
