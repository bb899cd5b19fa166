import { expect, it } from 'vitest'
import type { InboundRequest, Provider, SourceContext } from '../../../src/core/providers/types'

/** The fixed "now" of provider tests (no test reads the wall clock). */
export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0)
export const NOW_S = Math.floor(NOW / 1000)

export function inbound(
  parts: Partial<Omit<InboundRequest, 'body'>> & { body?: Buffer | string },
): InboundRequest {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(parts.headers ?? {})) headers[name.toLowerCase()] = value
  return {
    method: parts.method ?? 'POST',
    path: parts.path ?? '/hooks/src1',
    query: parts.query ?? '',
    headers,
    body: Buffer.isBuffer(parts.body) ? parts.body : Buffer.from(parts.body ?? ''),
    receivedAt: parts.receivedAt ?? NOW,
  }
}

export function context(parts: Partial<Omit<SourceContext, 'now'>> & { now?: number } = {}): SourceContext {
  const now = parts.now ?? NOW
  return {
    id: parts.id ?? 'src1',
    secrets: parts.secrets ?? [],
    options: parts.options ?? {},
    publicUrl:
      parts.publicUrl === undefined ? 'https://switchboard.example.loca.lt/hooks/src1' : parts.publicUrl,
    now: () => now,
  }
}

/** The request a `SampleRequest` becomes when the receiver gets it on `/hooks/<id>`. */
export function fromSample(provider: Provider, ctx: SourceContext): InboundRequest {
  const sample = provider.sample(ctx)
  return inbound({
    method: sample.method,
    path: `/hooks/${ctx.id}${sample.pathSuffix ?? ''}`,
    query: sample.query ?? '',
    headers: sample.headers,
    body: sample.body,
  })
}

export function parsedJson(req: InboundRequest): unknown {
  try {
    return JSON.parse(req.body.toString('utf8'))
  } catch {
    return undefined
  }
}

export function expectAccepted(provider: Provider, req: InboundRequest, ctx: SourceContext): void {
  expect(provider.verify(req, ctx)).toEqual({ ok: true })
}

export function expectRejected(
  provider: Provider,
  req: InboundRequest,
  ctx: SourceContext,
  reason?: RegExp,
): void {
  const result = provider.verify(req, ctx)
  expect(result.ok).toBe(false)
  if (reason && !result.ok) expect(result.reason).toMatch(reason)
}

/** A copy of `req` with one byte of the body changed. */
export function tampered(req: InboundRequest): InboundRequest {
  const body = Buffer.from(req.body)
  body[body.length - 2] = body[body.length - 2]! ^ 1
  return { ...req, body }
}

export interface SignedPresetCase {
  provider: Provider
  options?: Record<string, unknown>
  /** Signs `body` with `secret` at `now` (ms) — by the official package or an independent signer, never src. */
  sign(secret: string, now: number, body: Buffer): InboundRequest
  body: Buffer
  /** Turns the labels used below ('secret-current', …) into secrets of the provider's format (default: as-is). */
  secretOf?: (label: string) => string
}

/**
 * The checks every shared-secret preset must pass: valid accepted, wrong secret and tampered body rejected,
 * the previous secret of a rotation accepted, nothing accepted when no secret is set, and its own sample
 * verifying (round trip).
 */
export function behavesLikeASignedPreset(c: SignedPresetCase): void {
  const of = c.secretOf ?? ((label: string) => label)
  const ctx = (labels: string[]) => context({ secrets: labels.map(of), options: c.options ?? {} })
  const sign = (label: string, now: number, body: Buffer) => c.sign(of(label), now, body)
  it('accepts a request signed with the secret', () => {
    expectAccepted(c.provider, sign('secret-current', NOW, c.body), ctx(['secret-current']))
  })
  it('rejects a request signed with another secret', () => {
    expectRejected(c.provider, sign('someone-else', NOW, c.body), ctx(['secret-current']))
  })
  it('rejects a tampered body', () => {
    expectRejected(c.provider, tampered(sign('secret-current', NOW, c.body)), ctx(['secret-current']))
  })
  it('accepts the previous secret during a rotation grace period, and the current one', () => {
    const rotated = ctx(['secret-new', 'secret-current'])
    expectAccepted(c.provider, sign('secret-current', NOW, c.body), rotated)
    expectAccepted(c.provider, sign('secret-new', NOW, c.body), rotated)
    expectRejected(c.provider, sign('secret-current', NOW, c.body), ctx(['secret-new']))
  })
  it('rejects everything when the source has no secret', () => {
    expectRejected(c.provider, sign('secret-current', NOW, c.body), ctx([]))
  })
  it('rejects a request without any signature headers', () => {
    const signed = sign('secret-current', NOW, c.body)
    expectRejected(
      c.provider,
      { ...signed, headers: { 'content-type': 'application/json' } },
      ctx(['secret-current']),
    )
  })
  it('signs its sample so that its own verify accepts it', () => {
    const source = ctx(['secret-current'])
    expectAccepted(c.provider, fromSample(c.provider, source), source)
  })
}
