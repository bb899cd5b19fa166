import { describe, expect, it, vi } from 'vitest'
import { AwsLambdaReceiver } from '@zoom/rivet/users'
import { zoom } from '../../../src/core/providers/zoom'
import { v0Header, zoomEncryptedToken } from '../../fixtures/signers/hmac'
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

const body = Buffer.from(
  JSON.stringify({
    event: 'meeting.ended',
    event_ts: 1767268800123,
    payload: { account_id: 'A1', object: { id: '85746065432' } },
  }),
)

function signed(secret: string, now: number, payload: Buffer) {
  const ts = Math.floor(now / 1000)
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-zm-request-timestamp': String(ts),
      'x-zm-signature': v0Header(secret, ts, payload),
      'x-zm-trackingid': 'v=2.0;clid=us06;rid=WEB_1',
    },
    body: payload,
  })
}

/** Runs a request through @zoom/rivet's receiver and returns its response. */
async function rivet(secret: string, req: ReturnType<typeof signed>) {
  vi.spyOn(console, 'debug').mockImplementation(() => undefined)
  const receiver = new AwsLambdaReceiver({ webhooksSecretToken: secret })
  receiver.init({ eventEmitter: { emit: async () => undefined } as never, interactiveAuth: false } as never)
  const handler = receiver.start() as (
    event: unknown,
    context: unknown,
  ) => Promise<{ statusCode: number; body: string }>
  return handler({ body: req.body.toString(), headers: req.headers, isBase64Encoded: false }, {})
}

describe('zoom preset', () => {
  behavesLikeASignedPreset({ provider: zoom, body, sign: signed })

  it('refuses timestamps more than 5 minutes old or ahead', () => {
    const ctx = context({ secrets: ['k'] })
    expectRejected(zoom, signed('k', NOW - 301_000, body), ctx, /old/)
    expectRejected(zoom, signed('k', NOW + 301_000, body), ctx, /future/)
    expectAccepted(zoom, signed('k', NOW - 299_000, body), ctx)
  })

  it('answers a signed endpoint.url_validation exactly as Zoom expects (and as @zoom/rivet does)', async () => {
    const payload = Buffer.from(
      JSON.stringify({
        payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
        event_ts: 1654503849680,
        event: 'endpoint.url_validation',
      }),
    )
    const req = signed('k', NOW, payload)
    const answer = zoom.handshake!(req, context({ secrets: ['k'] }), parsedJson(req))
    expect(answer).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
        encryptedToken: zoomEncryptedToken('k', 'qgg8vlvZRS6UYooatFL8Aw'),
      }),
    })
    const official = await rivet('k', req)
    expect(official.statusCode).toBe(200)
    expect(JSON.parse(official.body)).toEqual(JSON.parse(answer!.body as string))
  })

  it('answers url_validation with the secret that signed it during a rotation', () => {
    const payload = Buffer.from(
      JSON.stringify({ payload: { plainToken: 'tok' }, event: 'endpoint.url_validation' }),
    )
    const req = signed('old', NOW, payload)
    const answer = zoom.handshake!(req, context({ secrets: ['new', 'old'] }), parsedJson(req))
    expect(JSON.parse(answer!.body as string).encryptedToken).toBe(zoomEncryptedToken('old', 'tok'))
  })

  it('ignores an unsigned url_validation (falls through to verify → 401)', () => {
    const req = inbound({
      body: JSON.stringify({ payload: { plainToken: 'tok' }, event: 'endpoint.url_validation' }),
    })
    expect(zoom.handshake!(req, context({ secrets: ['k'] }), parsedJson(req))).toBeNull()
    expectRejected(zoom, req, context({ secrets: ['k'] }))
  })

  it('dedups on x-zm-trackingid and types by event', () => {
    const req = signed('k', NOW, body)
    expect(zoom.dedupId(req, parsedJson(req))).toBe('v=2.0;clid=us06;rid=WEB_1')
    expect(zoom.eventType(req, parsedJson(req))).toBe('meeting.ended')
  })

  it('signs samples @zoom/rivet accepts', async () => {
    const req = fromSample(zoom, context({ secrets: ['sample-secret'] }))
    expect((await rivet('sample-secret', req)).statusCode).toBe(200)
    expect((await rivet('wrong', req)).statusCode).toBe(400)
  })
})
