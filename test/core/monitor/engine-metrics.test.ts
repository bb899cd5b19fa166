import { sign } from '@octokit/webhooks-methods'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Metrics } from '../../../src/shared/domain'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'

let t: TestEngine | null = null
afterEach(async () => {
  await t?.close()
  t = null
})

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000
  let value = await read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    value = await read()
  }
  return value
}

const row = (metrics: Metrics, sourceId: string, type: string | null) =>
  metrics.perSource.find((r) => r.sourceId === sourceId && r.type === type)

describe('metrics through the real receiver and orchestrator', () => {
  it('counts received, accepted, duplicate and rejected requests, runs and their outcomes', async () => {
    t = await startTestEngine()
    const { engine, url } = t
    await engine.call('sources.create', { id: 'plain', name: 'Plain', provider: 'none' })
    await engine.call('sources.create', {
      id: 'gh',
      name: 'GitHub',
      provider: 'github',
      secret: 'It is a secret',
    })
    await engine.call('workflows.create', {
      id: 'note',
      name: 'Note',
      trigger: { source: 'plain' },
      steps: [{ id: 'mark', kind: 'set', values: { seen: 'yes' } }],
    })
    await engine.call('workflows.create', {
      id: 'push',
      name: 'Push',
      trigger: { source: 'gh' },
      steps: [
        { id: 'call', kind: 'http', method: 'POST', url: 'http://127.0.0.1:1/', retry: { attempts: 1 } },
      ],
    })

    const json = { 'content-type': 'application/json' }
    expect((await http(`${url}/hooks/plain`, { headers: json, body: '{"n":1}' })).status).toBe(200)
    expect((await http(`${url}/hooks/plain`, { headers: json, body: '{"n":2}' })).status).toBe(200)
    const again = await http(`${url}/hooks/plain`, { headers: json, body: '{"n":2}' })
    expect(again.json).toMatchObject({ duplicate: true })
    const body = '{"action":"opened"}'
    const headers = { ...json, 'x-github-event': 'issues', 'x-github-delivery': 'd-1' }
    const forged = await http(`${url}/hooks/gh`, {
      headers: { ...headers, 'x-hub-signature-256': await sign('wrong secret', body) },
      body,
    })
    expect(forged.status).toBe(401)
    const signed = await http(`${url}/hooks/gh`, {
      headers: { ...headers, 'x-hub-signature-256': await sign('It is a secret', body) },
      body,
    })
    expect(signed.status).toBe(200)
    expect((await http(`${url}/hooks/missing`, { headers: json, body: '{}' })).status).toBe(404)

    const metrics = await until(
      () => engine.call('metrics.get', {}),
      (m) => m.totals.runsSucceeded === 2 && m.totals.runsDead === 1,
    )
    expect(metrics.totals).toMatchObject({
      received: 5,
      accepted: 3,
      duplicates: 1,
      rejected: 1,
      unknownSource: 1,
      runsStarted: 3,
      runsSucceeded: 2,
      runsDead: 1,
    })
    expect(metrics.totals.runsFailed).toBeGreaterThanOrEqual(1)
    expect(metrics.totals.ackLatencyP50Ms).toBeGreaterThan(0)
    const ghEvent = (await engine.call('events.list', { source: 'gh', status: 'accepted' })).items[0]!
    expect(row(metrics, 'gh', ghEvent.type)).toMatchObject({
      received: 1,
      accepted: 1,
      runsStarted: 1,
      runsDead: 1,
    })
    expect(row(metrics, 'gh', null)).toMatchObject({ rejected: 1 })
    const plain = metrics.perSource.filter((r) => r.sourceId === 'plain')
    expect(plain.reduce((n, r) => n + (r.accepted as number), 0)).toBe(2)
    expect(plain.reduce((n, r) => n + (r.duplicates as number), 0)).toBe(1)
    expect(plain.reduce((n, r) => n + (r.runsSucceeded as number), 0)).toBe(2)

    const series = metrics.series.find((s) => s.name === 'events.received' && s.sourceId === 'plain')!
    expect(series.points.reduce((n, [, v]) => n + v, 0)).toBe(3)
    expect(metrics.series.find((s) => s.name === 'runs.dead')!.points.reduce((n, [, v]) => n + v, 0)).toBe(1)
    expect(metrics.deadLettersOpen).toBe(1)
    expect(metrics.stepLatency?.map((s) => s.kind).sort()).toEqual(['http', 'set'])

    const text = engine.prometheus()
    expect(text).toMatch(
      /^switchboard_webhook_requests_total\{source="plain",type="[^"]*",outcome="duplicate"\} 1$/m,
    )
    expect(text).toMatch(/^switchboard_dead_letters_open 1$/m)
  })

  it('serves alerts and monitor settings through the operations', async () => {
    t = await startTestEngine()
    const { engine } = t
    await engine.call('sources.create', { id: 'plain', name: 'Plain', provider: 'none' })
    const settings = await engine.call('monitor.configure', {
      source: 'plain',
      settings: { expectedEveryMinutes: 30, retention: { maxEvents: 10 } },
    })
    expect(settings.sources.find((s) => s.sourceId === 'plain')!.effective).toMatchObject({
      expectedEveryMinutes: 30,
      retention: { maxAgeDays: 90, maxEvents: 10 },
    })
    await expect(
      engine.call('monitor.configure', { source: 'plain', settings: { store: { limitBytes: 1 } } }),
    ).rejects.toThrow(/limitBytes/)
    await expect(
      engine.call('monitor.configure', { source: 'plain', settings: { deadLetters: { growth: 2 } } }),
    ).rejects.toThrow(/omit source/)
    await expect(engine.call('monitor.configure', { source: 'nope', settings: {} })).rejects.toThrow(
      /no source/,
    )
    expect((await engine.call('monitor.settings', {})).sources[0]!.overrides).toEqual({
      expectedEveryMinutes: 30,
      retention: { maxEvents: 10 },
    })
    expect(await engine.call('alerts.list', { open: 'true' })).toEqual({ items: [] })
  })
})

describe('store size', () => {
  it('counts the full-text index beside the store, since it is disk the app uses too', async () => {
    t = await startTestEngine()
    const files = ['switchboard.db', 'switchboard.db-wal', 'search.db', 'search.db-wal']
    const onDisk = () =>
      files.reduce((sum, f) => {
        try {
          return sum + statSync(join(t!.dataDir, f)).size
        } catch {
          return sum
        }
      }, 0)
    expect(statSync(join(t.dataDir, 'search.db')).size).toBeGreaterThan(0)
    // An idle engine: what is on disk just before and just after the call bounds what it counted.
    const before = onDisk()
    const { storeBytes } = (await t.engine.call('metrics.get', {})).totals
    const after = onDisk()
    expect(storeBytes).toBeGreaterThanOrEqual(Math.min(before, after))
    expect(storeBytes).toBeLessThanOrEqual(Math.max(before, after))
  })
})
