import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock, systemClock } from '../../../src/core/clock'
import { registerTunnel, RegistrationRefusedError } from '../../../src/core/tunnel/registration'
import { startLocaltunnelRelay } from '../../fixtures/localtunnel-relay'
import { eventually } from './harness'

type Closer = () => unknown | Promise<unknown>
const cleanup: Closer[] = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

/** A relay stand-in that answers every registration with the given status and body. */
async function answering(status: number, body: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('registering with a localtunnel relay', () => {
  it('gets a lease for the subdomain asked for, with the pool port and size', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    const lease = await registerTunnel({
      host: relay.url,
      subdomain: 'my-subdomain',
      timeoutMs: 2000,
      clock: systemClock,
      lookup: relay.lookup,
    }).promise
    expect(lease).toMatchObject({
      id: 'my-subdomain',
      url: `http://my-subdomain.relay.test:${relay.port}`,
      remoteHost: 'relay.test',
      maxConnections: 10,
    })
    expect(lease.remotePort).toBeGreaterThan(0)
  })

  it('gives up at its deadline when the relay never answers (fake clock)', async () => {
    const relay = await startLocaltunnelRelay()
    cleanup.push(() => relay.close())
    relay.hangRegistrations(1)
    const clock = new FakeClock()
    const pending = registerTunnel({
      host: relay.url,
      subdomain: null,
      timeoutMs: 15_000,
      clock,
      lookup: relay.lookup,
    })
    let settled: string | null = null
    const outcome = pending.promise.then(
      () => (settled = 'registered'),
      (err: Error) => (settled = err.message),
    )
    await eventually(() => relay.registrations.length === 1, 3000, 'the relay to hold the registration')
    clock.advance(14_999)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(settled).toBeNull()
    clock.advance(1)
    expect(await outcome).toBe('the relay did not answer the registration within 15000 ms')
  })

  it('surfaces a 403 with the relay message instead of retrying forever', async () => {
    const host = await answering(
      403,
      JSON.stringify({ message: 'Invalid subdomain. Subdomains must be lowercase' }),
    )
    const err = await registerTunnel({
      host,
      subdomain: 'Bad_Name',
      timeoutMs: 2000,
      clock: systemClock,
    }).promise.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RegistrationRefusedError)
    expect((err as RegistrationRefusedError).status).toBe(403)
    expect((err as Error).message).toBe(
      'the relay refused subdomain "Bad_Name" (HTTP 403): Invalid subdomain. Subdomains must be lowercase',
    )
  })

  it('rejects a server error and a malformed answer with a readable reason', async () => {
    const down = await answering(503, 'busy')
    await expect(
      registerTunnel({ host: down, subdomain: null, timeoutMs: 2000, clock: systemClock }).promise,
    ).rejects.toThrow('the relay answered the registration with HTTP 503')
    const noPort = await answering(200, JSON.stringify({ id: 'abcd', url: 'http://abcd.relay.test' }))
    await expect(
      registerTunnel({ host: noPort, subdomain: null, timeoutMs: 2000, clock: systemClock }).promise,
    ).rejects.toThrow("the relay's registration answer is malformed: no valid port")
    const notJson = await answering(200, '<html>reminder page</html>')
    await expect(
      registerTunnel({ host: notJson, subdomain: null, timeoutMs: 2000, clock: systemClock }).promise,
    ).rejects.toThrow('not a JSON object')
  })

  it("prefers the relay's ip for the socket pool and keeps a host path prefix", async () => {
    let path = ''
    let bypass: string | undefined
    const server = http.createServer((req, res) => {
      path = req.url ?? ''
      bypass = req.headers['bypass-tunnel-reminder'] as string | undefined
      res.end(
        JSON.stringify({
          id: 'abcd',
          port: 4000,
          max_conn_count: 3,
          url: 'https://abcd.lt.example/',
          ip: '10.0.0.9',
        }),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise((resolve) => server.close(resolve)))
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lt/`
    const lease = await registerTunnel({ host, subdomain: null, timeoutMs: 2000, clock: systemClock }).promise
    expect(path).toBe('/lt/?new')
    expect(bypass).toBeDefined()
    expect(lease).toEqual({
      id: 'abcd',
      url: 'https://abcd.lt.example',
      remoteHost: '10.0.0.9',
      remotePort: 4000,
      maxConnections: 3,
    })
  })

  it('rejects a relay host that is not an http(s) URL', async () => {
    await expect(
      registerTunnel({ host: 'relay.example', subdomain: null, timeoutMs: 2000, clock: systemClock }).promise,
    ).rejects.toThrow('the relay host is not an http(s) URL: "relay.example"')
  })
})
