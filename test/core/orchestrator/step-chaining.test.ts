import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  FakeService,
  type FakeHandler,
  type FakeReply,
  type RecordedRequest,
} from '../../fixtures/fake-services/fake-service'
import { Harness, waitFor } from './harness'

const open: Array<{ close(): Promise<void> }> = []
function harness(options: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(options)
  open.push({ close: () => h.close() })
  return h
}
async function service(handler: FakeHandler): Promise<FakeService> {
  const s = await FakeService.start('api', handler)
  open.push(s)
  return s
}

afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

/** http a → set b (from a's answer) → http c (sends b's value): consecutive steps that need no waiting. */
function threeSteps(url: string) {
  return {
    id: 'chain',
    name: 'Chain',
    trigger: { source: 's' },
    steps: [
      { id: 'a', kind: 'http', method: 'POST', url: `${url}/a`, body: { n: '{{ event.n }}' } },
      { id: 'b', kind: 'set', values: { doubled: '{{ steps.a.body.n * 2 }}' } },
      { id: 'c', kind: 'http', method: 'POST', url: `${url}/c`, body: { doubled: '{{ steps.b.doubled }}' } },
    ],
  }
}

/** The step rows and jobs as another connection to the file sees them (only what was committed). */
function committed(dir: string, runId: string) {
  const reader = new Database(join(dir, 'switchboard.db'), { readonly: true })
  try {
    return {
      steps: reader
        .prepare(`SELECT step_id, status FROM steps WHERE run_id = ? ORDER BY seq`)
        .all(runId) as Array<{ step_id: string; status: string }>,
      jobs: reader.prepare(`SELECT id, kind, status FROM jobs WHERE kind = 'run'`).all() as Array<{
        id: number
        kind: string
        status: string
      }>,
    }
  } finally {
    reader.close()
  }
}

describe('consecutive steps that need no waiting', () => {
  it('run on in the job that dispatched the event, each committed and published before the next one starts', async () => {
    let h: Harness | null = null
    const seenAt: Record<string, ReturnType<typeof committed>> = {}
    const api = await service((req: RecordedRequest) => {
      const runId = req.headers['idempotency-key']!.split(':')[0]!
      seenAt[req.path] = committed(h!.dir, runId)
      return { status: 200, body: req.json }
    })
    h = harness()
    const add = vi.spyOn(h.queue, 'add')
    h.ops['workflows.create'](threeSteps(api.url))
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { n: 21 } })
    const [runId] = await h.runsOf(eventId)
    const done = await h.waitForStatus(runId!, 'succeeded')

    // The event's dispatch job became the run's job and carried it from its first step to its last: no job was
    // added for the run, and while a and c were sent, that job (same id) was the only run job.
    const added = add.mock.calls.map(([kind], i) => [kind, add.mock.results[i]!.value] as const)
    expect(added.map(([kind]) => kind)).toEqual(['dispatch'])
    // When c's request went out, a and b had committed.
    expect(seenAt['/a']!.steps).toEqual([{ step_id: 'a', status: 'running' }])
    expect(seenAt['/c']!.steps).toEqual([
      { step_id: 'a', status: 'succeeded' },
      { step_id: 'b', status: 'succeeded' },
      { step_id: 'c', status: 'running' },
    ])
    expect(seenAt['/a']!.jobs).toEqual([{ id: added[0]![1], kind: 'run', status: 'running' }])
    expect(seenAt['/c']!.jobs).toEqual(seenAt['/a']!.jobs)
    expect(h.jobs()).toEqual([])

    expect(api.requests.map((r) => [r.path, r.json])).toEqual([
      ['/a', { n: 21 }],
      ['/c', { doubled: 42 }],
    ])
    expect(done.steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([
      ['a', 'succeeded', 1],
      ['b', 'succeeded', 0],
      ['c', 'succeeded', 1],
    ])
    // Every step's outcome was pushed as it committed, in order; the run's last change says it succeeded.
    const stepChanges = h.seen.flatMap((c) =>
      c.type === 'step' && c.step.runId === runId ? [`${c.step.stepId}:${c.step.status}`] : [],
    )
    expect(stepChanges).toEqual(['a:running', 'a:succeeded', 'b:succeeded', 'c:running', 'c:succeeded'])
    const runChanges = h.seen.flatMap((c) => (c.type === 'run' && c.run.id === runId ? [c.run] : []))
    expect(runChanges.at(-1)).toMatchObject({ status: 'succeeded', currentStep: null })
  })

  it.each([
    {
      at: '/a',
      when: 'right after the dispatch became the run job',
      image: [['a', 'running']],
    },
    {
      at: '/c',
      when: 'between chained steps',
      image: [
        ['a', 'succeeded'],
        ['b', 'succeeded'],
        ['c', 'running'],
      ],
    },
  ])(
    'resume after a crash $when at the step that did not finish; finished steps are not repeated',
    async ({ at, image }) => {
      // Process A: the request to `at` never gets an answer; while it is in flight, the data folder is copied as
      // a kill -9 would leave it (the files only; no shutdown code runs).
      let held = false
      const api = await service((req) => ({ status: 200, body: req.json }))
      const fetchA = ((url: string | URL | Request, init?: RequestInit) => {
        if (!String(url).endsWith(at)) return fetch(url, init)
        held = true
        return new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new Error('aborted')))
        })
      }) as typeof fetch
      const a = harness({ fetch: fetchA })
      a.ops['workflows.create'](threeSteps(api.url))
      const eventId = a.addEvent({ sourceId: 's', type: 'x', body: { n: 5 } })
      const [runId] = await a.runsOf(eventId)
      await waitFor(() => held, `the request to ${at} to be in flight`)

      const crashed = mkdtempSync(join(tmpdir(), 'sb-crashed-'))
      for (const name of ['switchboard.db', 'switchboard.db-wal', 'secret.key']) {
        if (existsSync(join(a.dir, name))) copyFileSync(join(a.dir, name), join(crashed, name))
      }
      await a.queue.stop(0)

      // Process B on the crashed folder: the run job A held is handed back (as the engine does at start-up).
      const b = harness({ dir: crashed })
      expect(b.run(runId!).steps.map((s) => [s.stepId, s.status])).toEqual(image)
      expect(b.jobs()).toEqual([expect.objectContaining({ kind: 'run', status: 'running' })])
      expect(b.queue.recoverAbandoned()).toBe(1)
      b.queue.wake()
      const done = await b.waitForStatus(runId!, 'succeeded')

      expect(done.steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([
        ['a', 'succeeded', 1],
        ['b', 'succeeded', 0],
        ['c', 'succeeded', 1],
      ])
      // Each step's effect happened once, with the key every attempt of that step carries.
      expect(api.requests.map((r) => [r.path, r.headers['idempotency-key'], r.json])).toEqual([
        ['/a', `${runId}:a`, { n: 5 }],
        ['/c', `${runId}:c`, { doubled: 10 }],
      ])
      expect(b.jobs()).toEqual([])
    },
  )

  it('start the first run of an event in its dispatch job; the event’s other runs get jobs of their own', async () => {
    const api = await service((req) => ({ status: 200, body: req.json }))
    const h = harness()
    const add = vi.spyOn(h.queue, 'add')
    h.ops['workflows.create'](threeSteps(api.url))
    h.ops['workflows.create']({ ...threeSteps(api.url), id: 'second', name: 'Second' })
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { n: 2 } })
    const runIds = await h.runsOf(eventId, 2)
    for (const id of runIds) await h.waitForStatus(id, 'succeeded')
    expect(add.mock.calls.map(([kind]) => kind)).toEqual(['dispatch', 'run'])
    expect(api.effects().sort()).toEqual(runIds.flatMap((id) => [`${id}:a`, `${id}:c`]).sort())
    expect(h.jobs()).toEqual([])
  })

  it('go back to the queue once a job has carried its run for its time budget', async () => {
    const api = await service((req) => ({ status: 200, body: req.json }))
    const h = harness({ chainBudgetMs: 0 })
    const add = vi.spyOn(h.queue, 'add')
    h.ops['workflows.create'](threeSteps(api.url))
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { n: 4 } })
    const [runId] = await h.runsOf(eventId)
    const done = await h.waitForStatus(runId!, 'succeeded')
    // With no budget, every step after the first is taken up by a job of its own, queued behind other work.
    expect(add.mock.calls.map(([kind]) => kind)).toEqual(['dispatch', 'run', 'run'])
    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ])
    expect(api.requests.map((r) => [r.path, r.json])).toEqual([
      ['/a', { n: 4 }],
      ['/c', { doubled: 8 }],
    ])
    expect(h.jobs()).toEqual([])
  })

  it('hand the run back after a step while other jobs wait for a worker, so runs take turns', async () => {
    const api = await service((req) => ({ status: 200, body: req.json }))
    const h = harness({ workers: 1 })
    h.ops['workflows.create'](threeSteps(api.url))
    const first = h.addEvent({ sourceId: 's', type: 'x', body: { n: 1 } })
    const second = h.addEvent({ sourceId: 's', type: 'x', body: { n: 2 } })
    const [one] = await h.runsOf(first)
    const [two] = await h.runsOf(second)
    await h.waitForStatus(one!, 'succeeded')
    await h.waitForStatus(two!, 'succeeded')
    // One worker: the first run does not keep it for all its steps while the second event waits.
    const order = api.effects()
    expect(order.indexOf(`${two}:a`)).toBeLessThan(order.indexOf(`${one}:c`))
    expect(order.sort()).toEqual([`${one}:a`, `${one}:c`, `${two}:a`, `${two}:c`].sort())
    expect(h.jobs()).toEqual([])
  })

  it('hand a run cancelled and retried while its job held it a job of its own', async () => {
    let h: Harness | null = null
    let retried = false
    // The API answers a's request only after the run was cancelled and retried (the answer does not listen to the
    // cancel): the job that sent it still holds the run's job key, so the retry could not add a job.
    const fake = (async (url: string | URL | Request) => {
      const runId = String(url).split('/').at(-1)!
      if (!retried) {
        retried = true
        h!.ops['runs.cancel']({ id: runId })
        h!.ops['runs.retry']({ id: runId })
      }
      return new Response(JSON.stringify({ n: 3 }), { headers: { 'content-type': 'application/json' } })
    }) as typeof fetch
    h = harness({ fetch: fake })
    h.ops['workflows.create']({
      id: 'chain',
      name: 'Chain',
      trigger: { source: 's' },
      steps: [
        { id: 'a', kind: 'http', method: 'POST', url: 'http://127.0.0.1:9/a/{{ run.id }}' },
        { id: 'b', kind: 'set', values: { n: '{{ steps.a.body.n }}' } },
      ],
    })
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: {} })
    const [runId] = await h.runsOf(eventId)
    const done = await h.waitForStatus(runId!, 'succeeded')
    expect(retried).toBe(true)
    // a's first answer came for a cancelled run: recorded as an attempt, not as a's result; a ran again.
    expect(done.steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([
      ['a', 'succeeded', 2],
      ['b', 'succeeded', 0],
    ])
    expect(h.jobs()).toEqual([])
  })

  it('start no further step while the engine stops: the run goes back to the queue and goes on after a restart', async () => {
    let answerA: (() => void) | null = null
    const api = await service((req) =>
      req.path === '/a'
        ? new Promise<FakeReply>((resolve) => (answerA = () => resolve({ status: 200, body: req.json })))
        : { status: 200, body: req.json },
    )
    const a = harness()
    a.ops['workflows.create'](threeSteps(api.url))
    const eventId = a.addEvent({ sourceId: 's', type: 'x', body: { n: 6 } })
    const [runId] = await a.runsOf(eventId)
    await waitFor(() => answerA !== null, "a's request to be in flight")
    // a is answered within the stop's grace: it is recorded, and b is left to the next process.
    const stopped = a.queue.stop(5000)
    answerA!()
    await stopped
    expect(a.run(runId!).steps.map((s) => [s.stepId, s.status])).toEqual([['a', 'succeeded']])
    expect(a.jobs()).toEqual([expect.objectContaining({ kind: 'run', status: 'queued' })])

    const b = harness({ dir: a.dir })
    const done = await b.waitForStatus(runId!, 'succeeded')
    expect(done.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ])
    expect(api.requests.map((r) => [r.path, r.json])).toEqual([
      ['/a', { n: 6 }],
      ['/c', { doubled: 12 }],
    ])
  })

  it('commit nothing once another worker owns the job', async () => {
    let answerA: (() => void) | null = null
    const api = await service(
      (req) =>
        new Promise<FakeReply>((resolve) => {
          answerA = () => resolve({ status: 200, body: req.json })
        }),
    )
    const h = harness()
    h.ops['workflows.create'](threeSteps(api.url))
    const eventId = h.addEvent({ sourceId: 's', type: 'x', body: { n: 1 } })
    const [runId] = await h.runsOf(eventId)
    await waitFor(() => answerA !== null, "a's request to be in flight")
    // As if this worker froze past its lease and another one claimed the job meanwhile.
    h.db.prepare(`UPDATE jobs SET lease_owner = 'another-worker' WHERE kind = 'run'`).run()
    answerA!()
    await waitFor(() => api.requests.length === 1 && api.inFlight === 0, "a's answer")
    await new Promise((r) => setTimeout(r, 100))

    // a's outcome was rolled back with the lost lease (the owner redoes a, with the same key); b never started.
    const run = h.run(runId!)
    expect(run.steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([['a', 'running', 0]])
    expect(h.db.prepare(`SELECT lease_owner FROM jobs WHERE kind = 'run'`).pluck().all()).toEqual([
      'another-worker',
    ])
    expect(api.requests.map((r) => r.path)).toEqual(['/a'])
  })

  it('keep the per-workflow concurrency limit: a run holds its slot from its first step to its last', async () => {
    const api = await service((req) => ({ status: 200, body: req.json }))
    api.hold()
    const h = harness({ workers: 4 })
    h.ops['workflows.create']({ ...threeSteps(api.url), concurrency: 1 })
    const ids = [1, 2, 3].map((n) => h.addEvent({ sourceId: 's', type: 'x', body: { n } }))
    const runIds = (await Promise.all(ids.map((id) => h.runsOf(id)))).flat()
    await waitFor(() => api.inFlight === 1, 'one request in flight')
    expect(runIds.map((id) => h.run(id).status).sort()).toEqual(['queued', 'queued', 'running'])
    api.release()
    for (const id of runIds) await h.waitForStatus(id, 'succeeded')
    expect(api.maxInFlight).toBe(1)
    expect(api.requests.map((r) => r.path)).toEqual(['/a', '/c', '/a', '/c', '/a', '/c'])
  })
})
