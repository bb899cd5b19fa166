import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadApiToken } from '../../src/server/auth'
import { MAX_STREAMS } from '../../src/server/change-stream'
import { startHeadless, type Headless } from '../../src/server/headless'
import { matchRoute, routes } from '../../src/server/routes'
import { OPERATION_NAMES } from '../../src/shared/contract'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'

let server: Headless
let dir: ReturnType<typeof tempDir>

beforeAll(async () => {
  dir = tempDir()
  const ui = join(dir.path, 'ui')
  mkdirSync(join(ui, 'assets'), { recursive: true })
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Switchboard UI</title>')
  writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)')
  server = await startHeadless({
    engine: { dataDir: join(dir.path, 'data'), receiver: { port: 0 }, tunnel: { mode: 'off' } },
    apiPort: 0,
    rendererDir: ui,
  })
})
afterAll(async () => {
  await server.stop()
  dir.remove()
})

const auth = () => ({ authorization: `Bearer ${server.token}` })
const json = (body: unknown) => ({
  headers: { ...auth(), 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('control API', () => {
  it('derives a route for every contract operation, literal segments first', () => {
    expect(routes.map((r) => r.name).sort()).toEqual([...OPERATION_NAMES].sort())
    const match = matchRoute('GET', '/api/workflows/schema')
    expect(match.route?.name).toBe('workflows.schema')
    expect(matchRoute('GET', '/api/workflows/abc').route?.name).toBe('workflows.get')
    expect(matchRoute('POST', '/api/runs/retry').route?.name).toBe('runs.retryBulk')
    expect(matchRoute('POST', '/api/runs/r1/retry').route?.name).toBe('runs.retry')
  })

  it('answers health without a token and everything else only with the right one', async () => {
    expect((await http(`${server.apiUrl}/api/health`)).json).toMatchObject({ ok: true })
    const none = await http(`${server.apiUrl}/api/sources`)
    expect(none.status).toBe(401)
    expect(none.json).toMatchObject({ error: { code: 'unauthorized' } })
    const wrong = await http(`${server.apiUrl}/api/sources`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    const almost = await http(`${server.apiUrl}/api/sources`, {
      headers: { authorization: `Bearer ${server.token}x` },
    })
    expect(almost.status).toBe(401)
    expect((await http(`${server.apiUrl}/api/sources`, { headers: auth() })).status).toBe(200)
  })

  it('is not served on the receiver port', async () => {
    for (const path of ['/api/health', '/api/sources', '/', '/login?token=' + server.token]) {
      const res = await http(`${server.receiverUrl}${path}`, { headers: auth() })
      expect(res.status).toBe(404)
    }
  })

  it('refuses a Host header that is not its loopback name (DNS rebinding)', async () => {
    const res = await http(`${server.apiUrl}/api/sources`, {
      headers: { ...auth(), host: 'evil.example:80' },
    })
    expect(res.status).toBe(403)
  })

  it('keeps the generated token in the data folder with mode 0600', () => {
    const file = join(dir.path, 'data', 'api-token')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(loadApiToken(join(dir.path, 'data'), {})).toBe(server.token)
    expect(loadApiToken(join(dir.path, 'data'), { SWITCHBOARD_API_TOKEN: 'from-env' })).toBe('from-env')
  })

  it('creates a source (201 with url and publicUrl) and refuses bad input without touching the store', async () => {
    const created = await http(
      `${server.apiUrl}/api/sources`,
      json({ name: 'Shop', provider: 'none', id: 'shop' }),
    )
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      id: 'shop',
      url: `${server.receiverUrl}/hooks/shop`,
      publicUrl: null,
    })
    const bad = [
      { name: 'x', provider: 'carrier-pigeon' },
      { provider: 'none' },
      { name: 'x', provider: 'none', id: '../etc' },
      { name: 'x', provider: 'none', surprise: true },
      { name: 'x', provider: 'none', maxBodyBytes: -1 },
    ]
    for (const body of bad) {
      const res = await http(`${server.apiUrl}/api/sources`, json(body))
      expect(res.status).toBe(400)
      expect(res.json).toMatchObject({ error: { code: 'bad_request' } })
      expect((res.json as { error: { message: string } }).error.message).toMatch(/\w+: /)
    }
    const notJson = await http(`${server.apiUrl}/api/sources`, {
      headers: { ...auth(), 'content-type': 'application/json' },
      body: '{"name":',
    })
    expect(notJson.status).toBe(400)
    const dup = await http(
      `${server.apiUrl}/api/sources`,
      json({ name: 'Shop', provider: 'none', id: 'shop' }),
    )
    expect(dup.status).toBe(409)
    const list = (await http(`${server.apiUrl}/api/sources`, { headers: auth() })).json as {
      items: unknown[]
    }
    expect(list.items).toHaveLength(1)
  })

  it('validates query arguments and path ids', async () => {
    expect((await http(`${server.apiUrl}/api/events?limit=100000`, { headers: auth() })).status).toBe(400)
    expect((await http(`${server.apiUrl}/api/events?status=weird`, { headers: auth() })).status).toBe(400)
    expect((await http(`${server.apiUrl}/api/events?before=abc`, { headers: auth() })).status).toBe(400)
    expect((await http(`${server.apiUrl}/api/events/nope`, { headers: auth() })).status).toBe(404)
    expect((await http(`${server.apiUrl}/api/sources/shop`, { method: 'PUT', headers: auth() })).status).toBe(
      405,
    )
    expect((await http(`${server.apiUrl}/api/nothing-here`, { headers: auth() })).status).toBe(404)
    const badEscape = await http(`${server.apiUrl}/api/sources/%E0%A4%A`, { headers: auth() })
    expect(badEscape.status).toBe(400)
    expect(badEscape.json).toMatchObject({ error: { code: 'bad_request' } })
  })

  it('serves event detail and the raw body with its content type, sandboxed', async () => {
    const body = Buffer.from('<html><script>alert(1)</script></html>')
    const sent = await http(`${server.receiverUrl}/hooks/shop`, {
      headers: { 'content-type': 'text/html' },
      body,
    })
    const id = (sent.json as { id: string }).id
    const detail = await http(`${server.apiUrl}/api/events/${id}`, { headers: auth() })
    expect(detail.json).toMatchObject({ id, sourceId: 'shop', status: 'accepted', bodyText: body.toString() })
    const raw = await http(`${server.apiUrl}/api/events/${id}/body`, { headers: auth() })
    expect(raw.status).toBe(200)
    expect(raw.headers['content-type']).toBe('text/html')
    expect(raw.headers['content-security-policy']).toBe('sandbox')
    expect(raw.body.equals(body)).toBe(true)
  })

  it('logs in with the token link: HttpOnly SameSite=Strict cookie, then serves the UI', async () => {
    expect((await http(`${server.apiUrl}/`)).status).toBe(401)
    expect((await http(`${server.apiUrl}/login?token=wrong`)).status).toBe(401)
    const login = await http(server.loginUrl)
    expect(login.status).toBe(303)
    expect(login.headers.location).toBe('/')
    const cookie = (login.headers['set-cookie'] as string[])[0]!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const session = cookie.split(';')[0]!
    const page = await http(`${server.apiUrl}/`, { headers: { cookie: session } })
    expect(page.status).toBe(200)
    expect(page.text).toContain('Switchboard UI')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect((await http(`${server.apiUrl}/assets/app.js`, { headers: { cookie: session } })).status).toBe(200)
    // A traversal attempt stays inside the UI folder (it gets the app shell, never the token file).
    const traversal = await http(`${server.apiUrl}/assets/..%2F..%2Fdata%2Fapi-token`, {
      headers: { cookie: session },
    })
    expect(traversal.text).not.toContain(server.token)
    expect((await http(`${server.apiUrl}/api/sources`, { headers: { cookie: session } })).status).toBe(200)
  })

  it('accepts a change by cookie only with a matching Origin', async () => {
    const session = ((await http(server.loginUrl)).headers['set-cookie'] as string[])[0]!.split(';')[0]!
    const change = (origin?: string) =>
      http(`${server.apiUrl}/api/intake`, {
        method: 'PUT',
        headers: { cookie: session, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body: JSON.stringify({ paused: false }),
      })
    expect((await change()).status).toBe(403)
    expect((await change('http://evil.example')).status).toBe(403)
    expect((await change(server.apiUrl)).status).toBe(200)
  })

  it('streams changes as Server-Sent Events', async () => {
    const controller = new AbortController()
    const res = await fetch(`${server.apiUrl}/api/stream`, { headers: auth(), signal: controller.signal })
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const reader = res.body!.getReader()
    const sent = await http(`${server.receiverUrl}/hooks/shop`, {
      body: '{"type":"live.one","title":"Live"}',
    })
    const id = (sent.json as { id: string }).id
    let text = ''
    while (!text.includes(id)) {
      const { value, done } = await reader.read()
      if (done) break
      text += Buffer.from(value).toString('utf8')
    }
    controller.abort()
    const message = text
      .split('\n\n')
      .map((m) => m.replace(/^data: /, ''))
      .find((m) => m.includes(id))!
    expect(JSON.parse(message)).toMatchObject({
      type: 'event',
      event: { id, type: 'live.one', summary: 'Live' },
    })
  })

  it('refuses more change streams than its limit, and takes one again once another closes', async () => {
    const open = async () => {
      const controller = new AbortController()
      const res = await fetch(`${server.apiUrl}/api/stream`, { headers: auth(), signal: controller.signal })
      return { res, close: () => controller.abort() }
    }
    const streams = []
    for (let i = 0; i < MAX_STREAMS; i++) streams.push(await open())
    try {
      expect(streams.every((s) => s.res.status === 200)).toBe(true)
      const refused = await open()
      expect(refused.res.status).toBe(503)
      expect(await refused.res.json()).toMatchObject({ error: { code: 'unavailable' } })
      streams.pop()!.close()
      let again = await open()
      for (let i = 0; i < 50 && again.res.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 20))
        again = await open()
      }
      expect(again.res.status).toBe(200)
      streams.push(again)
    } finally {
      for (const s of streams) s.close()
    }
  })

  it('pauses intake: the receiver answers 503 so senders retry', async () => {
    await http(`${server.apiUrl}/api/intake`, { method: 'PUT', ...json({ paused: true }) })
    const res = await http(`${server.receiverUrl}/hooks/shop`, { body: '{}' })
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBeDefined()
    await http(`${server.apiUrl}/api/intake`, { method: 'PUT', ...json({ paused: false }) })
    expect((await http(`${server.receiverUrl}/hooks/shop`, { body: '{"after":1}' })).status).toBe(200)
  })
})
