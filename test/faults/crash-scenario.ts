import Database from 'better-sqlite3'
import { join } from 'node:path'
import { runLoad } from '../support/load'
import { tempDir } from '../support/temp-dir'
import { startCountingServer } from './counting-server'
import { spawnHeadless, type HeadlessProcess } from './headless-process'

export interface CrashScenarioOptions {
  /** kill -9 rounds (each: start, load, kill mid-stream). A final clean start follows them. */
  kills: number
  /** Webhooks fired per round. */
  requestsPerRound: number
  connections: number
  /** Kill when this fraction of the round's requests has been acknowledged. */
  killAtFraction: number
  /** How long the final start may take to finish every job. */
  settleTimeoutMs: number
  /**
   * Every k-th event has type `crash.run` and starts the counting workflow; the rest only go through dispatch.
   * (Each job costs a few fsync'd commits, so a run per event would not fit a test's time.)
   */
  workflowEvery: number
}

export interface CrashScenarioResult {
  kills: number
  sent: number
  acked: number
  /** Jobs that were leased (running) in the killed processes, summed over kills: the in-flight work at each kill. */
  inFlightAtKills: number
  /** Acked events that trigger the workflow. */
  ackedRuns: number
  /** Stored accepted events that trigger the workflow (acked or not: one run each). */
  storedRunEvents: number
  /** Acked events missing from the store (must be 0). */
  lostAcks: string[]
  /** Acked events whose status is not `accepted` (must be empty: every body is unique). */
  wrongStatus: string[]
  storedAccepted: number
  orchestrator: boolean
  /** Without the orchestrator: accepted events without exactly one dispatch job. */
  dispatchMismatches: string[]
  /** With the orchestrator: HTTP step calls received, and distinct Idempotency-Keys among them. */
  stepCalls: number
  distinctKeys: number
  /** Acked events `n` whose workflow steps did not all reach the counting server. */
  missingEffects: number[]
  /** Events with more than one run (distinct run ids in their keys): a dispatch repeated. */
  repeatedDispatch: number[]
  /** Runs not `succeeded` at the end, by status. */
  unfinishedRuns: Record<string, number>
  /** Jobs left at the end (queued, running or dead), by kind and status. */
  leftoverJobs: Record<string, number>
  /** Whether the final start finished every job before settleTimeoutMs. */
  settled: boolean
  stderrTail: string
}

const SOURCE = 'crash'
const WORKFLOW = 'crash-count'
/** The steps whose calls the counting server sees; `Idempotency-Key` is `<runId>:<stepId>`. */
const HTTP_STEPS = ['first', 'second'] as const

/**
 * Start the headless server as a child process, fire concurrent webhooks, kill -9 it mid-stream, restart it on
 * the same data folder — `kills` times — then restart once more, let it finish, and collect the evidence:
 * which acknowledged events are stored, and (with the orchestrator) how often each workflow step reached a
 * local counting server.
 */
export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioResult> {
  const dir = tempDir('switchboard-crash-')
  const counting = await startCountingServer()
  const acked = new Map<number, string>()
  let sent = 0
  let orchestrator = false
  let inFlightAtKills = 0
  let server: HeadlessProcess | null = null
  const pad = 'x'.repeat(600)
  try {
    for (let round = 0; round <= options.kills; round++) {
      server = await spawnHeadless({ dataDir: dir.path })
      if (round === 0) orchestrator = await setUp(server, counting.url)
      if (round === options.kills) break
      const base = round * options.requestsPerRound
      const abort = new AbortController()
      const killAt = Math.max(1, Math.floor(options.requestsPerRound * options.killAtFraction))
      let okThisRound = 0
      const kill: { done: Promise<void> | null } = { done: null }
      const live = server
      const load = await runLoad({
        url: server.receiverUrl,
        connections: options.connections,
        requests: options.requestsPerRound,
        signal: abort.signal,
        timeoutMs: 10_000,
        build: (i) => ({
          path: `/hooks/${SOURCE}`,
          headers: { 'content-type': 'application/json', 'idempotency-key': `n-${base + i}` },
          body: JSON.stringify({
            type: (base + i) % options.workflowEvery === 0 ? 'crash.run' : 'crash.test',
            n: base + i,
            pad,
          }),
        }),
        onResponse: (i, status, body) => {
          if (status !== 200) return
          acked.set(base + i, (JSON.parse(body) as { id: string }).id)
          if (++okThisRound === killAt) {
            abort.abort()
            kill.done = live.kill9()
          }
        },
      })
      sent += load.sent
      await (kill.done ?? live.kill9())
      server = null
      inFlightAtKills += expireLeases(dir.path)
    }
    const final = server!
    const settled = await waitForJobs(dir.path, options.settleTimeoutMs)
    await final.stop()
    const stderrTail = final.stderr().slice(-2000)
    server = null
    return {
      ...collect(dir.path, acked, counting.calls, orchestrator, options.workflowEvery),
      kills: options.kills,
      sent,
      inFlightAtKills,
      settled,
      stderrTail,
    }
  } finally {
    if (server) await server.kill9()
    await counting.close()
    dir.remove()
  }
}

/** Create the source and, when the orchestrator is built (workflows.create is not 503), the counting workflow. */
async function setUp(server: HeadlessProcess, countingUrl: string): Promise<boolean> {
  const source = await server.api('POST', '/api/sources', {
    id: SOURCE,
    name: 'Crash test',
    provider: 'none',
  })
  if (source.status !== 201) throw new Error(`could not create the source: ${JSON.stringify(source.json)}`)
  const workflow = await server.api('POST', '/api/workflows', {
    id: WORKFLOW,
    name: 'Count every event',
    enabled: true,
    trigger: { source: SOURCE, types: ['crash.run'] },
    steps: [
      {
        id: HTTP_STEPS[0],
        kind: 'http',
        method: 'POST',
        url: `${countingUrl}/first`,
        body: { n: '{{ event.n }}' },
      },
      { id: 'mark', kind: 'set', values: { n: '{{ event.n }}' } },
      {
        id: HTTP_STEPS[1],
        kind: 'http',
        method: 'POST',
        url: `${countingUrl}/second`,
        body: { n: '{{ event.n }}' },
      },
    ],
  })
  if (workflow.status === 503) return false
  if (workflow.status !== 201 && workflow.status !== 200) {
    throw new Error(`could not create the workflow: ${workflow.status} ${JSON.stringify(workflow.json)}`)
  }
  return true
}

/**
 * After a kill -9 the dead process's claims stay leased until their lease (60 s) runs out; rather than wait a
 * minute, the test moves those leases into the past — exactly the state the store is in a minute later — so the
 * restart exercises the expired-lease path at once. Returns how many jobs were in flight at the kill.
 */
function expireLeases(dataDir: string): number {
  const db = new Database(join(dataDir, 'switchboard.db'))
  try {
    return db.prepare(`UPDATE jobs SET lease_until = 0 WHERE status = 'running'`).run().changes
  } finally {
    db.close()
  }
}

/** Wait (reading the store, as any SQLite reader may under WAL) until no job is queued or running. */
async function waitForJobs(dataDir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true })
  try {
    const pending = db.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`)
    while (Date.now() < deadline) {
      if ((pending.get() as { n: number }).n === 0) return true
      await new Promise((r) => setTimeout(r, 200))
    }
    return false
  } finally {
    db.close()
  }
}

function collect(
  dataDir: string,
  acked: Map<number, string>,
  calls: Array<{ key: string | null; body: string }>,
  orchestrator: boolean,
  workflowEvery: number,
): Omit<CrashScenarioResult, 'kills' | 'sent' | 'inFlightAtKills' | 'settled' | 'stderrTail'> {
  const db = new Database(join(dataDir, 'switchboard.db'), { readonly: true })
  try {
    const status = new Map<string, string>()
    let storedRunEvents = 0
    const events = db.prepare(`SELECT id, status, type FROM events WHERE source_id = ?`)
    for (const row of events.iterate(SOURCE) as Iterable<{
      id: string
      status: string
      type: string | null
    }>) {
      status.set(row.id, row.status)
      if (row.status === 'accepted' && row.type === 'crash.run') storedRunEvents++
    }
    const lostAcks: string[] = []
    const wrongStatus: string[] = []
    for (const id of acked.values()) {
      const s = status.get(id)
      if (s === undefined) lostAcks.push(id)
      else if (s !== 'accepted') wrongStatus.push(id)
    }
    const accepted = [...status].filter(([, s]) => s === 'accepted').map(([id]) => id)
    const dispatchMismatches: string[] = []
    if (!orchestrator) {
      const jobs = new Map<string, number>()
      for (const row of db.prepare(`SELECT payload FROM jobs WHERE kind = 'dispatch'`).iterate() as Iterable<{
        payload: string
      }>) {
        const eventId = (JSON.parse(row.payload) as { eventId: string }).eventId
        jobs.set(eventId, (jobs.get(eventId) ?? 0) + 1)
      }
      for (const id of accepted) if (jobs.get(id) !== 1) dispatchMismatches.push(id)
    }
    // Per event n: the run ids seen on each step's calls.
    const runsByN = new Map<number, Map<string, Set<string>>>()
    for (const call of calls) {
      if (!call.key) continue
      const n = (JSON.parse(call.body) as { n: unknown }).n
      const colon = call.key.lastIndexOf(':')
      const runId = call.key.slice(0, colon)
      const step = call.key.slice(colon + 1)
      const byStep = runsByN.get(Number(n)) ?? new Map<string, Set<string>>()
      runsByN.set(Number(n), byStep)
      const runs = byStep.get(step) ?? new Set<string>()
      byStep.set(step, runs)
      runs.add(runId)
    }
    const missingEffects: number[] = []
    const repeatedDispatch: number[] = []
    if (orchestrator) {
      for (const n of acked.keys()) {
        if (n % workflowEvery !== 0) continue
        const byStep = runsByN.get(n)
        if (!byStep || HTTP_STEPS.some((s) => !byStep.has(s))) missingEffects.push(n)
      }
      for (const [n, byStep] of runsByN)
        if ([...byStep.values()].some((runs) => runs.size > 1)) repeatedDispatch.push(n)
    }
    const leftoverJobs: Record<string, number> = {}
    for (const row of db
      .prepare(`SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status`)
      .all() as Array<{
      kind: string
      status: string
      n: number
    }>) {
      leftoverJobs[`${row.kind}:${row.status}`] = row.n
    }
    const unfinishedRuns: Record<string, number> = {}
    if (orchestrator) {
      for (const row of db
        .prepare(`SELECT status, COUNT(*) AS n FROM runs WHERE status != 'succeeded' GROUP BY status`)
        .all() as Array<{
        status: string
        n: number
      }>) {
        unfinishedRuns[row.status] = row.n
      }
    }
    return {
      acked: acked.size,
      storedRunEvents,
      ackedRuns: [...acked.keys()].filter((n) => n % workflowEvery === 0).length,
      leftoverJobs,
      unfinishedRuns,
      lostAcks,
      wrongStatus,
      storedAccepted: accepted.length,
      orchestrator,
      dispatchMismatches,
      stepCalls: calls.length,
      distinctKeys: new Set(calls.map((c) => c.key)).size,
      missingEffects,
      repeatedDispatch,
    }
  } finally {
    db.close()
  }
}
