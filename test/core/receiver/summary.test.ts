import { describe, expect, it } from 'vitest'
import { summarize } from '../../../src/core/receiver/summary'

describe('feed summary line', () => {
  it('takes the first human field, looking into common envelopes', () => {
    expect(
      summarize({ type: 'issue.assigned', issue: { title: 'Fix the login page' } }, 'issue.assigned'),
    ).toBe('Fix the login page')
    expect(summarize({ data: { object: { description: 'Invoice 42' } } }, 'invoice.paid')).toBe('Invoice 42')
  })

  it('falls back to the first scalar fields, then to the type', () => {
    expect(summarize({ type: 'order.placed', orderId: 'A-1', total: 12.5, items: [] }, 'order.placed')).toBe(
      'orderId: A-1, total: 12.5',
    )
    expect(summarize({ type: 'ping' }, 'ping')).toBe('ping')
    expect(summarize(undefined, null)).toBe('')
  })

  it('bounds its length', () => {
    expect(summarize({ title: 'x'.repeat(500) }, null)).toHaveLength(140)
  })
})
