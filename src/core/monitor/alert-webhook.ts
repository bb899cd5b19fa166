import { Webhook } from 'standardwebhooks'
import type { Alert, AlertWebhookDelivery } from '../../shared/domain'
import type { Clock } from '../clock'
import { newId } from '../ids'

export interface AlertWebhookTarget {
  url: string
  /** Standard Webhooks secret (`whsec_<base64>`). */
  secret: string
  /** During a rotation's grace period deliveries are signed with this one too (a second signature). */
  previousSecret?: string | null
}

/** What the receiving chat or push service gets: one message per alert opened or resolved, or a test. */
export interface AlertWebhookPayload {
  type: AlertWebhookDelivery['type']
  timestamp: string
  data: Alert
}

/**
 * Sends alerts to an outgoing webhook signed with Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature), so the receiver can verify them with any Standard Webhooks library. Delivery is best
 * effort: one try with a timeout; a failure is reported to `onError` and kept as the last delivery (the alert
 * stays in the list and on the change stream).
 */
export class AlertWebhook {
  private last: AlertWebhookDelivery | null = null

  constructor(
    private readonly target: () => AlertWebhookTarget | null,
    private readonly clock: Clock,
    private readonly fetchFn: typeof fetch,
    private readonly onError: (error: unknown) => void,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The outcome of the last attempt since start, or null. */
  get lastDelivery(): AlertWebhookDelivery | null {
    return this.last
  }

  /** Send an alert that opened or resolved. Resolves when the attempt is over (never rejects); null without a target. */
  send(alert: Alert): Promise<AlertWebhookDelivery | null> {
    return this.deliver(alert.resolvedAt === null ? 'alert.opened' : 'alert.resolved', alert)
  }

  /** Send one message of `type` now; null when no webhook is set. Never rejects. */
  async deliver(type: AlertWebhookPayload['type'], alert: Alert): Promise<AlertWebhookDelivery | null> {
    let target: AlertWebhookTarget | null
    try {
      target = this.target()
    } catch (error) {
      this.onError(error)
      return null
    }
    if (!target) return null
    const at = new Date(this.clock.now())
    const payload: AlertWebhookPayload = { type, timestamp: at.toISOString(), data: alert }
    const body = JSON.stringify(payload)
    const id = newId('msg', at.getTime())
    const outcome = (status: number | null, error: string | null): AlertWebhookDelivery => {
      this.last = {
        at: at.getTime(),
        webhookId: id,
        type,
        url: target.url,
        ok: error === null,
        status,
        error,
      }
      return this.last
    }
    try {
      // Space-separated signatures let the receiver verify with either secret while it switches over.
      const signature = [target.secret, target.previousSecret]
        .filter((s): s is string => Boolean(s))
        .map((secret) => new Webhook(secret).sign(id, at, body))
        .join(' ')
      const response = await this.fetchFn(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      await response.arrayBuffer().catch(() => undefined)
      if (response.ok) return outcome(response.status, null)
      // Redirects are not followed (a POST turned into a GET loses the alert): say where it points instead.
      const location =
        response.status >= 300 && response.status < 400 ? response.headers.get('location') : null
      const reason = `the target answered ${response.status}${location ? `, a redirect to ${location}: set that URL instead` : ''}`
      this.onError(new Error(`alert webhook: ${reason}`))
      return outcome(response.status, reason)
    } catch (error) {
      this.onError(error)
      return outcome(null, describeFailure(error, this.timeoutMs))
    }
  }
}

/** A line a person can act on: fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND…). */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer within ${Math.round(timeoutMs / 1000)} s`
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : null
  if (cause && typeof cause.code === 'string')
    return `could not connect: ${cause.code}${typeof cause.message === 'string' ? ` (${cause.message})` : ''}`
  return error instanceof Error ? error.message : String(error)
}
