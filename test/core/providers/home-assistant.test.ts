import { describe, expect, it } from 'vitest'
import { homeAssistant } from '../../../src/core/providers/home-assistant'
import { context, expectAccepted, expectRejected, fromSample, inbound, parsedJson } from './harness'

const SECRET = 'h7Kq2mZ9xW4pL1vB8nR3'
const call = (path: string) =>
  inbound({
    path,
    headers: { 'content-type': 'application/json' },
    body: '{"event_type":"door_opened","data":{}}',
  })

describe('home-assistant preset', () => {
  const ctx = context({ options: { secretPath: SECRET } })

  it('accepts the secret path below /hooks/:id', () => {
    expectAccepted(homeAssistant, call(`/hooks/src1/${SECRET}`), ctx)
    expectAccepted(homeAssistant, call(`/hooks/src1/${SECRET}`), context({ secrets: [SECRET] }))
  })

  it('rejects a wrong, missing or longer path', () => {
    expectRejected(homeAssistant, call('/hooks/src1/guess'), ctx, /does not match/)
    expectRejected(homeAssistant, call('/hooks/src1'), ctx, /no secret path/)
    expectRejected(homeAssistant, call(`/hooks/src1/${SECRET}/more`), ctx)
    expectRejected(homeAssistant, call(`/hooks/src1/${SECRET}`), context(), /no secret path configured/)
  })

  it('validates the secret path option and needs it as an option or a secret', () => {
    expect(homeAssistant.options.safeParse({ secretPath: 'short' }).success).toBe(false)
    expect(homeAssistant.options.safeParse({ secretPath: 'has/slash-and-more-chars' }).success).toBe(false)
    expect(homeAssistant.validateSetup!({}, false)).toMatch(/options\.secretPath/)
  })

  it('types by event_type and leaves dedup to the body hash', () => {
    const req = call(`/hooks/src1/${SECRET}`)
    expect(homeAssistant.eventType(req, parsedJson(req))).toBe('door_opened')
    expect(homeAssistant.dedupId(req, parsedJson(req))).toBeNull()
  })

  it('builds samples on the secret path that its own verify accepts', () => {
    const req = fromSample(homeAssistant, ctx)
    expect(req.path).toBe(`/hooks/src1/${SECRET}`)
    expectAccepted(homeAssistant, req, ctx)
  })
})
