import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReceiverObservation } from '../../../src/core/receiver/receiver'
import { RULES } from '../../../src/core/monitor'
import { alertChanges, monitorFixture, type MonitorFixture } from './fixture'

const MIN = 60_000
let f: MonitorFixture

afterEach(() => f?.close())

const observation = (sourceId: string, status: ReceiverObservation['status']): ReceiverObservation => ({
  sourceId,
  type: 'thing.happened',
  status,
  httpStatus: status === 'rejected' ? 401 : 200,
  latencyMs: 3,
})

const openAlerts = async () => (await f.monitor.operations['alerts.list']({ open: true })).items

describe('silence rule', () => {
  it('is off for a source without an expected cadence', async () => {
    f = monitorFixture()
    f.addSource('cal')
    f.clock.advance(365 * 24 * 60 * MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])
  })

  it('opens once when a source is quiet past its cadence and resolves when an event arrives', async () => {
    f = monitorFixture()
    f.addSource('cal', 'Calendar')
    f.monitor.operations['monitor.configure']({ source: 'cal', settings: { expectedEveryMinutes: 10 } })
    f.clock.advance(9 * MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])

    f.clock.advance(2 * MIN)
    f.monitor.evaluate()
    f.clock.advance(MIN)
    f.monitor.evaluate()
    const open = await openAlerts()
    expect(open).toHaveLength(1)
    expect(open[0]).toMatchObject({
      rule: RULES.silence,
      sourceId: 'cal',
      severity: 'warning',
      resolvedAt: null,
    })
    expect(open[0]!.title).toContain('Calendar')
    expect(alertChanges(f.emitted)).toHaveLength(1)

    f.addEvent('cal')
    f.sources.touch('cal', f.clock.now())
    f.monitor.observe(observation('cal', 'accepted'))
    expect(await openAlerts()).toEqual([])
    const changes = alertChanges(f.emitted)
    expect(changes).toHaveLength(2)
    expect(changes[1]).toMatchObject({ id: open[0]!.id, resolvedAt: f.clock.now() })

    // Still heard from recently: evaluation keeps it resolved.
    f.clock.advance(5 * MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])
  })
})

describe('failure rate rule', () => {
  it('opens when most finished runs die within the window and resolves when the window has passed', async () => {
    f = monitorFixture()
    f.addSource('shop')
    const event = f.addEvent('shop')
    for (let i = 0; i < 3; i++) {
      const run = f.run(event.id, 'queued')
      f.changes.emit({ type: 'run', run: { ...run, status: 'dead' } })
    }
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([]) // 3 finished runs: under the minimum of 4

    const run = f.run(event.id, 'queued')
    f.changes.emit({ type: 'run', run: { ...run, status: 'succeeded' } })
    f.monitor.evaluate()
    const open = await openAlerts()
    expect(open).toHaveLength(1)
    expect(open[0]).toMatchObject({ rule: RULES.failureRate, sourceId: 'shop' })
    expect(open[0]!.data).toMatchObject({ dead: 3, succeeded: 1 })

    f.clock.advance(16 * MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])
  })

  it('counts a run once however many times its change repeats', async () => {
    f = monitorFixture()
    f.addSource('shop')
    const event = f.addEvent('shop')
    const run = f.run(event.id, 'queued')
    for (let i = 0; i < 5; i++) f.changes.emit({ type: 'run', run: { ...run, status: 'dead' } })
    const metrics = await f.monitor.operations['metrics.get']({})
    expect(metrics.totals).toMatchObject({ runsStarted: 1, runsDead: 1 })
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])
  })
})

describe('dead letters rule', () => {
  it('opens when dead letters grow within the window and resolves when they stop growing', async () => {
    f = monitorFixture()
    f.monitor.evaluate()
    f.deadLetters.count = 2
    f.clock.advance(MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([]) // growth 2 < 3

    f.deadLetters.count = 3
    f.clock.advance(MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toMatchObject([
      { rule: RULES.deadLetters, severity: 'warning', data: { open: 3 } },
    ])

    // No new dead letters for a whole window: resolved (they are still open, but no longer piling up).
    for (let i = 0; i < 61; i++) {
      f.clock.advance(MIN)
      f.monitor.evaluate()
    }
    expect(await openAlerts()).toEqual([])
    expect(alertChanges(f.emitted).map((a) => a.resolvedAt === null)).toEqual([true, false])
  })
})

describe('signature failure rule', () => {
  it('opens as soon as rejected requests reach the threshold and resolves after the window', async () => {
    f = monitorFixture()
    f.addSource('gh', 'GitHub')
    for (let i = 0; i < 9; i++) f.monitor.observe(observation('gh', 'rejected'))
    expect(await openAlerts()).toEqual([])
    f.monitor.observe(observation('gh', 'rejected'))
    const open = await openAlerts()
    expect(open).toMatchObject([{ rule: RULES.signatureFailures, sourceId: 'gh', severity: 'critical' }])
    expect(open[0]!.message).toMatch(/rotated/)

    // More failures while open: still one alert.
    for (let i = 0; i < 20; i++) f.monitor.observe(observation('gh', 'rejected'))
    f.monitor.evaluate()
    expect(await openAlerts()).toHaveLength(1)

    f.clock.advance(6 * MIN)
    f.monitor.evaluate()
    expect(await openAlerts()).toEqual([])
  })

  it('follows the per-source threshold', async () => {
    f = monitorFixture()
    f.addSource('gh')
    f.addSource('stripe')
    f.monitor.operations['monitor.configure']({
      source: 'gh',
      settings: { signatureFailures: { threshold: 2 } },
    })
    f.monitor.observe(observation('gh', 'rejected'))
    f.monitor.observe(observation('stripe', 'rejected'))
    f.monitor.observe(observation('stripe', 'rejected'))
    expect(await openAlerts()).toEqual([])
    f.monitor.observe(observation('gh', 'rejected'))
    expect((await openAlerts()).map((a) => a.sourceId)).toEqual(['gh'])
  })
})

describe('store size rule', () => {
  it('opens when the database nears the limit and resolves when the limit is raised', async () => {
    f = monitorFixture()
    f.monitor.operations['monitor.configure']({
      settings: { store: { limitBytes: 1024 * 1024, warnRatio: 0.01 } },
    })
    const open = await openAlerts()
    expect(open).toMatchObject([{ rule: RULES.storeSize, severity: 'warning' }])
    expect(open[0]!.data.usedBytes).toBeGreaterThan(10_000)

    f.monitor.operations['monitor.configure']({
      settings: { store: { limitBytes: 1024 ** 4, warnRatio: 0.8 } },
    })
    expect(await openAlerts()).toEqual([])
  })
})

describe('alert sink (tunnel alerts)', () => {
  it('keeps one open alert per rule and key, updates it in place and resolves it', async () => {
    f = monitorFixture()
    const input = { severity: 'critical' as const, title: 'Tunnel down', message: 'relay unreachable' }
    f.monitor.alerts.open('tunnel-down', 'tunnel', input)
    f.monitor.alerts.open('tunnel-down', 'tunnel', input)
    f.monitor.alerts.open('tunnel-down', 'tunnel', { ...input, message: 'still unreachable' })
    f.monitor.alerts.open('tunnel-down', 'tunnel', { ...input, severity: 'warning', message: 'degraded' })
    const open = await openAlerts()
    expect(open).toHaveLength(1)
    expect(open[0]).toMatchObject({ message: 'degraded', severity: 'warning' })
    expect(f.db.prepare(`SELECT COUNT(*) AS n FROM alerts`).get()).toEqual({ n: 1 })

    f.monitor.alerts.resolve('tunnel-down', 'tunnel')
    f.monitor.alerts.resolve('tunnel-down', 'tunnel')
    expect(await openAlerts()).toEqual([])
    const all = (await f.monitor.operations['alerts.list']({})).items
    expect(all).toHaveLength(1)
    expect(all[0]!.resolvedAt).toBe(f.clock.now())
    // Opened, escalated (severity changed), resolved: three changes; repeats and new wording add none.
    expect(alertChanges(f.emitted)).toHaveLength(3)

    // After resolving, the same rule and key opens a new alert.
    f.monitor.alerts.open('tunnel-down', 'tunnel', input)
    expect((await openAlerts())[0]!.id).not.toBe(all[0]!.id)
  })

  it('sends opened and resolved alerts as Standard Webhooks the receiver can verify', async () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = []
    let arrived: () => void = () => {}
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.end('ok')
        arrived()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`
    try {
      f = monitorFixture({ alertWebhook: { url, secret } })
      const wait = (n: number) =>
        new Promise<void>((resolve) => {
          arrived = () => received.length >= n && resolve()
          if (received.length >= n) resolve()
        })
      f.monitor.alerts.open('tunnel-down', 'tunnel', {
        severity: 'critical',
        title: 'Tunnel down',
        message: 'x',
      })
      await wait(1)
      f.monitor.alerts.resolve('tunnel-down', 'tunnel')
      await wait(2)
      const verifier = new Webhook(secret)
      const payloads = received.map((r) => {
        const headers = {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }
        // The fake clock is in 2026; verify against the signature, not the wall clock's tolerance.
        expect(
          verifier.sign(headers['webhook-id'], new Date(Number(headers['webhook-timestamp']) * 1000), r.body),
        ).toBe(headers['webhook-signature'])
        return JSON.parse(r.body) as { type: string; data: { rule: string } }
      })
      expect(payloads.map((p) => p.type)).toEqual(['alert.opened', 'alert.resolved'])
      expect(payloads[0]!.data.rule).toBe('tunnel-down')
      expect(() =>
        new Webhook('whsec_' + Buffer.from('another secret..').toString('base64')).verify(received[0]!.body, {
          'webhook-id': String(received[0]!.headers['webhook-id']),
          'webhook-timestamp': String(received[0]!.headers['webhook-timestamp']),
          'webhook-signature': String(received[0]!.headers['webhook-signature']),
        }),
      ).toThrow()
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe('timers', () => {
  it('evaluate rules on their own once started', async () => {
    f = monitorFixture()
    f.addSource('cal')
    f.monitor.operations['monitor.configure']({ source: 'cal', settings: { expectedEveryMinutes: 5 } })
    f.monitor.start()
    f.clock.advance(6 * MIN)
    expect(await openAlerts()).toMatchObject([{ rule: RULES.silence }])
    f.monitor.stop()
  })
})
