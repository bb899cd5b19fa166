import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import type { EventDetail } from '../../../src/shared/domain'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import { waitFor } from './harness'

const workflow = (id: string, source: string) => ({
  id,
  name: id,
  trigger: { source },
  steps: [{ id: 'tell', kind: 'notify', title: 'got one' }],
})

describe('workflows and the sources they name (real engine, control operations)', () => {
  let t: TestEngine
  beforeEach(async () => {
    t = await startTestEngine({ clock: new FakeClock(Date.now()), random: () => 0.5 })
    await t.engine.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
    await t.engine.call('sources.create', { id: 'crm', name: 'CRM', provider: 'none' })
  })
  afterEach(() => t.close())

  it('refuses a workflow whose trigger names no source, on create and on update', async () => {
    await expect(t.engine.call('workflows.create', workflow('wf', 'nope'))).rejects.toMatchObject({
      code: 'bad_request',
      details: { issues: [{ path: 'trigger.source', message: expect.stringMatching(/"nope"/) }] },
    })
    await t.engine.call('workflows.create', workflow('wf', 'shop'))
    await expect(t.engine.call('workflows.put', workflow('wf', 'nope'))).rejects.toMatchObject({
      code: 'bad_request',
    })
    expect(await t.engine.call('workflows.get', { id: 'wf' })).toMatchObject({ version: 1 })
  })

  it('refuses to delete a source enabled workflows trigger on, naming them, and deletes nothing', async () => {
    await t.engine.call('workflows.create', workflow('first', 'shop'))
    await t.engine.call('workflows.create', workflow('second', 'shop'))
    await t.engine.call('workflows.create', { ...workflow('parked', 'shop'), enabled: false })
    const refusal = await t.engine.call('sources.delete', { id: 'shop' }).catch((e: unknown) => e)
    expect(refusal).toMatchObject({
      code: 'conflict',
      status: 409,
      details: { workflows: ['first', 'second'], runs: [] },
    })
    expect((refusal as Error).message).toMatch(/enabled workflows first, second trigger on it/)
    expect(await t.engine.call('sources.get', { id: 'shop' })).toMatchObject({ id: 'shop' })
    expect((await t.engine.call('workflows.list', {})).items).toHaveLength(3)

    // Disabled workflows do not hold a source: once none is enabled, the source goes and they stay, flagged
    // by the refusal to enable them until they name a source that exists.
    await t.engine.call('workflows.setEnabled', { id: 'first', enabled: false })
    await t.engine.call('workflows.delete', { id: 'second' })
    expect(await t.engine.call('sources.delete', { id: 'shop' })).toEqual({ deleted: true })
    expect((await t.engine.call('workflows.list', {})).items.map((w) => w.id)).toEqual(['first', 'parked'])
    await expect(t.engine.call('workflows.setEnabled', { id: 'first', enabled: true })).rejects.toMatchObject(
      { code: 'bad_request', details: { issues: [{ path: 'trigger.source' }] } },
    )
    await t.engine.call('workflows.put', { ...workflow('first', 'crm'), enabled: false })
    expect(await t.engine.call('workflows.setEnabled', { id: 'first', enabled: true })).toMatchObject({
      enabled: true,
    })
  })

  it('refuses to delete a source a run is waiting on, naming the run', async () => {
    await t.engine.call('workflows.create', {
      id: 'waits',
      name: 'waits',
      trigger: { source: 'shop' },
      steps: [{ id: 'answer', kind: 'waitForEvent', source: 'crm', timeout: '1h' }],
    })
    const res = await http(`${t.url}/hooks/shop`, { method: 'POST', body: '{"n":1}' })
    expect(res.status).toBe(200)
    const eventId = (res.json as { id: string }).id
    let runId = ''
    await waitFor(() => {
      const runs = t.engine.operations['events.get']({ id: eventId }) as EventDetail
      runId = runs.runs[0]?.status === 'waiting' ? runs.runs[0].id : ''
      return runId !== ''
    }, 'the run to wait')
    await t.engine.call('workflows.setEnabled', { id: 'waits', enabled: false })
    await expect(t.engine.call('sources.delete', { id: 'crm' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining(`run ${runId} waits for its events`) as string,
      details: { workflows: [], runs: [runId] },
    })
    await t.engine.call('runs.cancel', { id: runId })
    expect(await t.engine.call('sources.delete', { id: 'crm' })).toEqual({ deleted: true })
  })

  it('answers a missing source with not found, not with a conflict', async () => {
    await expect(t.engine.call('sources.delete', { id: 'ghost' })).rejects.toMatchObject({
      code: 'not_found',
    })
  })
})
