import { mkdirSync } from 'node:fs'
import type { LookupFunction } from 'node:net'
import { join } from 'node:path'
import {
  ApiError,
  OPERATION_NAMES,
  parseInput,
  type OperationHandlers,
  type OperationName,
  type OperationResult,
} from '../shared/contract'
import { ChangeBus } from './changes'
import { systemClock, type Clock } from './clock'
import { DedupIndex } from './events/dedup-index'
import { EventStore } from './events/event-store'
import { INDEX_FILE_NAME, SearchIndex } from './events/search-index'
import { createOrchestrator } from './orchestrator'
import { createTunnelSupervisor, storedTunnelConfig } from './tunnel'
import { countOpenDeadLetters, createMonitor } from './monitor'
import { listPresets } from './providers'
import { Queue } from './queue/queue'
import { Receiver, type ReceiverLimits, type ReceiverObservation } from './receiver/receiver'
import { KeyFileCipher, type SecretCipher } from './secrets/cipher'
import { SecretVault } from './secrets/vault'
import { sendSample } from './sources/send-sample'
import { SourceStore } from './sources/source-store'
import { ActionLog } from './store/actions'
import { openDatabase, restrictToOwner, STORE_FILE_NAME, type Db } from './store/database'
import { DataDirLock } from './store/data-dir-lock'
import { Settings } from './store/settings'

export type Log = (level: 'info' | 'warn' | 'error', message: string, data?: object) => void

export interface EngineConfig {
  /** Holds switchboard.db and, when no cipher is given, secret.key. */
  dataDir: string
  receiver?: { port?: number; host?: string; limits?: Partial<ReceiverLimits> }
  tunnel?: {
    mode: 'tunnel' | 'external' | 'off'
    host?: string
    subdomain?: string
    externalUrl?: string
    /** DNS override for the tunnel's HTTP clients (tests map relay names to 127.0.0.1). */
    lookup?: LookupFunction
    probeIntervalMs?: number
    probeTimeoutMs?: number
  }
  clock?: Clock
  random?: () => number
  /** Encrypts secrets at rest; defaults to a key file (mode 0600) in the data folder. */
  cipher?: SecretCipher
  /** Outgoing HTTP for workflow steps. */
  fetch?: typeof fetch
  /** Inbound events with a Switchboard-Hop above this are stored as blocked and trigger nothing. */
  hopLimit?: number
  /** Global worker limit: jobs running at once. */
  workers?: number
  /** better-sqlite3 addon to load (the desktop app's Electron-ABI build). */
  nativeBinding?: string
  /** How long a search waits for the full-text index to catch up before it answers without the rest (1500 ms). */
  searchWaitMs?: number
  migrationsDir?: string
  version?: string
  log?: Log
  /**
   * Outgoing webhook for alerts (signed with Standard Webhooks). When given it wins over the one set through
   * `alerts.webhook.set` (which then answers 409 and shows it as fixed by configuration); absent or null: the
   * stored setting applies.
   */
  alertWebhook?: { url: string; secret: string } | null
}

export interface Engine {
  /** One handler per contract operation, given parsed input. */
  readonly operations: OperationHandlers
  /** Parse raw input with the operation's schema, then handle it: what the control API and IPC both call. */
  call<K extends OperationName>(name: K, rawInput: unknown): Promise<OperationResult<K>>
  readonly changes: ChangeBus
  readonly db: Db
  readonly clock: Clock
  start(): Promise<{ receiverUrl: string }>
  /** Stop in order: intake first, then workers and the tunnel, the store last. */
  stop(): Promise<void>
  receiverUrl(): string
  /** Metrics in the Prometheus text format (`GET /api/metrics?format=prometheus`). */
  prometheus(): string
  /** The newest event seq the full-text index covers (it catches up in the background after acks). */
  searchIndexedUpTo(): number
}

/** The composition root: builds every part and hands each its dependencies. It only wires. */
export function createEngine(config: EngineConfig): Engine {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const lock = new DataDirLock(config.dataDir)
  lock.acquire()
  const clock = config.clock ?? systemClock
  const random = config.random ?? Math.random
  const log: Log = config.log ?? (() => {})
  const hopLimit = config.hopLimit ?? 5
  const workers = config.workers ?? 8
  const file = join(config.dataDir, STORE_FILE_NAME)
  restrictToOwner(file)
  // Intake (acknowledged writes, fsynced per group commit) and work (workers' bookkeeping): see openDatabase.
  const db = openDatabase({ file, migrationsDir: config.migrationsDir, nativeBinding: config.nativeBinding })
  const workDb = openDatabase({
    file,
    nativeBinding: config.nativeBinding,
    synchronous: 'NORMAL',
    migrate: false,
  })
  const cipher = config.cipher ?? new KeyFileCipher(join(config.dataDir, 'secret.key'))
  const changes = new ChangeBus()
  const settings = new Settings(workDb)
  const actions = new ActionLog(workDb)
  const startedAt = clock.now()
  const receiverHost = config.receiver?.host ?? '127.0.0.1'
  let receiverPort = config.receiver?.port ?? 7770
  let intakePaused = settings.get('intake.paused') === 'true'

  const receiverBase = () =>
    `http://${receiverHost.includes(':') ? `[${receiverHost}]` : receiverHost}:${receiverPort}`
  // The tunnel is built after the stores that read its public URL, so they read it through this.
  let tunnelUrl = (): string | null => null
  const publicBase = () => tunnelUrl()

  const sources = new SourceStore(db, cipher, clock, changes, { receiverBase, publicBase })
  // Read once, before intake opens: every key an accepted event owns (see DedupIndex).
  const dedup = DedupIndex.load(db)
  const events = new EventStore(db, dedup)
  const searchIndex = new SearchIndex({
    storeFile: file,
    indexFile: join(config.dataDir, INDEX_FILE_NAME),
    nativeBinding: config.nativeBinding,
    searchWaitMs: config.searchWaitMs,
    log,
  })
  events.useSearchIndex(searchIndex.reader)
  const queue = new Queue(workDb, {
    clock,
    random,
    concurrency: workers,
    onError: (error) => log('error', 'queue', { error: String(error) }),
    onDead: (job, error) => log('warn', `job ${job.id} (${job.kind}) dead-lettered`, { error }),
  })
  const observers: Array<(o: ReceiverObservation) => void> = []
  const receiver = new Receiver({
    db,
    sources,
    events,
    queue,
    clock,
    changes,
    hopLimit,
    isPaused: () => intakePaused,
    listensTo: (sourceId) => orchestrator.listensTo(sourceId),
    observe: (o) => observers.forEach((fn) => fn(o)),
    limits: config.receiver?.limits,
    log,
  })

  const orchestrator = createOrchestrator({
    db: workDb,
    queue,
    clock,
    changes,
    actions,
    random,
    vault: new SecretVault(workDb, cipher, clock),
    fetch: config.fetch ?? fetch,
    hopLimit,
    workers,
    loadEvent: (id) => events.load(id),
    sourceExists: (id) => sources.exists(id),
    callbackUrl: () => publicBase() ?? receiverBase(),
    log,
  })
  const monitor = createMonitor({
    db: workDb,
    clock,
    changes,
    random,
    settings,
    dataDir: config.dataDir,
    queueDepth: () => queue.depth(),
    deadLettersOpen: countOpenDeadLetters(workDb),
    fetch: config.fetch,
    cipher,
    alertWebhook: config.alertWebhook ?? null,
    actions,
    onDedupKeysDeleted: (deleted) => dedup.release(deleted),
    searchBacklog: () => searchIndex.backlog(),
    log,
  })
  observers.push(monitor.observe)

  // Explicit configuration (CLI flags) wins; else what the user last chose in the UI; else the public relay.
  const { lookup, probeIntervalMs, probeTimeoutMs, ...tunnelConfig } = config.tunnel ?? {
    ...(storedTunnelConfig(settings) ?? { mode: 'tunnel' as const }),
  }
  const tunnel = createTunnelSupervisor(tunnelConfig, {
    localPort: () => receiverPort,
    localHost: receiverHost === '0.0.0.0' || receiverHost === '::' ? '127.0.0.1' : receiverHost,
    clock,
    random,
    changes,
    settings,
    alerts: monitor.alerts,
    affectedSources: () => sources.list().map((s) => s.id),
    lookup,
    probeIntervalMs,
    probeTimeoutMs,
    log,
  })
  tunnelUrl = () => tunnel.publicUrl()
  receiver.answerProbe = (nonce) => tunnel.answerProbe(nonce)

  events.setRunCounter((ids) => orchestrator.runCounts(ids))
  changes.subscribe((change) => {
    if (change.type !== 'event') return
    searchIndex.notify()
  })

  const core: Partial<OperationHandlers> = {
    'health.get': () => ({
      ok: true,
      version: config.version ?? '0.1.0',
      uptimeMs: clock.now() - startedAt,
      intakePaused,
    }),
    'providers.list': () => ({ items: listPresets() }),
    'sources.list': () => ({ items: sources.list() }),
    'sources.create': (input) => sources.create(input),
    'sources.get': ({ id }) => sources.get(id),
    'sources.update': (input) => sources.update(input),
    'sources.delete': ({ id }) => {
      // A source that enabled workflows or waiting runs depend on is refused, not deleted (see the orchestrator).
      if (sources.exists(id)) orchestrator.checkSourceRemovable(id)
      sources.delete(id)
      return { deleted: true as const }
    },
    'sources.rotateSecret': ({ id, secret, graceSeconds }) => {
      const result = sources.rotateSecret(id, secret, graceSeconds)
      changes.emit({
        type: 'action',
        action: actions.record('rotate-secret', id, { graceSeconds }, clock.now()),
      })
      return result
    },
    'sources.sendTest': async ({ id }) => {
      const source = sources.runtime(id)
      if (!source) throw new ApiError('not_found', `no source ${id}`)
      const result = await sendSample(receiverBase(), source)
      changes.emit({
        type: 'action',
        action: actions.record(
          'test-event',
          id,
          { status: result.status, eventId: result.eventId },
          clock.now(),
        ),
      })
      return result
    },
    'events.list': async (input) => {
      // A search sees every event committed before it: the index catches up first, without stopping intake.
      // While it is being rebuilt, the search answers after a bounded wait and says what it could not see.
      const searchPending = input.q ? await searchIndex.catchUp() : 0
      const page = events.list(input)
      return searchPending > 0 ? { ...page, searchPending } : page
    },
    'events.get': ({ id }) => ({ ...events.detail(id), runs: orchestrator.runsForEvent(id) }),
    'events.body': ({ id }) => {
      const { contentType, body, truncated } = events.body(id)
      return { contentType, base64: body.toString('base64'), truncated }
    },
    'actions.list': ({ before, limit }) => actions.list(limit, before),
    'tunnel.get': () => tunnel.status(),
    'tunnel.configure': async (input) => {
      const status = await tunnel.configure(input)
      sources.invalidate()
      return status
    },
    'intake.get': () => ({ paused: intakePaused }),
    'intake.set': ({ paused }) => {
      intakePaused = paused
      settings.set('intake.paused', String(paused))
      changes.emit({ type: 'intake', paused })
      return { paused }
    },
  }

  const handlers: Partial<OperationHandlers> = { ...core, ...orchestrator.operations, ...monitor.operations }
  // Every contract operation must have a handler: a missing one is a wiring bug, caught at construction.
  const unhandled = OPERATION_NAMES.filter((name) => !handlers[name])
  if (unhandled.length) throw new Error(`no handler for ${unhandled.join(', ')}`)
  const operations = handlers as OperationHandlers

  let started = false
  return {
    operations,
    changes,
    db,
    clock,
    async call(name, rawInput) {
      const input = parseInput(name, rawInput)
      const handler = operations[name] as (input: unknown) => unknown
      return (await handler(input)) as OperationResult<typeof name>
    },
    async start() {
      const address = await receiver.listen(receiverPort, receiverHost)
      receiverPort = address.port
      sources.invalidate()
      const recovered = queue.recoverAbandoned()
      if (recovered)
        log('info', `${recovered} job(s) left running by a previous process returned to the queue`)
      orchestrator.start()
      queue.start()
      monitor.start()
      tunnel.start()
      searchIndex.start()
      started = true
      log('info', `receiver listening on ${receiverBase()}`)
      return { receiverUrl: receiverBase() }
    },
    async stop() {
      if (started) {
        await receiver.close()
        await tunnel.stop()
        await orchestrator.stop()
        await queue.stop()
      }
      started = false
      await searchIndex.stop()
      monitor.stop()
      workDb.close()
      db.close()
      lock.release()
    },
    receiverUrl: receiverBase,
    prometheus: () => monitor.prometheus(),
    searchIndexedUpTo: () => searchIndex.indexedUpTo(),
  }
}
