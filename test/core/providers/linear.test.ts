import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LinearWebhookClient } from '@linear/sdk/webhooks'
import { linear } from '../../../src/core/providers/linear'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
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

function payload(webhookTimestamp: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      action: 'create',
      type: 'Issue',
      data: { id: 'iss_1', title: 'Bug' },
      webhookTimestamp,
    }),
  )
}

function signed(secret: string, now: number, body = payload(now)) {
  return inbound({
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'linear-delivery': '234d1a4e-b617-4388-90fe-adc3633d6b72',
      'linear-event': 'Issue',
      'linear-signature': bodyHmacHeader(secret, body, 'sha256', 'hex'),
    },
    body,
  })
}

describe('linear preset', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => vi.useRealTimers())

  behavesLikeASignedPreset({
    provider: linear,
    body: payload(NOW),
    sign: (secret, now) => signed(secret, now),
  })

  it('refuses a webhookTimestamp more than 60 s old or ahead', () => {
    const ctx = context({ secrets: ['k'] })
    expectRejected(linear, signed('k', NOW - 61_000), ctx, /old/)
    expectRejected(linear, signed('k', NOW + 61_000), ctx, /future/)
    expectAccepted(linear, signed('k', NOW - 59_000), ctx)
  })

  it('refuses a signed body without webhookTimestamp', () => {
    const body = Buffer.from('{"action":"create","type":"Issue"}')
    expectRejected(linear, signed('k', NOW, body), context({ secrets: ['k'] }), /webhookTimestamp/)
  })

  it('agrees with the Linear SDK on what it accepts', () => {
    const client = new LinearWebhookClient('k')
    const good = signed('k', NOW)
    expect(client.verify(good.body, good.headers['linear-signature']!)).toBe(true)
    const stale = signed('k', NOW - 61_000)
    expect(() => client.verify(stale.body, stale.headers['linear-signature']!)).toThrow()
  })

  it('dedups on Linear-Delivery and types as Type.action', () => {
    const req = signed('k', NOW)
    expect(linear.dedupId(req, parsedJson(req))).toBe('234d1a4e-b617-4388-90fe-adc3633d6b72')
    expect(linear.eventType(req, parsedJson(req))).toBe('Issue.create')
  })

  it('signs samples the Linear SDK verifies', () => {
    const req = fromSample(linear, context({ secrets: ['sample-secret'] }))
    expect(new LinearWebhookClient('sample-secret').verify(req.body, req.headers['linear-signature']!)).toBe(
      true,
    )
  })
})
