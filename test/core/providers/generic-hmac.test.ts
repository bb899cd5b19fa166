import { describe, expect, it } from 'vitest'
import { createHmac } from 'node:crypto'
import { genericHmac } from '../../../src/core/providers/generic-hmac'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import {
  NOW_S,
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const body = Buffer.from('{"type":"build.finished","id":"b-17"}')
const parse = (options: unknown) => genericHmac.options.parse(options)

describe('generic-hmac preset', () => {
  describe('body signed as sha256 hex with a prefix', () => {
    const options = parse({ header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' })
    behavesLikeASignedPreset({
      provider: genericHmac,
      options,
      body,
      sign: (secret, _now, payload) =>
        inbound({
          headers: { 'x-signature': bodyHmacHeader(secret, payload, 'sha256', 'hex', 'sha256=') },
          body: payload,
        }),
    })

    it('accepts any of several comma- or space-separated signatures', () => {
      const good = bodyHmacHeader('k', body, 'sha256', 'hex', 'sha256=')
      const req = inbound({ headers: { 'x-signature': `sha256=${'0'.repeat(64)}, ${good}` }, body })
      expectAccepted(genericHmac, req, context({ secrets: ['k'], options }))
    })
  })

  it('supports sha1 and sha512, base64, no prefix', () => {
    for (const algorithm of ['sha1', 'sha512'] as const) {
      const options = parse({ header: 'X-Sig', algorithm, encoding: 'base64' })
      const req = inbound({ headers: { 'x-sig': bodyHmacHeader('k', body, algorithm, 'base64') }, body })
      expectAccepted(genericHmac, req, context({ secrets: ['k'], options }))
      expectRejected(
        genericHmac,
        req,
        context({ secrets: ['k'], options: { ...options, algorithm: 'sha256' } }),
      )
    }
  })

  describe('a signed timestamp', () => {
    const options = parse({
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'hex',
      signedPayload: '{timestamp}.{body}',
      timestampHeader: 'X-Timestamp',
      toleranceSeconds: 120,
    })
    const signed = (ts: number) =>
      inbound({
        headers: {
          'x-sig': createHmac('sha256', 'k').update(`${ts}.`).update(body).digest('hex'),
          'x-timestamp': String(ts),
        },
        body,
      })

    it('accepts within the window and refuses outside it in both directions', () => {
      const ctx = context({ secrets: ['k'], options })
      expectAccepted(genericHmac, signed(NOW_S - 100), ctx)
      expectRejected(genericHmac, signed(NOW_S - 121), ctx, /old/)
      expectRejected(genericHmac, signed(NOW_S + 121), ctx, /future/)
    })

    it('round-trips its sample', () => {
      const ctx = context({ secrets: ['k'], options })
      expectAccepted(genericHmac, fromSample(genericHmac, ctx), ctx)
    })
  })

  it('can sign the method and the exact URL', () => {
    const options = parse({
      header: 'X-Sig',
      algorithm: 'sha256',
      encoding: 'base64',
      signedPayload: '{method} {url}\n{body}',
    })
    const url = 'https://switchboard.example.loca.lt/hooks/src1?x=1'
    const mac = createHmac('sha256', 'k').update(`POST ${url}\n`).update(body).digest('base64')
    const req = inbound({ query: 'x=1', headers: { 'x-sig': mac }, body })
    expectAccepted(genericHmac, req, context({ secrets: ['k'], options }))
    expectRejected(genericHmac, { ...req, query: 'x=2' }, context({ secrets: ['k'], options }))
    const ctx = context({ secrets: ['k'], options })
    expectAccepted(genericHmac, fromSample(genericHmac, ctx), ctx)
  })

  it('names missing and invalid options', () => {
    const messages = (input: unknown) => {
      const result = genericHmac.options.safeParse(input)
      return result.success ? '' : result.error.issues.map((i) => i.message).join(' | ')
    }
    const none = messages({})
    expect(none).toMatch(/options\.header is required/)
    expect(none).toMatch(/options\.algorithm is required/)
    expect(none).toMatch(/options\.encoding is required/)
    expect(messages({ header: 'X-Sig', algorithm: 'md5', encoding: 'hex' })).toMatch(
      /options\.algorithm must be one of sha1\|sha256\|sha512/,
    )
    expect(
      messages({ header: 'X-Sig', algorithm: 'sha1', encoding: 'hex', signedPayload: '{timestamp}.{body}' }),
    ).toMatch(/options\.timestampHeader is required/)
    expect(
      messages({ header: 'X-Sig', algorithm: 'sha1', encoding: 'hex', signedPayload: '{nonce}{body}' }),
    ).toMatch(/may only use/)
    expect(messages({ header: 'X-Sig', algorithm: 'sha1', encoding: 'hex', secret: 'x' })).toMatch(
      /unknown option: options\.secret/,
    )
    expect(messages({ header: 'bad header', algorithm: 'sha1', encoding: 'hex' })).toMatch(
      /options\.header must be an HTTP header name/,
    )
  })

  it('dedups and types from the configured headers, else from common ones and the body', () => {
    const options = parse({
      header: 'X-Sig',
      algorithm: 'sha1',
      encoding: 'hex',
      idHeader: 'X-Delivery',
      typeHeader: 'X-Event',
    })
    const req = inbound({ headers: { 'x-delivery': 'd-1', 'x-event': 'push' }, body })
    expect(genericHmac.dedupId(req, parsedJson(req), options)).toBe('d-1')
    expect(genericHmac.eventType(req, parsedJson(req), options)).toBe('push')
    const plain = inbound({ headers: { 'idempotency-key': 'i-1' }, body })
    expect(genericHmac.dedupId(plain, parsedJson(plain), {})).toBe('i-1')
    expect(genericHmac.eventType(plain, parsedJson(plain), {})).toBe('build.finished')
  })
})
