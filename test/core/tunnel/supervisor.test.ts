import { afterEach, describe, expect, it } from 'vitest'
import type { TunnelStatus } from '../../../src/shared/domain'
import { ChangeBus } from '../../../src/core/changes'
import { FakeClock, systemClock } from '../../../src/core/clock'
import type { AlertInput } from '../../../src/core/monitor/alert-sink'
import { createTunnelSupervisor, TUNNEL_SETTINGS } from '../../../src/core/tunnel'
import type { TunnelConfig, TunnelDeps, TunnelSupervisor } from '../../../src/core/tunnel'
import { startLocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import type { LocaltunnelRelay, LocaltunnelRelayOptions } from '../../fixtures/localtunnel-relay'
import { eventually, sendWebhook, startStandInReceiver } from './harness'

type Closer = () => unknown | Promise<unknown>
const cleanup: Closer[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

interface Rig {
  relay: LocaltunnelRelay
  receiver: Awaited<ReturnType<typeof startStandInReceiver>>
  supervisor: TunnelSupervisor
  settings: Map<string, string>
  /** Alerts open right now, by `rule/key`. */
  openAlerts: Map<string, AlertInput>
  alertLog: Array<{ action: 'open' | 'resolve'; rule: string; alert?: AlertInput }>
  statuses: TunnelStatus[]
  /** Closes the receiver and brings it back on the same port (the receiver going away under the tunnel). */
  stopReceiver(): Promise<void>
  startReceiver(): Promise<void>
}

/**
 * A relay, a stand-in receiver and a supervisor wired as the engine wires them, with short intervals so each
 * fault resolves in a second or two of real time. The relay holds a dropped id for 300 ms here; the
 * supervisor waits 450 ms before asking for it again.
 */
async function rig(
  config: Partial<TunnelConfig> = {},
  options: {
    deps?: Partial<TunnelDeps>
    relay?: LocaltunnelRelayOptions
    settings?: Map<string, string>
  } = {},
): Promise<Rig> {
  const relay = await startLocaltunnelRelay({ graceMs: 300, ...options.relay })
  cleanup.push(() => relay.close())
  let supervisor: TunnelSupervisor | null = null
  const answer = (nonce: string): boolean => supervisor?.answerProbe(nonce) ?? false
  let receiver = await startStandInReceiver(answer)
  const port = receiver.port
  cleanup.push(() => receiver.close())
  const settings = options.settings ?? new Map<string, string>()
  const openAlerts = new Map<string, AlertInput>()
  const alertLog: Rig['alertLog'] = []
  const changes = new ChangeBus()
  const statuses: TunnelStatus[] = []
  changes.subscribe((change) => {
    if (change.type === 'tunnel') statuses.push(change.tunnel)
  })
  supervisor = createTunnelSupervisor(
    { mode: 'tunnel', host: relay.url, ...config },
    {
      localPort: () => port,
      localHost: '127.0.0.1',
      clock: systemClock,
      random: Math.random,
      changes,
      settings: {
        get: (key) => settings.get(key) ?? null,
        set: (key, value) => void settings.set(key, value),
      },
      alerts: {
        open(rule, key, alert) {
          openAlerts.set(`${rule}/${key}`, alert)
          alertLog.push({ action: 'open', rule, alert })
        },
        resolve(rule, key) {
          openAlerts.delete(`${rule}/${key}`)
          alertLog.push({ action: 'resolve', rule })
        },
      },
      lookup: relay.lookup,
      probeIntervalMs: 200,
      probeTimeoutMs: 500,
      registerTimeoutMs: 500,
      reclaimDelayMs: 450,
      reconnect: { attempts: Infinity, kind: 'exponential', initialMs: 200, maxMs: 1000 },
      ...options.deps,
    },
  )
  const sup = supervisor
  cleanup.push(() => sup.stop())
  return {
    relay,
    get receiver() {
      return receiver
    },
    supervisor,
    settings,
    openAlerts,
    alertLog,
    statuses,
    stopReceiver: () => receiver.close(),
    async startReceiver() {
      receiver = await startStandInReceiver(answer, port)
    },
  }
}

const online = (supervisor: TunnelSupervisor, what = 'the tunnel online'): Promise<string> =>
  eventually<string | null>(
    () => (supervisor.status().state === 'online' ? supervisor.publicUrl() : null),
    8000,
    what,
  ) as Promise<string>

/** A webhook sent to the public URL through the relay lands at the receiver, byte for byte. */
async function webhookLands(rigged: Rig, url: string, body = `payload ${Math.random()}`): Promise<void> {
  const before = rigged.receiver.received.length
  const answer = await sendWebhook(`${url}/hooks/src_test`, body, rigged.relay.lookup)
  expect(answer.status).toBe(200)
  expect(rigged.receiver.received.length).toBe(before + 1)
  expect(rigged.receiver.received.at(-1)!.body.toString()).toBe(body)
}

const historyText = (status: TunnelStatus): string =>
  status.history.map((h) => `${h.state}: ${h.message}`).join('\n')

describe('tunnel supervisor against a localtunnel relay', () => {
  it('registers, proves the public URL by a self-probe through the relay, and forwards webhooks', async () => {
    const r = await rig()
    r.supervisor.start()
    expect(r.supervisor.status().state).toBe('connecting')
    expect(r.supervisor.publicUrl()).toBeNull()
    const url = await online(r.supervisor)

    expect(url).toMatch(new RegExp(`^http://[a-z0-9]+\\.relay\\.test:${r.relay.port}$`))
    const status = r.supervisor.status()
    expect(status).toMatchObject({ mode: 'tunnel', url, host: r.relay.url, lastProbeOk: true, error: null })
    expect(status.history.map((h) => h.state)).toEqual(['connecting', 'connecting', 'online'])
    expect(r.receiver.probes).toBeGreaterThanOrEqual(1)
    expect(r.statuses.at(-1)?.state).toBe('online')
    expect(r.settings.get(TUNNEL_SETTINGS.subdomain)).toBe(status.subdomain)
    expect(r.settings.get(TUNNEL_SETTINGS.publicUrl)).toBe(url)
    await eventually(() => r.relay.socketCount(status.subdomain!) === 10, 3000, 'ten sockets')
    await webhookLands(r, url)
    // A probe answer is only valid while that probe is in flight.
    expect(r.supervisor.answerProbe('not-a-probe-nonce')).toBe(false)
  })

  it('keeps probing while online without flooding the change stream', async () => {
    const r = await rig()
    r.supervisor.start()
    await online(r.supervisor)
    const emitted = r.statuses.length
    const probes = r.receiver.probes
    await eventually(() => r.receiver.probes >= probes + 3, 5000, 'three more probes')
    expect(r.supervisor.status().state).toBe('online')
    expect(r.statuses).toHaveLength(emitted)
  })

  it('forwards a binary body byte for byte', async () => {
    const r = await rig()
    r.supervisor.start()
    const url = await online(r.supervisor)
    const body = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256))
    const answer = await sendWebhook(`${url}/hooks/src_bin`, body, r.relay.lookup)
    expect(answer.status).toBe(200)
    expect(r.receiver.received.at(-1)!.body.equals(body)).toBe(true)
  })

  it('asks for the remembered subdomain again after a relay restart and gets the same URL back', async () => {
    const r = await rig({ subdomain: 'switchboard-home' })
    r.supervisor.start()
    const url = await online(r.supervisor)
    expect(url).toBe(`http://switchboard-home.relay.test:${r.relay.port}`)

    await r.relay.restart()
    await eventually(() => r.supervisor.status().state === 'reconnecting', 5000, 'reconnecting')
    expect(r.supervisor.status().error).toMatch(/relay dropped the tunnel/)
    expect(await online(r.supervisor, 'online again')).toBe(url)
    await webhookLands(r, url)
    expect(r.relay.registrations.filter((reg) => reg.status === 200).map((reg) => reg.requested)).toEqual([
      'switchboard-home',
      'switchboard-home',
    ])
    expect(r.alertLog.filter((a) => a.rule === 'tunnel-url-changed')).toEqual([])
  })

  it('replaces sockets the relay resets one by one without dropping the URL', async () => {
    const r = await rig()
    r.supervisor.start()
    const url = await online(r.supervisor)
    const id = r.supervisor.status().subdomain!
    await eventually(() => r.relay.socketCount(id) === 10, 3000, 'ten sockets')

    await r.relay.resetSockets(id, 30)
    await eventually(() => r.relay.socketCount(id) === 10, 3000, 'the pool refilled')
    await webhookLands(r, url)
    expect(r.supervisor.publicUrl()).toBe(url)
    expect(r.relay.registrations).toHaveLength(1)
  })

  it('gives up on a registration that hangs and registers again', async () => {
    const r = await rig()
    r.relay.hangRegistrations(1)
    r.supervisor.start()
    await eventually(
      () => /did not answer the registration within 500 ms/.test(r.supervisor.status().error ?? ''),
      5000,
      'the registration timeout',
    )
    expect(r.supervisor.status().state).toBe('reconnecting')
    const url = await online(r.supervisor)
    await webhookLands(r, url)
    expect(r.relay.registrations.map((reg) => reg.status)).toEqual(['held', 200])
  })

  it('surfaces a 403 for an invalid subdomain, then falls back to a random one the user can see', async () => {
    const r = await rig({ subdomain: 'Not_Valid' })
    r.supervisor.start()
    const url = await online(r.supervisor)
    const status = r.supervisor.status()
    expect(status.error).toMatch(/relay refused subdomain "Not_Valid" \(HTTP 403\): Invalid subdomain/)
    expect(status.error).toMatch(/using a random subdomain instead/)
    expect(historyText(status)).toMatch(/refused subdomain "Not_Valid"/)
    expect(status.subdomain).not.toBe('Not_Valid')
    expect(url).toBe(`http://${status.subdomain}.relay.test:${r.relay.port}`)
    await webhookLands(r, url)
    // The refused name is not asked for again on the next registration.
    await r.relay.restart()
    await eventually(() => r.supervisor.status().state !== 'online', 5000, 'the restart to be noticed')
    await online(r.supervisor, 'online after restart')
    expect(r.relay.registrations.map((reg) => [reg.requested, reg.status])).toEqual([
      ['Not_Valid', 403],
      [null, 200],
      [status.subdomain, 200],
    ])
  })

  it('falls back the same way when the relay refuses a valid but reserved subdomain', async () => {
    const r = await rig({ subdomain: 'reserved-name' })
    r.relay.refuseSubdomain('reserved-name')
    r.supervisor.start()
    const url = await online(r.supervisor)
    expect(r.supervisor.status().error).toMatch(/refused subdomain "reserved-name" \(HTTP 403\): .*reserved/)
    await webhookLands(r, url)
  })

  it('raises tunnel-url-changed with the old and the new URL when the relay hands out another one', async () => {
    const r = await rig({}, { deps: { affectedSources: () => ['GitHub (src_1)', 'Stripe (src_2)'] } })
    r.supervisor.start()
    const oldUrl = await online(r.supervisor)
    expect(r.alertLog).toEqual([])

    r.relay.handOutDifferentUrls(true)
    await r.relay.restart()
    const newUrl = (await eventually(
      () =>
        r.supervisor.status().state === 'online' && r.supervisor.publicUrl() !== oldUrl
          ? r.supervisor.publicUrl()
          : null,
      8000,
      'a new URL',
    )) as string
    const alert = r.openAlerts.get('tunnel-url-changed/tunnel')
    expect(alert).toBeDefined()
    expect(alert!.message).toContain(oldUrl)
    expect(alert!.message).toContain(newUrl)
    expect(alert!.message).toContain('GitHub (src_1), Stripe (src_2)')
    expect(alert!.data).toMatchObject({ oldUrl, newUrl })
    expect(r.settings.get(TUNNEL_SETTINGS.publicUrl)).toBe(newUrl)
    expect(historyText(r.supervisor.status())).toMatch(/handed out "[a-z0-9]+" instead of/)
    await webhookLands(r, newUrl)
  })

  it('catches a black-holed socket pool that emits nothing by the self-probe, and re-registers', async () => {
    const r = await rig()
    r.supervisor.start()
    const url = await online(r.supervisor)
    const id = r.supervisor.status().subdomain!
    r.relay.blackHole(id)

    await eventually(() => r.supervisor.status().state === 'reconnecting', 5000, 'the probe to fail')
    expect(r.supervisor.status().error).toMatch(/self-probe got no answer .* within 500 ms/)
    expect(r.statuses.some((s) => s.state === 'degraded')).toBe(true)
    // The relay frees the old id after its grace; the supervisor waits longer than that and gets it back.
    expect(await online(r.supervisor, 'online again')).toBe(url)
    await webhookLands(r, url)
    expect(r.relay.registrations.filter((reg) => reg.status === 200)).toHaveLength(2)
  })

  it('survives the local receiver going away (connection refused locally) and recovers when it is back', async () => {
    const r = await rig()
    r.supervisor.start()
    const url = await online(r.supervisor)
    await r.stopReceiver()

    const refused = await sendWebhook(`${url}/hooks/src_test`, 'nobody home', r.relay.lookup)
    expect(refused.status).toBe(502)
    await eventually(() => r.supervisor.status().state === 'reconnecting', 5000, 'the probe to fail')
    await r.startReceiver()
    expect(await online(r.supervisor, 'online again')).toBe(url)
    await webhookLands(r, url)
  })

  it('opens tunnel-down while it stays away too long, and resolves it once online', async () => {
    const r = await rig({}, { deps: { downAlertAfterMs: 300, registerTimeoutMs: 200 } })
    r.relay.hangRegistrations(2)
    r.supervisor.start()
    await eventually(() => r.openAlerts.has('tunnel-down/tunnel'), 5000, 'tunnel-down')
    expect(r.openAlerts.get('tunnel-down/tunnel')!.message).toMatch(/did not answer the registration/)
    await online(r.supervisor)
    expect(r.openAlerts.has('tunnel-down/tunnel')).toBe(false)
    expect(r.alertLog.map((a) => `${a.action} ${a.rule}`)).toEqual([
      'open tunnel-down',
      'resolve tunnel-down',
    ])
  })

  it('reports failed (critical) after repeated failures, keeps retrying, and comes back', async () => {
    const r = await rig({}, { deps: { failAfterAttempts: 2, registerTimeoutMs: 300 } })
    r.relay.hangRegistrations(2)
    r.supervisor.start()
    await eventually(() => r.supervisor.status().state === 'failed', 5000, 'failed')
    expect(r.openAlerts.get('tunnel-down/tunnel')?.severity).toBe('critical')
    await online(r.supervisor)
    expect(r.openAlerts.has('tunnel-down/tunnel')).toBe(false)
  })

  it('asks for the subdomain remembered from an earlier run, and alerts when the URL differs from last time', async () => {
    const settings = new Map<string, string>([
      [TUNNEL_SETTINGS.subdomain, 'remembered-name'],
      [TUNNEL_SETTINGS.publicUrl, 'http://remembered-name.relay.test:1'],
    ])
    const r = await rig({}, { settings })
    r.supervisor.start()
    const url = await online(r.supervisor)
    expect(r.relay.registrations[0]!.requested).toBe('remembered-name')
    expect(url).toBe(`http://remembered-name.relay.test:${r.relay.port}`)
    expect(r.openAlerts.get('tunnel-url-changed/tunnel')?.data).toEqual({
      oldUrl: 'http://remembered-name.relay.test:1',
      newUrl: url,
      sources: [],
    })
    expect(r.openAlerts.get('tunnel-url-changed/tunnel')?.message).toMatch(
      /Every source's publicUrl must be updated at its provider/,
    )
  })
})

describe('tunnel supervisor reconnect timing (fake clock)', () => {
  it('waits a jittered exponential backoff, never shorter than the reclaim delay, between registrations', async () => {
    const clock = new FakeClock()
    const draws = [0.5, 0.9]
    const r = await rig(
      {},
      {
        deps: {
          clock,
          random: () => draws.shift() ?? 0,
          registerTimeoutMs: 1000,
          reclaimDelayMs: 1500,
          reconnect: { attempts: Infinity, kind: 'exponential', initialMs: 1000, maxMs: 60_000 },
        },
      },
    )
    const registrations = (): number => r.relay.registrations.length
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50))
    r.relay.hangRegistrations(2)
    r.supervisor.start()
    await eventually(() => registrations() === 1, 3000, 'the first registration')
    clock.advance(1000)
    await eventually(() => r.supervisor.status().state === 'reconnecting', 3000, 'the registration timeout')
    expect(r.supervisor.status().error).toMatch(/did not answer the registration within 1000 ms/)

    // Attempt 1: a draw of 0.5 under a 1000 ms ceiling is 500 ms, raised to the 1500 ms reclaim delay.
    clock.advance(1499)
    await settle()
    expect(registrations()).toBe(1)
    clock.advance(1)
    await eventually(() => registrations() === 2, 3000, 'the second registration')
    clock.advance(1000)
    await settle()

    // Attempt 2: a draw of 0.9 under a 2000 ms ceiling is 1800 ms.
    clock.advance(1799)
    await settle()
    expect(registrations()).toBe(2)
    clock.advance(1)
    await online(r.supervisor)
    expect(r.relay.registrations.map((reg) => reg.status)).toEqual(['held', 'held', 200])
  })
})

describe('tunnel supervisor configuration', () => {
  it('in external mode publishes the given URL as online without any relay', async () => {
    const r = await rig({ mode: 'external', externalUrl: 'https://hooks.example.org/' })
    r.supervisor.start()
    expect(r.supervisor.status()).toMatchObject({
      state: 'online',
      mode: 'external',
      url: 'https://hooks.example.org',
    })
    expect(r.supervisor.publicUrl()).toBe('https://hooks.example.org')
    expect(r.relay.registrations).toEqual([])
    expect(r.statuses.at(-1)?.state).toBe('online')
  })

  it('is off in mode off, and configure() switches modes, remembers the config and reports each change', async () => {
    const r = await rig({ mode: 'off' })
    r.supervisor.start()
    expect(r.supervisor.status().state).toBe('off')
    expect(r.supervisor.publicUrl()).toBeNull()

    const connecting = await r.supervisor.configure({
      mode: 'tunnel',
      host: r.relay.url,
      subdomain: 'configured-name',
    })
    expect(connecting.state).toBe('connecting')
    expect(JSON.parse(r.settings.get(TUNNEL_SETTINGS.config)!)).toEqual({
      mode: 'tunnel',
      host: r.relay.url,
      subdomain: 'configured-name',
    })
    expect(await online(r.supervisor)).toBe(`http://configured-name.relay.test:${r.relay.port}`)

    const external = await r.supervisor.configure({
      mode: 'external',
      externalUrl: 'https://proxy.example.net',
    })
    expect(external).toMatchObject({ state: 'online', url: 'https://proxy.example.net' })
    // Dropping the tunnel closes its sockets; the relay forgets the id after its grace.
    await eventually(() => r.relay.ids().length === 0, 3000, 'the relay to forget the id')
    expect(r.openAlerts.get('tunnel-url-changed/tunnel')?.data).toMatchObject({
      newUrl: 'https://proxy.example.net',
    })

    const off = await r.supervisor.configure({ mode: 'off' })
    expect(off.state).toBe('off')
    expect(r.supervisor.publicUrl()).toBeNull()
    expect(r.statuses.map((s) => s.state)).toEqual(expect.arrayContaining(['off', 'connecting', 'online']))
  })

  it('rejects a configuration that cannot work and changes nothing', async () => {
    const r = await rig({ mode: 'off' })
    r.supervisor.start()
    const before = r.supervisor.status()
    await expect(r.supervisor.configure({ mode: 'external' })).rejects.toThrow(/needs externalUrl/)
    await expect(r.supervisor.configure({ mode: 'tunnel', host: 'ftp://relay.example' })).rejects.toThrow(
      /host must be an http or https URL/,
    )
    await expect(r.supervisor.configure({ mode: 'sideways' as 'off' })).rejects.toThrow(/tunnel mode must be/)
    expect(r.supervisor.status()).toEqual(before)
    expect(r.settings.has(TUNNEL_SETTINGS.config)).toBe(false)
  })

  it('keeps a bounded history', async () => {
    const r = await rig({ mode: 'off' })
    r.supervisor.start()
    for (let i = 0; i < 70; i++) {
      await r.supervisor.configure({ mode: 'external', externalUrl: `https://proxy-${i}.example.net` })
    }
    const history = r.supervisor.status().history
    expect(history).toHaveLength(50)
    expect(history.at(-1)!.url).toBe('https://proxy-69.example.net')
  })

  it('stops: closes every socket and reports off', async () => {
    const r = await rig()
    r.supervisor.start()
    await online(r.supervisor)
    const id = r.supervisor.status().subdomain!
    await r.supervisor.stop()
    expect(r.supervisor.status().state).toBe('off')
    expect(r.supervisor.publicUrl()).toBeNull()
    await eventually(() => r.relay.socketCount(id) === 0, 3000, 'every socket closed')
  })
})
