import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import { JOB_RUN } from '../../../src/core/orchestrator'
import { ABORTED_BY_CANCEL } from '../../../src/core/orchestrator/outbound'
import { Harness, settle, waitFor } from './harness'

/** A request the slow API holds open: it has read the request and has not answered. */
interface Held {
  headers: IncomingMessage['headers']
  body: string
  res: ServerResponse
  /** Resolves when the server sees the client's connection close (the client cut the request off). */
  socketClosed: Promise<void>
  answered: boolean
}

/**
 * An API on 127.0.0.1 that holds every request open until the test answers it, and notices when the client
 * closes the connection first.
 */
class SlowApi {
  readonly held: Held[] = []
  url = ''
  private constructor(private readonly server: Server) {}

  static async start(): Promise<SlowApi> {
    let api: SlowApi | null = null
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const socket = req.socket
        const held: Held = {
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          res,
          answered: false,
          socketClosed: new Promise((resolve) =>
            socket.destroyed ? resolve() : socket.once('close', () => resolve()),
          ),
        }
        api!.held.push(held)
      })
    })
    api = new SlowApi(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return api
  }

  answer(held: Held, status = 200): void {
    held.answered = true
    held.res.writeHead(status, { 'content-type': 'application/json' })
    held.res.end('{"ok":true}')
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

/** Resolve with 'closed' when `p` settles within `ms` of real time, else 'still open'. */
const within = (p: Promise<void>, ms: number) =>
  Promise.race([
    p.then(() => 'closed' as const),
    new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms)),
  ])

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})

const steps = {
  http: (url: string) => ({
    id: 'call',
    kind: 'http',
    method: 'POST',
    url: `${url}/orders`,
    body: { order: '{{ event.order }}' },
    retry: { attempts: 5, initial: '1s', max: '10s' },
  }),
  webhook: (url: string) => ({
    id: 'call',
    kind: 'webhook',
    url: `${url}/hooks`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    body: { order: '{{ event.order }}' },
    retry: { attempts: 5, initial: '1s', max: '10s' },
  }),
}

describe('cancelling a run while its request is in flight', () => {
  for (const kind of ['http', 'webhook'] as const) {
    it(`aborts the held ${kind} request, records the attempt as aborted, retries nothing, and stays cancelled`, async () => {
      const api = await SlowApi.start()
      open.push(api)
      const clock = new FakeClock(Date.now())
      const h = new Harness({ clock })
      open.push({ close: () => h.close() })
      h.ops['workflows.create']({
        id: 'slow',
        name: 'Slow',
        trigger: { source: 'shop' },
        steps: [steps[kind](api.url), { id: 'after', kind: 'notify', title: 'never' }],
      })
      const eventId = h.addEvent({ sourceId: 'shop', body: { order: 7 } })
      const [runId] = await h.runsOf(eventId)
      await waitFor(() => api.held.length === 1, 'the API to hold the request')
      const held = api.held[0]!
      expect(held.headers['idempotency-key']).toBe(`${runId}:call`)
      expect(h.run(runId!)).toMatchObject({ status: 'running', currentStep: 'call' })

      expect(h.ops['runs.cancel']({ id: runId! })).toMatchObject({ status: 'cancelled' })

      // The client closed the connection: the API never got to answer.
      expect(await within(held.socketClosed, 5000)).toBe('closed')
      expect(held.answered).toBe(false)
      await waitFor(
        () => h.run(runId!).steps.find((s) => s.stepId === 'call')?.attempts.length === 1,
        'the aborted attempt to be recorded',
        () => JSON.stringify(h.run(runId!), null, 1),
      )
      const run = h.run(runId!)
      expect(run.status).toBe('cancelled')
      const call = run.steps.find((s) => s.stepId === 'call')!
      expect(call).toMatchObject({ status: 'pending', error: ABORTED_BY_CANCEL })
      expect(call.attempts[0]).toMatchObject({
        n: 1,
        ok: false,
        error: ABORTED_BY_CANCEL,
        response: null,
        retryAt: null,
      })
      expect(run.steps.map((s) => s.stepId)).toEqual(['call'])
      // Nothing is scheduled: no job for the run, and time passing past every backoff sends nothing more.
      await waitFor(() => h.jobs().length === 0, 'the run job to be completed')
      clock.advance(60 * 60 * 1000)
      await settle(100)
      expect(api.held).toHaveLength(1)
      expect(h.jobs()).toEqual([])
      expect(h.run(runId!).status).toBe('cancelled')
    })
  }

  it('sends nothing for a run cancelled after it started but before its request went out', async () => {
    const api = await SlowApi.start()
    open.push(api)
    const h = new Harness({ clock: new FakeClock(Date.now()) })
    open.push({ close: () => h.close() })
    h.ops['workflows.create']({
      id: 'slow',
      name: 'Slow',
      trigger: { source: 'shop' },
      steps: [steps.http(api.url)],
    })
    // Cancel the moment the run is marked running: the step is still rendering its request.
    h.changes.subscribe((change) => {
      if (change.type === 'run' && change.run.status === 'running')
        h.ops['runs.cancel']({ id: change.run.id })
    })
    const [runId] = await h.runsOf(h.addEvent({ sourceId: 'shop', body: { order: 1 } }))
    await waitFor(() => h.jobs().length === 0, 'every job to finish')
    await settle(100)
    expect(api.held).toHaveLength(0)
    expect(h.run(runId!)).toMatchObject({ status: 'cancelled', steps: [] })
  })

  it('a retry right after the cancel resumes the run once the aborted attempt is recorded', async () => {
    const api = await SlowApi.start()
    open.push(api)
    const h = new Harness({ clock: new FakeClock(Date.now()) })
    open.push({ close: () => h.close() })
    h.ops['workflows.create']({
      id: 'slow',
      name: 'Slow',
      trigger: { source: 'shop' },
      steps: [steps.http(api.url)],
    })
    const [runId] = await h.runsOf(h.addEvent({ sourceId: 'shop', body: { order: 3 } }))
    await waitFor(() => api.held.length === 1, 'the first request')
    h.ops['runs.cancel']({ id: runId! })
    // Retried in the same turn: the cancelled attempt's job still holds the run's job key.
    expect(h.ops['runs.retry']({ id: runId! })).toMatchObject({ status: 'queued' })
    await waitFor(() => api.held.length === 2, 'the retry to send again')
    expect(await within(api.held[0]!.socketClosed, 5000)).toBe('closed')
    api.answer(api.held[1]!)
    const run = await h.waitForStatus(runId!, 'succeeded')
    expect(run.steps[0]!.attempts.map((a) => [a.ok, a.error])).toEqual([
      [false, ABORTED_BY_CANCEL],
      [true, null],
    ])
  })
})

describe('stopping the engine while a request is in flight', () => {
  it('releases the job (nothing recorded as an attempt) and the request goes out again after a restart', async () => {
    const api = await SlowApi.start()
    open.push(api)
    const clock = new FakeClock(Date.now())
    const h = new Harness({ clock })
    h.ops['workflows.create']({
      id: 'slow',
      name: 'Slow',
      trigger: { source: 'shop' },
      steps: [steps.http(api.url)],
    })
    const [runId] = await h.runsOf(h.addEvent({ sourceId: 'shop', body: { order: 9 } }))
    await waitFor(() => api.held.length === 1, 'the request')

    await h.queue.stop(0)
    expect(await within(api.held[0]!.socketClosed, 5000)).toBe('closed')
    expect(h.run(runId!)).toMatchObject({ status: 'running' })
    expect(h.run(runId!).steps[0]!.attempts).toEqual([])
    expect(h.db.prepare(`SELECT kind, status, lease_owner FROM jobs`).all()).toEqual([
      { kind: JOB_RUN, status: 'queued', lease_owner: null },
    ])
    await h.close(true)

    const again = new Harness({ clock, dir: h.dir })
    open.push({ close: () => again.close() })
    await waitFor(() => api.held.length === 2, 'the request to go out again')
    expect(api.held[1]!.headers['idempotency-key']).toBe(api.held[0]!.headers['idempotency-key'])
    api.answer(api.held[1]!)
    const run = await again.waitForStatus(runId!, 'succeeded')
    expect(run.steps[0]!.attempts).toHaveLength(1)
  })
})
