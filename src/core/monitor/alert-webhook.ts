import { Webhook } from 'standardwebhooks'
import type { Alert } from '../../shared/domain'
import type { Clock } from '../clock'
import { newId } from '../ids'

export interface AlertWebhookTarget {
  url: string
  /** Standard Webhooks secret (`whsec_<base64>`). */
  secret: string
}

/** What the receiving chat or push service gets: one message per alert opened or resolved. */
export interface AlertWebhookPayload {
  type: 'alert.opened' | 'alert.resolved'
  timestamp: string
  data: Alert
}

/**
 * Sends alerts to an outgoing webhook signed with Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature), so the receiver can verify them with any Standard Webhooks library. Delivery is best
 * effort: one try with a timeout, failures are logged (the alert stays in the list and on the change stream).
 */
export class AlertWebhook {
  constructor(
    private readonly target: () => AlertWebhookTarget | null,
    private readonly clock: Clock,
    private readonly fetchFn: typeof fetch,
    private readonly onError: (error: unknown) => void,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Resolves when the attempt is over (never rejects). */
  async send(alert: Alert): Promise<void> {
    const target = this.target()
    if (!target) return
    const at = new Date(this.clock.now())
    const payload: AlertWebhookPayload = {
      type: alert.resolvedAt === null ? 'alert.opened' : 'alert.resolved',
      timestamp: at.toISOString(),
      data: alert,
    }
    const body = JSON.stringify(payload)
    const id = newId('msg', at.getTime())
    try {
      const signature = new Webhook(target.secret).sign(id, at, body)
      const response = await this.fetchFn(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok) throw new Error(`alert webhook answered ${response.status}`)
    } catch (error) {
      this.onError(error)
    }
  }
}
