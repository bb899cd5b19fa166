import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import { RunStore } from '../../../src/core/orchestrator/run-store'
import type { EventDetail, RunDetail } from '../../../src/shared/domain'
import { FakeService, type FakeHandler } from '../../fixtures/fake-services/fake-service'
import {
  newWebhookSecret,
  signDelivery,
  startCustomerNotifier,
  startInventory,
  startPlatform,
} from '../../fixtures/fake-services/services'
import { startTestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { Harness, installOrderFulfilment, settle, waitFor, type TestEvent } from './harness'

// A waitForEvent must also take an answer that arrived before the run reached it: a fast 3PL answers inside
// its webhook handler, so its event is stored and dispatched (finding no wait) before the run waits.

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

function harness(): Harness {
  // The fake clock never moves here: a wait that ends does so because an event answered it, not a timeout.
  const h = new Harness({ clock: new FakeClock(Date.now()) })
  open.push({ close: () => h.close() })
  return h
}

async function service(handler: FakeHandler): Promise<FakeService> {
  const s = await FakeService.start('fake', handler)
  open.push(s)
  return s
}

/** The id of the event a finished waitForEvent step took (null when it timed out). */
function answerOf(run: RunDetail, stepId: string): string | null {
  const output = run.steps.find((s) => s.stepId === stepId)?.output as { event?: { id: string } | null }
  return output?.event?.id ?? null
}

const waitStep = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'waitForEvent',
  source: 'tpl',
  types: ['shipment.*'],
  match: 'body.orderId = run.event.orderId',
  timeout: '2d',
  ...extra,
})

/** A workflow on source `shop` that calls `url` (the fake answers there), then runs `waits`, then `done`. */
function fulfil(h: Harness, url: string, waits: unknown[], id = 'fulfil'): void {
  h.ops['workflows.create']({
    id,
    name: id,
    trigger: { source: 'shop', types: ['order.placed'] },
    steps: [
      { id: 'handOver', kind: 'http', method: 'POST', url, body: { orderId: '{{ event.orderId }}' } },
      ...waits,
      { id: 'done', kind: 'set', values: { ok: true } },
    ],
  })
}

const shipment = (orderId: string, extra: Partial<TestEvent> = {}): TestEvent => ({
  sourceId: 'tpl',
  type: 'shipment.shipped',
  body: { type: 'shipment.shipped', orderId },
  ...extra,
})

describe('waitForEvent takes answers that arrived before the wait', () => {
  it('through the real receiver: a 3PL that answers inside its webhook handler completes the run, no timeout', async () => {
    const clock = new FakeClock(Date.now())
    const t = await startTestEngine({ clock, random: () => 0.5 })
    open.push(t)
    const shopSecret = newWebhookSecret()
    const tplInbound = newWebhookSecret()
    const tplOutbound = newWebhookSecret()
    const platform = await startPlatform(shopSecret)
    const inventory = await startInventory({ 'SKU-9': 1 })
    const notifier = await startCustomerNotifier()
    open.push(platform.service, inventory.service, notifier.service)
    const shippedEvents: string[] = []
    // The fast 3PL: verifies the shipment request, and before answering it delivers its signed "shipped"
    // webhook to the receiver and waits for the 200 (the event is committed before the run's step finishes).
    const tpl = await service(async (req) => {
      new Webhook(tplInbound).verify(req.body, req.headers)
      const { orderId } = req.json as { orderId: string }
      const delivery = signDelivery(tplOutbound, {
        type: 'shipment.shipped',
        orderId,
        trackingNumber: `FAST-${orderId}`,
      })
      const res = await http(`${t.url}/hooks/3pl`, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      })
      expect(res.status).toBe(200)
      shippedEvents.push((res.json as { id: string }).id)
      return { status: 202, body: { shipmentId: `shp_${orderId}` } }
    })
    await installOrderFulfilment(t.engine, {
      shopSecret,
      tplOutbound,
      secrets: {
        inventoryUrl: inventory.service.url,
        tplUrl: tpl.url,
        tplSecret: tplInbound,
        notifyUrl: notifier.service.url,
        platformUrl: platform.service.url,
      },
    })

    const order = {
      orderId: '3001',
      items: [{ sku: 'SKU-9', qty: 3 }],
      customer: { email: 'ada@example.com', name: 'Ada' },
    }
    const placed = platform.orderPlaced(order)
    const res = await http(`${t.url}/hooks/shop`, {
      method: 'POST',
      headers: placed.headers,
      body: placed.body,
    })
    expect(res.status).toBe(200)
    const eventId = (res.json as { id: string }).id
    let runId = ''
    await waitFor(() => {
      runId = (t.engine.operations['events.get']({ id: eventId }) as EventDetail).runs[0]?.id ?? ''
      return runId !== ''
    }, 'the run')
    const get = () => t.engine.operations['runs.get']({ id: runId }) as RunDetail
    await waitFor(
      () => get().status === 'succeeded' || get().status === 'dead',
      'the run to finish',
      () => JSON.stringify(get(), null, 1),
    )
    const run = get()
    expect(run.status).toBe('succeeded')
    expect(shippedEvents).toHaveLength(1)
    expect(answerOf(run, 'shipped')).toBe(shippedEvents[0])
    expect(run.steps.find((s) => s.stepId === 'shipped')!.output).toMatchObject({
      timedOut: false,
      event: { body: { orderId: '3001', trackingNumber: 'FAST-3001' } },
    })
    expect(run.steps.some((s) => s.stepId === 'late')).toBe(false)
    expect(notifier.service.to('/notifications')[0]!.json).toMatchObject({ tracking: 'FAST-3001' })
    expect(platform.statuses.get('3001')).toEqual(['shipped'])
  })

  it('ignores early events that do not answer the wait (other order, other type, not accepted); a later answer still resumes it', async () => {
    const h = harness()
    const fake = await service(() => {
      h.addEvent(shipment('999'))
      h.addEvent(shipment('1', { type: 'invoice.sent' }))
      h.addEvent(shipment('1', { status: 'rejected' }))
      h.addEvent(shipment('1', { status: 'duplicate' }))
      return { status: 202, body: {} }
    })
    fulfil(h, fake.url, [waitStep('shipped')])
    const [runId] = await h.runsOf(
      h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: '1' } }),
    )
    await h.waitForStatus(runId!, 'waiting')
    // Let the look-back and every dispatch finish: the run keeps waiting.
    await waitFor(
      () => h.jobs().every((j) => j.kind === 'run-timer'),
      'jobs to drain',
      () => JSON.stringify(h.jobs()),
    )
    await settle()
    expect(h.run(runId!).status).toBe('waiting')

    const late = h.addEvent(shipment('1'))
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect(answerOf(done, 'shipped')).toBe(late)
  })

  it('two waits on the same source take two different events, oldest first, and never the same one twice', async () => {
    const h = harness()
    const early: string[] = []
    const fake = await service((req) => {
      const { orderId } = req.json as { orderId: string }
      early.push(h.addEvent(shipment(orderId)))
      return { status: 202, body: {} }
    })
    fulfil(h, fake.url, [waitStep('first'), waitStep('second')])
    const [runId] = await h.runsOf(
      h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: '7' } }),
    )
    await waitFor(() => h.run(runId!).steps.some((s) => s.stepId === 'second'), 'the second wait')
    const waiting = await h.waitForStatus(runId!, 'waiting')
    expect(waiting.currentStep).toBe('second')
    expect(answerOf(waiting, 'first')).toBe(early[0])

    // The early event answered the first wait; a repeated dispatch of it does not answer the second.
    h.db.transaction(() => h.queue.add('dispatch', { eventId: early[0]! })).immediate()
    h.queue.wake()
    await waitFor(() => h.jobs().every((j) => j.kind === 'run-timer'), 'jobs to drain')
    await settle()
    expect(h.run(runId!).status).toBe('waiting')
    expect(h.db.prepare(`SELECT event_id, step_id FROM wait_answers WHERE run_id = ?`).all(runId)).toEqual([
      { event_id: early[0], step_id: 'first' },
    ])

    const later = h.addEvent(shipment('7'))
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect(answerOf(done, 'second')).toBe(later)
  })

  it('two early answers feed two waits in the order they arrived', async () => {
    const h = harness()
    const early: string[] = []
    const fake = await service((req) => {
      const { orderId } = req.json as { orderId: string }
      early.push(h.addEvent(shipment(orderId)), h.addEvent(shipment(orderId)))
      return { status: 202, body: {} }
    })
    fulfil(h, fake.url, [waitStep('first'), waitStep('second')])
    const [runId] = await h.runsOf(
      h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: '8' } }),
    )
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect([answerOf(done, 'first'), answerOf(done, 'second')]).toEqual(early)
  })

  it('fan-in: one early event answers every run waiting for it; the triggering event never answers its own run', async () => {
    const h = harness()
    let go: string | null = null
    const fake = await service(() => {
      go ??= h.addEvent({ sourceId: 'shop', type: 'go', body: {} })
      return { status: 202, body: {} }
    })
    for (const id of ['a', 'b']) {
      h.ops['workflows.create']({
        id,
        name: id,
        trigger: { source: 'shop', types: ['start'] },
        steps: [
          { id: 'call', kind: 'http', method: 'POST', url: fake.url, body: {} },
          { id: 'wait', kind: 'waitForEvent', source: 'shop', timeout: '1h' },
        ],
      })
    }
    const trigger = h.addEvent({ sourceId: 'shop', type: 'start', body: {} })
    const runIds = await h.runsOf(trigger, 2)
    for (const id of runIds) {
      const done = await h.waitForStatus(id, 'succeeded')
      expect(answerOf(done, 'wait')).toBe(go)
    }
  })

  it('a replayed run does not take answers from before the replay', async () => {
    const h = harness()
    let calls = 0
    let fast = ''
    const fake = await service((req) => {
      // Only the first hand-over gets a fast answer.
      if (calls++ === 0) fast = h.addEvent(shipment((req.json as { orderId: string }).orderId))
      return { status: 202, body: {} }
    })
    fulfil(h, fake.url, [waitStep('shipped')])
    const placed = h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: '5' } })
    const [first] = await h.runsOf(placed)
    await h.waitForStatus(first!, 'succeeded')

    const replay = await h.ops['events.replay']({ id: placed })
    const second = replay.runs[0]!.id
    await h.waitForStatus(second, 'waiting')
    // Not by the look-back, nor by a late (repeated) dispatch of that old answer.
    h.db.transaction(() => h.queue.add('dispatch', { eventId: fast })).immediate()
    h.queue.wake()
    await waitFor(() => h.jobs().every((j) => j.kind === 'run-timer'), 'jobs to drain')
    await settle()
    expect(h.run(second).status).toBe('waiting')
    const late = h.addEvent(shipment('5'))
    expect(answerOf(await h.waitForStatus(second, 'succeeded'), 'shipped')).toBe(late)
  })

  it('looks back at only the newest events of the source since the run began (a bounded, indexed scan)', () => {
    const h = harness()
    const runs = new RunStore(h.db)
    const before = h.addEvent(shipment('1'))
    const from = runs.eventSeq(before)!
    const ids = [1, 2, 3, 4, 5].map(() => h.addEvent(shipment('1')))
    h.addEvent(shipment('1', { status: 'rejected' }))
    h.addEvent(shipment('1', { type: 'invoice.sent' }))
    const newest = runs.newestSeqOn('tpl')!
    const all = runs.earlierEvents('run_x', 'tpl', from, newest, ['shipment.*'])
    expect(all.map((e) => e.id)).toEqual(ids) // oldest first; not the one at the bound, not rejected or other types
    // The newest 4 rows of the range are looked at, whatever they are: two of them are not candidates.
    expect(runs.earlierEvents('run_x', 'tpl', from, newest, ['shipment.*'], 4).map((e) => e.id)).toEqual(
      ids.slice(3),
    )
    expect(
      runs.earlierEvents('run_x', 'tpl', from, runs.eventSeq(ids[2]!)!, undefined).map((e) => e.id),
    ).toEqual(ids.slice(0, 3))
    runs.addAnswer('run_x', ids[0]!, 'w', 0)
    expect(runs.earlierEvents('run_x', 'tpl', from, newest, ['shipment.*'])[0]!.id).toBe(ids[1])
    expect(runs.earlierEvents('run_y', 'tpl', from, newest, ['shipment.*'])[0]!.id).toBe(ids[0])
    // A `?` or `[` in a type glob is literal, as in typeMatches.
    expect(runs.earlierEvents('run_x', 'tpl', from, newest, ['shipment.shipp?d'])).toEqual([])
    const plan = h.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT seq, id, type, status FROM events
         WHERE source_id = ? AND seq > ? AND seq <= ? ORDER BY seq DESC LIMIT ?`,
      )
      .all('tpl', from, newest, 4) as Array<{ detail: string }>
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING INDEX events_source/)
  })
})
