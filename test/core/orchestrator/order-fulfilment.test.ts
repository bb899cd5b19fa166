import { readFileSync } from 'node:fs'
import { Webhook } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import {
  newWebhookSecret,
  startCustomerNotifier,
  startInventory,
  startPlatform,
  startThreePL,
} from '../../fixtures/fake-services/services'
import { Harness, waitFor } from './harness'

const example = JSON.parse(readFileSync('resources/examples/order-fulfilment.json', 'utf8')) as Record<
  string,
  unknown
>

const order = {
  type: 'order.placed',
  orderId: '1001',
  items: [{ sku: 'SKU-1', qty: 5 }],
  customer: { email: 'ada@example.com', name: 'Ada' },
}

describe('order fulfilment, end to end against fake services', () => {
  let h: Harness
  let clock: FakeClock
  let platform: Awaited<ReturnType<typeof startPlatform>>
  let inventory: Awaited<ReturnType<typeof startInventory>>
  let tpl: Awaited<ReturnType<typeof startThreePL>>
  let notifier: Awaited<ReturnType<typeof startCustomerNotifier>>
  const tplSecret = newWebhookSecret()

  beforeEach(async () => {
    // A fake clock near the wall clock: the 3PL verifies webhook timestamps against real time.
    clock = new FakeClock(Date.now())
    platform = await startPlatform(newWebhookSecret())
    inventory = await startInventory({ 'SKU-1': 2 })
    tpl = await startThreePL(tplSecret, newWebhookSecret())
    notifier = await startCustomerNotifier()
    h = new Harness({ clock })
    h.ops['secrets.put']({ name: 'inventoryUrl', value: inventory.service.url })
    h.ops['secrets.put']({ name: 'tplUrl', value: tpl.service.url })
    h.ops['secrets.put']({ name: 'tplSecret', value: tplSecret })
    h.ops['secrets.put']({ name: 'notifyUrl', value: notifier.service.url })
    h.ops['secrets.put']({ name: 'platformUrl', value: platform.service.url })
    h.ops['workflows.create'](example)
  })

  afterEach(async () => {
    await h.close()
    await Promise.all([platform, inventory, tpl, notifier].map((s) => s.service.close()))
  })

  async function placeAndShip(): Promise<string> {
    const eventId = h.addEvent({ sourceId: 'shop', type: 'order.placed', body: order })
    const [runId] = await h.runsOf(eventId)
    const waiting = await h.waitForStatus(runId!, 'waiting')
    expect(waiting.currentStep).toBe('shipped')
    // An unrelated shipment does not resume the run.
    h.addEvent({
      sourceId: '3pl',
      type: 'shipment.shipped',
      body: { type: 'shipment.shipped', orderId: '999' },
    })
    await waitFor(() => h.jobs().every((j) => j.kind !== 'dispatch'), 'dispatch jobs to drain')
    expect(h.run(runId!).status).toBe('waiting')
    h.addEvent({
      sourceId: '3pl',
      type: 'shipment.shipped',
      body: { type: 'shipment.shipped', orderId: '1001', trackingNumber: 'TRK-1001' },
    })
    await h.waitForStatus(runId!, 'succeeded')
    return runId!
  }

  it('checks stock, hands a low-stock order to the 3PL, waits for its shipped event, then notifies and updates the order', async () => {
    const runId = await placeAndShip()
    const run = h.run(runId)
    expect(run.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['stock', 'succeeded'],
      ['low', 'succeeded'],
      ['ship3pl', 'succeeded'],
      ['shipped', 'succeeded'],
      ['tellCustomer', 'succeeded'],
      ['status', 'succeeded'],
      ['tell', 'succeeded'],
    ])
    expect(run.steps.find((s) => s.stepId === 'low')!.output).toMatchObject({ branch: 'then' })

    // The 3PL got one shipment request, signed with Standard Webhooks (it verified it), with the run's key.
    expect(tpl.shipments.get('1001')).toBeTruthy()
    const shipment = tpl.service.to('/shipments')
    expect(shipment).toHaveLength(1)
    expect(shipment[0]!.status).toBe(202)
    expect(shipment[0]!.headers['idempotency-key']).toBe(`${runId}:ship3pl`)
    expect(shipment[0]!.headers['switchboard-hop']).toBe('1')
    expect(() => new Webhook(tplSecret).verify(shipment[0]!.body, shipment[0]!.headers)).not.toThrow()

    const email = notifier.service.to('/notifications')
    expect(email).toHaveLength(1)
    expect(email[0]!.json).toEqual({
      to: 'ada@example.com',
      template: 'order-shipped',
      orderId: '1001',
      tracking: 'TRK-1001',
    })
    expect(platform.statuses.get('1001')).toEqual(['shipped'])

    const notifications = h.ops['notifications.list']({ limit: 10 }) as { items: Array<{ title: string }> }
    expect(notifications.items.map((n) => n.title)).toEqual(['Order 1001 shipped'])
    expect(h.seen.some((c) => c.type === 'notification')).toBe(true)
    expect(h.seen.filter((c) => c.type === 'step').length).toBeGreaterThanOrEqual(7)
    expect(h.seen.some((c) => c.type === 'run' && c.run.status === 'succeeded')).toBe(true)
  })

  it('retries a failing inventory API, dead-letters the run, and after the API recovers a retry finishes with no duplicated effect', async () => {
    inventory.service.down()
    const eventId = h.addEvent({ sourceId: 'shop', type: 'order.placed', body: order })
    const [runId] = await h.runsOf(eventId)
    // Five attempts (the step's retry policy), each after a backoff the fake clock moves past.
    for (let attempt = 1; attempt <= 5; attempt++) {
      await waitFor(
        () => inventory.service.to('/stock').length >= attempt,
        `inventory attempt ${attempt}`,
        () => JSON.stringify(h.jobs()),
      )
      await waitFor(
        () => (h.run(runId!).steps.find((s) => s.stepId === 'stock')?.attempts.length ?? 0) >= attempt,
        `attempt ${attempt} recorded`,
      )
      clock.advance(10_000) // past the backoff (0.5 jitter: 0.5s, 1s, 2s, 4s), well within signature tolerance
    }
    const dead = await h.waitForStatus(runId!, 'dead')
    expect(dead.error).toContain('step stock: HTTP 503')
    expect(dead.error).toContain('after 5 attempts')
    const stock = dead.steps.find((s) => s.stepId === 'stock')!
    expect(stock.status).toBe('failed')
    expect(stock.attempts.map((a) => a.response?.status)).toEqual([503, 503, 503, 503, 503])
    expect(stock.attempts.slice(0, 4).every((a) => a.retryAt !== null)).toBe(true)
    // Same key on every attempt.
    expect(new Set(inventory.service.to('/stock').map((r) => r.headers['idempotency-key']))).toEqual(
      new Set([`${runId}:stock`]),
    )
    const deadList = h.ops['runs.list']({ status: 'dead', limit: 10 }) as { items: Array<{ id: string }> }
    expect(deadList.items.map((r) => r.id)).toEqual([runId])

    inventory.service.up()
    const retried = await h.ops['runs.retry']({ id: runId! })
    expect(retried).toMatchObject({ id: runId, status: 'queued' })
    await h.waitForStatus(runId!, 'waiting')
    h.addEvent({ sourceId: '3pl', type: 'shipment.shipped', body: { orderId: '1001', trackingNumber: 'T' } })
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect(done.steps.find((s) => s.stepId === 'stock')!.attempts).toHaveLength(6)

    // Each effect happened once: one distinct Idempotency-Key per service.
    expect(inventory.service.effects('/stock')).toEqual([`${runId}:stock`])
    expect(tpl.service.effects()).toEqual([`${runId}:ship3pl`])
    expect(notifier.service.effects()).toEqual([`${runId}:tellCustomer`])
    expect(platform.service.effects()).toEqual([`${runId}:status`])
    expect(platform.statuses.get('1001')).toEqual(['shipped'])

    const actions = (h.actions.list(10).items ?? []).map((a) => [a.kind, a.target])
    expect(actions).toContainEqual(['retry', runId])
  })

  it('honours Retry-After and fails fast on a 4xx that retrying cannot fix', async () => {
    inventory.service.failNext(1, {
      status: 429,
      headers: { 'retry-after': '120' },
      body: { error: 'slow down' },
    })
    const first = h.addEvent({ sourceId: 'shop', type: 'order.placed', body: order })
    const [runId] = await h.runsOf(first)
    await waitFor(() => (h.run(runId!).steps[0]?.attempts.length ?? 0) === 1, 'first attempt')
    const attempt = h.run(runId!).steps[0]!.attempts[0]!
    expect(attempt.retryAt! - attempt.finishedAt!).toBeGreaterThanOrEqual(120_000)
    clock.advance(60_000)
    await new Promise((r) => setTimeout(r, 100))
    expect(inventory.service.to('/stock')).toHaveLength(1)
    clock.advance(61_000)
    await h.waitForStatus(runId!, 'waiting')

    const unknownSku = h.addEvent({
      sourceId: 'shop',
      type: 'order.placed',
      body: { ...order, orderId: '1002', items: [{ sku: 'NOPE', qty: 1 }] },
    })
    const [deadId] = await h.runsOf(unknownSku)
    const dead = await h.waitForStatus(deadId!, 'dead')
    expect(dead.error).toMatch(/HTTP 404 \(not retried/)
    expect(dead.steps[0]!.attempts).toHaveLength(1)
  })
})
