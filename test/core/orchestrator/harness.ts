import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Change } from '../../../src/shared/contract'
import type { EventSummary, RunDetail } from '../../../src/shared/domain'
import { ChangeBus } from '../../../src/core/changes'
import { systemClock, type Clock } from '../../../src/core/clock'
import type { Engine } from '../../../src/core/engine'
import { newId } from '../../../src/core/ids'
import {
  createOrchestrator,
  JOB_DISPATCH,
  type LoadedEvent,
  type Orchestrator,
} from '../../../src/core/orchestrator'
import { Queue } from '../../../src/core/queue/queue'
import { KeyFileCipher } from '../../../src/core/secrets/cipher'
import { SecretVault } from '../../../src/core/secrets/vault'
import { ActionLog } from '../../../src/core/store/actions'
import { openDatabase, type Db } from '../../../src/core/store/database'

export interface HarnessOptions {
  clock?: Clock
  fetch?: typeof fetch
  workers?: number
  /** Base URL handed out for run callbacks (null: none). */
  callbackBase?: string | null
  dir?: string
  /** Which source ids exist (workflow triggers must name one); every id by default. */
  sourceExists?: (id: string) => boolean
  /** How long one job carries a run on from step to step (the orchestrator's default when not given). */
  chainBudgetMs?: number
}

export interface TestEvent {
  sourceId: string
  type?: string | null
  body?: unknown
  headers?: Record<string, string>
  hop?: number
  status?: EventSummary['status']
  path?: string
}

/**
 * The orchestrator on a real SQLite file in a temp folder with the real queue; events are inserted the way the
 * receiver stores them (row + `dispatch` job in one transaction).
 */
export class Harness {
  readonly db: Db
  readonly queue: Queue
  readonly changes = new ChangeBus()
  readonly seen: Change[] = []
  readonly actions: ActionLog
  readonly vault: SecretVault
  readonly orchestrator: Orchestrator
  readonly clock: Clock
  readonly dir: string

  constructor(options: HarnessOptions = {}) {
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sb-orch-'))
    this.clock = options.clock ?? systemClock
    this.db = openDatabase({ file: join(this.dir, 'switchboard.db') })
    this.queue = new Queue(this.db, {
      clock: this.clock,
      concurrency: options.workers ?? 4,
      random: () => 0.5,
    })
    this.actions = new ActionLog(this.db)
    this.vault = new SecretVault(this.db, new KeyFileCipher(join(this.dir, 'secret.key')), this.clock)
    this.changes.subscribe((c) => this.seen.push(c))
    this.orchestrator = createOrchestrator({
      db: this.db,
      queue: this.queue,
      clock: this.clock,
      changes: this.changes,
      actions: this.actions,
      random: () => 0.5,
      vault: this.vault,
      fetch: options.fetch ?? fetch,
      hopLimit: 5,
      workers: options.workers ?? 4,
      loadEvent: (id) => this.loadEvent(id),
      sourceExists: options.sourceExists ?? (() => true),
      callbackUrl: () => options.callbackBase ?? null,
      ...(options.chainBudgetMs === undefined ? {} : { chainBudgetMs: options.chainBudgetMs }),
    })
    this.orchestrator.start()
    this.queue.start()
  }

  get ops() {
    return this.orchestrator.operations
  }

  /** Store an event as the receiver would, with its dispatch job when accepted. Returns its id. */
  addEvent(event: TestEvent): string {
    const id = newId('evt', this.clock.now())
    const body = Buffer.from(event.body === undefined ? '' : JSON.stringify(event.body))
    const status = event.status ?? 'accepted'
    this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO events (id, source_id, provider, received_at, method, path, query, headers, content_type, body,
               body_size, dedup_id, type, status, verification, hop, summary)
             VALUES (?, ?, 'none', ?, 'POST', ?, '', ?, 'application/json', ?, ?, ?, ?, ?, 'unsigned', ?, '')`,
          )
          .run(
            id,
            event.sourceId,
            this.clock.now(),
            event.path ?? `/hooks/${event.sourceId}`,
            JSON.stringify(event.headers ?? {}),
            body,
            body.length,
            id,
            event.type ?? null,
            status,
            event.hop ?? 0,
          )
        if (status === 'accepted') this.queue.add(JOB_DISPATCH, { eventId: id })
      })
      .immediate()
    this.queue.wake()
    return id
  }

  loadEvent(id: string): LoadedEvent | null {
    const row = this.db.prepare(`SELECT * FROM events WHERE id = ?`).get(id) as
      Record<string, string | number | Buffer | null> | undefined
    if (!row) return null
    const body = row.body as Buffer
    let json: unknown
    try {
      json = JSON.parse(body.toString('utf8')) as unknown
    } catch {
      json = undefined
    }
    const summary: EventSummary = {
      id,
      sourceId: row.source_id as string,
      provider: 'none',
      receivedAt: row.received_at as number,
      method: row.method as string,
      path: row.path as string,
      type: (row.type as string | null) ?? null,
      status: row.status as EventSummary['status'],
      verification: 'unsigned',
      reason: null,
      dedupId: row.dedup_id as string,
      duplicateOf: null,
      hop: row.hop as number,
      contentType: 'application/json',
      bodySize: body.length,
      summary: '',
      runCount: 0,
    }
    return {
      summary,
      headers: JSON.parse(row.headers as string) as Record<string, string>,
      json,
      body,
      query: '',
      path: row.path as string,
    }
  }

  run(id: string): RunDetail {
    return this.ops['runs.get']({ id }) as RunDetail
  }

  /** The runs an event started (waits for the dispatch job first). */
  async runsOf(eventId: string, count = 1): Promise<string[]> {
    await waitFor(
      () => this.orchestrator.runsForEvent(eventId).length >= count,
      `${count} run(s) for ${eventId}`,
    )
    return this.orchestrator.runsForEvent(eventId).map((r) => r.id)
  }

  async waitForStatus(
    runId: string,
    status: RunDetail['status'] | Array<RunDetail['status']>,
  ): Promise<RunDetail> {
    const wanted = Array.isArray(status) ? status : [status]
    await waitFor(
      () => wanted.includes(this.run(runId).status),
      `run ${runId} to be ${wanted.join('|')}`,
      () => JSON.stringify(this.run(runId), null, 1),
    )
    return this.run(runId)
  }

  /** Jobs queued or running, by kind. */
  jobs(): Array<{ kind: string; run_at: number; status: string }> {
    return this.db.prepare(`SELECT kind, run_at, status FROM jobs ORDER BY run_at`).all() as Array<{
      kind: string
      run_at: number
      status: string
    }>
  }

  async close(keepDir = false): Promise<void> {
    await this.queue.stop(1000)
    this.db.close()
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Poll (real time) until `check` holds; fail with `what` (and `detail()`) after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  what: string,
  detail?: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ''}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Let queued work (woken jobs, pending I/O) settle without waiting for anything particular. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((r) => setTimeout(r, ms))
}

/**
 * The order-fulfilment set-up both engine-level tests share: the shop and 3PL sources (Standard Webhooks),
 * the secrets the example workflow reads, and the example itself from resources/examples.
 */
export async function installOrderFulfilment(
  engine: Pick<Engine, 'call'>,
  options: {
    shopSecret: string
    tplOutbound: string
    secrets: {
      inventoryUrl: string
      tplUrl: string
      tplSecret: string
      notifyUrl: string
      platformUrl: string
    }
  },
): Promise<void> {
  await engine.call('sources.create', {
    id: 'shop',
    name: 'Shop',
    provider: 'standard-webhooks',
    secret: options.shopSecret,
  })
  await engine.call('sources.create', {
    id: '3pl',
    name: '3PL',
    provider: 'standard-webhooks',
    secret: options.tplOutbound,
  })
  for (const [name, value] of Object.entries(options.secrets))
    await engine.call('secrets.put', { name, value })
  await engine.call(
    'workflows.create',
    JSON.parse(readFileSync('resources/examples/order-fulfilment.json', 'utf8')),
  )
}
