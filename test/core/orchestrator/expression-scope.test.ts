import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import { expressionScope } from '../../../src/core/orchestrator/scope'
import { Harness } from './harness'

const open: Harness[] = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

describe('expression scope', () => {
  it('puts the body’s fields first and the named values over them', () => {
    const scope = expressionScope(
      {
        json: { orderId: 'o-1', source: 'from the body' },
        headers: { 'x-a': '1' },
        sourceId: 'shop',
        type: 'order.placed',
        path: '/hooks/shop',
      },
      { steps: { a: { ok: true } }, secrets: { k: 'v' }, run: null },
    )
    expect(scope).toMatchObject({
      orderId: 'o-1',
      event: { orderId: 'o-1' },
      body: { orderId: 'o-1' },
      headers: { 'x-a': '1' },
      source: 'shop',
      type: 'order.placed',
      path: '/hooks/shop',
      steps: { a: { ok: true } },
      secrets: { k: 'v' },
      run: null,
    })
  })

  it('gives a step’s templates and a wait’s match the same names', async () => {
    const h = new Harness({ clock: new FakeClock(Date.now()), callbackBase: 'https://sb.example.test' })
    open.push(h)
    // Every name either expression kind may use, checked in a step template and again in the match.
    const names =
      'run.workflowVersion = 1 and $exists(run.callbackUrl) and run.eventId != "" and $exists(path) ' +
      'and $exists(type) and body.orderId = event.orderId and source != ""'
    h.ops['workflows.create']({
      id: 'scope',
      name: 'scope',
      trigger: { source: 'shop', types: ['order.placed'] },
      steps: [
        {
          id: 'seen',
          kind: 'set',
          values: {
            all: `{{ ${names} }}`,
            path: '{{ path }}',
            version: '{{ run.workflowVersion }}',
            callback: '{{ run.callbackUrl }}',
          },
        },
        {
          id: 'answer',
          kind: 'waitForEvent',
          source: 'tpl',
          types: ['shipment.*'],
          match: `${names} and path = "/hooks/tpl" and body.orderId = run.event.orderId and steps.seen.all`,
          timeout: '2d',
        },
      ],
    })
    const trigger = h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: 'o-7' } })
    const [runId] = await h.runsOf(trigger)
    await h.waitForStatus(runId!, 'waiting')
    const seen = h.run(runId!).steps.find((s) => s.stepId === 'seen')!.output
    expect(seen).toEqual({
      all: true,
      path: '/hooks/shop',
      version: 1,
      callback: `https://sb.example.test/hooks/tpl/runs/${runId}`,
    })
    h.addEvent({ sourceId: 'tpl', type: 'shipment.sent', body: { orderId: 'o-7' } })
    await h.waitForStatus(runId!, 'succeeded')
  })
})
