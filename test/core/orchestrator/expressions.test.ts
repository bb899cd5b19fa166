import { describe, expect, it } from 'vitest'
import { evaluate, ExpressionError, render, truthy } from '../../../src/core/orchestrator/expressions'
import { nextStep } from '../../../src/core/orchestrator/runner'
import type { StepRow } from '../../../src/core/orchestrator/run-store'
import type { Step } from '../../../src/shared/workflow'

const input = {
  event: { orderId: 7, items: [{ sku: 'A', qty: 2 }] },
  steps: { stock: { body: { available: 1 } } },
}

describe('expressions and templates', () => {
  it('keeps the value of a whole-string template and interpolates mixed text', async () => {
    expect(await render('{{ event.orderId }}', input)).toBe(7)
    expect(await render('{{ event.items }}', input)).toEqual([{ sku: 'A', qty: 2 }])
    expect(await render('order {{ event.orderId }}: {{ event.items[0].sku }}', input)).toBe('order 7: A')
    expect(await render({ a: ['{{ event.orderId + 1 }}', 'x'], b: 3 }, input)).toEqual({ a: [8, 'x'], b: 3 })
    expect(await render('missing: [{{ event.nope }}]', input)).toBe('missing: []')
  })

  it('evaluates conditions with JSONata truthiness', async () => {
    expect(await evaluate('steps.stock.body.available < event.items[0].qty', input)).toBe(true)
    expect(truthy([])).toBe(false)
    expect(truthy(['x'])).toBe(true)
    expect(truthy(0)).toBe(false)
  })

  it('stops an expression that runs past its time limit', async () => {
    const runaway = '($loop := function($n) { $n > 0 ? $loop($n - 1) + $loop($n - 1) : 0 }; $loop(40))'
    await expect(evaluate(runaway, {}, 50)).rejects.toThrow(ExpressionError)
    await expect(evaluate(runaway, {}, 50)).rejects.toThrow(/time limit|nests too deeply/)
  })

  it('picks the next step: completed steps are skipped, branches follow their recorded choice', () => {
    const steps: Step[] = [
      { id: 'a', kind: 'set', values: {} },
      {
        id: 'b',
        kind: 'if',
        when: 'true',
        then: [{ id: 'c', kind: 'notify', title: 'x' }],
        else: [{ id: 'd', kind: 'notify', title: 'y' }],
      },
      { id: 'e', kind: 'notify', title: 'z' },
    ]
    const row = (id: string, status: StepRow['status'], output: unknown = null) =>
      [id, { step_id: id, status, output: JSON.stringify(output) } as StepRow] as const
    expect(nextStep(steps, new Map())!.id).toBe('a')
    expect(nextStep(steps, new Map([row('a', 'succeeded')]))!.id).toBe('b')
    expect(
      nextStep(steps, new Map([row('a', 'succeeded'), row('b', 'succeeded', { branch: 'else' })]))!.id,
    ).toBe('d')
    expect(
      nextStep(
        steps,
        new Map([row('a', 'succeeded'), row('b', 'succeeded', { branch: 'then' }), row('c', 'failed')]),
      )!.id,
    ).toBe('c')
    expect(
      nextStep(
        steps,
        new Map([
          row('a', 'succeeded'),
          row('b', 'succeeded', { branch: 'then' }),
          row('c', 'succeeded'),
          row('e', 'succeeded'),
        ]),
      ),
    ).toBeNull()
  })
})
