import { sign } from '@octokit/webhooks-methods'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Webhook } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine, type EngineConfig } from '../../../src/core/engine'
import { ApiError } from '../../../src/shared/contract'
import type { Alert } from '../../../src/shared/domain'
import { http } from '../../support/http'
import { tempDir } from '../../support/temp-dir'

/** A chat or push service on loopback: records each request, answers with `status`. */
class AlertTarget {
  readonly received: Array<{ headers: IncomingMessage['headers']; body: string }> = []
  status = 200
  location: string | null = null
  private server: Server
  private waiters: Array<() => void> = []

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(this.status, this.location ? { location: this.location } : {})
        res.end('ok')
        for (const w of this.waiters.splice(0)) w()
      })
    })
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alerts`
  }

  async waitFor(n: number): Promise<void> {
    const deadline = Date.now() + 10_000
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} deliveries, got ${this.received.length}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 200)
      })
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** Verify a delivery with the official Standard Webhooks package; throws when `secret` did not sign it. */
function verify(secret: string, delivery: { headers: IncomingMessage['headers']; body: string }) {
  return new Webhook(secret).verify(delivery.body, {
    'webhook-id': String(delivery.headers['webhook-id']),
    'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
    'webhook-signature': String(delivery.headers['webhook-signature']),
  }) as { type: string; data: Alert }
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError)
    return error as ApiError
  }
  throw new Error('expected a refusal')
}

let dir: ReturnType<typeof tempDir>
let engine: Engine | null = null
let target: AlertTarget
let targetUrl: string

async function start(overrides: Partial<EngineConfig> = {}): Promise<{ engine: Engine; url: string }> {
  engine = createEngine({
    dataDir: dir.path,
    receiver: { port: 0, host: '127.0.0.1' },
    tunnel: { mode: 'off' },
    ...overrides,
  })
  const { receiverUrl } = await engine.start()
  return { engine, url: receiverUrl }
}

async function restart(): Promise<Engine> {
  await engine!.stop()
  engine = null
  return (await start()).engine
}

/** Open a real alert: a signature-failure threshold of 1 and one forged GitHub delivery through the receiver. */
async function forgeDelivery(e: Engine, receiverUrl: string): Promise<void> {
  if (!(await e.call('sources.list', {})).items.some((s) => s.id === 'gh')) {
    await e.call('sources.create', { id: 'gh', name: 'GitHub', provider: 'github', secret: 'right secret' })
    await e.call('monitor.configure', { source: 'gh', settings: { signatureFailures: { threshold: 1 } } })
  }
  const body = '{"action":"opened"}'
  const answer = await http(`${receiverUrl}/hooks/gh`, {
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': `d-${Math.random()}`,
      'x-hub-signature-256': await sign('wrong secret', body),
    },
    body,
  })
  expect(answer.status).toBe(401)
}

beforeEach(async () => {
  dir = tempDir('switchboard-alert-webhook-')
  target = new AlertTarget()
  targetUrl = await target.listen()
})
afterEach(async () => {
  await engine?.stop()
  engine = null
  await target.close()
  dir.remove()
})

describe('the alert webhook setting', () => {
  it('is off until set; testing it then is refused', async () => {
    const { engine: e } = await start()
    expect(await e.call('alerts.webhook.get', {})).toEqual({
      url: null,
      hasSecret: false,
      secretHint: null,
      previousSecretUntil: null,
      fixedByConfig: false,
      updatedAt: null,
      lastDelivery: null,
    })
    const error = await refusal(e.call('alerts.webhook.test', {}))
    expect(error.code).toBe('conflict')
    expect(error.message).toMatch(/no alert webhook is set/)
    expect((await refusal(e.call('alerts.webhook.rotateSecret', {}))).code).toBe('conflict')
  })

  it('generates a whsec_ secret shown once, never returned by get, and stored encrypted', async () => {
    const { engine: e } = await start()
    const set = await e.call('alerts.webhook.set', { url: targetUrl })
    expect(set.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const secret = set.secret!
    expect(set.webhook).toMatchObject({
      url: targetUrl,
      hasSecret: true,
      secretHint: `whsec_…${secret.slice(-4)}`,
      fixedByConfig: false,
    })
    const view = await e.call('alerts.webhook.get', {})
    expect(view).toEqual(set.webhook)
    expect(JSON.stringify(view)).not.toContain(secret.slice('whsec_'.length, -4))

    // Changing the URL keeps the secret and does not show it again.
    const moved = await e.call('alerts.webhook.set', { url: `${targetUrl}?moved=1` })
    expect(moved.secret).toBeNull()
    expect(moved.webhook.secretHint).toBe(view.secretHint)

    await engine!.stop()
    engine = null
    const onDisk = readFileSync(join(dir.path, 'switchboard.db')).toString('latin1')
    // The row is there, and neither the secret nor the URL (a chat webhook URL is a credential) is in clear.
    expect(onDisk).toContain('alerts.webhook')
    expect(onDisk).not.toContain(secret.slice('whsec_'.length))
    expect(onDisk).not.toContain('/alerts?moved=1')
  })

  it('delivers an opening alert signed with the secret shown, verifiable with standardwebhooks', async () => {
    const { engine: e, url } = await start()
    const { secret } = await e.call('alerts.webhook.set', { url: targetUrl })
    await forgeDelivery(e, url)
    await target.waitFor(1)
    const payload = verify(secret!, target.received[0]!)
    expect(payload.type).toBe('alert.opened')
    expect(payload.data).toMatchObject({ rule: 'signature-failures', sourceId: 'gh', resolvedAt: null })
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, target.received[0]!)).toThrow()
    await expect
      .poll(async () => (await e.call('alerts.webhook.get', {})).lastDelivery)
      .toMatchObject({
        ok: true,
        status: 200,
        type: 'alert.opened',
        webhookId: target.received[0]!.headers['webhook-id'],
      })
  })

  it('survives a restart: same URL and secret, deliveries still verify', async () => {
    let { engine: e } = await start()
    const { secret, webhook } = await e.call('alerts.webhook.set', { url: targetUrl })
    e = await restart()
    expect(await e.call('alerts.webhook.get', {})).toMatchObject({
      url: targetUrl,
      hasSecret: true,
      secretHint: webhook.secretHint,
      updatedAt: webhook.updatedAt,
    })
    const delivery = await e.call('alerts.webhook.test', {})
    expect(delivery).toMatchObject({ ok: true, status: 200, type: 'alert.test', url: targetUrl, error: null })
    expect(verify(secret!, target.received[0]!)).toMatchObject({
      type: 'alert.test',
      data: { rule: 'test', title: 'Test alert from Switchboard', data: { test: true } },
    })
  })

  it('null turns it off and forgets the secret: an opening alert is not sent', async () => {
    const { engine: e, url } = await start()
    const first = await e.call('alerts.webhook.set', { url: targetUrl })
    const off = await e.call('alerts.webhook.set', { url: null })
    expect(off).toMatchObject({ secret: null, webhook: { url: null, hasSecret: false, secretHint: null } })
    expect((await refusal(e.call('alerts.webhook.test', {}))).code).toBe('conflict')

    await forgeDelivery(e, url)
    await expect
      .poll(async () => (await e.call('alerts.list', { open: true })).items.map((a) => a.rule))
      .toEqual(['signature-failures'])
    const restarted = await restart()
    expect((await restarted.call('alerts.webhook.get', {})).url).toBeNull()

    // Turned on again: a new secret, and the only delivery the target ever saw is this test.
    const again = await restarted.call('alerts.webhook.set', { url: targetUrl })
    expect(again.secret).not.toBe(first.secret)
    await restarted.call('alerts.webhook.test', {})
    expect(target.received.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual(['alert.test'])
    verify(again.secret!, target.received[0]!)
  })

  it.each([
    ['ftp://example.com/alerts', 'url: must be an http or https URL, not ftp'],
    ['javascript:alert(1)', 'url: must be an http or https URL, not javascript'],
    ['https://user:pass@example.com/alerts', 'url: must not carry a user name or password'],
    ['not a url', 'url: must be an absolute URL, e.g. https://chat.example.com/hooks/alerts'],
    ['  ', 'url: must be an absolute URL, e.g. https://chat.example.com/hooks/alerts'],
    [`https://example.com/${'a'.repeat(2048)}`, 'url: Too big: expected string to have <=2048 characters'],
  ])('refuses %j with a clear error and changes nothing', async (bad, message) => {
    const { engine: e } = await start()
    const before = await e.call('alerts.webhook.set', { url: targetUrl })
    const error = await refusal(e.call('alerts.webhook.set', { url: bad }))
    expect(error.code).toBe('bad_request')
    expect(error.message).toBe(message)
    expect((error.details as { issues: Array<{ path: string }> }).issues[0]).toMatchObject({ path: 'url' })
    expect(await e.call('alerts.webhook.get', {})).toEqual(before.webhook)
  })

  it('refuses a secret that is not a Standard Webhooks secret, and a secret without a url', async () => {
    const { engine: e } = await start()
    const bad = await refusal(e.call('alerts.webhook.set', { url: targetUrl, secret: 'hunter2' }))
    expect(bad.message).toBe('secret: must be whsec_ followed by the base64 of 24 to 64 random bytes')
    const alone = await refusal(
      e.call('alerts.webhook.set', { url: null, secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }),
    )
    expect(alone.message).toBe('secret: only with a url')
    expect((await e.call('alerts.webhook.get', {})).url).toBeNull()
  })

  it('uses a given secret as is', async () => {
    const { engine: e } = await start()
    const mine = `whsec_${Buffer.alloc(24, 9).toString('base64')}`
    expect((await e.call('alerts.webhook.set', { url: targetUrl, secret: mine })).secret).toBe(mine)
    await e.call('alerts.webhook.test', {})
    verify(mine, target.received[0]!)
  })

  it('the test op reports the status of a failing target, an unreachable one and a redirect', async () => {
    const { engine: e } = await start()
    await e.call('alerts.webhook.set', { url: targetUrl })
    target.status = 503
    const failed = await e.call('alerts.webhook.test', {})
    expect(failed).toMatchObject({ ok: false, status: 503, error: 'the target answered 503' })
    expect((await e.call('alerts.webhook.get', {})).lastDelivery).toEqual(failed)

    target.status = 307
    target.location = 'https://elsewhere.example/alerts'
    expect(await e.call('alerts.webhook.test', {})).toMatchObject({
      ok: false,
      status: 307,
      error: 'the target answered 307, a redirect to https://elsewhere.example/alerts: set that URL instead',
    })
    expect(target.received).toHaveLength(2)

    // A port nothing listens on: no status, the reason instead.
    const closed = new AlertTarget()
    const closedUrl = await closed.listen()
    await closed.close()
    await e.call('alerts.webhook.set', { url: closedUrl })
    const unreachable = await e.call('alerts.webhook.test', {})
    expect(unreachable).toMatchObject({ ok: false, status: null, url: closedUrl })
    expect(unreachable.error).toMatch(/^could not connect: ECONNREFUSED/)
  })

  it('rotation signs with the new and the old secret during the grace period, then only the new', async () => {
    const { engine: e } = await start()
    const { secret: old } = await e.call('alerts.webhook.set', { url: targetUrl })
    const rotated = await e.call('alerts.webhook.rotateSecret', {})
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(old)
    expect(rotated.webhook.previousSecretUntil).toBeGreaterThan(Date.now())
    expect(rotated.webhook.secretHint).toBe(`whsec_…${rotated.secret.slice(-4)}`)
    await e.call('alerts.webhook.test', {})
    verify(rotated.secret, target.received[0]!)
    verify(old!, target.received[0]!)

    const now = await e.call('alerts.webhook.rotateSecret', { graceSeconds: 0 })
    expect(now.webhook.previousSecretUntil).toBeNull()
    await e.call('alerts.webhook.test', {})
    verify(now.secret, target.received[1]!)
    expect(() => verify(rotated.secret, target.received[1]!)).toThrow()
  })

  it('records setting, rotating, testing and turning it off in the action history, without the URL’s path', async () => {
    const { engine: e } = await start()
    const pushed: string[] = []
    e.changes.subscribe((c) => {
      if (c.type === 'action') pushed.push(c.action.kind)
    })
    await e.call('alerts.webhook.set', { url: `${targetUrl}/T0KEN` })
    await e.call('alerts.webhook.rotateSecret', { graceSeconds: 60 })
    await e.call('alerts.webhook.test', {})
    await e.call('alerts.webhook.set', { url: null })
    // A refused change records nothing.
    await refusal(e.call('alerts.webhook.rotateSecret', {}))

    const { items } = await e.call('actions.list', {})
    const history = items.reverse().map(({ kind, target, detail }) => ({ kind, target, detail }))
    const host = new URL(targetUrl).host
    expect(history).toEqual([
      { kind: 'alert-webhook', target: 'alerts.webhook', detail: { change: 'set', host, newSecret: true } },
      { kind: 'rotate-secret', target: 'alerts.webhook', detail: { graceSeconds: 60 } },
      { kind: 'test-event', target: 'alerts.webhook', detail: { ok: true, status: 200 } },
      {
        kind: 'alert-webhook',
        target: 'alerts.webhook',
        detail: { change: 'off', host: null, newSecret: false },
      },
    ])
    expect(JSON.stringify(items)).not.toContain('T0KEN')
    expect(pushed).toEqual(history.map((a) => a.kind))
  })

  it('a webhook given in the engine configuration wins and cannot be changed through the API', async () => {
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`
    const { engine: e } = await start({ alertWebhook: { url: targetUrl, secret } })
    expect(await e.call('alerts.webhook.get', {})).toMatchObject({
      url: targetUrl,
      hasSecret: true,
      secretHint: `whsec_…${secret.slice(-4)}`,
      fixedByConfig: true,
    })
    const refused = await refusal(e.call('alerts.webhook.set', { url: 'https://chat.example.com/x' }))
    expect(refused.code).toBe('conflict')
    expect(refused.message).toMatch(/fixed by the engine configuration/)
    expect((await refusal(e.call('alerts.webhook.set', { url: null }))).code).toBe('conflict')
    expect((await refusal(e.call('alerts.webhook.rotateSecret', {}))).code).toBe('conflict')
    expect(await e.call('alerts.webhook.test', {})).toMatchObject({ ok: true, status: 200 })
    verify(secret, target.received[0]!)
  })
})
