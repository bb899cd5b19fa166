import { describe, expect, it } from 'vitest'
import { todoist } from '../../../src/core/providers/todoist'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { behavesLikeASignedPreset, context, expectRejected, inbound, parsedJson } from './harness'

const body = Buffer.from(
  JSON.stringify({
    event_name: 'item:completed',
    user_id: '2671355',
    event_data: { id: '6X7rM8997g3RQmvh' },
  }),
)

function signed(secret: string, _now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-todoist-delivery-id': 'f5e3b4c8-delivery',
      'x-todoist-hmac-sha256': bodyHmacHeader(secret, payload, 'sha256', 'base64'),
    },
    body: payload,
  })
}

describe('todoist preset', () => {
  behavesLikeASignedPreset({ provider: todoist, body, sign: signed })

  it('expects base64, not hex', () => {
    const req = signed('k', 0, body)
    req.headers['x-todoist-hmac-sha256'] = bodyHmacHeader('k', body, 'sha256', 'hex')
    expectRejected(todoist, req, context({ secrets: ['k'] }))
  })

  it('dedups on X-Todoist-Delivery-ID and types by event_name', () => {
    const req = signed('k', 0, body)
    expect(todoist.dedupId(req, parsedJson(req))).toBe('f5e3b4c8-delivery')
    expect(todoist.eventType(req, parsedJson(req))).toBe('item:completed')
  })
})
