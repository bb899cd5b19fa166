import http from 'node:http'
import type { AddressInfo } from 'node:net'
import localtunnel from 'localtunnel'
import { afterEach, describe, expect, it } from 'vitest'
import { startLocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import type { LocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import { eventually, sendWebhook, startStandInReceiver } from './harness'

type Closer = () => unknown | Promise<unknown>
const cleanup: Closer[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

async function setUp(): Promise<{
  relay: LocaltunnelRelay
  receiver: Awaited<ReturnType<typeof startStandInReceiver>>
}> {
  const relay = await startLocaltunnelRelay()
  cleanup.push(() => relay.close())
  const receiver = await startStandInReceiver()
  cleanup.push(() => receiver.close())
  return { relay, receiver }
}

/** The stock client takes no lookup, so it registers by the relay's address; public URLs still use its names. */
async function openStockClient(relay: LocaltunnelRelay, port: number, subdomain?: string) {
  const tunnel = await localtunnel({ port, host: relay.addressUrl, local_host: '127.0.0.1', subdomain })
  const errors: Error[] = []
  tunnel.on('error', (err: Error) => errors.push(err))
  cleanup.push(() => tunnel.close())
  return { tunnel: tunnel as typeof tunnel & { clientId: string }, errors }
}

describe('the local localtunnel relay, driven by the real localtunnel 2.0.2 client', () => {
  it('registers a random id, takes ten sockets and forwards a public request to the local server', async () => {
    const { relay, receiver } = await setUp()
    const { tunnel } = await openStockClient(relay, receiver.port)
    expect(tunnel.url).toMatch(/^http:\/\/[a-z0-9]+\.relay\.test:\d+$/)
    await eventually(() => relay.socketCount(tunnel.clientId) === 10, 5000, 'ten sockets')

    const answer = await sendWebhook(`${tunnel.url}/hooks/src_1`, '{"hello":"world"}', relay.lookup)
    expect(answer.status).toBe(200)
    expect(receiver.received).toHaveLength(1)
    expect(receiver.received[0]!.path).toBe('/hooks/src_1')
    expect(receiver.received[0]!.body.toString()).toBe('{"hello":"world"}')
  })

  it('grants a free subdomain, replaces a taken one with a random id, and answers 404 for unknown ids', async () => {
    const { relay, receiver } = await setUp()
    const first = await openStockClient(relay, receiver.port, 'my-stable-name')
    expect(first.tunnel.url).toBe(`http://my-stable-name.relay.test:${relay.port}`)
    const second = await openStockClient(relay, receiver.port, 'my-stable-name')
    expect(second.tunnel.clientId).not.toBe('my-stable-name')
    expect(second.tunnel.url).not.toBe(first.tunnel.url)

    const unknown = await sendWebhook(
      `http://nobody-here.relay.test:${relay.port}/hooks/x`,
      'x',
      relay.lookup,
    )
    expect(unknown.status).toBe(404)
  })

  it('refuses an invalid subdomain with 403 and the server message', async () => {
    const { relay } = await setUp()
    const res = await fetch(`${relay.addressUrl}/Not_Valid`)
    expect(res.status).toBe(403)
    expect(((await res.json()) as { message: string }).message).toMatch(/Invalid subdomain/)
  })

  it('queues public requests while every socket is busy', async () => {
    const relay = await startLocaltunnelRelay({ maxSockets: 1 })
    cleanup.push(() => relay.close())
    const receiver = await startStandInReceiver()
    cleanup.push(() => receiver.close())
    const { tunnel } = await openStockClient(relay, receiver.port)
    await eventually(() => relay.socketCount(tunnel.clientId) === 1, 5000, 'one socket')
    const answers = await Promise.all(
      [1, 2, 3].map((n) => sendWebhook(`${tunnel.url}/hooks/src_${n}`, `body ${n}`, relay.lookup)),
    )
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    expect(receiver.received.map((r) => r.path).sort()).toEqual([
      '/hooks/src_1',
      '/hooks/src_2',
      '/hooks/src_3',
    ])
  })

  it('shows why a supervisor is needed: after a relay restart the stock client only reports refused sockets', async () => {
    const { relay, receiver } = await setUp()
    const { tunnel, errors } = await openStockClient(relay, receiver.port, 'restart-me')
    await eventually(() => relay.socketCount('restart-me') === 10, 5000, 'ten sockets')
    await relay.restart()
    await eventually(() => errors.some((e) => /connection refused/.test(e.message)), 5000, 'a refused error')
    // It never registers again: the relay knows no client, and the public URL answers 404.
    expect(relay.ids()).toEqual([])
    expect(relay.registrations.filter((r) => r.status === 200)).toHaveLength(1)
    expect((await sendWebhook(`${tunnel.url}/hooks/x`, 'x', relay.lookup)).status).toBe(404)
  })

  it('shows why a supervisor is needed: each local reset costs the stock client a socket slot for good', async () => {
    const relay = await startLocaltunnelRelay({ graceMs: 200 })
    cleanup.push(() => relay.close())
    const local = http.createServer((req) => req.socket.resetAndDestroy())
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => local.close(resolve)))
    const { tunnel, errors } = await openStockClient(relay, (local.address() as AddressInfo).port)
    await eventually(() => relay.socketCount(tunnel.clientId) === 10, 5000, 'ten sockets')
    for (let n = 0; n < 10; n++) {
      expect((await sendWebhook(`${tunnel.url}/hooks/reset-${n}`, 'x', relay.lookup)).status).toBe(502)
    }
    // No slot was reopened: the relay drops the client and the URL answers 404, with no error emitted.
    await eventually(() => !relay.ids().includes(tunnel.clientId), 5000, 'the relay to drop the client')
    expect((await sendWebhook(`${tunnel.url}/hooks/x`, 'x', relay.lookup)).status).toBe(404)
    expect(errors).toEqual([])
  })
})
