import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import type { RunDetail } from '../../../src/shared/domain'
import { FakeService } from '../../fixtures/fake-services/fake-service'
import { BULK_RETRY_PART } from '../../../src/core/orchestrator'
import { Harness, settle, waitFor } from './harness'

const orderExample = JSON.parse(readFileSync('resources/examples/order-fulfilment.json', 'utf8')) as Record<
  string,
  unknown
>

const open: Array<{ close(): Promise<void> }> = []
async function echo(): Promise<FakeService> {
  const service = await FakeService.start('echo', () => ({ status: 200, body: { ok: true } }))
  open.push(service)
  return service
}
function harness(options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(options)
  open.push({ close: () => h.close() })
  return h
}

afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

/** A workflow of one POST step on source `s`, tried once; the run an event starts, once it is dead. */
async function deadAfterOneCall(
  h: Harness,
  call: { url: string; headers: Record<string, string>; body: unknown },
): Promise<RunDetail> {
  h.ops['workflows.create']({
    id: 'w',
    name: 'W',
    trigger: { source: 's' },
    steps: [{ id: 'call', kind: 'http', method: 'POST', ...call, retry: { attempts: 1 } }],
  })
  const [runId] = await h.runsOf(h.addEvent({ sourceId: 's', type: 'x', body: {} }))
  return h.waitForStatus(runId!, 'dead')
}

const post = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'http',
  method: 'POST',
  url,
  body: { event: '{{ event }}' },
  ...extra,
})

describe('runs', () => {
  it('stamps Switchboard-Hop n+1 and the Idempotency-Key on outgoing requests; events not accepted start nothing', async () => {
    const service = await echo()
    const h = harness()
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [post('call', service.url)],
    })
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { n: 1 }, hop: 2 })
    const [runId] = await h.runsOf(eventId)
    await h.waitForStatus(runId!, 'succeeded')
    expect(service.requests[0]!.headers['switchboard-hop']).toBe('3')
    expect(service.requests[0]!.headers['idempotency-key']).toBe(`${runId}:call`)
    expect(service.requests[0]!.json).toEqual({ event: { n: 1 } })

    // Even if a dispatch job exists for a blocked (over the hop limit) or duplicate event, it triggers nothing.
    for (const status of ['blocked', 'duplicate'] as const) {
      const id = h.addEvent({ sourceId: 's', type: 'x', body: { n: 2 }, hop: 6, status })
      h.db.transaction(() => h.queue.add('dispatch', { eventId: id })).immediate()
      h.queue.wake()
      await waitFor(() => h.jobs().length === 0, 'dispatch to finish')
      expect(h.orchestrator.runsForEvent(id)).toEqual([])
    }
    expect(service.requests).toHaveLength(1)
  })

  it('fans one event out to every matching enabled workflow (type globs, when) and skips disabled ones', async () => {
    const service = await echo()
    const h = harness()
    const wf = (id: string, trigger: Record<string, unknown>) =>
      h.ops['workflows.create']({
        id,
        name: id,
        trigger: { source: 's', ...trigger },
        steps: [post('call', service.url)],
      })
    wf('all', {})
    wf('glob', { types: ['order.*'] })
    wf('other-type', { types: ['invoice.*'] })
    wf('when-true', { when: 'total > 10' })
    wf('when-false', { when: 'total > 100' })
    wf('disabled', {})
    h.ops['workflows.setEnabled']({ id: 'disabled', enabled: false })
    const eventId = h.addEvent({ sourceId: 's', type: 'order.placed', body: { total: 50 } })
    await h.runsOf(eventId, 3)
    await settle()
    const runs = h.orchestrator.runsForEvent(eventId)
    expect(runs.map((r) => r.workflowId).sort()).toEqual(['all', 'glob', 'when-true'])
    expect(h.orchestrator.runCounts([eventId]).get(eventId)).toBe(3)
    for (const r of runs) await h.waitForStatus(r.id, 'succeeded')
  })

  it('dry run: records outgoing calls without sending them, and the run is not listed', async () => {
    const service = await echo()
    const h = harness()
    h.ops['secrets.put']({ name: 'inventoryUrl', value: service.url })
    h.ops['secrets.put']({ name: 'platformUrl', value: service.url })
    h.ops['secrets.put']({ name: 'notifyUrl', value: service.url })
    h.ops['workflows.create'](orderExample)
    const result = await h.ops['workflows.test']({
      id: 'order-fulfilment',
      event: {
        type: 'order.placed',
        orderId: '7',
        items: [{ sku: 'A', qty: 1 }],
        customer: { email: 'e@x' },
      },
    })
    expect(result.matched).toBe(true)
    expect(result.run.dryRun).toBe(true)
    expect(result.run.status).toBe('succeeded')
    expect(result.calls.map((c) => [c.stepId, c.method])).toEqual([
      ['stock', 'GET'],
      ['reserve', 'POST'],
      ['tellCustomer', 'POST'],
      ['status', 'PUT'],
    ])
    expect(result.calls[0]!.url).toBe('[redacted]/stock?sku=A')
    expect(result.calls[3]!.body).toEqual({ status: 'shipped' })
    expect(service.requests).toHaveLength(0)
    expect(h.ops['notifications.list']({ limit: 10 })).toEqual({ items: [] })
    expect((h.ops['runs.list']({ limit: 10 }) as { items: unknown[] }).items).toHaveLength(0)

    // A definition that is not saved can be tried too; a trigger that does not match says so.
    const unsaved = await h.ops['workflows.test']({
      id: 'draft',
      event: { type: 'x' },
      definition: {
        name: 'Draft',
        trigger: { source: 's', types: ['y'] },
        steps: [post('call', service.url)],
      },
    })
    expect(unsaved.matched).toBe(false)
    expect(unsaved.calls).toHaveLength(1)
    expect(unsaved.calls[0]!.headers['idempotency-key']).toBe(`${unsaved.run.id}:call`)
    expect(service.requests).toHaveLength(0)
  })

  it('limits how many runs of a workflow execute at once; the others wait queued', async () => {
    const service = await echo()
    service.hold()
    const h = harness()
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      concurrency: 1,
      trigger: { source: 's' },
      steps: [post('call', service.url)],
    })
    const ids = [1, 2, 3].map((n) => h.addEvent({ sourceId: 's', type: 'x', body: { n } }))
    const runIds = (await Promise.all(ids.map((id) => h.runsOf(id)))).flat()
    await waitFor(() => service.inFlight === 1, 'one request in flight')
    await settle(100)
    expect(service.inFlight).toBe(1)
    const statuses = runIds.map((id) => h.run(id).status).sort()
    expect(statuses).toEqual(['queued', 'queued', 'running'])
    service.release()
    for (const id of runIds) await h.waitForStatus(id, 'succeeded')
    expect(service.maxInFlight).toBe(1)
    expect(service.effects()).toHaveLength(3)
  })

  it('runs at most `workers` jobs at once across workflows (the global limit)', async () => {
    const service = await echo()
    service.hold()
    const h = harness({ workers: 2 })
    for (const id of ['a', 'b', 'c']) {
      h.ops['workflows.create']({
        id,
        name: id,
        trigger: { source: 's' },
        steps: [post('call', service.url)],
      })
    }
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: {} })
    const runIds = await h.runsOf(eventId, 3)
    await waitFor(() => service.inFlight === 2, 'two requests in flight')
    await settle(100)
    expect(service.inFlight).toBe(2)
    service.release()
    for (const id of runIds) await h.waitForStatus(id, 'succeeded')
    expect(service.maxInFlight).toBe(2)
  })

  it('delay: waits as a durable timer job, then continues', async () => {
    const clock = new FakeClock(Date.now())
    const h = harness({ clock })
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [
        { id: 'pause', kind: 'delay', duration: '5m' },
        { id: 'tell', kind: 'notify', title: 'after {{ steps.pause.waitedUntil - run.event.at }} ms' },
      ],
    })
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { at: clock.now() } })
    const [runId] = await h.runsOf(eventId)
    await h.waitForStatus(runId!, 'waiting')
    expect(h.jobs()).toEqual([expect.objectContaining({ kind: 'run-timer', run_at: clock.now() + 300_000 })])
    clock.advance(299_000)
    await settle()
    expect(h.run(runId!).status).toBe('waiting')
    clock.advance(1_000)
    await h.waitForStatus(runId!, 'succeeded')
    const notes = h.ops['notifications.list']({ limit: 5 }) as { items: Array<{ title: string }> }
    expect(notes.items[0]!.title).toBe('after 300000 ms')
  })

  it('waitForEvent: a timeout takes the onTimeout path, or ends the run as dead without one', async () => {
    const clock = new FakeClock(Date.now())
    const h = harness({ clock })
    const wait = (id: string, onTimeout?: unknown[]) => ({
      id,
      name: id,
      trigger: { source: 's', types: [id] },
      steps: [
        {
          id: 'w',
          kind: 'waitForEvent',
          source: 'other',
          timeout: '1h',
          ...(onTimeout ? { onTimeout } : {}),
        },
        { id: 'after', kind: 'set', values: { timedOut: '{{ steps.w.timedOut }}' } },
      ],
    })
    h.ops['workflows.create'](wait('with', [{ id: 'late', kind: 'notify', title: 'late' }]))
    h.ops['workflows.create'](wait('without'))
    const [withRun] = await h.runsOf(h.addEvent({ sourceId: 's', type: 'with', body: {} }))
    const [withoutRun] = await h.runsOf(h.addEvent({ sourceId: 's', type: 'without', body: {} }))
    await h.waitForStatus(withRun!, 'waiting')
    await h.waitForStatus(withoutRun!, 'waiting')
    clock.advance(3_600_000)
    const done = await h.waitForStatus(withRun!, 'succeeded')
    expect(done.steps.map((s) => s.stepId)).toEqual(['w', 'late', 'after'])
    expect(done.steps[2]!.output).toEqual({ timedOut: true })
    const dead = await h.waitForStatus(withoutRun!, 'dead')
    expect(dead.error).toMatch(/timed out waiting for an event after 1h/)
    // An event after the timeout resumes nothing.
    h.addEvent({ sourceId: 'other', type: 'x', body: {} })
    await waitFor(() => h.jobs().length === 0, 'dispatch')
    expect(h.run(withoutRun!).status).toBe('dead')
  })

  it('waitForEvent: one event resumes every waiting run it matches (fan-in), and a run can be resumed by its callback URL', async () => {
    const h = harness({ callbackBase: 'https://sb.example.test/' })
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      trigger: { source: 's', types: ['start'] },
      steps: [
        { id: 'w1', kind: 'waitForEvent', source: 'cb', match: 'body.key = run.event.key', timeout: '1d' },
        { id: 'done', kind: 'set', values: { got: '{{ steps.w1.event.body.value }}' } },
      ],
    })
    const a = (await h.runsOf(h.addEvent({ sourceId: 's', type: 'start', body: { key: 'k' } })))[0]!
    const b = (await h.runsOf(h.addEvent({ sourceId: 's', type: 'start', body: { key: 'k' } })))[0]!
    const c = (await h.runsOf(h.addEvent({ sourceId: 's', type: 'start', body: { key: 'other' } })))[0]!
    for (const id of [a, b, c]) await h.waitForStatus(id, 'waiting')
    expect(h.run(c).callbackUrl).toBe(`https://sb.example.test/hooks/cb/runs/${c}`)

    h.addEvent({ sourceId: 'cb', type: 'done', body: { key: 'k', value: 1 } })
    await h.waitForStatus(a, 'succeeded')
    await h.waitForStatus(b, 'succeeded')
    expect(h.run(c).status).toBe('waiting')

    // The callback path needs no match: the URL is the correlation.
    h.addEvent({ sourceId: 'cb', type: 'done', body: { value: 2 }, path: `/hooks/cb/runs/${c}` })
    const resumed = await h.waitForStatus(c, 'succeeded')
    expect(resumed.steps[1]!.output).toEqual({ got: 2 })
  })

  it('secrets are encrypted at rest, never listed with values, and redacted from run records', async () => {
    const service = await FakeService.start('api', (req) =>
      req.headers.authorization === 'Bearer tok-SECRET-123'
        ? { status: 500, body: { echo: req.headers.authorization } }
        : { status: 401 },
    )
    open.push(service)
    const h = harness()
    h.ops['secrets.put']({ name: 'apiToken', value: 'tok-SECRET-123' })
    expect(h.ops['secrets.list']({})).toEqual({
      items: [{ name: 'apiToken', updatedAt: expect.any(Number) }],
    })
    const dead = await deadAfterOneCall(h, {
      url: `${service.url}/x?token={{ secrets.apiToken }}`,
      headers: { authorization: 'Bearer {{ secrets.apiToken }}' },
      body: { token: '{{ secrets.apiToken }}' },
    })
    expect(service.requests[0]!.headers.authorization).toBe('Bearer tok-SECRET-123')
    const stored = JSON.stringify(dead)
    expect(stored).not.toContain('tok-SECRET-123')
    expect(dead.steps[0]!.attempts[0]!.request!.headers.authorization).toBe('Bearer [redacted]')
    expect(dead.steps[0]!.attempts[0]!.response!.body).toContain('[redacted]')
    await h.close(true)
    open.pop()
    const file = readFileSync(join(h.dir, 'switchboard.db'))
    expect(file.includes(Buffer.from('tok-SECRET-123'))).toBe(false)
  })

  it('keeps a secret out of run records in every form a request carries it', async () => {
    const service = await FakeService.start('api', () => ({ status: 500 }))
    open.push(service)
    const h = harness()
    const pass = 'p"a ss\\wörd-42'
    h.ops['secrets.put']({ name: 'pass', value: pass })
    const dead = await deadAfterOneCall(h, {
      url: `${service.url}/x?key={{ secrets.pass }}`,
      headers: { authorization: "Basic {{ $base64encode('user:' & secrets.pass) }}" },
      body: { pass: '{{ secrets.pass }}' },
    })
    const sent = service.requests[0]!
    const basic = sent.headers.authorization!.replace(/^Basic /, '')
    expect(Buffer.from(basic, 'base64').toString('latin1')).toMatch(/^user:p"a ss/)
    const stored = JSON.stringify(dead)
    // The secret as typed, JSON-escaped in the body, as the URL carried it, and inside the Basic credential.
    const forms = [
      pass,
      JSON.stringify(pass).slice(1, -1),
      new URL(`http://h/?${pass}`).search.slice(1),
      basic,
    ]
    for (const form of forms) expect({ form, found: stored.includes(form) }).toEqual({ form, found: false })
    expect(dead.steps[0]!.attempts[0]!.request).toMatchObject({
      url: `${service.url}/x?key=[redacted]`,
      body: '{"pass":"[redacted]"}',
    })
    expect(dead.steps[0]!.attempts[0]!.request!.headers.authorization).toBe('Basic [redacted]')
  })

  it('retry resumes from the failed step on the pinned version, or on the latest when asked; both are recorded', async () => {
    const service = await echo()
    const h = harness()
    const define = (url: string) => ({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [
        { id: 'first', kind: 'set', values: { n: '{{ $random() }}' } },
        { ...post('call', url), retry: { attempts: 1 } },
      ],
    })
    h.ops['workflows.create'](define(`${service.url}/missing`.replace(service.url, 'http://127.0.0.1:1')))
    const [runId] = await h.runsOf(h.addEvent({ sourceId: 's', type: 'x', body: {} }))
    const dead = await h.waitForStatus(runId!, 'dead')
    const firstOutput = dead.steps[0]!.output
    expect(dead.error).toMatch(/step call: request failed/)

    // Pinned: the same (broken) version runs again.
    await h.ops['runs.retry']({ id: runId! })
    await h.waitForStatus(runId!, 'dead')
    expect(h.run(runId!).steps.find((s) => s.stepId === 'call')!.attempts).toHaveLength(2)

    h.ops['workflows.put'](define(service.url))
    const retried = await h.ops['runs.retry']({ id: runId!, latest: true })
    expect(retried.workflowVersion).toBe(2)
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect(done.steps[0]!.output).toEqual(firstOutput) // the finished step did not run again
    expect(service.effects()).toEqual([`${runId}:call`])
    const actions = h.actions.list(10).items.map((a) => [a.kind, a.detail.latest])
    expect(actions).toEqual([
      ['retry', true],
      ['retry', false],
    ])
    await expect(async () => h.ops['runs.retry']({ id: runId! })).rejects.toThrow(/only dead or cancelled/)
  })

  it('bulk retry by filter, resolve, cancel and replay', async () => {
    const service = await echo()
    const h = harness()
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [{ ...post('call', 'http://127.0.0.1:1/'), retry: { attempts: 1 } }],
    })
    const events = [1, 2, 3].map((n) => h.addEvent({ sourceId: 's', type: 'x', body: { n } }))
    const runIds = (await Promise.all(events.map((e) => h.runsOf(e)))).flat()
    for (const id of runIds) await h.waitForStatus(id, 'dead')

    const resolved = h.ops['runs.resolve']({ id: runIds[0]! }) as { resolvedAt: number | null }
    expect(resolved.resolvedAt).not.toBeNull()
    expect((h.ops['runs.list']({ status: 'dead', limit: 10 }) as { items: unknown[] }).items).toHaveLength(2)
    expect(
      (h.ops['runs.list']({ status: 'dead', resolved: true, limit: 10 }) as { items: unknown[] }).items,
    ).toHaveLength(3)

    h.ops['workflows.put']({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [post('call', service.url)],
    })
    const bulk = await h.ops['runs.retryBulk']({ filter: { status: 'dead', workflow: 'w' }, latest: true })
    expect(bulk.retried.sort()).toEqual([runIds[1], runIds[2]].sort())
    for (const id of bulk.retried) await h.waitForStatus(id, 'succeeded')
    expect(h.run(runIds[0]!).status).toBe('dead')

    const replay = await h.ops['events.replay']({ id: events[0]! })
    expect(replay.runs).toHaveLength(1)
    await h.waitForStatus(replay.runs[0]!.id, 'succeeded')
    expect(h.orchestrator.runsForEvent(events[0]!)).toHaveLength(2)
    expect(h.actions.list(10).items.map((a) => a.kind)).toEqual(['replay', 'bulk-retry', 'resolve'])

    h.ops['workflows.create']({
      id: 'waiter',
      name: 'Waiter',
      trigger: { source: 'q' },
      steps: [{ id: 'w', kind: 'waitForEvent', source: 'r', timeout: '1d' }],
    })
    const [waiting] = await h.runsOf(h.addEvent({ sourceId: 'q', type: 'x', body: {} }))
    await h.waitForStatus(waiting!, 'waiting')
    expect((h.ops['runs.cancel']({ id: waiting! }) as RunDetail).status).toBe('cancelled')
    h.addEvent({ sourceId: 'r', type: 'x', body: {} })
    await waitFor(() => h.jobs().length === 0 || h.jobs().every((j) => j.kind === 'run-timer'), 'dispatch')
    expect(h.run(waiting!).status).toBe('cancelled')
  })
})

describe('bulk retry of many runs', () => {
  it('retries them a part per transaction, the loop turning between parts, each part recorded', async () => {
    const h = harness()
    h.ops['workflows.create']({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [{ ...post('call', 'http://127.0.0.1:1/'), retry: { attempts: 1 } }],
    })
    const [dead] = await h.runsOf(h.addEvent({ sourceId: 's', type: 'x', body: {} }))
    await h.waitForStatus(dead!, 'dead')
    // 249 more dead runs: copies of the real one, with its steps and attempts.
    const copies = Array.from({ length: 249 }, (_, i) => `run_copy_${String(i).padStart(3, '0')}`)
    h.db.transaction(() => {
      for (const id of copies) {
        h.db
          .prepare(
            `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status,
               current_step, error, created_at, updated_at, finished_at)
             SELECT ?, event_id, source_id, workflow_id, workflow_version, workflow_name, status, current_step, error,
               created_at, updated_at, finished_at FROM runs WHERE id = ?`,
          )
          .run(id, dead)
        h.db
          .prepare(
            `INSERT INTO steps (run_id, step_id, seq, kind, status, input, output, error, attempt_base, started_at,
               finished_at)
             SELECT ?, step_id, seq, kind, status, input, output, error, attempt_base, started_at, finished_at
             FROM steps WHERE run_id = ?`,
          )
          .run(id, dead)
        h.db
          .prepare(
            `INSERT INTO attempts (run_id, step_id, n, started_at, finished_at, ok, error, request, response, retry_at)
             SELECT ?, step_id, n, started_at, finished_at, ok, error, request, response, retry_at
             FROM attempts WHERE run_id = ?`,
          )
          .run(id, dead)
      }
    })()
    const ids = [dead!, ...copies]

    let turns = 0
    let counting = true
    const count = () => {
      turns++
      if (counting) setImmediate(count)
    }
    setImmediate(count)
    const changesBefore = h.seen.length
    const result = await h.ops['runs.retryBulk']({ ids: [...ids, 'run_missing'] })
    counting = false

    expect(result.retried).toEqual(ids)
    expect(result.skipped).toEqual([{ id: 'run_missing', reason: 'no such run' }])
    // 250 runs in parts: a transaction each, and the loop turned between them.
    const partCount = Math.ceil(ids.length / BULK_RETRY_PART)
    expect(partCount).toBeGreaterThan(2)
    expect(turns).toBeGreaterThanOrEqual(partCount - 1)
    const parts = h.actions
      .list(100)
      .items.filter((a) => a.kind === 'bulk-retry')
      .map((a) => (a.detail as { ids: string[] }).ids)
      .reverse()
    expect(parts.map((p) => p.length)).toEqual(
      Array.from({ length: partCount }, (_, i) =>
        Math.min(BULK_RETRY_PART, ids.length - i * BULK_RETRY_PART),
      ),
    )
    expect(parts.flat()).toEqual(ids)
    // Each went back to the queue (the workers may have failed it again since: the URL still refuses).
    const requeued = h.seen
      .slice(changesBefore)
      .flatMap((c) => (c.type === 'run' && c.run.status === 'queued' ? [c.run.id] : []))
    expect(new Set(requeued)).toEqual(new Set(ids))
  })
})
