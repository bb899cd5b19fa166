import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { FakeClock } from '../../../src/core/clock'
import { backoff, parseDuration, type BackoffPolicy } from '../../../src/core/queue/backoff'
import { listDeadJobs, requeueDeadJob } from '../../../src/core/queue/dead-letters'
import { RetryAfterError, UnrecoverableError } from '../../../src/core/queue/errors'
import { Queue, type Job } from '../../../src/core/queue/queue'
import { ActionLog } from '../../../src/core/store/actions'
import { openDatabase, type Db } from '../../../src/core/store/database'
import { tempDir } from '../../support/temp-dir'

const policy: BackoffPolicy = { attempts: 4, kind: 'exponential', initialMs: 1000, maxMs: 5000 }

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter between 0 and the ceiling', () => {
    const ceilings = [1, 2, 3, 4, 5, 6].map((attempt) => backoff(attempt, policy, () => 0.999999))
    expect(ceilings).toEqual([1000, 2000, 4000, 5000, 5000, 5000])
    for (let attempt = 1; attempt <= 6; attempt++) expect(backoff(attempt, policy, () => 0)).toBe(0)
    expect(backoff(2, policy, () => 0.5)).toBe(1000)
  })

  it('stays within bounds for any random draw', () => {
    let seed = 42
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646
    for (let i = 0; i < 1000; i++) {
      const attempt = 1 + (i % 8)
      const delay = backoff(attempt, policy, random)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(Math.min(5000, 1000 * 2 ** (attempt - 1)))
    }
  })

  it('takes Retry-After as a floor', () => {
    expect(backoff(1, policy, () => 0, 30_000)).toBe(30_000)
    expect(backoff(1, policy, () => 0.999999, 10)).toBe(1000)
  })

  it('uses a fixed ceiling for the fixed kind', () => {
    const fixed: BackoffPolicy = { ...policy, kind: 'fixed', initialMs: 700 }
    expect(backoff(9, fixed, () => 0.999999)).toBe(700)
  })

  it('parses durations and refuses nonsense', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('1s')).toBe(1000)
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('2d')).toBe(172_800_000)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(() => parseDuration('soon')).toThrow(/not a duration/)
  })
})

describe('queue', () => {
  let dir: ReturnType<typeof tempDir>
  let db: Db
  let clock: FakeClock
  const queues: Queue[] = []

  beforeEach(() => {
    dir = tempDir()
    db = openDatabase({ file: join(dir.path, 'q.db') })
    clock = new FakeClock()
  })
  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop(10)
    db.close()
    dir.remove()
  })

  function makeQueue(overrides: Partial<ConstructorParameters<typeof Queue>[1]> = {}): Queue {
    const q = new Queue(db, { clock, random: () => 0.999999, policy, leaseMs: 10_000, ...overrides })
    queues.push(q)
    return q
  }

  /** Let the queue's setImmediate-driven loop and handler promises run. */
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
  }

  const jobRow = (id: number) =>
    db.prepare(`SELECT status, attempts, run_at, last_error FROM jobs WHERE id = ?`).get(id) as
      { status: string; attempts: number; run_at: number; last_error: string | null } | undefined

  it('runs a job when woken after the commit and removes it on success', async () => {
    const q = makeQueue()
    const seen: unknown[] = []
    q.register('echo', async (job: Job<{ n: number }>) => {
      seen.push(job.payload.n)
    })
    q.start()
    const id = db.transaction(() => q.add('echo', { n: 7 }))()
    q.wake()
    await settle()
    expect(seen).toEqual([7])
    expect(jobRow(id!)).toBeUndefined()
  })

  it('waits for a job weeks away with timers Node can hold, and runs it on time', async () => {
    // Node fires a timer of more than 2^31-1 ms (about 24.8 days) after 1 ms: this clock does the same.
    const longest = 2 ** 31 - 1
    const delays: number[] = []
    const nodeLike = Object.assign(Object.create(clock) as FakeClock, {
      setTimeout(fn: () => void, ms: number) {
        delays.push(ms)
        return clock.setTimeout(fn, ms > longest ? 1 : ms)
      },
    })
    const q = makeQueue({ clock: nodeLike })
    const ranAt: number[] = []
    q.register('later', async () => {
      ranAt.push(clock.now())
    })
    const due = clock.now() + 30 * 24 * 3600_000
    q.add('later', {}, { runAt: due })
    q.start()
    await settle()
    expect(delays.length).toBeGreaterThan(0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(longest)
    // The longest timer ends early; the queue finds nothing ready and waits for the rest.
    clock.advance(longest)
    await settle()
    expect(ranAt).toEqual([])
    clock.advance(due - clock.now())
    await settle()
    expect(ranAt).toEqual([due])
    expect(delays.length).toBeLessThan(10)
  })

  it('retries on the backoff schedule and dead-letters after the last attempt, keeping the reason', async () => {
    const q = makeQueue()
    const attemptsAt: number[] = []
    q.register('flaky', async () => {
      attemptsAt.push(clock.now())
      throw new Error('upstream said no')
    })
    q.start()
    const start = clock.now()
    const id = q.add('flaky', {})!
    q.wake()
    await settle()
    // Full jitter with random≈1 gives the ceilings: 1 s, 2 s, 4 s.
    for (const step of [1000, 2000, 4000]) {
      clock.advance(step)
      await settle()
    }
    expect(attemptsAt.map((t) => t - start)).toEqual([0, 1000, 3000, 7000])
    expect(jobRow(id)).toMatchObject({ status: 'dead', attempts: 4, last_error: 'upstream said no' })
    expect(listDeadJobs(db).map((j) => [j.id, j.lastError])).toEqual([[id, 'upstream said no']])
  })

  it('honours Retry-After and dead-letters an unrecoverable error at once', async () => {
    const q = makeQueue()
    q.register('later', async () => {
      throw new RetryAfterError('429', 60_000)
    })
    q.register('bad', async () => {
      throw new UnrecoverableError('400 bad request')
    })
    q.start()
    const later = q.add('later', {})!
    const bad = q.add('bad', {})!
    q.wake()
    await settle()
    expect(jobRow(later)).toMatchObject({ status: 'queued', attempts: 1, run_at: clock.now() + 60_000 })
    expect(jobRow(bad)).toMatchObject({ status: 'dead', attempts: 1, last_error: '400 bad request' })
  })

  it('does not run a job before its run_at, and runs it when the time comes (one timer, no polling)', async () => {
    const q = makeQueue()
    let ran = 0
    q.register('timer', async () => {
      ran++
    })
    q.start()
    q.add('timer', {}, { runAt: clock.now() + 5000 })
    q.wake()
    await settle()
    clock.advance(4999)
    await settle()
    expect(ran).toBe(0)
    clock.advance(1)
    await settle()
    expect(ran).toBe(1)
  })

  it('gives an expired lease back to the queue (a crashed worker) and refuses the stale owner', async () => {
    // Worker A claims and stalls (as if its process froze); its one slot stays busy.
    let releaseStale: () => void = () => {}
    const stale = makeQueue({ concurrency: 1 })
    stale.register('work', () => new Promise<void>((r) => (releaseStale = r)))
    stale.start()
    const id = stale.add('work', { n: 1 })!
    stale.wake()
    await settle()
    expect(jobRow(id)).toMatchObject({ status: 'running', attempts: 1 })

    const survivor = makeQueue()
    const claimed: number[] = []
    let finishSurvivor: () => void = () => {}
    survivor.register('work', (job: Job<{ n: number }>) => {
      claimed.push(job.payload.n)
      return new Promise<void>((r) => (finishSurvivor = r))
    })
    survivor.start()
    await settle()
    expect(claimed).toEqual([]) // the lease still holds
    clock.advance(10_001)
    await settle()
    expect(claimed).toEqual([1])
    expect(jobRow(id)).toMatchObject({ status: 'running', attempts: 2 })

    // The stale worker wakes up and finishes: its compare-and-swap fails, the job stays the survivor's.
    releaseStale()
    await settle()
    expect(jobRow(id)).toMatchObject({ status: 'running', attempts: 2 })
    finishSurvivor()
    await settle()
    expect(jobRow(id)).toBeUndefined()
  })

  it('commits a handler’s writes and its completion together', async () => {
    db.exec(`CREATE TABLE effects (job INTEGER PRIMARY KEY)`)
    const q = makeQueue()
    q.register('effect', async (job, ctx) => {
      db.transaction(() => {
        db.prepare(`INSERT INTO effects (job) VALUES (?)`).run(job.id)
        expect(ctx.completeInTransaction()).toBe(true)
      })()
    })
    q.start()
    const id = q.add('effect', {})!
    q.wake()
    await settle()
    expect(db.prepare(`SELECT job FROM effects`).all()).toEqual([{ job: id }])
    expect(jobRow(id)).toBeUndefined()
  })

  it('never runs more jobs at once than its concurrency', async () => {
    const q = makeQueue({ concurrency: 2 })
    let running = 0
    let peak = 0
    const releases: Array<() => void> = []
    q.register('slow', async () => {
      running++
      peak = Math.max(peak, running)
      await new Promise<void>((r) => releases.push(r))
      running--
    })
    q.start()
    for (let i = 0; i < 5; i++) q.add('slow', { i })
    q.wake()
    await settle()
    expect(running).toBe(2)
    while (releases.length) {
      releases.shift()!()
      await settle()
    }
    expect(peak).toBe(2)
    expect(db.prepare(`SELECT COUNT(*) n FROM jobs`).get()).toEqual({ n: 0 })
  })

  it('adds a job with a key only once', () => {
    const q = makeQueue()
    expect(q.add('k', {}, { key: 'once' })).not.toBeNull()
    expect(q.add('k', {}, { key: 'once' })).toBeNull()
    expect(q.depth()).toBe(1)
  })

  it('releases in-flight leases on stop so a restart picks the job up at once', async () => {
    const q = makeQueue()
    q.register(
      'hang',
      (_job, ctx) =>
        new Promise<void>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    )
    q.start()
    const id = q.add('hang', {})!
    q.wake()
    await settle()
    await q.stop(10)
    expect(jobRow(id)).toMatchObject({ status: 'queued', attempts: 0 })
  })

  it('retries a dead job only as an explicit, recorded action', async () => {
    const q = makeQueue({ policy: { ...policy, attempts: 1 } })
    let fail = true
    q.register('once', async () => {
      if (fail) throw new Error('down')
    })
    q.start()
    const id = q.add('once', {})!
    q.wake()
    await settle()
    expect(jobRow(id)?.status).toBe('dead')
    const actions = new ActionLog(db)
    fail = false
    db.transaction(() => {
      expect(requeueDeadJob(db, id, clock.now())).toBe(true)
      actions.record('retry', `job:${id}`, { reason: 'api recovered' }, clock.now())
    })()
    q.wake()
    await settle()
    expect(jobRow(id)).toBeUndefined()
    expect(requeueDeadJob(db, id, clock.now())).toBe(false)
    expect(actions.list(10).items).toMatchObject([
      { kind: 'retry', target: `job:${id}`, detail: { reason: 'api recovered' } },
    ])
  })

  it('lets a handler keep its job for more work only while it owns it; a lost lease rolls the work back', async () => {
    db.exec(`CREATE TABLE effects (n INTEGER PRIMARY KEY)`)
    const effect = db.prepare(`INSERT INTO effects (n) VALUES (?)`)
    // Worker A does one piece of work per transaction in the same job, then stalls before the second.
    let resume: () => void = () => {}
    const outcomes: string[] = []
    const a = makeQueue({ concurrency: 1 })
    a.register('pieces', async (_job, ctx) => {
      const piece = (n: number) =>
        db.transaction(() => {
          effect.run(n)
          if (!ctx.holdInTransaction()) throw new Error('lease lost')
        })()
      piece(1)
      outcomes.push('first kept')
      await new Promise<void>((r) => (resume = r))
      try {
        piece(2)
        outcomes.push('second kept')
      } catch (error) {
        outcomes.push((error as Error).message)
        throw error
      }
    })
    a.start()
    const id = a.add('pieces', {})!
    a.wake()
    await settle()
    expect(outcomes).toEqual(['first kept'])
    expect(jobRow(id)).toMatchObject({ status: 'running', attempts: 1 })

    // A's heartbeat never ran (the fake clock jumped): its lease expires and B takes the job.
    const b = makeQueue()
    const claimedByB: number[] = []
    b.register('pieces', (job, ctx) => {
      claimedByB.push(job.id)
      return new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()))
    })
    b.start()
    clock.advance(10_001)
    await settle()
    expect(claimedByB).toEqual([id])

    resume()
    await settle()
    expect(outcomes).toEqual(['first kept', 'lease lost'])
    expect(db.prepare(`SELECT n FROM effects`).pluck().all()).toEqual([1])
    expect(jobRow(id)).toMatchObject({ status: 'running', attempts: 2 })
  })

  it('lets a handler turn its job into another one, which outlives the handler’s failure', async () => {
    const q = makeQueue()
    const ran: unknown[] = []
    q.register('first', async (_job, ctx) => {
      db.transaction(() => {
        expect(ctx.replaceInTransaction('second', { n: 2 }, 'second:2')).toBe(true)
      })()
      throw new Error('failed after the change')
    })
    q.register('second', async (job) => {
      ran.push(job.payload)
    })
    q.start()
    const id = q.add('first', { n: 1 })!
    q.wake()
    await settle()
    expect(jobRow(id)).toMatchObject({ status: 'queued', attempts: 1, last_error: 'failed after the change' })
    expect(q.add('second', {}, { key: 'second:2' })).toBeNull()
    clock.advance(1000)
    await settle()
    expect(ran).toEqual([{ n: 2 }])
    expect(jobRow(id)).toBeUndefined()
  })

  it('wakeIfAdded looks for work only when add() added a job since the last wake', async () => {
    const q = makeQueue()
    const ran: string[] = []
    q.register('job', async (job: Job<{ name: string }>) => {
      ran.push(job.payload.name)
    })
    q.start()
    await settle()
    // Added behind the queue's back (another connection's adder): wakeIfAdded does not look.
    q.adderOn(db)('job', { name: 'elsewhere' })
    q.wakeIfAdded()
    await settle()
    expect(ran).toEqual([])
    q.add('job', { name: 'here' })
    q.wakeIfAdded()
    await settle()
    expect(ran.sort()).toEqual(['elsewhere', 'here'])
  })
})
