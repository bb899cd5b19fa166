import { describe, expect, it } from 'vitest'
import { isValidSlackRequest } from '@slack/bolt'
import { slack } from '../../../src/core/providers/slack'
import { v0Header } from '../../fixtures/signers/hmac'
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

const body = Buffer.from(
  JSON.stringify({
    type: 'event_callback',
    event_id: 'Ev0PV52K21',
    event: { type: 'message', text: 'hi' },
    event_time: NOW_S,
  }),
)

function signed(secret: string, now: number, payload: Buffer, contentType = 'application/json') {
  const ts = Math.floor(now / 1000)
  return inbound({
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': v0Header(secret, ts, payload),
    },
    body: payload,
  })
}

describe('slack preset', () => {
  behavesLikeASignedPreset({ provider: slack, body, sign: signed })

  it('passes the official vector from Slack docs (a slash command)', () => {
    const vectorBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
    const req = inbound({
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': '1531420618',
        'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      },
      body: vectorBody,
    })
    const ctx = context({ secrets: ['8f742231b10e8888abcd99yyyzzz85a5'], now: 1531420618_000 })
    expectAccepted(slack, req, ctx)
    expect(slack.eventType(req, undefined)).toBe('command:/webhook-collect')
    expectRejected(slack, req, context({ secrets: ['8f742231b10e8888abcd99yyyzzz85a5'] }), /old/)
  })

  it('refuses timestamps more than 5 minutes old or ahead', () => {
    const ctx = context({ secrets: ['k'] })
    expectRejected(slack, signed('k', NOW - 301_000, body), ctx, /old/)
    expectRejected(slack, signed('k', NOW + 301_000, body), ctx, /future/)
    expectAccepted(slack, signed('k', NOW + 299_000, body), ctx)
  })

  it('answers a signed url_verification with the challenge as text/plain', () => {
    const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'
    const payload = Buffer.from(
      JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' }),
    )
    const req = signed('k', NOW, payload)
    expect(slack.handshake!(req, context({ secrets: ['k'] }), parsedJson(req))).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: challenge,
    })
  })

  it('does not answer an unsigned or wrongly signed url_verification (it falls through to verify → 401)', () => {
    const payload = Buffer.from(JSON.stringify({ challenge: 'abc', type: 'url_verification' }))
    const wrong = signed('other', NOW, payload)
    expect(slack.handshake!(wrong, context({ secrets: ['k'] }), parsedJson(wrong))).toBeNull()
    const unsigned = inbound({ body: payload })
    expect(slack.handshake!(unsigned, context({ secrets: ['k'] }), parsedJson(unsigned))).toBeNull()
    expectRejected(slack, unsigned, context({ secrets: ['k'] }))
  })

  it('dedups on event_id (kept across retries) and types by the inner event type', () => {
    const req = signed('k', NOW, body)
    req.headers['x-slack-retry-num'] = '1'
    expect(slack.dedupId(req, parsedJson(req))).toBe('Ev0PV52K21')
    expect(slack.eventType(req, parsedJson(req))).toBe('message')
  })

  it('types interactivity payloads by their type', () => {
    const form = Buffer.from(`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}`)
    const req = signed('k', NOW, form, 'application/x-www-form-urlencoded')
    expect(slack.eventType(req, undefined)).toBe('block_actions')
  })

  it('signs samples @slack/bolt accepts', () => {
    const req = fromSample(slack, context({ secrets: ['sample-secret'] }))
    const valid = isValidSlackRequest({
      signingSecret: 'sample-secret',
      body: req.body.toString(),
      headers: {
        'x-slack-signature': req.headers['x-slack-signature']!,
        'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
      },
      nowMilliseconds: NOW,
    })
    expect(valid).toBe(true)
  })
})
