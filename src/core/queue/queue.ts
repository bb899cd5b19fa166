import { randomUUID } from 'node:crypto'
import type { Statement, Transaction } from 'better-sqlite3'
import type { Clock } from '../clock'
import type { Db } from '../store/database'
import { backoff, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff'
import { RetryAfterError, UnrecoverableError } from './errors'

/** The longest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface Job<P = unknown> {
  id: number
  kind: string
  payload: P
  /** Tries so far, this one included. */
  attempts: number
  maxAttempts: number
  runAt: number
}

export interface JobContext {
  /** Aborted when the engine stops; a handler should give up and let the lease return the job. */
  signal: AbortSignal
  /**
   * Remove the job inside the caller's own transaction, so that the job's writes and its completion commit
   * together (no repeated effect after a crash). Returns false if the lease was lost.
   */
  completeInTransaction(): boolean
  /**
   * Keep the job (a handler going on with more work in the same job), inside the caller's transaction: checks
   * that this worker still owns it (the heartbeat keeps the lease), so the writes commit only while it does. A
   * read, so it adds no write to the transaction. Returns false if the lease was lost (another worker took the
   * job); the caller should then throw to roll its transaction back.
   */
  holdInTransaction(): boolean
  /**
   * Turn the job into another one (its kind, payload and key) inside the caller's transaction, keeping its lease:
   * a handler that goes on with the new job's work itself, and whose crash leaves the new job behind. Returns
   * false if the lease was lost.
   */
  replaceInTransaction(kind: string, payload: unknown, key?: string): boolean
}

export type JobHandler<P = unknown> = (job: Job<P>, ctx: JobContext) => Promise<void>

export interface AddJobOptions {
  runAt?: number
  maxAttempts?: number
  /** A unique key: adding a job whose key exists is a no-op (returns null). */
  key?: string
}

export interface QueueOptions {
  clock: Clock
  /** How long a claim holds before another worker (or a restarted process) may take the job. */
  leaseMs?: number
  /** Global worker limit: jobs running at once. */
  concurrency?: number
  random?: () => number
  /** Job-level retry policy (a handler's own failures; step retries live in the orchestrator). */
  policy?: BackoffPolicy
  onDead?: (job: Job, error: string) => void
  onError?: (error: unknown) => void
}

interface JobRow {
  id: number
  kind: string
  payload: string
  attempts: number
  max_attempts: number
  run_at: number
}

/**
 * A durable job queue in SQLite, after graphile-worker and liteque: a row says everything (status, attempts,
 * run_at, lease); a claim is one compare-and-swap UPDATE; an expired lease returns the job (crash recovery).
 * The worker is woken by `wake()` after a commit; the only timer is for the earliest future `run_at`/lease.
 */
export class Queue {
  readonly owner = randomUUID()
  private readonly handlers = new Map<string, JobHandler>()
  private readonly leaseMs: number
  private readonly concurrency: number
  private readonly random: () => number
  private readonly policy: BackoffPolicy
  private readonly inFlight = new Map<number, { promise: Promise<void>; abort: AbortController }>()
  private readonly insertSql = `INSERT INTO jobs (kind, payload, status, max_attempts, run_at, key, created_at, updated_at)
     VALUES (@kind, @payload, 'queued', @maxAttempts, @runAt, @key, @now, @now)
     ON CONFLICT (key) DO NOTHING`
  private running = false
  private drainScheduled = false
  /** A job was added since the last `wake()`. */
  private added = false
  private timer: unknown = null
  private timerAt = Infinity

  /** Claims one job (ready, else one whose lease expired) in an explicit transaction; built once. */
  private readonly claim: Transaction<
    (args: { owner: string; until: number; now: number }) => JobRow | undefined
  >

  private readonly stmt: {
    insert: Statement
    claimReady: Statement
    claimExpired: Statement
    remove: Statement
    reschedule: Statement
    dead: Statement
    heartbeat: Statement
    owns: Statement
    replace: Statement
    release: Statement
    nextReady: Statement
    readyNow: Statement
    nextExpiry: Statement
    depth: Statement
  }

  constructor(
    private readonly db: Db,
    private readonly options: QueueOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 60_000
    this.concurrency = options.concurrency ?? 4
    this.random = options.random ?? Math.random
    this.policy = options.policy ?? DEFAULT_BACKOFF
    this.stmt = {
      insert: db.prepare(this.insertSql),
      // Two indexed look-ups instead of one OR (which SQLite answers with a scan): ready jobs first, then a
      // job whose lease expired (its worker crashed). The UPDATE re-checks, so a race claims nothing.
      claimReady: db.prepare(
        `UPDATE jobs SET status = 'running', lease_owner = @owner, lease_until = @until,
           attempts = attempts + 1, updated_at = @now
         WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= @now ORDER BY run_at, id LIMIT 1)
         RETURNING id, kind, payload, attempts, max_attempts, run_at`,
      ),
      claimExpired: db.prepare(
        `UPDATE jobs SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1, updated_at = @now
         WHERE id = (SELECT id FROM jobs WHERE status = 'running' AND lease_until < @now ORDER BY lease_until LIMIT 1)
           AND lease_until < @now
         RETURNING id, kind, payload, attempts, max_attempts, run_at`,
      ),
      remove: db.prepare(`DELETE FROM jobs WHERE id = ? AND lease_owner = ?`),
      reschedule: db.prepare(
        `UPDATE jobs SET status = 'queued', run_at = @runAt, lease_owner = NULL, lease_until = NULL,
           last_error = @error, updated_at = @now
         WHERE id = @id AND lease_owner = @owner`,
      ),
      dead: db.prepare(
        `UPDATE jobs SET status = 'dead', lease_owner = NULL, lease_until = NULL, last_error = @error, updated_at = @now
         WHERE id = @id AND lease_owner = @owner`,
      ),
      heartbeat: db.prepare(`UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?`),
      owns: db.prepare(`SELECT 1 FROM jobs WHERE id = ? AND lease_owner = ?`).pluck(),
      replace: db.prepare(
        `UPDATE jobs SET kind = @kind, payload = @payload, key = @key, updated_at = @now
         WHERE id = @id AND lease_owner = @owner`,
      ),
      release: db.prepare(
        `UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, attempts = MAX(0, attempts - 1)
         WHERE lease_owner = ? AND status = 'running'`,
      ),
      nextReady: db.prepare(`SELECT MIN(run_at) FROM jobs WHERE status = 'queued'`).pluck(),
      readyNow: db.prepare(`SELECT 1 FROM jobs WHERE status = 'queued' AND run_at <= ? LIMIT 1`).pluck(),
      nextExpiry: db.prepare(`SELECT MIN(lease_until) FROM jobs WHERE status = 'running'`).pluck(),
      depth: db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`),
    }
    this.claim = db.transaction(
      (args: { owner: string; until: number; now: number }) =>
        (this.stmt.claimReady.get(args) ?? this.stmt.claimExpired.get(args)) as JobRow | undefined,
    )
  }

  register<P>(kind: string, handler: JobHandler<P>): void {
    this.handlers.set(kind, handler as JobHandler)
  }

  /**
   * Add a job. Call inside the transaction that makes it necessary (so the two commit together), then call
   * `wake()` after the commit. Returns the job id, or null when a job with the same key exists.
   */
  add(kind: string, payload: unknown, options: AddJobOptions = {}): number | null {
    const id = this.insertWith(this.stmt.insert, kind, payload, options)
    if (id !== null) this.added = true
    return id
  }

  private insertWith(
    insert: Statement,
    kind: string,
    payload: unknown,
    options: AddJobOptions,
  ): number | null {
    const now = this.options.clock.now()
    const info = insert.run({
      kind,
      payload: JSON.stringify(payload),
      maxAttempts: options.maxAttempts ?? this.policy.attempts,
      runAt: options.runAt ?? now,
      key: options.key ?? null,
      now,
    })
    return info.changes ? Number(info.lastInsertRowid) : null
  }

  /**
   * `add` bound to another connection to the same file, for a caller whose transaction runs there (the
   * receiver enqueues in its intake transaction). Call `wake()` after that commit.
   */
  adderOn(db: Db): (kind: string, payload: unknown, options?: AddJobOptions) => number | null {
    const insert = db.prepare(this.insertSql)
    return (kind, payload, options = {}) => this.insertWith(insert, kind, payload, options)
  }

  /** Jobs waiting or running. */
  depth(): number {
    return (this.stmt.depth.get() as { n: number }).n
  }

  /**
   * Hand back every job a previous process held (it is gone: the caller owns the data folder), so they run
   * now rather than after their leases expire. The interrupted try still counts as an attempt.
   */
  recoverAbandoned(): number {
    return this.db
      .prepare(
        `UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL WHERE status = 'running' AND lease_owner != ?`,
      )
      .run(this.owner).changes
  }

  start(): void {
    this.running = true
    this.wake()
  }

  /** Whether the queue is not taking work (stopping, or not started): a handler should not start more of it. */
  get stopping(): boolean {
    return !this.running
  }

  /** Every worker is busy and a job is ready to run: one that could go on should let it have a worker. */
  othersWaiting(): boolean {
    return (
      this.inFlight.size >= this.concurrency && this.stmt.readyNow.get(this.options.clock.now()) !== undefined
    )
  }

  /**
   * `wake()` only when `add` added a job since the last wake: after a transaction that may or may not have added
   * one (a finishing job wakes the worker by itself, so a commit that added nothing needs no look).
   */
  wakeIfAdded(): void {
    if (this.added) this.wake()
  }

  /** Ask the worker to look for ready jobs (coalesced to once per event-loop turn). */
  wake(): void {
    this.added = false
    if (!this.running || this.drainScheduled) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      this.drain()
    })
  }

  /** Stop claiming; give in-flight jobs `graceMs` to finish, then abort them and release their leases. */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer)
    this.timer = null
    const pending = [...this.inFlight.values()]
    if (pending.length) {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())
      await Promise.race([Promise.allSettled(pending.map((p) => p.promise)), grace])
      for (const p of this.inFlight.values()) p.abort.abort()
      await Promise.race([
        Promise.allSettled(pending.map((p) => p.promise)),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ])
    }
    this.stmt.release.run(this.owner)
  }

  private drain(): void {
    if (!this.running) return
    while (this.inFlight.size < this.concurrency) {
      const now = this.options.clock.now()
      let row: JobRow | undefined
      try {
        const args = { owner: this.owner, until: now + this.leaseMs, now }
        // An explicit transaction, so that a failed commit (disk full) throws: a bare UPDATE … RETURNING would
        // hand back the row even though its autocommit failed, and the same job would be claimed forever.
        row = this.claim(args)
      } catch (error) {
        // The store is unavailable (disk full, locked): try again shortly rather than spinning.
        this.options.onError?.(error)
        this.schedule(now + 1000)
        return
      }
      if (!row) {
        // Nothing is ready: sleep until the earliest future run_at or lease expiry (a finishing job or a
        // commit wakes us sooner). When every slot is busy, the next finishing job wakes us instead.
        this.scheduleNext()
        return
      }
      this.execute(row)
    }
  }

  private scheduleNext(): void {
    const ready = this.stmt.nextReady.get() as number | null
    const expiry = this.stmt.nextExpiry.get() as number | null
    const at = Math.min(ready ?? Infinity, expiry ?? Infinity)
    if (at !== Infinity) this.schedule(at)
  }

  private schedule(at: number): void {
    if (this.timer !== null && this.timerAt <= at) return
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer)
    this.timerAt = at
    this.timer = this.options.clock.setTimeout(
      () => {
        this.timer = null
        this.timerAt = Infinity
        this.wake()
      },
      // A timer longer than 2^31-1 ms fires at once (Node's limit): a job weeks away wakes the queue early
      // instead, which finds nothing ready and sets the next timer.
      Math.min(MAX_TIMER_MS, Math.max(0, at - this.options.clock.now())),
    )
  }

  private execute(row: JobRow): void {
    const job: Job = {
      id: row.id,
      kind: row.kind,
      payload: JSON.parse(row.payload),
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      runAt: row.run_at,
    }
    const abort = new AbortController()
    let completed = false
    const ctx: JobContext = {
      signal: abort.signal,
      completeInTransaction: () => {
        completed = this.stmt.remove.run(job.id, this.owner).changes === 1
        return completed
      },
      holdInTransaction: () => this.stmt.owns.get(job.id, this.owner) === 1,
      replaceInTransaction: (kind, payload, key) =>
        this.stmt.replace.run({
          id: job.id,
          owner: this.owner,
          kind,
          payload: JSON.stringify(payload),
          key: key ?? null,
          now: this.options.clock.now(),
        }).changes === 1,
    }
    const heartbeat = setInterval(
      () => {
        try {
          this.stmt.heartbeat.run(this.options.clock.now() + this.leaseMs, job.id, this.owner)
        } catch (error) {
          this.options.onError?.(error)
        }
      },
      Math.max(1000, this.leaseMs / 3),
    )
    heartbeat.unref()
    const handler = this.handlers.get(job.kind)
    const promise = (async () => {
      try {
        if (!handler) throw new UnrecoverableError(`no handler for job kind ${job.kind}`)
        await handler(job, ctx)
        if (!completed) this.stmt.remove.run(job.id, this.owner)
      } catch (error) {
        if (abort.signal.aborted) return // stopping: the lease is released, the job runs again after restart
        this.fail(job, error)
      }
    })().finally(() => {
      clearInterval(heartbeat)
      this.inFlight.delete(job.id)
      this.wake()
    })
    this.inFlight.set(job.id, { promise, abort })
  }

  private fail(job: Job, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error)
    const now = this.options.clock.now()
    try {
      if (error instanceof UnrecoverableError || job.attempts >= job.maxAttempts) {
        this.stmt.dead.run({ id: job.id, owner: this.owner, error: message, now })
        this.options.onDead?.(job, message)
        return
      }
      const retryAfter = error instanceof RetryAfterError ? error.delayMs : 0
      const delay = backoff(job.attempts, this.policy, this.random, retryAfter)
      this.stmt.reschedule.run({ id: job.id, owner: this.owner, runAt: now + delay, error: message, now })
    } catch (storeError) {
      // Could not record the failure: the lease will expire and the job runs again.
      this.options.onError?.(storeError)
    }
  }
}
