import type { EventSummary } from '../../shared/domain'
import type { ActionLog } from '../store/actions'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import type { Queue } from '../queue/queue'
import type { SecretVault } from '../secrets/vault'
import type { Db } from '../store/database'

/** An event as the orchestrator reads it: the stored summary, headers, parsed JSON body and raw bytes. */
export interface LoadedEvent {
  summary: EventSummary
  headers: Record<string, string>
  /** The parsed body (undefined/null when it is not JSON). */
  json: unknown
  body: Buffer
  query: string
  /** Path as received, e.g. `/hooks/3pl/runs/run_…` for a run's own callback. */
  path: string
}

export type OrchestratorLog = (level: 'info' | 'warn' | 'error', message: string, data?: object) => void

export interface OrchestratorDeps {
  db: Db
  queue: Queue
  clock: Clock
  changes: ChangeBus
  actions: ActionLog
  random: () => number
  vault: SecretVault
  /** Outgoing HTTP for http and webhook steps. */
  fetch: typeof fetch
  /** The loop guard's limit (the receiver enforces it; kept here for the record). */
  hopLimit: number
  /** Global worker limit; the queue's concurrency is set from the same value. */
  workers: number
  loadEvent(eventId: string): LoadedEvent | null
  sourceExists(id: string): boolean
  /**
   * The public base URL (`scheme://host[:port]`, no path) under which the receiver's `/hooks/…` is reachable,
   * or null when there is none. The orchestrator appends `/hooks/<source>/runs/<runId>` for a run's callback.
   */
  callbackUrl(runId: string, stepId: string): string | null
  log?: OrchestratorLog
  /**
   * How long (ms of wall time) one job carries a run on from step to step before handing it back to the queue;
   * `DEFAULT_CHAIN_BUDGET_MS` when not given, 0 for a job per step.
   */
  chainBudgetMs?: number
}
