import { createHash } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Signature } from '@hubspot/api-client'
import { hubspot } from '../../../src/core/providers/hubspot'
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

const PUBLIC = 'https://switchboard.example.loca.lt/hooks/src1'
const body = Buffer.from(
  JSON.stringify([
    {
      eventId: 100,
      subscriptionId: 7,
      portalId: 62515,
      occurredAt: NOW,
      subscriptionType: 'deal.propertyChange',
      attemptNumber: 0,
    },
    {
      eventId: 101,
      subscriptionId: 7,
      portalId: 62515,
      occurredAt: NOW,
      subscriptionType: 'deal.propertyChange',
      attemptNumber: 0,
    },
  ]),
)

/** Signed by the official SDK; like HubSpot, the SDK signs the URI with the 12 listed escapes decoded. */
function officialV3(secret: string, now: number, payload: Buffer, signedUri = PUBLIC, query = '') {
  return inbound({
    query,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': String(now),
      'x-hubspot-signature-v3': Signature.getSignature('POST', 'v3', {
        signature: '',
        clientSecret: secret,
        requestBody: payload.toString(),
        url: signedUri,
        timestamp: now,
      }),
    },
    body: payload,
  })
}

describe('hubspot preset', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
  })
  afterEach(() => vi.useRealTimers())

  behavesLikeASignedPreset({ provider: hubspot, body, sign: officialV3 })

  it('refuses v3 timestamps (ms) more than 5 minutes old or ahead', () => {
    const ctx = context({ secrets: ['k'] })
    expectRejected(hubspot, officialV3('k', NOW - 301_000, body), ctx, /old/)
    expectRejected(hubspot, officialV3('k', NOW + 301_000, body), ctx, /future/)
    expectAccepted(hubspot, officialV3('k', NOW - 299_000, body), ctx)
  })

  it('rejects a request signed for another URL', () => {
    expectRejected(
      hubspot,
      officialV3('k', NOW, body, 'https://elsewhere.example/hooks/src1'),
      context({ secrets: ['k'] }),
    )
  })

  it('decodes exactly the 12 listed escapes of the query before checking', () => {
    const query = 'a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%26%3D%2B'
    const signedUri = `${PUBLIC}?a=:/?@!$'()*,;&b=%20%26%3D%2B`
    expectAccepted(hubspot, officialV3('k', NOW, body, signedUri, query), context({ secrets: ['k'] }))
    // Had all escapes been decoded (%20 → space …), the signature would not match.
    const overDecoded = `${PUBLIC}?a=:/?@!$'()*,;&b= &=+`
    expectRejected(hubspot, officialV3('k', NOW, body, overDecoded, query), context({ secrets: ['k'] }))
  })

  describe('the official vectors', () => {
    const secret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy'
    const example = () =>
      context({
        id: 'x',
        secrets: [secret],
        publicUrl: 'https://www.example.com/webhook_uri',
        now: 15_000_000,
      })

    it('v3 (python SDK test)', () => {
      const req = inbound({
        path: '/webhook_uri',
        headers: {
          'x-hubspot-signature-v3': 'HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=',
          'x-hubspot-request-timestamp': '15000000',
        },
        body: "{'example_field':'example_value'}",
      })
      expectAccepted(hubspot, req, example())
    })

    it('v1 (docs)', () => {
      const v1Body =
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
      const req = inbound({
        headers: {
          'x-hubspot-signature': '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
          'x-hubspot-signature-version': 'v1',
        },
        body: v1Body,
      })
      expectAccepted(hubspot, req, example())
      expectRejected(hubspot, { ...req, body: Buffer.from(v1Body.replace('123', '124')) }, example())
      expect(hubspot.dedupId(req, parsedJson(req))).toBe('1')
      expect(hubspot.eventType(req, parsedJson(req))).toBe('contact.creation')
    })

    it('v1/v2: takes only a JSON body, so a length-extended one (signed without the secret) is refused', () => {
      // What a length extension of a captured v1 signature produces: the signed JSON, SHA-256's padding, and a
      // form field after it, with a signature that is right for those bytes. An attacker derives it from the
      // captured one without the secret; here it is computed with the secret, to show the body alone is refused.
      const signedJson = '[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]'
      const padding = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(20), Buffer.from([0x02, 0x48])])
      const extended = Buffer.concat([
        Buffer.from(signedJson),
        padding,
        Buffer.from('&payload={"subscriptionType":"deal.deletion","objectId":999}'),
      ])
      const v1 = (payload: Buffer, signature: string, contentType = 'application/json') =>
        inbound({
          headers: {
            'content-type': contentType,
            'x-hubspot-signature': signature,
            'x-hubspot-signature-version': 'v1',
          },
          body: payload,
        })
      const official = Signature.getSignature('POST', 'v1', {
        signature: '',
        clientSecret: secret,
        requestBody: signedJson,
      })
      expectAccepted(hubspot, v1(Buffer.from(signedJson), official), example())
      const right = createHash('sha256').update(secret).update(extended).digest('hex')
      const forged = v1(extended, right, 'application/x-www-form-urlencoded')
      expect(hubspot.verify(forged, example())).toEqual({
        ok: false,
        reason: 'a body signed with X-HubSpot-Signature (v1) must be JSON',
      })
    })

    it('v2 GET with an empty body, and POST with a body', () => {
      const get = inbound({
        method: 'GET',
        path: '/webhook_uri',
        headers: {
          'x-hubspot-signature': 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e',
          'x-hubspot-signature-version': 'v2',
        },
      })
      expectAccepted(hubspot, get, example())
      const post = inbound({
        path: '/webhook_uri',
        headers: {
          'x-hubspot-signature': '9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900',
          'x-hubspot-signature-version': 'v2',
        },
        body: '{"example_field":"example_value"}',
      })
      expectAccepted(hubspot, post, example())
      expectRejected(
        hubspot,
        post,
        context({ id: 'x', secrets: [secret], publicUrl: 'https://www.example.com/other' }),
      )
    })
  })

  it('dedups on the batch eventIds and types by the first subscriptionType', () => {
    const req = officialV3('k', NOW, body)
    expect(hubspot.dedupId(req, parsedJson(req))).toBe('100,101')
    expect(hubspot.eventType(req, parsedJson(req))).toBe('deal.propertyChange')
  })

  it('signs samples the HubSpot SDK validates', () => {
    const req = fromSample(hubspot, context({ secrets: ['client-secret'] }))
    const valid = Signature.isValid({
      signatureVersion: 'v3',
      signature: req.headers['x-hubspot-signature-v3']!,
      clientSecret: 'client-secret',
      requestBody: req.body.toString(),
      url: PUBLIC,
      method: 'POST',
      timestamp: Number(req.headers['x-hubspot-request-timestamp']),
    })
    expect(valid).toBe(true)
  })
})
