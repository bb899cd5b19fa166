import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { ApiError, type sourceCreateSchema, type sourceUpdateSchema } from '../../shared/contract'
import type { ProviderId, Source } from '../../shared/domain'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import { getProvider } from '../providers'
import type { Provider, SourceContext } from '../providers/types'
import type { SecretCipher } from '../secrets/cipher'
import type { Db } from '../store/database'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

interface SourceRow {
  id: string
  name: string
  provider: string
  enabled: number
  options: string
  secret_enc: Buffer | null
  prev_secret_enc: Buffer | null
  prev_secret_until: number | null
  max_body_bytes: number
  rate_per_second: number | null
  rate_burst: number | null
  notice: string | null
  created_at: number
  updated_at: number
  last_received_at: number | null
}

/** What the receiver needs about a source on every request, decrypted once and cached. */
export interface RuntimeSource {
  id: string
  provider: Provider
  enabled: boolean
  maxBodyBytes: number
  rateLimit: { perSecond: number; burst: number } | null
  ctx: SourceContext
  /**
   * What to keep out of stored records: the source's secrets and the values of the preset's secret options (a
   * secret URL path, a password).
   */
  secretValues: string[]
}

export interface SourceUrls {
  /** Local receiver base URL, e.g. http://127.0.0.1:7770 */
  receiverBase(): string
  /** Public base URL (tunnel or external), or null. */
  publicBase(): string | null
}

type CreateInput = z.output<typeof sourceCreateSchema>
type UpdateInput = z.output<typeof sourceUpdateSchema>

/**
 * Sources: CRUD, encrypted secrets with rotation (current + previous until a grace deadline), preset options
 * validated by the preset's own schema. Keeps a cache of runtime views for the receiver's hot path.
 */
export class SourceStore {
  private readonly cache = new Map<string, RuntimeSource | null>()
  private readonly stmt

  constructor(
    private readonly db: Db,
    private readonly cipher: SecretCipher,
    private readonly clock: Clock,
    private readonly changes: ChangeBus,
    private readonly urls: SourceUrls,
  ) {
    this.stmt = {
      get: db.prepare(`SELECT * FROM sources WHERE id = ?`),
      all: db.prepare(`SELECT * FROM sources ORDER BY created_at, id`),
      touch: db.prepare(`UPDATE sources SET last_received_at = ? WHERE id = ?`),
    }
  }

  list(): Source[] {
    return (this.stmt.all.all() as SourceRow[]).map((r) => this.toSource(r))
  }

  get(id: string): Source {
    const row = this.stmt.get.get(id) as SourceRow | undefined
    if (!row) throw new ApiError('not_found', `no source ${id}`)
    return this.toSource(row)
  }

  exists(id: string): boolean {
    return this.stmt.get.get(id) !== undefined
  }

  create(input: CreateInput): Source {
    const provider = this.provider(input.provider)
    const options = this.parseOptions(provider, input.options ?? {})
    this.checkSetup(provider, options, Boolean(input.secret))
    if (provider.secretRequired && !input.secret) {
      throw new ApiError('bad_request', `secret: the ${provider.name} preset needs a signing secret`, {
        issues: [{ path: 'secret', message: 'required for this preset' }],
      })
    }
    const id = input.id ?? this.generateId(input.name)
    if (this.exists(id)) throw new ApiError('conflict', `a source with id ${id} exists`)
    const now = this.clock.now()
    this.db
      .prepare(
        `INSERT INTO sources (id, name, provider, enabled, options, secret_enc, max_body_bytes, rate_per_second,
           rate_burst, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        input.name,
        provider.id,
        input.enabled === false ? 0 : 1,
        this.sealOptions(provider, options),
        input.secret ? this.cipher.encrypt(input.secret) : null,
        input.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        input.rateLimit?.perSecond ?? null,
        input.rateLimit?.burst ?? null,
        now,
        now,
      )
    return this.changed(id)
  }

  update(input: UpdateInput): Source {
    const row = this.row(input.id)
    const provider = this.provider(row.provider)
    const options =
      input.options !== undefined ? this.parseOptions(provider, input.options) : this.openOptions(row.options)
    this.checkSetup(provider, options, Boolean(input.secret ?? row.secret_enc))
    const now = this.clock.now()
    this.db
      .prepare(
        `UPDATE sources SET name = ?, enabled = ?, options = ?, secret_enc = ?, max_body_bytes = ?,
           rate_per_second = ?, rate_burst = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        input.name ?? row.name,
        input.enabled === undefined ? row.enabled : input.enabled ? 1 : 0,
        this.sealOptions(provider, options),
        input.secret ? this.cipher.encrypt(input.secret) : row.secret_enc,
        input.maxBodyBytes ?? row.max_body_bytes,
        input.rateLimit === undefined ? row.rate_per_second : (input.rateLimit?.perSecond ?? null),
        input.rateLimit === undefined ? row.rate_burst : (input.rateLimit?.burst ?? null),
        now,
        input.id,
      )
    return this.changed(input.id)
  }

  delete(id: string): void {
    this.row(id)
    this.db.prepare(`DELETE FROM sources WHERE id = ?`).run(id)
    this.cache.delete(id)
    this.changes.emit({ type: 'source-deleted', id })
  }

  /**
   * Make `secret` (or a freshly generated one) current; the old secret keeps verifying until `graceSeconds`
   * have passed, so deliveries signed before the provider picked up the new one are not lost.
   */
  rotateSecret(
    id: string,
    secret: string | undefined,
    graceSeconds: number,
  ): { source: Source; secret: string } {
    const row = this.row(id)
    const next = secret ?? `whsec_${randomBytes(32).toString('base64')}`
    const now = this.clock.now()
    this.db
      .prepare(
        `UPDATE sources SET secret_enc = ?, prev_secret_enc = ?, prev_secret_until = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        this.cipher.encrypt(next),
        row.secret_enc,
        row.secret_enc ? now + graceSeconds * 1000 : null,
        now,
        id,
      )
    return { source: this.changed(id), secret: next }
  }

  /** A secret handed over by the provider during a handshake (Asana X-Hook-Secret, Notion token). */
  adoptSecret(id: string, secret: string): void {
    this.db
      .prepare(`UPDATE sources SET secret_enc = ?, updated_at = ? WHERE id = ?`)
      .run(this.cipher.encrypt(secret), this.clock.now(), id)
  }

  setNotice(id: string, notice: string | null): void {
    this.db
      .prepare(`UPDATE sources SET notice = ?, updated_at = ? WHERE id = ?`)
      .run(notice, this.clock.now(), id)
  }

  /** Record the time of the last delivery (called inside the receiver's commit). */
  touch(id: string, at: number): void {
    this.stmt.touch.run(at, id)
  }

  /** Call after the transaction that adopted a secret or set a notice has committed. */
  refresh(id: string): void {
    this.changed(id)
  }

  /** Runtime view for the receiver, cached until the source changes. */
  runtime(id: string): RuntimeSource | null {
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const row = this.stmt.get.get(id) as SourceRow | undefined
    const provider = row ? getProvider(row.provider) : undefined
    const ctx = row && provider ? this.context(row) : null
    const runtime: RuntimeSource | null =
      row && provider && ctx
        ? {
            id: row.id,
            provider,
            enabled: row.enabled === 1,
            maxBodyBytes: row.max_body_bytes,
            rateLimit:
              row.rate_per_second && row.rate_burst
                ? { perSecond: row.rate_per_second, burst: row.rate_burst }
                : null,
            ctx,
            secretValues: [...secretOptionValues(provider, this.openOptions(row.options)), ...ctx.secrets],
          }
        : null
    // Unknown ids are not cached: a scan of random ids must not grow memory.
    if (runtime) this.cache.set(id, runtime)
    return runtime
  }

  /** Forget cached runtime views (the public URL changed, or a rotation grace ended). */
  invalidate(): void {
    this.cache.clear()
  }

  private context(row: SourceRow): SourceContext {
    const secrets: string[] = []
    if (row.secret_enc) secrets.push(this.cipher.decrypt(row.secret_enc))
    const prevUntil = row.prev_secret_until
    const prev = row.prev_secret_enc && prevUntil !== null ? this.cipher.decrypt(row.prev_secret_enc) : null
    const options = this.openOptions(row.options)
    const clock = this.clock
    return {
      id: row.id,
      get secrets() {
        return prev !== null && clock.now() < prevUntil! ? [...secrets, prev] : secrets
      },
      options,
      publicUrl: this.publicUrl(row.id, options),
      now: () => clock.now(),
    }
  }

  private publicUrl(id: string, options: Record<string, unknown>): string | null {
    if (typeof options.publicUrl === 'string') return options.publicUrl
    const base = this.urls.publicBase()
    return base ? `${base.replace(/\/$/, '')}/hooks/${id}` : null
  }

  private changed(id: string): Source {
    this.cache.delete(id)
    const source = this.get(id)
    this.changes.emit({ type: 'source', source })
    return source
  }

  private row(id: string): SourceRow {
    const row = this.stmt.get.get(id) as SourceRow | undefined
    if (!row) throw new ApiError('not_found', `no source ${id}`)
    return row
  }

  private provider(id: string): Provider {
    const provider = getProvider(id)
    if (!provider) throw new ApiError('bad_request', `provider: ${id} is not available`)
    return provider
  }

  private parseOptions(provider: Provider, options: Record<string, unknown>): Record<string, unknown> {
    const result = provider.options.safeParse(options)
    if (!result.success) {
      const issues = result.error.issues.map((i) => ({
        path: ['options', ...i.path].join('.'),
        message: i.message,
      }))
      throw new ApiError('bad_request', `${issues[0]!.path}: ${issues[0]!.message}`, { issues })
    }
    return result.data
  }

  /** Secret options (a password, a channel token) are stored encrypted like secrets: `{"$sealed": base64}`. */
  private sealOptions(provider: Provider, options: Record<string, unknown>): string {
    const sealed: Record<string, unknown> = { ...options }
    for (const key of provider.secretOptions ?? []) {
      const value = sealed[key]
      if (typeof value === 'string') sealed[key] = { $sealed: this.cipher.encrypt(value).toString('base64') }
    }
    return JSON.stringify(sealed)
  }

  private openOptions(stored: string): Record<string, unknown> {
    const options = JSON.parse(stored) as Record<string, unknown>
    for (const [key, value] of Object.entries(options)) {
      if (
        value &&
        typeof value === 'object' &&
        typeof (value as { $sealed?: unknown }).$sealed === 'string'
      ) {
        options[key] = this.cipher.decrypt(Buffer.from((value as { $sealed: string }).$sealed, 'base64'))
      }
    }
    return options
  }

  /** What the options schema alone cannot check (a value accepted as an option or as the secret). */
  private checkSetup(provider: Provider, options: Record<string, unknown>, hasSecret: boolean): void {
    const problem = provider.validateSetup?.(options, hasSecret)
    if (problem) throw new ApiError('bad_request', problem)
  }

  private generateId(name: string): string {
    const slug =
      name
        .toLowerCase()
        .normalize('NFKD')
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 40) || 'source'
    for (;;) {
      const id = `${slug}-${randomBytes(3).toString('hex')}`
      if (!this.exists(id)) return id
    }
  }

  private toSource(row: SourceRow): Source {
    const options = JSON.parse(row.options) as Record<string, unknown>
    const now = this.clock.now()
    return {
      id: row.id,
      name: row.name,
      provider: row.provider as ProviderId,
      enabled: row.enabled === 1,
      options: redactOptions(getProvider(row.provider), options),
      hasSecret: row.secret_enc !== null,
      previousSecretUntil:
        row.prev_secret_until !== null && row.prev_secret_until > now ? row.prev_secret_until : null,
      maxBodyBytes: row.max_body_bytes,
      rateLimit:
        row.rate_per_second && row.rate_burst
          ? { perSecond: row.rate_per_second, burst: row.rate_burst }
          : null,
      url: `${this.urls.receiverBase()}/hooks/${row.id}`,
      publicUrl: this.publicUrl(row.id, options),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lastReceivedAt: row.last_received_at,
      notice: row.notice,
    }
  }
}

/** Options that are credentials (a basic-auth password, a channel token, a secret path) are never returned. */
function redactOptions(
  provider: Provider | undefined,
  options: Record<string, unknown>,
): Record<string, unknown> {
  const secret = new Set(provider?.secretOptions ?? [])
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(options)) out[k] = secret.has(k) && v ? '[set]' : v
  return out
}

function secretOptionValues(provider: Provider, options: Record<string, unknown>): string[] {
  return (provider.secretOptions ?? [])
    .map((k) => options[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
}
