import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import type { EventDetail, RunDetail } from '../../../src/shared/domain'
import { FakeService } from '../../fixtures/fake-services/fake-service'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { waitFor } from '../orchestrator/harness'

const HOUR = 60 * 60 * 1000
let t: TestEngine | null = null
let api: FakeService | null = null
afterEach(async () => {
  await t?.close()
  await api?.close()
  t = api = null
})

describe('retention through the real engine (receiver, orchestrator, monitor timer)', () => {
  it('deletes old events with the runs they started, keeps an event whose run still waits, and leaves no run behind', async () => {
    const clock = new FakeClock(Date.now())
    api = await FakeService.start('api', () => ({ status: 200, body: { ok: true } }))
    t = await startTestEngine({ clock, random: () => 0.5 })
    const { engine, url } = t
    await engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    await engine.call('sources.create', { id: 'crm', name: 'CRM', provider: 'none' })
    await engine.call('workflows.create', {
      id: 'call',
      name: 'Call',
      trigger: { source: 'shop', when: "mode = 'call'" },
      steps: [
        { id: 'post', kind: 'http', method: 'POST', url: `${api.url}/x`, body: { n: '{{ n }}' } },
        { id: 'tell', kind: 'notify', title: 'called {{ n }}' },
      ],
    })
    await engine.call('workflows.create', {
      id: 'wait',
      name: 'Wait',
      trigger: { source: 'shop', when: "mode = 'wait'" },
      steps: [{ id: 'answer', kind: 'waitForEvent', source: 'crm', timeout: '30d' }],
    })
    const deliver = async (body: unknown) => {
      const res = await http(`${url}/hooks/shop`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(200)
      return (res.json as { id: string }).id
    }
    const runOf = async (eventId: string, status: RunDetail['status']) => {
      let run: RunDetail | undefined
      await waitFor(() => {
        run = (engine.operations['events.get']({ id: eventId }) as EventDetail).runs[0] as RunDetail
        return run?.status === status
      }, `a ${status} run for ${eventId}`)
      return run!.id
    }
    const called = await deliver({ mode: 'call', n: 1 })
    const calledRun = await runOf(called, 'succeeded')
    const waiting = await deliver({ mode: 'wait', n: 2 })
    const waitingRun = await runOf(waiting, 'waiting')
    expect((await engine.call('notifications.list', { limit: 10 })).items).toHaveLength(1)
    await engine.call('monitor.configure', {
      source: 'shop',
      settings: { retention: { maxAgeDays: 1, maxEvents: null } },
    })

    // The retention timer's first pass comes a minute after start (nothing is old yet); the next an hour later.
    const lastRetention = () =>
      engine.db.prepare(`SELECT value FROM settings WHERE key = 'monitor.retention.lastRunAt'`).pluck().get()
    clock.advance(2 * 24 * HOUR)
    await waitFor(() => lastRetention() !== undefined, 'the first retention pass')
    clock.advance(HOUR)
    await waitFor(
      () => engine.db.prepare(`SELECT 1 FROM events WHERE id = ?`).get(called) === undefined,
      'the old event to be deleted',
    )

    await expect(engine.call('runs.get', { id: calledRun })).rejects.toMatchObject({ code: 'not_found' })
    const left = (table: string) =>
      engine.db.prepare(`SELECT COUNT(*) FROM ${table} WHERE run_id = ?`).pluck().get(calledRun)
    for (const table of ['steps', 'attempts', 'notifications']) expect(left(table), table).toBe(0)
    expect((await engine.call('notifications.list', { limit: 10 })).items).toEqual([])
    expect(
      engine.db
        .prepare(`SELECT COUNT(*) FROM runs WHERE event_id NOT IN (SELECT id FROM events)`)
        .pluck()
        .get(),
    ).toBe(0)
    // The waiting run keeps its event, and can still be answered.
    expect((await engine.call('events.get', { id: waiting })).runs.map((r) => r.id)).toEqual([waitingRun])
    expect((await engine.call('runs.get', { id: waitingRun })).status).toBe('waiting')
  })
})
