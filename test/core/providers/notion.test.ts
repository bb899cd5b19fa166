import { describe, expect, it } from 'vitest'
import { notion } from '../../../src/core/providers/notion'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { behavesLikeASignedPreset, context, expectRejected, inbound, parsedJson } from './harness'

const body = Buffer.from(
  JSON.stringify({
    id: '367cba44-b6f3-4c92-81e7-6a2e9659efd4',
    type: 'page.created',
    attempt_number: 2,
    entity: { id: 'p1', type: 'page' },
  }),
)

function signed(secret: string, _now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-notion-signature': bodyHmacHeader(secret, payload, 'sha256', 'hex', 'sha256='),
    },
    body: payload,
  })
}

describe('notion preset', () => {
  behavesLikeASignedPreset({ provider: notion, body, sign: signed })

  const verification = inbound({
    body: '{"verification_token":"secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl"}',
  })

  it('answers the verification POST with 200, shows the token to paste back and adopts it', () => {
    const answer = notion.handshake!(verification, context(), parsedJson(verification))
    expect(answer).toMatchObject({
      status: 200,
      adoptSecret: 'secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl',
    })
    expect(answer!.notice).toContain('secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl')
  })

  it('then verifies events signed with that token', () => {
    const token = 'secret_tMrlL1qK5vuQAh1b6cZGhFChZTSYJlce98V0pYn7yBl'
    expect(notion.verify(signed(token, 0, body), context({ secrets: [token] }))).toEqual({ ok: true })
  })

  it('does not let a second verification POST replace the token', () => {
    const ctx = context({ secrets: ['secret_already'] })
    expect(notion.handshake!(verification, ctx, parsedJson(verification))).toBeNull()
    expectRejected(notion, verification, ctx)
  })

  it('treats signed events as events, not handshakes', () => {
    const req = signed('k', 0, body)
    expect(notion.handshake!(req, context({ secrets: ['k'] }), parsedJson(req))).toBeNull()
  })

  it('dedups on the event id (same across attempts) and types by type', () => {
    const req = signed('k', 0, body)
    expect(notion.dedupId(req, parsedJson(req))).toBe('367cba44-b6f3-4c92-81e7-6a2e9659efd4')
    expect(notion.eventType(req, parsedJson(req))).toBe('page.created')
  })
})
