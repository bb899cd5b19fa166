import http from 'node:http'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../../../src/core/clock'
import { registerTunnel } from '../../../src/core/tunnel/registration'
import { openSocketPool } from '../../../src/core/tunnel/socket-pool'
import type { SocketPool, SocketPoolEvent } from '../../../src/core/tunnel/socket-pool'
import { startLocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import type { LocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import { eventually, sendWebhook, startStandInReceiver } from './harness'

type Closer = () => unknown | Promise<unknown>
const cleanup: Closer[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

async function pooled(
  relay: LocaltunnelRelay,
  localPort: number,
): Promise<{ pool: SocketPool; events: SocketPoolEvent[]; url: string; id: string }> {
  const lease = await registerTunnel({
    host: relay.url,
    subdomain: null,
    timeoutMs: 2000,
    clock: systemClock,
    lookup: relay.lookup,
  }).promise
  const events: SocketPoolEvent[] = []
  const pool = openSocketPool({
    remoteHost: lease.remoteHost,
    remotePort: lease.remotePort,
    size: lease.maxConnections,
    localHost: '127.0.0.1',
    localPort: () => localPort,
    clock: systemClock,
    lookup: relay.lookup,
    onEvent: (event) => events.push(event),
  })
  cleanup.push(() => pool.close())
  return { pool, events, url: lease.url, id: lease.id }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function deadPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('the tunnel socket pool', () => {
  it('fills the relay pool and forwards requests to the local receiver', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const receiver = await startStandInReceiver()
    cleanup.push(() => receiver.close())
    const { pool, url, id } = await pooled(relay, receiver.port)
    await eventually(() => pool.live() === 10 && relay.socketCount(id) === 10, 3000, 'ten sockets')
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, n) => sendWebhook(`${url}/hooks/src_${n}`, `body ${n}`, relay.lookup)),
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(receiver.received).toHaveLength(25)
    // Sockets the relay let go after the burst are replaced.
    await eventually(() => relay.socketCount(id) === 10, 3000, 'the pool refilled')
  })

  it('answers 502 and reports a local error when the receiver refuses, without losing the slot', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const { pool, events, url, id } = await pooled(relay, await deadPort())
    await eventually(() => pool.live() === 10, 3000, 'ten sockets')
    const answer = await sendWebhook(`${url}/hooks/src_1`, 'x', relay.lookup)
    expect(answer.status).toBe(502)
    expect(answer.body).toBe('the local receiver is down\n')
    expect(events.find((e) => e.type === 'local-error')).toMatchObject({
      error: expect.stringMatching(/ECONNREFUSED/),
    })
    await eventually(() => relay.socketCount(id) === 10, 3000, 'the slot reopened')
    expect(events.some((e) => e.type === 'lost')).toBe(false)
  })

  it('keeps every slot when the receiver resets connections (the stock client loses one per reset)', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const local = http.createServer((req, res) => {
      if (req.url?.startsWith('/hooks/reset')) req.socket.resetAndDestroy()
      else res.end('ok')
    })
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => local.close(resolve)))
    const { pool, events, url, id } = await pooled(relay, (local.address() as AddressInfo).port)
    await eventually(() => pool.live() === 10, 3000, 'ten sockets')
    for (let n = 0; n < 12; n++) {
      const answer = await sendWebhook(`${url}/hooks/reset-${n}`, 'x', relay.lookup)
      expect(answer.status).toBe(502)
    }
    expect(events.filter((e) => e.type === 'local-error').length).toBeGreaterThanOrEqual(12)
    await eventually(() => relay.socketCount(id) === 10, 3000, 'every slot reopened')
    const fine = await sendWebhook(`${url}/hooks/fine`, 'x', relay.lookup)
    expect(fine).toEqual({ status: 200, body: 'ok' })
  })

  it('reports lost once when the relay forgets the client and refuses its sockets', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const receiver = await startStandInReceiver()
    cleanup.push(() => receiver.close())
    const { pool, events } = await pooled(relay, receiver.port)
    await eventually(() => pool.live() === 10, 3000, 'ten sockets')
    await relay.restart()
    await eventually(() => events.some((e) => e.type === 'lost'), 3000, 'lost')
    expect(pool.live()).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(events.filter((e) => e.type === 'lost')).toEqual([
      { type: 'lost', error: expect.stringMatching(/ECONNREFUSED/) },
    ])
  })

  it('closes every socket on close() and opens no more', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const receiver = await startStandInReceiver()
    cleanup.push(() => receiver.close())
    const { pool, id } = await pooled(relay, receiver.port)
    await eventually(() => relay.socketCount(id) === 10, 3000, 'ten sockets')
    pool.close()
    await eventually(() => relay.socketCount(id) === 0, 3000, 'no sockets')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(relay.socketCount(id)).toBe(0)
  })
})
