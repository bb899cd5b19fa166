import { describe, expect, it } from 'vitest'
import { microsoftGraph } from '../../../src/core/providers/microsoft-graph'
import { context, expectAccepted, expectRejected, fromSample, inbound, parsedJson } from './harness'

const notification = (...clientStates: Array<string | undefined>) =>
  inbound({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      value: clientStates.map((clientState, i) => ({
        subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
        changeType: i === 0 ? 'updated' : 'created',
        resource: `Users/u1/Events/e${i}`,
        ...(clientState === undefined ? {} : { clientState }),
      })),
    }),
  })

describe('microsoft-graph preset', () => {
  const byOption = context({ options: { clientState: 'secretClientValue' } })

  it('answers the validationToken request with a 200 text/plain echo of the decoded token', () => {
    const req = inbound({
      query: 'validationToken=Validation%3A%20Testing%20client%20application%20reachability%2B',
      headers: { 'content-type': 'text/plain' },
    })
    expect(microsoftGraph.handshake!(req, byOption, undefined)).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
      body: 'Validation: Testing client application reachability+',
    })
    expect(microsoftGraph.handshake!(notification('secretClientValue'), byOption, undefined)).toBeNull()
  })

  it('accepts notifications whose every clientState matches (option or secret)', () => {
    expectAccepted(microsoftGraph, notification('secretClientValue', 'secretClientValue'), byOption)
    expectAccepted(microsoftGraph, notification('s2'), context({ secrets: ['s2'] }))
    expectAccepted(microsoftGraph, notification('old'), context({ secrets: ['new', 'old'] }))
  })

  it('rejects a batch where any clientState is wrong or missing, and bodies without notifications', () => {
    expectRejected(microsoftGraph, notification('secretClientValue', 'forged'), byOption, /value\[1\]/)
    expectRejected(microsoftGraph, notification(undefined), byOption, /no clientState/)
    expectRejected(microsoftGraph, inbound({ body: '{}' }), byOption)
    expectRejected(microsoftGraph, notification('x'), context(), /no clientState configured/)
  })

  it('types by changeType (or lifecycleEvent) and leaves dedup to the body hash', () => {
    const req = notification('secretClientValue')
    expect(microsoftGraph.eventType(req, parsedJson(req))).toBe('updated')
    expect(microsoftGraph.dedupId(req, parsedJson(req))).toBeNull()
    const lifecycle = inbound({
      body: JSON.stringify({ value: [{ lifecycleEvent: 'reauthorizationRequired', clientState: 'x' }] }),
    })
    expect(microsoftGraph.eventType(lifecycle, parsedJson(lifecycle))).toBe('reauthorizationRequired')
  })

  it('limits clientState to 128 characters and needs it as an option or a secret', () => {
    expect(microsoftGraph.options.safeParse({ clientState: 'x'.repeat(129) }).success).toBe(false)
    expect(microsoftGraph.validateSetup!({}, false)).toMatch(/options\.clientState/)
    expect(microsoftGraph.validateSetup!({}, true)).toBeNull()
  })

  it('builds samples its own verify accepts', () => {
    expectAccepted(microsoftGraph, fromSample(microsoftGraph, byOption), byOption)
  })
})
