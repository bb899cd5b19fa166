import { afterEach, describe, expect, it } from 'vitest'
import type { RunDetail } from '../../../src/shared/domain'
import { FakeService } from '../../fixtures/fake-services/fake-service'
import { spawnHeadless, type HeadlessProcess } from '../../faults/headless-process'
import { http } from '../../support/http'
import { tempDir } from '../../support/temp-dir'

const dir = tempDir('sb-crash-')
const services: FakeService[] = []
let server: HeadlessProcess | null = null

afterEach(async () => {
  await server?.kill9()
  server = null
  while (services.length) await services.pop()!.close()
  dir.remove()
})

async function until<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('kill -9 in the middle of a run (headless server child process)', () => {
  it('resumes after a crash during a delay and during a waitForEvent; no completed step runs twice', async () => {
    const counter = await FakeService.start('counter', () => ({ status: 200, body: { ok: true } }))
    services.push(counter)

    server = await spawnHeadless({ dataDir: dir.path })
    expect(
      (await server.api('POST', '/api/sources', { id: 'tick', name: 'Tick', provider: 'none' })).status,
    ).toBe(201)
    expect((await server.api('PUT', '/api/secrets/counterUrl', { value: counter.url })).status).toBe(200)
    const created = await server.api('POST', '/api/workflows', {
      id: 'durable',
      name: 'Durable',
      trigger: { source: 'tick', types: ['start'] },
      steps: [
        {
          id: 'before',
          kind: 'http',
          method: 'POST',
          url: '{{ secrets.counterUrl }}/before',
          body: { k: '{{ key }}' },
        },
        { id: 'pause', kind: 'delay', duration: '3s' },
        { id: 'middle', kind: 'http', method: 'POST', url: '{{ secrets.counterUrl }}/middle' },
        {
          id: 'go',
          kind: 'waitForEvent',
          source: 'tick',
          types: ['go'],
          match: 'key = run.event.key',
          timeout: '1d',
        },
        { id: 'after', kind: 'http', method: 'POST', url: '{{ secrets.counterUrl }}/after' },
        { id: 'tell', kind: 'notify', title: 'done {{ key }}' },
      ],
    })
    expect(created.status, JSON.stringify(created.json)).toBe(201)

    const post = async (body: unknown) => {
      const res = await http(`${server!.receiverUrl}/hooks/tick`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(200)
      return (res.json as { id: string }).id
    }
    const eventId = await post({ type: 'start', key: 'k1' })
    const event = await until(
      async () =>
        (await server!.api('GET', `/api/events/${eventId}`)).json as { runs: Array<{ id: string }> },
      (e) => e.runs?.length === 1,
      'the run',
    )
    const runId = event.runs[0]!.id
    const run = async () => (await server!.api('GET', `/api/runs/${runId}`)).json as RunDetail

    // Crash during the delay.
    await until(run, (r) => r.status === 'waiting' && r.currentStep === 'pause', 'the delay')
    await server.kill9()
    expect(counter.to('/before')).toHaveLength(1)
    expect(counter.to('/middle')).toHaveLength(0)

    server = await spawnHeadless({ dataDir: dir.path })
    // Crash during the waitForEvent (the delay's timer survived the restart).
    await until(run, (r) => r.status === 'waiting' && r.currentStep === 'go', 'the wait')
    await server.kill9()
    expect(counter.to('/middle')).toHaveLength(1)

    server = await spawnHeadless({ dataDir: dir.path })
    await post({ type: 'go', key: 'other' })
    await post({ type: 'go', key: 'k1' })
    const done = await until(run, (r) => r.status === 'succeeded', 'the run to finish')

    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['before', 'succeeded'],
      ['pause', 'succeeded'],
      ['middle', 'succeeded'],
      ['go', 'succeeded'],
      ['after', 'succeeded'],
      ['tell', 'succeeded'],
    ])
    // Every completed step ran exactly once across three processes.
    for (const path of ['/before', '/middle', '/after']) expect(counter.to(path), path).toHaveLength(1)
    for (const step of done.steps.filter((s) => s.kind === 'http')) expect(step.attempts).toHaveLength(1)
    const notes = (await server.api('GET', '/api/notifications')).json as { items: Array<{ title: string }> }
    expect(notes.items.map((n) => n.title)).toEqual(['done k1'])
  })
})
