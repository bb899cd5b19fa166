import { describe, expect, it } from 'vitest'
import { calendly } from '../../../src/core/providers/calendly'
import { calendlyHeader } from '../../fixtures/signers/hmac'
import {
  NOW,
  NOW_S,
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  inbound,
  parsedJson,
} from './harness'

const body = Buffer.from(
  JSON.stringify({
    event: 'invitee.canceled',
    created_at: '2026-01-01T12:00:00.000000Z',
    payload: { uri: 'https://api.calendly.com/scheduled_events/EV1/invitees/INV1', status: 'canceled' },
  }),
)

function signed(secret: string, now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'calendly-webhook-signature': calendlyHeader(secret, Math.floor(now / 1000), payload),
    },
    body: payload,
  })
}

describe('calendly preset', () => {
  behavesLikeASignedPreset({ provider: calendly, body, sign: signed })

  it('refuses timestamps more than 3 minutes old or ahead', () => {
    const ctx = context({ secrets: ['k'] })
    expectRejected(calendly, signed('k', NOW - 181_000, body), ctx, /old/)
    expectRejected(calendly, signed('k', NOW + 181_000, body), ctx, /future/)
    expectAccepted(calendly, signed('k', NOW - 179_000, body), ctx)
  })

  it('rejects a header without t=', () => {
    const header = signed('k', NOW, body).headers['calendly-webhook-signature']!.replace(`t=${NOW_S},`, '')
    expectRejected(
      calendly,
      inbound({ headers: { 'calendly-webhook-signature': header }, body }),
      context({ secrets: ['k'] }),
      /t=/,
    )
  })

  it('dedups on event + invitee URI and types by event', () => {
    const req = signed('k', NOW, body)
    expect(calendly.dedupId(req, parsedJson(req))).toBe(
      'invitee.canceled:https://api.calendly.com/scheduled_events/EV1/invitees/INV1',
    )
    expect(calendly.eventType(req, parsedJson(req))).toBe('invitee.canceled')
  })
})
