import { describe, expect, it } from 'vitest'
import { calCom } from '../../../src/core/providers/cal-com'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { behavesLikeASignedPreset, context, expectRejected, inbound, parsedJson } from './harness'

const body = Buffer.from(
  JSON.stringify({
    triggerEvent: 'BOOKING_CANCELLED',
    createdAt: '2026-01-01T12:00:00.000Z',
    payload: { uid: 'bk_9xJ', bookingId: 42 },
  }),
)

function signed(secret: string, _now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-cal-signature-256': bodyHmacHeader(secret, payload, 'sha256', 'hex'),
    },
    body: payload,
  })
}

describe('cal-com preset', () => {
  behavesLikeASignedPreset({ provider: calCom, body, sign: signed })

  it('rejects the "no-secret-provided" placeholder older versions send', () => {
    const req = inbound({ headers: { 'x-cal-signature-256': 'no-secret-provided' }, body })
    expectRejected(calCom, req, context({ secrets: ['k'] }))
  })

  it('dedups on trigger + booking uid and types by triggerEvent', () => {
    const req = signed('k', 0, body)
    expect(calCom.dedupId(req, parsedJson(req))).toBe('BOOKING_CANCELLED:bk_9xJ')
    expect(calCom.eventType(req, parsedJson(req))).toBe('BOOKING_CANCELLED')
  })
})
