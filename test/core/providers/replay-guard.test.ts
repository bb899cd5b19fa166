import { sign as githubSign } from '@octokit/webhooks-methods'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../../src/core/engine'
import { getProvider } from '../../../src/core/providers'
import { PROVIDER_IDS } from '../../../src/shared/domain'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import { http, type HttpResult } from '../../support/http'
import { tempDir } from '../../support/temp-dir'

// A signature over the body alone leaves the delivery id beside it unsigned: whoever saw one delivery (the
// tunnel's relay, say) could send it again under a fresh id. For presets whose bodies are unique to their event,
// the receiver takes that for the replay it is.

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function start(dataDir: string): Promise<{ engine: Engine; url: string }> {
  const engine = createEngine({ dataDir, receiver: { port: 0, host: '127.0.0.1' }, tunnel: { mode: 'off' } })
  const { receiverUrl } = await engine.start()
  cleanups.push(() => engine.stop())
  return { engine, url: receiverUrl }
}

interface Answer {
  id: string
  duplicate: boolean
  duplicateOf?: string
}

function answer(res: HttpResult): Answer {
  expect(res.status, res.text).toBe(200)
  return res.json as Answer
}

const GITHUB_SECRET = 'gh-replay-secret'

async function githubDelivery(url: string, source: string, delivery: string, body: string) {
  return http(`${url}/hooks/${source}`, {
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'issues',
      'x-github-delivery': delivery,
      'x-hub-signature-256': await githubSign(GITHUB_SECRET, body),
    },
    body,
  })
}

describe('a signed body sent again under another delivery id', () => {
  it('is stored as a duplicate of the first (GitHub), starts nothing, and stays one after a restart', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.remove())
    let { engine, url } = await start(dir.path)
    for (const id of ['gh', 'gh-other']) {
      await engine.call('sources.create', { id, name: id, provider: 'github', secret: GITHUB_SECRET })
    }
    await engine.call('workflows.create', {
      id: 'triage',
      name: 'Triage',
      trigger: { source: 'gh' },
      steps: [{ id: 'note', kind: 'set', values: { seen: true } }],
    })
    const body = JSON.stringify({ action: 'opened', issue: { number: 7, title: 'Door sensor offline' } })

    const first = answer(await githubDelivery(url, 'gh', 'delivery-1', body))
    expect(first.duplicate).toBe(false)
    const replay = answer(await githubDelivery(url, 'gh', 'delivery-2', body))
    expect(replay).toMatchObject({ duplicate: true, duplicateOf: first.id })
    expect(await engine.call('events.get', { id: replay.id })).toMatchObject({
      status: 'duplicate',
      duplicateOf: first.id,
      dedupId: 'delivery-2',
      reason: expect.stringContaining('replay'),
    })
    // Nothing was queued for it: only accepted events get a dispatch job, in their own intake transaction.
    const jobsFor = (eventId: string) =>
      engine.db.prepare(`SELECT COUNT(*) FROM jobs WHERE payload LIKE ?`).pluck().get(`%${eventId}%`)
    expect(jobsFor(replay.id)).toBe(0)

    // Another body, or the same body at another source, is an event of its own.
    const edited = JSON.stringify({ action: 'edited', issue: { number: 7, title: 'Door sensor offline' } })
    const next = answer(await githubDelivery(url, 'gh', 'delivery-3', edited))
    expect(next.duplicate).toBe(false)
    expect(answer(await githubDelivery(url, 'gh-other', 'delivery-4', body)).duplicate).toBe(false)

    // Each accepted event ran the workflow once; the replay ran nothing.
    for (let i = 0; i < 200 && (await engine.call('runs.list', { limit: 10 })).items.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    const runs = await engine.call('runs.list', { limit: 10 })
    expect(runs.items.map((r) => r.eventId).sort()).toEqual([first.id, next.id].sort())

    // The digest is in the store, not only in memory.
    await engine.stop()
    ;({ engine, url } = await start(dir.path))
    const later = answer(await githubDelivery(url, 'gh', 'delivery-5', body))
    expect(later).toMatchObject({ duplicate: true, duplicateOf: first.id })
  })

  it('is a new event where the signature covers the delivery id, or the sender may repeat a body', async () => {
    const dir = tempDir()
    cleanups.push(() => dir.remove())
    const { engine, url } = await start(dir.path)
    const swSecret = `whsec_${Buffer.from('a-standard-webhooks-secret-key!!').toString('base64')}`
    await engine.call('sources.create', {
      id: 'sw',
      name: 'sw',
      provider: 'standard-webhooks',
      secret: swSecret,
    })
    await engine.call('sources.create', {
      id: 'door',
      name: 'Front door',
      provider: 'generic-hmac',
      secret: 'door-secret',
      options: { header: 'X-Signature', algorithm: 'sha256', encoding: 'hex', idHeader: 'X-Delivery' },
    })
    // The same bytes each time: Standard Webhooks signs the id with them, and a door opens more than once.
    const body = JSON.stringify({ type: 'door.opened' })
    for (const delivery of ['msg_1', 'msg_2']) {
      const sw = await http(`${url}/hooks/sw`, {
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': new Webhook(swSecret).sign(delivery, new Date(), body),
        },
        body,
      })
      expect(answer(sw).duplicate).toBe(false)
      const door = await http(`${url}/hooks/door`, {
        headers: {
          'content-type': 'application/json',
          'x-delivery': delivery,
          'x-signature': bodyHmacHeader('door-secret', body, 'sha256', 'hex'),
        },
        body,
      })
      expect(answer(door).duplicate).toBe(false)
    }
  })

  it('is guarded exactly for the presets whose delivery id is unsigned and whose bodies are unique', () => {
    const guarded = PROVIDER_IDS.filter((id) => getProvider(id)?.bodyIdentifiesEvent === true)
    expect(guarded.sort()).toEqual(['github', 'jira', 'linear', 'shopify', 'todoist', 'twilio', 'zoom'])
  })
})
