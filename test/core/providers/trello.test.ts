import { describe, expect, it } from 'vitest'
import { trello } from '../../../src/core/providers/trello'
import { trelloHeader } from '../../fixtures/signers/hmac'
import {
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  inbound,
  parsedJson,
} from './harness'

const PUBLIC = 'https://switchboard.example.loca.lt/hooks/src1'
const body = Buffer.from(
  JSON.stringify({
    model: { id: '4d5ea62fd76aa1136000000c' },
    action: { id: '51f9424bcd6e040f3c002412', type: 'updateCard', data: {} },
  }),
)

function signed(secret: string, _now: number, payload: Buffer, callbackUrl = PUBLIC) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-trello-webhook': trelloHeader(secret, payload, callbackUrl),
    },
    body: payload,
  })
}

describe('trello preset', () => {
  behavesLikeASignedPreset({ provider: trello, body, sign: signed })

  it('answers the HEAD check with 200', () => {
    expect(trello.handshake!(inbound({ method: 'HEAD' }), context({ secrets: ['k'] }), undefined)).toEqual({
      status: 200,
    })
    expect(trello.methods).toContain('HEAD')
  })

  it('does not treat a POST as the handshake', () => {
    const req = signed('k', 0, body)
    expect(trello.handshake!(req, context({ secrets: ['k'] }), parsedJson(req))).toBeNull()
  })

  it('rejects a request signed for another callback URL, accepts the configured publicUrl', () => {
    const custom = 'https://hooks.example.com/trello?board=1'
    expectRejected(
      trello,
      signed('k', 0, body, 'https://other.example/hooks/src1'),
      context({ secrets: ['k'] }),
    )
    const req = { ...signed('k', 0, body, custom), query: 'board=1' }
    expectAccepted(trello, req, context({ secrets: ['k'], publicUrl: custom }))
  })

  it('uses HMAC-SHA1 over body + URL with unicode bodies too', () => {
    const unicode = Buffer.from('{"action":{"id":"a1","type":"commentCard","data":{"text":"Grüße ☃"}}}')
    expectAccepted(trello, signed('k', 0, unicode), context({ secrets: ['k'] }))
  })

  it('rejects when no public URL is known', () => {
    expectRejected(trello, signed('k', 0, body), context({ secrets: ['k'], publicUrl: null }), /publicUrl/)
  })

  it('dedups on action.id and types by action.type', () => {
    const req = signed('k', 0, body)
    expect(trello.dedupId(req, parsedJson(req))).toBe('51f9424bcd6e040f3c002412')
    expect(trello.eventType(req, parsedJson(req))).toBe('updateCard')
  })
})
