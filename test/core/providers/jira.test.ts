import { describe, expect, it } from 'vitest'
import { jira } from '../../../src/core/providers/jira'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { behavesLikeASignedPreset, context, expectRejected, inbound, parsedJson } from './harness'

const body = Buffer.from(
  JSON.stringify({ timestamp: 1767268800000, webhookEvent: 'jira:issue_created', issue: { key: 'TEST-1' } }),
)

function signed(secret: string, _now: number, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-atlassian-webhook-identifier': '3e9a0b4c-0000-4000-8000-000000000001',
      'x-atlassian-webhook-retry': '1',
      'x-hub-signature': bodyHmacHeader(secret, payload, 'sha256', 'hex', 'sha256='),
    },
    body: payload,
  })
}

describe('jira preset', () => {
  behavesLikeASignedPreset({ provider: jira, body, sign: signed })

  it('requires the method=sha256 prefix', () => {
    const req = signed('k', 0, body)
    req.headers['x-hub-signature'] = req.headers['x-hub-signature']!.replace('sha256=', 'sha1=')
    expectRejected(jira, req, context({ secrets: ['k'] }))
  })

  it('dedups on X-Atlassian-Webhook-Identifier (stable across retries) and types by webhookEvent', () => {
    const req = signed('k', 0, body)
    expect(jira.dedupId(req, parsedJson(req))).toBe('3e9a0b4c-0000-4000-8000-000000000001')
    expect(jira.eventType(req, parsedJson(req))).toBe('jira:issue_created')
  })
})
