import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ChangeBus } from '../../../src/core/changes'
import { systemClock } from '../../../src/core/clock'
import { EventStore } from '../../../src/core/events/event-store'
import { AlertStore } from '../../../src/core/monitor/alert-store'
import { Queue } from '../../../src/core/queue/queue'
import { Receiver } from '../../../src/core/receiver/receiver'
import { KeyFileCipher } from '../../../src/core/secrets/cipher'
import { SourceStore } from '../../../src/core/sources/source-store'
import { openDatabase } from '../../../src/core/store/database'
import { Settings } from '../../../src/core/store/settings'
import { createTunnelSupervisor } from '../../../src/core/tunnel'
import type { TunnelSupervisor } from '../../../src/core/tunnel'
import { startLocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import type { LocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import { tempDir } from '../../support/temp-dir'
import { eventually, sendWebhook } from './harness'

type Closer = () => unknown | Promise<unknown>
const cleanup: Closer[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

/**
 * The real receiver, store, sources and alert store, wired to the supervisor the way the engine wires them
 * (receiver port only, `answerProbe` into the receiver, sources' publicUrl from `publicUrl()`).
 */
async function wired(relay: LocaltunnelRelay) {
  const dir = tempDir()
  cleanup.push(() => dir.remove())
  const db = openDatabase({ file: join(dir.path, 'switchboard.db') })
  cleanup.push(() => db.close())
  const clock = systemClock
  const changes = new ChangeBus()
  let port = 0
  let supervisor: TunnelSupervisor | null = null
  const sources = new SourceStore(db, new KeyFileCipher(join(dir.path, 'secret.key')), clock, changes, {
    receiverBase: () => `http://127.0.0.1:${port}`,
    publicBase: () => supervisor?.publicUrl() ?? null,
  })
  const events = new EventStore(db)
  const queue = new Queue(db, { clock })
  const receiver = new Receiver({
    db,
    sources,
    events,
    queue,
    clock,
    changes,
    hopLimit: 5,
    isPaused: () => false,
  })
  receiver.answerProbe = (nonce) => supervisor?.answerProbe(nonce) ?? false
  port = (await receiver.listen(0, '127.0.0.1')).port
  cleanup.push(() => receiver.close())
  const alerts = new AlertStore(db, clock, changes)
  supervisor = createTunnelSupervisor(
    { mode: 'tunnel', host: relay.url },
    {
      localPort: () => port,
      localHost: '127.0.0.1',
      clock,
      random: Math.random,
      changes,
      settings: new Settings(db),
      alerts,
      affectedSources: () => sources.list().map((s) => s.id),
      lookup: relay.lookup,
      probeIntervalMs: 200,
      probeTimeoutMs: 500,
      registerTimeoutMs: 500,
      reclaimDelayMs: 450,
    },
  )
  const sup = supervisor
  cleanup.push(() => sup.stop())
  sources.create({ id: 'shop', name: 'Shop', provider: 'none' })
  const storedBodies = (): string[] =>
    (
      db.prepare(`SELECT body FROM events WHERE source_id = 'shop' ORDER BY seq`).all() as Array<{
        body: Buffer
      }>
    ).map((row) => row.body.toString())
  return { supervisor, sources, alerts, storedBodies }
}

const online = (supervisor: TunnelSupervisor): Promise<string> =>
  eventually<string | null>(
    () => (supervisor.status().state === 'online' ? supervisor.publicUrl() : null),
    8000,
    'the tunnel online',
  ) as Promise<string>

describe('webhooks through the tunnel into the store', () => {
  it('stores a webhook sent to the source publicUrl, again after a relay restart and after a URL change', async () => {
    const relay = await startLocaltunnelRelay({ graceMs: 300 })
    cleanup.push(() => relay.close())
    const { supervisor, sources, alerts, storedBodies } = await wired(relay)
    supervisor.start()
    const firstUrl = await online(supervisor)
    expect(sources.get('shop').publicUrl).toBe(`${firstUrl}/hooks/shop`)

    const first = await sendWebhook(sources.get('shop').publicUrl!, '{"n":1}', relay.lookup)
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toMatchObject({ duplicate: false })
    expect(storedBodies()).toEqual(['{"n":1}'])

    await relay.restart()
    await eventually(() => supervisor.status().state !== 'online', 5000, 'the restart to be noticed')
    expect(await online(supervisor)).toBe(firstUrl)
    expect((await sendWebhook(sources.get('shop').publicUrl!, '{"n":2}', relay.lookup)).status).toBe(200)

    relay.handOutDifferentUrls(true)
    await relay.restart()
    await eventually(() => supervisor.status().state !== 'online', 5000, 'the restart to be noticed')
    const secondUrl = await online(supervisor)
    expect(secondUrl).not.toBe(firstUrl)
    expect(sources.get('shop').publicUrl).toBe(`${secondUrl}/hooks/shop`)
    expect((await sendWebhook(sources.get('shop').publicUrl!, '{"n":3}', relay.lookup)).status).toBe(200)
    expect(storedBodies()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}'])

    const changed = alerts.list(true).find((a) => a.rule === 'tunnel-url-changed' && a.resolvedAt === null)
    expect(changed?.message).toContain(firstUrl)
    expect(changed?.message).toContain(secondUrl)
    expect(changed?.message).toContain('shop')
    expect(changed?.data).toMatchObject({ oldUrl: firstUrl, newUrl: secondUrl })
    // Probes are answered by the receiver but never stored.
    expect(storedBodies()).toHaveLength(3)
  })
})
