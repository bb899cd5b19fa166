import { describe, expect, it } from 'vitest'
import twilioLib from 'twilio'
import { twilio } from '../../../src/core/providers/twilio'
import {
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const PUBLIC = 'https://switchboard.example.loca.lt/hooks/src1'
const params = {
  MessageSid: 'SM1',
  From: '+14158675309',
  To: '+18005551212',
  Body: 'Hi there',
  SmsStatus: 'received',
}
const body = Buffer.from(new URLSearchParams(params).toString())

/** A form POST to `url` signed by the twilio package. */
function officialForm(secret: string, url: string, form: Record<string, string>, path = '/hooks/src1') {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  return inbound({
    path,
    query,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioLib.getExpectedTwilioSignature(secret, url, form),
      'i-twilio-idempotency-token': '5d7a1e60-idem',
    },
    body: new URLSearchParams(form).toString(),
  })
}

describe('twilio preset', () => {
  behavesLikeASignedPreset({ provider: twilio, body, sign: (secret) => officialForm(secret, PUBLIC, params) })

  it('rejects a request signed for another URL (the public URL is part of the signature)', () => {
    const req = officialForm('k', 'https://attacker.example/hooks/src1', params)
    expectRejected(twilio, req, context({ secrets: ['k'] }), /does not match/)
  })

  it('rejects every request when no public URL is known', () => {
    const req = officialForm('k', PUBLIC, params)
    expectRejected(twilio, req, context({ secrets: ['k'], publicUrl: null }), /publicUrl/)
  })

  it('signs the query string as received, with options.publicUrl as the base', () => {
    const req = officialForm('k', `${PUBLIC}?tenant=a%20b&x=1`, params)
    expectAccepted(twilio, req, context({ secrets: ['k'] }))
    expectRejected(twilio, { ...req, query: 'x=1&tenant=a%20b' }, context({ secrets: ['k'] }))
  })

  describe('the official vectors', () => {
    const docUrl = 'https://mycompany.com/myapp.php?foo=1&bar=2'
    const ctxFor = (publicUrl: string) => context({ id: 'src1', secrets: ['12345'], publicUrl })
    const req = (
      signature: string,
      form: Array<[string, string]>,
      query = 'foo=1&bar=2',
      contentType = 'application/x-www-form-urlencoded',
      raw?: string,
    ) =>
      inbound({
        path: '/myapp.php',
        query,
        headers: { 'content-type': contentType, 'x-twilio-signature': signature },
        body: raw ?? new URLSearchParams(form).toString(),
      })
    const current: Array<[string, string]> = [
      ['CallSid', 'CA1234567890ABCDE'],
      ['Caller', '+12349013030'],
      ['Digits', '1234'],
      ['From', '+12349013030'],
      ['To', '+18005551212'],
    ]
    const older: Array<[string, string]> = current.map(([k, v]) => [
      k,
      k === 'Caller' || k === 'From' ? '+14158675309' : v,
    ])
    const withReason: Array<[string, string]> = [
      ...older,
      ['ReasonConferenceEnded', 'test'],
      ['Reason', 'Participant'],
    ]

    it('docs (current and older parameter sets)', () => {
      expectAccepted(twilio, req('0/KCTR6DLpKmkAf8muzZqo1nDgQ=', current), ctxFor(docUrl))
      expectAccepted(twilio, req('RSOYDt4T1cUTdK1PDd93/VVr8B8=', older), ctxFor(docUrl))
    })

    it('twilio-go: parameters sorted by name; the mis-sorted signature is invalid', () => {
      expectAccepted(twilio, req('vOEb5UThFn24KEfnOFLQY2AE5FY=', withReason), ctxFor(docUrl))
      expectRejected(twilio, req('95+Bu0JVPi0r/SsESZCVf0dWAjw=', withReason), ctxFor(docUrl))
    })

    it('twilio-go: a URL with a port verifies a signature made without it', () => {
      expectAccepted(
        twilio,
        req('vOEb5UThFn24KEfnOFLQY2AE5FY=', withReason),
        ctxFor('https://mycompany.com:1234/myapp.php'),
      )
    })

    it('twilio-go: JSON bodies sign the URL carrying bodySHA256, and the body must match it', () => {
      const hash = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620'
      const json = '{"property": "value", "boolean": true}'
      expectAccepted(
        twilio,
        req('a9nBmqA0ju/hNViExpshrM61xv4=', [], `foo=1&bar=2&bodySHA256=${hash}`, 'application/json', json),
        ctxFor(docUrl),
      )
      expectAccepted(
        twilio,
        req('y77kIzt2vzLz71DgmJGsen2scGs=', [], `bodySHA256=${hash}`, 'application/json', json),
        ctxFor(docUrl),
      )
      const otherBody = '{"property": "value", "boolean": false}'
      expectRejected(
        twilio,
        req('y77kIzt2vzLz71DgmJGsen2scGs=', [], `bodySHA256=${hash}`, 'application/json', otherBody),
        ctxFor(docUrl),
        /bodySHA256/,
      )
    })

    it('twilio-go: a form body', () => {
      const form: Array<[string, string]> = [
        ['property', 'value'],
        ['boolean', 'true'],
      ]
      expectAccepted(twilio, req('NBdBDr/T/lgjI+tlgpXjKZQZs/k=', form), ctxFor(docUrl))
    })
  })

  it('tries the URL without and with the default port', () => {
    const signedWithPort = officialForm('k', 'https://switchboard.example.loca.lt:443/hooks/src1', params)
    expectAccepted(twilio, signedWithPort, context({ secrets: ['k'] }))
    const signedWithoutPort = officialForm('k', PUBLIC, params)
    expectAccepted(
      twilio,
      signedWithoutPort,
      context({ secrets: ['k'], publicUrl: 'https://switchboard.example.loca.lt:443/hooks/src1' }),
    )
  })

  it('verifies SharedKey webhooks signed with HMAC-SHA256', () => {
    const signature = twilioLib.getExpectedTwilioSignature('shared', PUBLIC, params, 'HMAC_SHA256')
    const req = inbound({
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
        'x-twilio-webhooks-signature-settings': 'key=webhooks_sharedkey_1,algorithm=HMAC_SHA256',
      },
      body,
    })
    expectAccepted(twilio, req, context({ secrets: ['shared'] }))
  })

  it('dedups on I-Twilio-Idempotency-Token and types by status', () => {
    const req = officialForm('k', PUBLIC, params)
    expect(twilio.dedupId(req, parsedJson(req))).toBe('5d7a1e60-idem')
    expect(twilio.eventType(req, undefined)).toBe('message.received')
  })

  it('signs samples the twilio package validates', () => {
    const req = fromSample(twilio, context({ secrets: ['token'] }))
    const form = Object.fromEntries(new URLSearchParams(req.body.toString()))
    expect(twilioLib.validateRequest('token', req.headers['x-twilio-signature']!, PUBLIC, form)).toBe(true)
  })
})
