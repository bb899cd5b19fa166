import { createHmac } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'

let t: TestEngine
let clock: FakeClock
beforeEach(async () => {
  clock = new FakeClock(Date.now())
  t = await startTestEngine({ clock, workers: 0 })
})
afterEach(() => t.close())

const rawOptions = (id: string) =>
  (t.engine.db.prepare(`SELECT options FROM sources WHERE id = ?`).get(id) as { options: string }).options

/** GitHub's scheme, signed independently of the preset under test. */
const githubSignature = (secret: string, body: string) =>
  'sha256=' + createHmac('sha256', secret).update(body).digest('hex')

describe('sources', () => {
  it('keeps secret options encrypted at rest and never returns them', async () => {
    const source = await t.engine.call('sources.create', {
      id: 'deals',
      name: 'Deals',
      provider: 'pipedrive',
      options: { username: 'hook', password: 'correct horse battery staple' },
    })
    expect(source.options).toEqual({ username: 'hook', password: '[set]' })
    expect(rawOptions('deals')).not.toContain('correct horse')
    const basic = 'Basic ' + Buffer.from('hook:correct horse battery staple').toString('base64')
    const res = await http(`${t.url}/hooks/deals`, {
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ meta: { id: 1, entity: 'deal', action: 'change', version: '2.0' }, data: {} }),
    })
    expect(res.status).toBe(200)
    const detail = await t.engine.call('events.get', { id: (res.json as { id: string }).id })
    expect(detail.headers.authorization).toBe('Basic [redacted]')
  })

  it('masks a secret URL path in what it stores', async () => {
    await t.engine.call('sources.create', {
      id: 'home',
      name: 'Home',
      provider: 'home-assistant',
      options: { secretPath: 'kitchen-door-7f3a9c2e' },
    })
    const res = await http(`${t.url}/hooks/home/kitchen-door-7f3a9c2e`, {
      headers: { 'content-type': 'application/json' },
      body: '{"event":"arrived_home"}',
    })
    expect(res.status).toBe(200)
    const detail = await t.engine.call('events.get', { id: (res.json as { id: string }).id })
    expect(detail.path).toBe('/hooks/home/[secret]')
    expect(JSON.stringify(await t.engine.call('sources.get', { id: 'home' }))).not.toContain('kitchen-door')
    expect((await http(`${t.url}/hooks/home/guess`, { body: '{}' })).status).toBe(401)
  })

  it('names the missing option when a preset cannot work without it', async () => {
    await expect(
      t.engine.call('sources.create', { name: 'HMAC', provider: 'generic-hmac', secret: 's' }),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/options\.header/) })
    await expect(
      t.engine.call('sources.create', { name: 'Cal', provider: 'google-calendar' }),
    ).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/options\.channelToken/),
    })
    expect((await t.engine.call('sources.list', {})).items).toEqual([])
  })

  it('rotates a secret: both verify during the grace period, only the new one after', async () => {
    await t.engine.call('sources.create', {
      id: 'gh',
      name: 'GitHub',
      provider: 'github',
      secret: 'old-secret',
    })
    const { secret } = await t.engine.call('sources.rotateSecret', { id: 'gh', graceSeconds: 60 })
    const send = (key: string, n: number) => {
      const body = JSON.stringify({ action: 'opened', n })
      return http(`${t.url}/hooks/gh`, {
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': `d-${n}`,
          'x-hub-signature-256': githubSignature(key, body),
        },
        body,
      })
    }
    expect((await send('old-secret', 1)).status).toBe(200)
    expect((await send(secret, 2)).status).toBe(200)
    clock.advance(61_000)
    expect((await send('old-secret', 3)).status).toBe(401)
    expect((await send(secret, 4)).status).toBe(200)
    const actions = await t.engine.call('actions.list', {})
    expect(actions.items.map((a) => [a.kind, a.target])).toContainEqual(['rotate-secret', 'gh'])
  })
})
