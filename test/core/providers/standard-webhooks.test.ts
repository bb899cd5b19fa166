import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import { standardWebhooks } from '../../../src/core/providers/standard-webhooks'
import { svix } from '../../../src/core/providers/svix'
import type { Provider } from '../../../src/core/providers/types'
import {
  NOW,
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const whsec = (label: string) => `whsec_${Buffer.from(label.padEnd(24, '.')).toString('base64')}`
const body = Buffer.from('{"type":"invoice.paid","data":{"id":"in_1"}}')

/** Headers produced by the official package for `prefix` (webhook / svix). */
function officialRequest(prefix: string, secret: string, now: number, payload: Buffer, id = 'msg_1') {
  const Lib = prefix === 'svix' ? SvixWebhook : StandardWebhook
  const signature = new Lib(secret).sign(id, new Date(now), payload.toString())
  return inbound({
    headers: {
      'content-type': 'application/json',
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(Math.floor(now / 1000)),
      [`${prefix}-signature`]: signature,
    },
    body: payload,
  })
}

for (const [provider, prefix] of [
  [standardWebhooks, 'webhook'],
  [svix, 'svix'],
] as Array<[Provider, string]>) {
  describe(`${provider.id} preset`, () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(NOW)
    })
    afterEach(() => vi.useRealTimers())

    behavesLikeASignedPreset({
      provider,
      body,
      secretOf: whsec,
      sign: (secret, now, payload) => officialRequest(prefix, secret, now, payload),
    })

    it('refuses timestamps more than 5 minutes old or ahead, accepts them just inside', () => {
      const ctx = context({ secrets: [whsec('k')] })
      expectRejected(provider, officialRequest(prefix, whsec('k'), NOW - 301_000, body), ctx, /old/)
      expectRejected(provider, officialRequest(prefix, whsec('k'), NOW + 301_000, body), ctx, /future/)
      expectAccepted(provider, officialRequest(prefix, whsec('k'), NOW - 299_000, body), ctx)
      expectAccepted(provider, officialRequest(prefix, whsec('k'), NOW + 299_000, body), ctx)
    })

    it('accepts a header listing several signatures when any one matches', () => {
      const req = officialRequest(prefix, whsec('k'), NOW, body)
      const real = req.headers[`${prefix}-signature`]!
      req.headers[`${prefix}-signature`] =
        `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${real} v2,ignored`
      expectAccepted(provider, req, context({ secrets: [whsec('k')] }))
      req.headers[`${prefix}-signature`] = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc='
      expectRejected(provider, req, context({ secrets: [whsec('k')] }))
    })

    it('treats the secret after whsec_ as base64 key bytes (the raw string does not verify)', () => {
      const req = officialRequest(prefix, whsec('k'), NOW, body)
      expectRejected(provider, req, context({ secrets: [Buffer.from('k'.padEnd(24, '.')).toString()] }))
    })

    it('rejects a signature made for another message id', () => {
      const req = officialRequest(prefix, whsec('k'), NOW, body, 'msg_1')
      req.headers[`${prefix}-id`] = 'msg_2'
      expectRejected(provider, req, context({ secrets: [whsec('k')] }))
    })

    it('dedups on the message id and types by the body type', () => {
      const req = officialRequest(prefix, whsec('k'), NOW, body, 'msg_abc')
      expect(provider.dedupId(req, parsedJson(req))).toBe('msg_abc')
      expect(provider.eventType(req, parsedJson(req))).toBe('invoice.paid')
    })

    it('signs samples the official package verifies', () => {
      const secret = whsec('sample')
      const req = fromSample(provider, context({ secrets: [secret] }))
      const Lib = prefix === 'svix' ? SvixWebhook : StandardWebhook
      expect(() => new Lib(secret).verify(req.body.toString(), req.headers)).not.toThrow()
    })
  })
}

describe('the official Standard Webhooks vector', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  const vector = (prefix: string) =>
    inbound({
      headers: {
        [`${prefix}-id`]: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        [`${prefix}-timestamp`]: '1614265330',
        [`${prefix}-signature`]: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      },
      body: '{"test": 2432232314}',
    })

  it('verifies under both presets at its own time', () => {
    const ctx = context({ secrets: [secret], now: 1614265330 * 1000 })
    expectAccepted(standardWebhooks, vector('webhook'), ctx)
    expectAccepted(svix, vector('svix'), ctx)
    expectAccepted(svix, vector('webhook'), ctx)
  })

  it('is refused today as stale', () => {
    expectRejected(standardWebhooks, vector('webhook'), context({ secrets: [secret] }), /old/)
  })
})
