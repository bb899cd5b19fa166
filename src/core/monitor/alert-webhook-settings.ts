import { randomBytes } from 'node:crypto'
import { ApiError } from '../../shared/contract'
import type { AlertWebhookDelivery, AlertWebhookSettings } from '../../shared/domain'
import type { Clock } from '../clock'
import type { SecretCipher } from '../secrets/cipher'
import type { Settings } from '../store/settings'
import type { AlertWebhookTarget } from './alert-webhook'

const KEY = 'alerts.webhook'

/**
 * The settings row, sealed with the engine's cipher (base64): the secrets, and the URL too, since a chat
 * service's webhook URL is itself a credential.
 */
interface Stored {
  url: string
  secret: string
  previousSecret: string | null
  previousUntil: number | null
  updatedAt: number
}

/** A fresh Standard Webhooks secret: `whsec_` + 32 random bytes, base64 (as sources generate them). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

/**
 * The outgoing alert webhook the user sets in the UI or over the API, kept in the settings table with its
 * signing secret encrypted at rest, so it survives a restart. A target given in the engine's configuration
 * wins: it is reported as `fixedByConfig` and the stored one is neither used nor changeable until it is gone.
 */
export class AlertWebhookSettingsStore {
  private cached: { target: AlertWebhookTarget | null; until: number } | null = null

  constructor(
    private readonly settings: Settings,
    private readonly cipher: SecretCipher,
    private readonly clock: Clock,
    private readonly fixed: AlertWebhookTarget | null,
  ) {}

  /** Where alerts go now, decrypted (cached until the next change or the end of a rotation's grace). */
  target(): AlertWebhookTarget | null {
    if (this.fixed) return this.fixed
    const now = this.clock.now()
    if (this.cached && now < this.cached.until) return this.cached.target
    const stored = this.stored()
    let target: AlertWebhookTarget | null = null
    let until = Infinity
    if (stored) {
      const inGrace =
        stored.previousSecret !== null && stored.previousUntil !== null && now < stored.previousUntil
      target = {
        url: this.open(stored.url),
        secret: this.open(stored.secret),
        previousSecret: inGrace ? this.open(stored.previousSecret!) : null,
      }
      if (inGrace) until = stored.previousUntil!
    }
    this.cached = { target, until }
    return target
  }

  view(lastDelivery: AlertWebhookDelivery | null): AlertWebhookSettings {
    if (this.fixed)
      return {
        url: this.fixed.url,
        hasSecret: true,
        secretHint: hint(this.fixed.secret),
        previousSecretUntil: null,
        fixedByConfig: true,
        updatedAt: null,
        lastDelivery,
      }
    const stored = this.stored()
    let secretHint: string | null = null
    let url: string | null = null
    try {
      url = stored ? this.open(stored.url) : null
      secretHint = stored ? hint(this.target()!.secret) : null
    } catch {
      // Sealed with another key (the key file was replaced): it cannot be shown; it still counts as set.
    }
    return {
      url,
      hasSecret: stored !== null,
      secretHint,
      previousSecretUntil:
        stored?.previousUntil && stored.previousUntil > this.clock.now() ? stored.previousUntil : null,
      fixedByConfig: false,
      updatedAt: stored?.updatedAt ?? null,
      lastDelivery,
    }
  }

  /**
   * Set the URL, keeping the secret unless one is given (a new one is generated when none is set yet), or turn
   * the webhook off with null (the secret is forgotten too). Answers the new secret, or null when unchanged.
   */
  set(url: string | null, secret: string | undefined): { secret: string | null } {
    this.refuseWhenFixed()
    if (url === null) {
      // The settings table has no delete; a stored null reads as "off".
      this.write(null)
      return { secret: null }
    }
    const current = this.stored()
    const next = secret ?? (current ? null : generateWebhookSecret())
    this.write({
      url: this.seal(url),
      secret: next === null ? current!.secret : this.seal(next),
      // Giving a secret here replaces it outright; a grace period is what rotateSecret is for.
      previousSecret: next === null ? current!.previousSecret : null,
      previousUntil: next === null ? current!.previousUntil : null,
      updatedAt: this.clock.now(),
    })
    return { secret: next }
  }

  /** Make `secret` (or a generated one) current; the old one also signs for `graceSeconds`. */
  rotate(secret: string | undefined, graceSeconds: number): { secret: string } {
    this.refuseWhenFixed()
    const current = this.stored()
    if (!current) throw new ApiError('conflict', 'no alert webhook is set: set its URL first')
    const next = secret ?? generateWebhookSecret()
    const now = this.clock.now()
    this.write({
      url: current.url,
      secret: this.seal(next),
      previousSecret: graceSeconds > 0 ? current.secret : null,
      previousUntil: graceSeconds > 0 ? now + graceSeconds * 1000 : null,
      updatedAt: now,
    })
    return { secret: next }
  }

  private refuseWhenFixed(): void {
    if (this.fixed)
      throw new ApiError(
        'conflict',
        'the alert webhook is fixed by the engine configuration (EngineConfig.alertWebhook); change it there',
      )
  }

  private stored(): Stored | null {
    const raw = this.settings.get(KEY)
    return raw ? (JSON.parse(raw) as Stored | null) : null
  }

  private write(value: Stored | null): void {
    this.settings.set(KEY, JSON.stringify(value))
    this.cached = null
  }

  private seal(text: string): string {
    return this.cipher.encrypt(text).toString('base64')
  }

  private open(sealed: string): string {
    return this.cipher.decrypt(Buffer.from(sealed, 'base64'))
  }
}

/** Enough of a secret to tell two apart, never enough to use it. */
function hint(secret: string): string {
  return `whsec_…${secret.slice(-4)}`
}
