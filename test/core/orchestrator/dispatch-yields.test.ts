import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import { Harness } from './harness'

let harness: Harness | null = null
afterEach(async () => {
  await harness?.close()
  harness = null
})

describe('dispatching to many waiting runs', () => {
  it('evaluates every wait on the source, letting the loop turn every hundred, and resumes only the one that matches', async () => {
    const h = (harness = new Harness({ clock: new FakeClock(Date.now()) }))
    h.ops['workflows.create']({
      id: 'fulfil',
      name: 'fulfil',
      trigger: { source: 'shop', types: ['order.placed'] },
      steps: [
        {
          id: 'shipped',
          kind: 'waitForEvent',
          source: 'tpl',
          types: ['shipment.*'],
          match: 'body.orderId = run.event.orderId',
          timeout: '2d',
        },
      ],
    })
    const [waiting] = await h.runsOf(
      h.addEvent({ sourceId: 'shop', type: 'order.placed', body: { orderId: 'o-1' } }),
    )
    await h.waitForStatus(waiting!, 'waiting')

    // 349 more runs waiting on the same source, each for an order that never ships (copies of the real one).
    const others = 349
    h.db.transaction(() => {
      for (let i = 0; i < others; i++) {
        h.db
          .prepare(
            `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status,
               current_step, created_at, updated_at)
             SELECT ?, event_id, source_id, workflow_id, workflow_version, workflow_name, status, current_step,
               created_at, updated_at FROM runs WHERE id = ?`,
          )
          .run(`run_copy_${i}`, waiting)
        h.db
          .prepare(
            `INSERT INTO waits (run_id, step_id, source_id, types, match, created_at, expires_at)
             SELECT ?, step_id, source_id, types, ?, created_at, expires_at FROM waits WHERE run_id = ?`,
          )
          .run(`run_copy_${i}`, `body.orderId = "never-${i}"`, waiting)
      }
    })()

    // Each wait with a match loads its run's trigger event: note which turn of the loop it happened in.
    let turn = 0
    let counting = true
    const nextTurn = () => {
      turn++
      if (counting) setImmediate(nextTurn)
    }
    setImmediate(nextTurn)
    const turnsOfTriggerLoads: number[] = []
    const load = h.loadEvent.bind(h)
    const triggerEventId = h.run(waiting!).eventId
    h.loadEvent = (id) => {
      if (id === triggerEventId) turnsOfTriggerLoads.push(turn)
      return load(id)
    }

    h.addEvent({ sourceId: 'tpl', type: 'shipment.shipped', body: { orderId: 'o-1' } })
    await h.waitForStatus(waiting!, 'succeeded')
    counting = false

    expect(turnsOfTriggerLoads).toHaveLength(others + 1)
    // 350 waits: at least three turns of the loop passed while they were evaluated.
    const first = turnsOfTriggerLoads[0]!
    expect(turnsOfTriggerLoads.at(-1)! - first).toBeGreaterThanOrEqual(3)
    expect(turnsOfTriggerLoads.slice(0, 100).every((t) => t === first)).toBe(true)
    const stillWaiting = h.db.prepare(`SELECT COUNT(*) FROM runs WHERE status = 'waiting'`).pluck().get()
    expect(stillWaiting).toBe(others)
  })
})
