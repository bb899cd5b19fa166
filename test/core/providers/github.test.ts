import { describe, expect, it } from 'vitest'
import { sign, verify } from '@octokit/webhooks-methods'
import { github } from '../../../src/core/providers/github'
import {
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const body = Buffer.from('{"action":"opened","issue":{"number":1}}')

async function officialRequest(secret: string, payload: Buffer) {
  return inbound({
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': await sign(secret, payload.toString()),
    },
    body: payload,
  })
}

describe('github preset', async () => {
  // @octokit/webhooks-methods signs asynchronously: sign each case up front.
  const signed = new Map<string, Awaited<ReturnType<typeof officialRequest>>>()
  for (const secret of ['secret-current', 'secret-new', 'someone-else'])
    signed.set(secret, await officialRequest(secret, body))

  behavesLikeASignedPreset({ provider: github, body, sign: (secret) => signed.get(secret)! })

  it('passes the official vector from GitHub docs', () => {
    const req = inbound({
      headers: {
        'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      },
      body: 'Hello, World!',
    })
    expectAccepted(github, req, context({ secrets: ["It's a Secret to Everybody"] }))
    expectRejected(
      github,
      { ...req, body: Buffer.from('Hello, World?') },
      context({ secrets: ["It's a Secret to Everybody"] }),
    )
  })

  it('refuses a signature without the sha256= prefix and one with trailing garbage', () => {
    const req = signed.get('secret-current')!
    const bare = req.headers['x-hub-signature-256']!.slice('sha256='.length)
    const ctx = context({ secrets: ['secret-current'] })
    expectRejected(github, { ...req, headers: { ...req.headers, 'x-hub-signature-256': bare } }, ctx)
    expectRejected(
      github,
      { ...req, headers: { ...req.headers, 'x-hub-signature-256': `sha256=${bare}00` } },
      ctx,
    )
  })

  it('falls back to the legacy SHA-1 header only when the SHA-256 one is absent', async () => {
    const { createHmac } = await import('node:crypto')
    const sha1 = 'sha1=' + createHmac('sha1', 'k').update(body).digest('hex')
    const ctx = context({ secrets: ['k'] })
    expectAccepted(github, inbound({ headers: { 'x-hub-signature': sha1 }, body }), ctx)
    expectRejected(
      github,
      inbound({ headers: { 'x-hub-signature': sha1, 'x-hub-signature-256': 'sha256=00' }, body }),
      ctx,
    )
  })

  it('dedups on X-GitHub-Delivery and types as event.action', () => {
    const req = signed.get('secret-current')!
    expect(github.dedupId(req, parsedJson(req))).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958')
    expect(github.eventType(req, parsedJson(req))).toBe('issues.opened')
    const ping = inbound({ headers: { 'x-github-event': 'ping' }, body: '{"zen":"x"}' })
    expect(github.eventType(ping, parsedJson(ping))).toBe('ping')
  })

  it('signs samples @octokit/webhooks-methods verifies', async () => {
    const req = fromSample(github, context({ secrets: ['sample-secret'] }))
    expect(await verify('sample-secret', req.body.toString(), req.headers['x-hub-signature-256']!)).toBe(true)
    expect(req.headers['x-github-event']).toBe('ping')
  })
})
