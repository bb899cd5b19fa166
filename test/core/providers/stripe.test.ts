import { describe, expect, it } from 'vitest'
import Stripe from 'stripe'
import { stripe as preset } from '../../../src/core/providers/stripe'
import {
  NOW,
  NOW_S,
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const client = new Stripe('sk_test_switchboard')
const body = Buffer.from(
  JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event', type: 'charge.succeeded' }, null, 2),
)

function officialRequest(secret: string, now: number, payload: Buffer) {
  const header = client.webhooks.generateTestHeaderString({
    payload: payload.toString(),
    secret,
    timestamp: Math.floor(now / 1000),
  })
  return inbound({
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
    body: payload,
  })
}

describe('stripe preset', () => {
  behavesLikeASignedPreset({ provider: preset, body, secretOf: (l) => `whsec_${l}`, sign: officialRequest })

  it('uses the whsec_ secret as a literal key (not base64-decoded)', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    expectAccepted(preset, officialRequest(secret, NOW, body), context({ secrets: [secret] }))
  })

  it('refuses timestamps more than 300 s old or ahead', () => {
    const ctx = context({ secrets: ['whsec_k'] })
    expectRejected(preset, officialRequest('whsec_k', NOW - 301_000, body), ctx, /old/)
    expectRejected(preset, officialRequest('whsec_k', NOW + 301_000, body), ctx, /future/)
    expectAccepted(preset, officialRequest('whsec_k', NOW - 299_000, body), ctx)
  })

  it('accepts a header with several v1 signatures (secret roll) and ignores v0', () => {
    const good = officialRequest('whsec_k', NOW, body).headers['stripe-signature']!
    const v1 = good.split(',v1=')[1]
    const header = `t=${NOW_S},v1=${'0'.repeat(64)},v0=${v1},v1=${v1}`
    expectAccepted(
      preset,
      inbound({ headers: { 'stripe-signature': header }, body }),
      context({ secrets: ['whsec_k'] }),
    )
    const onlyV0 = `t=${NOW_S},v0=${v1}`
    expectRejected(
      preset,
      inbound({ headers: { 'stripe-signature': onlyV0 }, body }),
      context({ secrets: ['whsec_k'] }),
    )
  })

  it('rejects a signature replayed under a new timestamp', () => {
    const old = officialRequest('whsec_k', NOW - 10_000, body).headers['stripe-signature']!
    const moved = old.replace(/t=\d+/, `t=${NOW_S}`)
    expectRejected(
      preset,
      inbound({ headers: { 'stripe-signature': moved }, body }),
      context({ secrets: ['whsec_k'] }),
    )
  })

  it('dedups on the event id and types by the event type', () => {
    const req = officialRequest('whsec_k', NOW, body)
    expect(preset.dedupId(req, parsedJson(req))).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy')
    expect(preset.eventType(req, parsedJson(req))).toBe('charge.succeeded')
  })

  it('signs samples the Stripe SDK accepts', () => {
    const req = fromSample(preset, context({ secrets: ['whsec_sample'] }))
    const event = client.webhooks.constructEvent(
      req.body,
      req.headers['stripe-signature']!,
      'whsec_sample',
      300,
      undefined,
      NOW,
    )
    expect(event.type).toBe('payment_intent.succeeded')
    expect(preset.dedupId(req, parsedJson(req))).toBe(event.id)
  })
})
