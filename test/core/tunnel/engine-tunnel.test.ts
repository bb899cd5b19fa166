import { afterEach, describe, expect, it } from 'vitest'
import type { Change } from '../../../src/shared/contract'
import { startLocaltunnelRelay, type LocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { eventually, sendWebhook } from './harness'

let relay: LocaltunnelRelay | null = null
let t: TestEngine | null = null
afterEach(async () => {
  await t?.close()
  await relay?.close()
  t = relay = null
})

describe('the engine with its tunnel', () => {
  it('publishes sources at the tunnel URL, answers the self-probe, and stores what arrives through it', async () => {
    relay = await startLocaltunnelRelay()
    t = await startTestEngine({
      tunnel: {
        mode: 'tunnel',
        host: relay.url,
        subdomain: 'switchboard-test',
        lookup: relay.lookup,
        probeIntervalMs: 200,
        probeTimeoutMs: 1000,
      },
    })
    const engine = t.engine
    const changes: Change[] = []
    engine.changes.subscribe((c) => changes.push(c))

    const status = await eventually(async () => {
      const s = await engine.call('tunnel.get', {})
      if (s.state !== 'online') throw new Error(`tunnel is ${s.state}`)
      return s
    })
    expect(status.url).toBe(`http://switchboard-test.${relay.domain}:${relay.port}`)
    expect(changes.some((c) => c.type === 'tunnel' && c.tunnel.state === 'online')).toBe(true)
    // The relay forwards to the receiver's port, never the control API's.
    const source = await engine.call('sources.create', { id: 'cal', name: 'Calendar', provider: 'none' })
    expect(source.publicUrl).toBe(`${status.url}/hooks/cal`)

    const res = await sendWebhook(
      source.publicUrl!,
      '{"type":"meeting.soon","title":"Stand-up"}',
      relay.lookup,
    )
    expect(res.status).toBe(200)
    const { id } = JSON.parse(res.body) as { id: string }
    const stored = await engine.call('events.get', { id })
    expect(stored).toMatchObject({ sourceId: 'cal', bodyText: '{"type":"meeting.soon","title":"Stand-up"}' })
    // Probes are answered, never stored.
    expect((await engine.call('events.list', {})).items).toHaveLength(1)

    await relay.restart()
    await eventually(async () => {
      const again = await sendWebhook(source.publicUrl!, '{"type":"meeting.soon","n":2}', relay!.lookup)
      if (again.status !== 200) throw new Error(`status ${again.status} ${again.body}`)
      return true
    }, 15_000)
    expect((await engine.call('events.list', { status: 'accepted' })).items).toHaveLength(2)
  })
})
