import { describe, expect, it } from 'vitest'
import { asana } from '../../../src/core/providers/asana'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { behavesLikeASignedPreset, context, expectRejected, inbound, parsedJson } from './harness'

const body = Buffer.from(
  JSON.stringify({
    events: [
      {
        action: 'added',
        resource: { gid: '1200', resource_type: 'task' },
        user: { gid: '1', resource_type: 'user' },
      },
    ],
  }),
)

function signed(secret: string, _now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-hook-signature': bodyHmacHeader(secret, payload, 'sha256', 'hex'),
    },
    body: payload,
  })
}

describe('asana preset', () => {
  behavesLikeASignedPreset({ provider: asana, body, sign: signed })

  it('answers the X-Hook-Secret handshake by echoing it, and adopts it as the secret', () => {
    const req = inbound({
      headers: { 'x-hook-secret': 'b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81' },
    })
    expect(asana.handshake!(req, context(), undefined)).toEqual({
      status: 200,
      headers: { 'x-hook-secret': 'b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81' },
      adoptSecret: 'b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81',
    })
  })

  it('repeats the echo for the secret it already holds, without adopting anything', () => {
    const req = inbound({ headers: { 'x-hook-secret': 'held' } })
    expect(asana.handshake!(req, context({ secrets: ['held'] }), undefined)).toEqual({
      status: 200,
      headers: { 'x-hook-secret': 'held' },
    })
  })

  it('refuses a new X-Hook-Secret once the source holds one (a stranger cannot replace it)', () => {
    const req = inbound({ headers: { 'x-hook-secret': 'attacker' } })
    const ctx = context({ secrets: ['held'] })
    expect(asana.handshake!(req, ctx, undefined)).toBeNull()
    expectRejected(asana, req, ctx, /already holds/)
  })

  it('has no delivery id (the body hash dedups retries) and types as resource.action', () => {
    const req = signed('k', 0, body)
    expect(asana.dedupId(req, parsedJson(req))).toBeNull()
    expect(asana.eventType(req, parsedJson(req))).toBe('task.added')
    const heartbeat = inbound({ body: '{"events":[]}' })
    expect(asana.eventType(heartbeat, parsedJson(heartbeat))).toBeNull()
  })
})
