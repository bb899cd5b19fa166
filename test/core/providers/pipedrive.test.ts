import { describe, expect, it } from 'vitest'
import { pipedrive } from '../../../src/core/providers/pipedrive'
import { context, expectAccepted, expectRejected, fromSample, inbound, parsedJson } from './harness'

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const v2Body = JSON.stringify({
  data: { id: 7 },
  previous: null,
  meta: {
    action: 'change',
    entity: 'deal',
    entity_id: '7',
    id: '2c3fe2c8-e09d-4d4d-9b3b-bd1d9a9f0bb1',
    version: '2.0',
    attempt: 2,
  },
})
const request = (authorization?: string, body = v2Body) =>
  inbound({
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body,
  })

describe('pipedrive preset', () => {
  const ctx = context({ options: { username: 'hook', password: 'p@ss:word' } })

  it('accepts the configured Basic credentials (password with a colon included)', () => {
    expectAccepted(pipedrive, request(basic('hook', 'p@ss:word')), ctx)
  })

  it('rejects a wrong user, a wrong password and a missing header', () => {
    expectRejected(pipedrive, request(basic('other', 'p@ss:word')), ctx)
    expectRejected(pipedrive, request(basic('hook', 'nope')), ctx)
    expectRejected(pipedrive, request(), ctx, /missing/)
  })

  it('accepts the password given as the secret, and the previous one during a rotation', () => {
    const bySecret = context({ options: { username: 'hook' }, secrets: ['new', 'old'] })
    expectAccepted(pipedrive, request(basic('hook', 'old')), bySecret)
    expectAccepted(pipedrive, request(basic('hook', 'new')), bySecret)
  })

  it('names the missing options', () => {
    const missing = pipedrive.options.safeParse({})
    expect(missing.success).toBe(false)
    expect(missing.error!.issues.map((i) => i.message).join()).toMatch(/options\.username is required/)
    expect(pipedrive.validateSetup!({ username: 'u' }, false)).toMatch(/options\.password/)
    expect(pipedrive.validateSetup!({ username: 'u' }, true)).toBeNull()
  })

  it('dedups v2 events on meta.id, types as entity.action, and leaves v1 to the body hash', () => {
    const req = request(basic('hook', 'p@ss:word'))
    expect(pipedrive.dedupId(req, parsedJson(req))).toBe('2c3fe2c8-e09d-4d4d-9b3b-bd1d9a9f0bb1')
    expect(pipedrive.eventType(req, parsedJson(req))).toBe('deal.change')
    const v1 = request(
      basic('hook', 'p@ss:word'),
      JSON.stringify({ event: 'updated.deal', meta: { v: 1, id: 7, object: 'deal' } }),
    )
    expect(pipedrive.dedupId(v1, parsedJson(v1))).toBeNull()
    expect(pipedrive.eventType(v1, parsedJson(v1))).toBe('updated.deal')
  })

  it('builds samples its own verify accepts', () => {
    expectAccepted(pipedrive, fromSample(pipedrive, ctx), ctx)
  })
})
