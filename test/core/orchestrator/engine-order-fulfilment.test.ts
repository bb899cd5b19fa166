import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import type { Engine } from '../../../src/core/engine'
import type { EventDetail, RunDetail } from '../../../src/shared/domain'
import {
  newWebhookSecret,
  startCustomerNotifier,
  startInventory,
  startPlatform,
  startThreePL,
  type Delivery,
} from '../../fixtures/fake-services/services'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { installOrderFulfilment, waitFor } from './harness'

const order = {
  orderId: '2001',
  items: [{ sku: 'SKU-9', qty: 3 }],
  customer: { email: 'grace@example.com', name: 'Grace' },
}

async function deliver(url: string, delivery: Delivery): Promise<string> {
  const res = await http(url, { method: 'POST', headers: delivery.headers, body: delivery.body })
  expect(res.status, res.text).toBe(200)
  return (res.json as { id: string }).id
}

async function runOf(engine: Engine, eventId: string): Promise<string> {
  await waitFor(
    () => (engine.operations['events.get']({ id: eventId }) as EventDetail).runs.length > 0,
    `a run for ${eventId}`,
  )
  return (engine.operations['events.get']({ id: eventId }) as EventDetail).runs[0]!.id
}

async function status(engine: Engine, runId: string, wanted: RunDetail['status']): Promise<RunDetail> {
  const get = () => engine.operations['runs.get']({ id: runId }) as RunDetail
  await waitFor(
    () => get().status === wanted,
    `run ${runId} ${wanted}`,
    () => JSON.stringify(get(), null, 1),
  )
  return get()
}

describe('order fulfilment through the real receiver (createEngine, signed webhooks over HTTP)', () => {
  let t: TestEngine
  let clock: FakeClock
  const shopSecret = newWebhookSecret()
  const tplInbound = newWebhookSecret()
  const tplOutbound = newWebhookSecret()
  let platform: Awaited<ReturnType<typeof startPlatform>>
  let inventory: Awaited<ReturnType<typeof startInventory>>
  let tpl: Awaited<ReturnType<typeof startThreePL>>
  let notifier: Awaited<ReturnType<typeof startCustomerNotifier>>

  beforeEach(async () => {
    clock = new FakeClock(Date.now())
    platform = await startPlatform(shopSecret)
    inventory = await startInventory({ 'SKU-9': 1 })
    tpl = await startThreePL(tplInbound, tplOutbound)
    notifier = await startCustomerNotifier()
    t = await startTestEngine({ clock, random: () => 0.5 })
    await installOrderFulfilment(t.engine, {
      shopSecret,
      tplOutbound,
      secrets: {
        inventoryUrl: inventory.service.url,
        tplUrl: tpl.service.url,
        tplSecret: tplInbound,
        notifyUrl: notifier.service.url,
        platformUrl: platform.service.url,
      },
    })
  })

  afterEach(async () => {
    await t.close()
    await Promise.all([platform, inventory, tpl, notifier].map((s) => s.service.close()))
  })

  it('order placed → stock check → signed 3PL webhook → shipped event correlated by order id → customer told → status updated', async () => {
    const eventId = await deliver(`${t.url}/hooks/shop`, platform.orderPlaced(order))
    const runId = await runOf(t.engine, eventId)
    await status(t.engine, runId, 'waiting')
    expect(tpl.shipments.get('2001')).toMatchObject({ orderId: '2001' })
    // The run handed the 3PL its own callback URL, on the receiver.
    expect(tpl.shipments.get('2001')!.callbackUrl).toBe(`${t.url}/hooks/3pl/runs/${runId}`)

    await deliver(`${t.url}/hooks/3pl`, tpl.shipped('2001', 'TRK-9'))
    const done = await status(t.engine, runId, 'succeeded')
    expect(done.steps.map((s) => s.stepId)).toEqual([
      'stock',
      'low',
      'ship3pl',
      'shipped',
      'tellCustomer',
      'status',
      'tell',
    ])
    expect(notifier.service.to('/notifications')[0]!.json).toMatchObject({
      orderId: '2001',
      tracking: 'TRK-9',
    })
    expect(platform.statuses.get('2001')).toEqual(['shipped'])
    expect(tpl.service.to('/shipments')[0]!.status).toBe(202) // the 3PL verified the signature
  })

  it('with the inventory API failing: retries, dead letter, recovery, retry through the control API, no duplicated effect', async () => {
    inventory.service.down()
    const eventId = await deliver(`${t.url}/hooks/shop`, platform.orderPlaced(order))
    const runId = await runOf(t.engine, eventId)
    for (let attempt = 1; attempt <= 5; attempt++) {
      await waitFor(
        () =>
          ((t.engine.operations['runs.get']({ id: runId }) as RunDetail).steps[0]?.attempts.length ?? 0) >=
          attempt,
        `attempt ${attempt}`,
      )
      clock.advance(10_000) // past the backoff (0.5 jitter: 0.5s, 1s, 2s, 4s), well within signature tolerance
    }
    const dead = await status(t.engine, runId, 'dead')
    expect(dead.error).toMatch(/HTTP 503 \(after 5 attempts\)/)

    inventory.service.up()
    await t.engine.call('runs.retry', { id: runId })
    await status(t.engine, runId, 'waiting')
    await deliver(`${t.url}/hooks/3pl`, tpl.shipped('2001'))
    await status(t.engine, runId, 'succeeded')

    expect(inventory.service.to('/stock')).toHaveLength(6)
    expect(inventory.service.effects('/stock')).toEqual([`${runId}:stock`])
    expect(tpl.service.effects()).toEqual([`${runId}:ship3pl`])
    expect(notifier.service.effects()).toEqual([`${runId}:tellCustomer`])
    expect(platform.service.effects()).toEqual([`${runId}:status`])
    const actions = (await t.engine.call('actions.list', {})).items.map((a) => [a.kind, a.target])
    expect(actions).toContainEqual(['retry', runId])
  })
})

describe('loop guard through the real receiver', () => {
  let t: TestEngine | null = null
  afterEach(async () => {
    await t?.close()
    t = null
  })

  it('a workflow that posts back to its own source stops at the hop limit: the last event is blocked and starts nothing', async () => {
    t = await startTestEngine({ hopLimit: 3 })
    await t.engine.call('sources.create', { id: 'loop', name: 'Loop', provider: 'none' })
    await t.engine.call('workflows.create', {
      id: 'echo',
      name: 'Echo',
      trigger: { source: 'loop' },
      steps: [
        { id: 'again', kind: 'http', method: 'POST', url: `${t.url}/hooks/loop`, body: { type: 'ping' } },
      ],
    })
    await http(`${t.url}/hooks/loop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"ping"}',
    })
    const events = async () => (await t!.engine.call('events.list', { source: 'loop', limit: 50 })).items
    let list = await events()
    const deadline = Date.now() + 10_000
    while (!list.some((e) => e.status === 'blocked') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      list = await events()
    }
    const byHop = [...list].sort((a, b) => a.hop - b.hop).map((e) => [e.hop, e.status])
    expect(byHop).toEqual([
      [0, 'accepted'],
      [1, 'accepted'],
      [2, 'accepted'],
      [3, 'accepted'],
      [4, 'blocked'],
    ])
    const blocked = list.find((e) => e.status === 'blocked')!
    await new Promise((r) => setTimeout(r, 100))
    expect((t.engine.operations['events.get']({ id: blocked.id }) as EventDetail).runs).toEqual([])
    expect((await t.engine.call('runs.list', { limit: 50 })).items).toHaveLength(4)
  })
})
