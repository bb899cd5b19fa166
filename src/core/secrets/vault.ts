import type { Clock } from '../clock'
import type { Db } from '../store/database'
import type { SecretCipher } from './cipher'
import { isCredentialHeader, REDACTED, redactCredential } from './credential-headers'

/** Secrets shorter than this are not redacted: replacing every "1" or "ab" would make records unreadable. */
const MIN_REDACT_LENGTH = 4

/**
 * The store for workflow secrets (API keys, signing secrets): encrypted at rest with the engine's
 * `SecretCipher`, never returned by the API (only names and times are listed); the decrypted values are
 * available to the orchestrator for templates and for redacting run records.
 */
export class SecretVault {
  private cache: Map<string, string> | null = null
  private readonly stmt

  constructor(
    db: Db,
    private readonly cipher: SecretCipher,
    private readonly clock: Clock,
  ) {
    this.stmt = {
      list: db.prepare(`SELECT name, updated_at FROM secrets ORDER BY name`),
      all: db.prepare(`SELECT name, value_enc FROM secrets`),
      upsert: db.prepare(
        `INSERT INTO secrets (name, value_enc, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET value_enc = excluded.value_enc, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare(`DELETE FROM secrets WHERE name = ?`),
    }
  }

  /** Names and update times; never the values. */
  list(): Array<{ name: string; updatedAt: number }> {
    return (this.stmt.list.all() as Array<{ name: string; updated_at: number }>).map((r) => ({
      name: r.name,
      updatedAt: r.updated_at,
    }))
  }

  put(name: string, value: string): { name: string; updatedAt: number } {
    const updatedAt = this.clock.now()
    this.stmt.upsert.run(name, this.cipher.encrypt(value), updatedAt)
    this.cache = null
    return { name, updatedAt }
  }

  /** Returns false when there was no such secret. */
  delete(name: string): boolean {
    const removed = this.stmt.remove.run(name).changes === 1
    this.cache = null
    return removed
  }

  /** The decrypted secrets by name, for expression evaluation. */
  values(): Record<string, string> {
    if (!this.cache) {
      const map = new Map<string, string>()
      for (const row of this.stmt.all.all() as Array<{ name: string; value_enc: Buffer }>) {
        map.set(row.name, this.cipher.decrypt(row.value_enc))
      }
      this.cache = map
    }
    return Object.fromEntries(this.cache)
  }

  /**
   * A function for what is stored of a run (requests, answers, outputs): every secret value is replaced with
   * `[redacted]` (longest first), also in the forms a request carries it in (JSON-escaped in a body,
   * percent-encoded in a URL, base64). See `redactCredentialHeaders` for what a template made of a secret.
   */
  redactor(): <T>(value: T) => T {
    const forms = new Set<string>()
    for (const secret of Object.values(this.values())) {
      forms.add(secret)
      forms.add(JSON.stringify(secret).slice(1, -1))
      forms.add(encodeURIComponent(secret))
      // As a URL parser leaves it after a template put it in a query or a path.
      forms.add(new URL(`http://h/?${secret}`).search.slice(1))
      forms.add(new URL(`http://h/${secret}`).pathname.slice(1))
      forms.add(Buffer.from(secret).toString('base64'))
    }
    const secrets = [...forms]
      .filter((s) => s.length >= MIN_REDACT_LENGTH)
      .sort((a, b) => b.length - a.length)
    return <T>(value: T): T => redactValue(value, secrets) as T
  }
}

function redactValue(value: unknown, secrets: string[]): unknown {
  if (secrets.length === 0) return value
  if (typeof value === 'string') {
    let out = value
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets))
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, secrets)]))
  }
  return value
}

/**
 * An outgoing request's headers as a run records them: a credential header is replaced whole, whatever a
 * template made of the secret (`Basic {{ $base64encode('user:' & secrets.pass) }}` is in no form `redactor`
 * can find). Only requests: a step's output stays as the service answered, for the steps after it.
 */
export function redactCredentialHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      isCredentialHeader(name) ? redactCredential(name, value) : value,
    ]),
  )
}
