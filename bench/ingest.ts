import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { quantile, runLoad, type LoadRequest } from '../test/support/load'
import { startChildServer, type ChildServer } from './child-server'
import { signedRequest } from './signed-request'
import type { BenchRow } from './table'
import { runPaced, type PacedResult } from './paced-load'
import { findWrk, runWrk } from './wrk'

const SERVER = fileURLToPath(new URL('./ingest-server.ts', import.meta.url))

/**
 * (a) bare, (b) reference, (b′) = `v` reference that verifies, (b″) = `m` the reference that does only what the
 * issue names, (c) Switchboard.
 */
type Server = 'a' | 'b' | 'v' | 'm' | 'c'

export interface IngestOptions {
  rounds: number
  roundMs: number
  connections: number
  /** Write a CPU profile of Switchboard's receiver (its main thread) into this folder. */
  profileDir?: string
  /** How long the paced (open-loop) run at PACED_RATE lasts for (b) and for (c). */
  pacedMs: number
}

/** Webhooks a second in the paced run: well below saturation, where the latency a sender sees is not queueing. */
const PACED_RATE = 1000

interface Measured {
  rps: number[]
  /** Every latency (node generator), pooled over rounds. */
  latencies: number[]
  /** Per-round percentiles (wrk reports percentiles, not samples). */
  p50s: number[]
  p99s: number[]
  serverCpu: number[]
  clientCpu: number[]
  non2xx: number
  errors: number
}

/** A 1 KB JSON body (the size the issue names), different per request. */
function body(i: number): string {
  const head = JSON.stringify({ type: 'bench.event', n: i, id: randomUUID(), data: '' })
  return head.replace('"data":""', `"data":"${'x'.repeat(1024 - head.length)}"`)
}

/** Wait (at most `maxMs`) until each server uses under `share` of a core over a `windowMs` window. */
async function untilQuiet(
  servers: ChildServer[],
  windowMs = 250,
  share = 0.03,
  maxMs = 60_000,
): Promise<void> {
  const deadline = performance.now() + maxMs
  while (performance.now() < deadline) {
    const before = servers.map((s) => s.cpuMs())
    await new Promise((r) => setTimeout(r, windowMs))
    if (servers.every((s, i) => (s.cpuMs() - before[i]!) / windowMs < share)) return
  }
}

/**
 * Issue 2's ingest comparison: (a) bare node:http, (b) a minimal durable reference receiver, (c) Switchboard's
 * receiver — each a child process on its own core while this process generates the load on the other — measured
 * in alternating rounds with 1 KB JSON bodies over 50 keep-alive connections. Every server gets the same
 * Standard Webhooks-signed requests, so the client's signing cost is the same for all. Beside them, (b′): the
 * reference plus the signature check and the duplicate check the contract puts before every answer, to show how
 * much of the target's fifth those two alone take.
 */
export async function runIngestBench(options: IngestOptions): Promise<{ rows: BenchRow[]; notes: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-ingest-'))
  const secret = `whsec_${randomBytes(24).toString('base64')}`
  const signer = new Webhook(secret)
  const servers: Record<Server, ChildServer | null> = { a: null, b: null, v: null, m: null, c: null }
  try {
    servers.a = await startChildServer(SERVER, ['bare', dir])
    servers.b = await startChildServer(SERVER, ['reference', dir])
    servers.v = await startChildServer(SERVER, ['reference-verified', dir, secret])
    servers.m = await startChildServer(SERVER, ['reference-mandated', dir, secret])
    servers.c = await startChildServer(
      SERVER,
      ['switchboard', join(dir, 'switchboard'), secret],
      [],
      options.profileDir ? { BENCH_PROFILE_DIR: options.profileDir } : {},
    )
    const provider = servers.c.ready[2]
    const build =
      (path: string) =>
      (i: number): LoadRequest =>
        signedRequest(signer, path, body(i))
    const empty = (): Measured => ({
      rps: [],
      latencies: [],
      p50s: [],
      p99s: [],
      serverCpu: [],
      clientCpu: [],
      non2xx: 0,
      errors: 0,
    })
    const measured: Record<Server, Measured> = { a: empty(), b: empty(), v: empty(), m: empty(), c: empty() }
    const wrk = process.env.BENCH_LOADGEN === 'node' ? null : findWrk()
    // wrk replays requests built beforehand, each once: enough unique ids for the fastest round of (b′), (b″)
    // and (c), learned from their warm-up (a repeated id is answered as a duplicate, which is cheaper); (a) and
    // (b) ignore ids, so a small set repeats for them.
    const needsUniqueIds = (key: Server) => key === 'v' || key === 'm' || key === 'c'
    const perSecond: Record<Server, number> = { a: 0, b: 0, v: 20_000, m: 20_000, c: 20_000 }
    let exhausted = 0
    const order: Server[] = ['a', 'b', 'v', 'm', 'c']
    // Round 0 warms up every server (JIT, page cache, WAL file) and is not counted.
    for (let round = 0; round <= options.rounds; round++) {
      // Rotate the order so no server always runs right after another one's fsync-heavy round.
      const turn = order.map((_, k) => order[(k + round) % order.length]!)
      for (const key of turn) {
        const server = servers[key]!
        // Switchboard indexes for search in the background after a round of its own: wait until every server
        // is quiet, so no round shares the CPU with another server's leftover work.
        await untilQuiet(Object.values(servers).filter((s): s is ChildServer => s !== null))
        const durationMs = round === 0 ? Math.min(2000, options.roundMs) : options.roundMs
        const cpu0 = server.cpuMs()
        const client0 = process.cpuUsage()
        const m = measured[key]
        if (wrk) {
          const count = needsUniqueIds(key)
            ? Math.ceil((perSecond[key] * 1.5 * durationMs) / 1000) + 1000
            : 5000
          const result = await runWrk({
            wrk,
            url: server.ready[0]!,
            path: server.ready[1]!,
            connections: options.connections,
            durationMs,
            build: build(server.ready[1]!),
            count,
            file: join(dir, 'requests.bin'),
          })
          perSecond[key] = Math.max(perSecond[key], result.okPerSecond)
          if (round === 0) continue
          if (needsUniqueIds(key) && result.exhausted) exhausted++
          m.rps.push(result.okPerSecond)
          m.p50s.push(result.p50)
          m.p99s.push(result.p99)
          m.serverCpu.push((server.cpuMs() - cpu0) / result.durationMs)
          m.clientCpu.push(result.cpu)
          m.non2xx += result.non2xx
          m.errors += result.errors
          continue
        }
        const result = await runLoad({
          url: server.ready[0]!,
          connections: options.connections,
          requests: 10_000_000,
          maxDurationMs: durationMs,
          build: build(server.ready[1]!),
        })
        if (round === 0) continue
        const client = process.cpuUsage(client0)
        m.rps.push(result.okPerSecond)
        for (const l of result.latencies) m.latencies.push(l)
        m.serverCpu.push((server.cpuMs() - cpu0) / result.durationMs)
        m.clientCpu.push((client.user + client.system) / 1000 / result.durationMs)
        m.non2xx += result.answered - result.ok
        m.errors += result.errors
      }
    }
    // The closed loop above measures saturation, where latency is mostly the wait in the sockets. Paced below
    // it, latency is what one webhook costs on its way through.
    const paced: Partial<Record<Server, PacedResult>> = {}
    for (const key of ['b', 'c'] as const) {
      const server = servers[key]!
      await untilQuiet(Object.values(servers).filter((s): s is ChildServer => s !== null))
      paced[key] = await runPaced({
        url: server.ready[0]!,
        rate: PACED_RATE,
        count: Math.round((PACED_RATE * options.pacedMs) / 1000),
        build: build(server.ready[1]!),
      })
    }
    const summary = (m: Measured) => {
      const sorted = Float64Array.from(m.latencies).sort()
      return {
        rps: median(m.rps),
        p50: wrk ? median(m.p50s) : quantile(sorted, 0.5),
        p99: wrk ? median(m.p99s) : quantile(sorted, 0.99),
        serverCpu: median(m.serverCpu),
        clientCpu: median(m.clientCpu),
        bad: m.non2xx + m.errors,
      }
    }
    const a = summary(measured.a)
    const b = summary(measured.b)
    const v = summary(measured.v)
    const m = summary(measured.m)
    const c = summary(measured.c)
    const pct = (x: number) => `${Math.round(x * 100)}%`
    const cpuNote = (s: ReturnType<typeof summary>) =>
      `server CPU ${pct(s.serverCpu)}, load generator CPU ${pct(s.clientCpu)}${s.bad ? `; ${s.bad} non-2xx/errors` : ''}`
    const bounds =
      a.serverCpu < 0.9 && a.clientCpu > 0.85
        ? `(a) is bounded by the load generator (its CPU ${pct(a.clientCpu)}, the bare server's ${pct(a.serverCpu)}), so c/a understates the receiver's headroom`
        : `(a) is bounded by the bare server's CPU (${pct(a.serverCpu)})`
    const rows: BenchRow[] = [
      { name: 'ingest (a) bare node:http', value: a.rps, unit: 'req/s', note: cpuNote(a) },
      { name: 'ingest (a) p50 ack latency', value: a.p50, unit: 'ms' },
      { name: 'ingest (a) p99 ack latency', value: a.p99, unit: 'ms' },
      {
        name: 'ingest (b) reference receiver (node:http + SQLite FULL, group commit)',
        value: b.rps,
        unit: 'req/s',
        baseline: { name: '(a)', value: a.rps },
        ratio: b.rps / a.rps,
        note: cpuNote(b),
      },
      { name: 'ingest (b) p50 ack latency', value: b.p50, unit: 'ms' },
      { name: 'ingest (b) p99 ack latency', value: b.p99, unit: 'ms' },
      {
        name: 'ingest (b′) reference + signature and duplicate checks',
        value: v.rps,
        unit: 'req/s',
        baseline: { name: '(b)', value: b.rps },
        ratio: v.rps / b.rps,
        note: `what the two checks every answer needs cost alone, of the target's fifth; ${cpuNote(v)}`,
      },
      {
        name: 'ingest (b″) reference doing only what the issue names',
        value: m.rps,
        unit: 'req/s',
        baseline: { name: '(b)', value: b.rps },
        ratio: m.rps / b.rps,
        note:
          `(b′) plus the event row with every field the issue lists and a queued job in the same transaction: ` +
          `about the most a receiver that does the issue's work can reach; ` +
          cpuNote(m),
      },
      {
        name: `ingest (c) Switchboard receiver (${provider} source)`,
        value: c.rps,
        unit: 'req/s',
        baseline: { name: '(b)', value: b.rps },
        ratio: c.rps / b.rps,
        note: `c/b; target ≥ 0.80${c.rps / b.rps >= 0.8 ? ' (met)' : ' (NOT met)'}; ${cpuNote(c)}`,
      },
      {
        name: 'ingest c/b′',
        value: c.rps,
        unit: 'req/s',
        baseline: { name: '(b′)', value: v.rps },
        ratio: c.rps / v.rps,
        note: 'everything past the two checks: the full event row and its indexes, limits, search, live changes, metrics',
      },
      {
        name: 'ingest c/b″',
        value: c.rps,
        unit: 'req/s',
        baseline: { name: '(b″)', value: m.rps },
        ratio: c.rps / m.rps,
        note:
          "what Switchboard adds to the issue's work: the feed's indexes and summary, secrets kept out of the row, " +
          'limits, search, live changes, metrics (and (c) enqueues no job here: no workflow listens to its source)',
      },
      {
        name: 'ingest c/a',
        value: c.rps,
        unit: 'req/s',
        baseline: { name: '(a)', value: a.rps },
        ratio: c.rps / a.rps,
        note: bounds,
      },
      {
        // CPU time (all the server's threads) per acknowledged webhook: what bounds a closed loop on one core.
        name: 'ingest (c) server CPU per ack',
        value: (c.serverCpu / c.rps) * 1e6,
        unit: 'µs',
        baseline: { name: '(b)', value: (b.serverCpu / b.rps) * 1e6 },
        ratio: c.serverCpu / c.rps / (b.serverCpu / b.rps),
        note: 'median server CPU share over the median rate',
      },
      {
        name: 'ingest (c) p50 ack latency',
        value: c.p50,
        unit: 'ms',
        baseline: { name: '(b)', value: b.p50 },
        ratio: c.p50 / b.p50,
      },
      {
        name: 'ingest (c) p99 ack latency',
        value: c.p99,
        unit: 'ms',
        baseline: { name: '(b)', value: b.p99 },
        ratio: c.p99 / b.p99,
        note: `target ≤ 10 ms${c.p99 <= 10 ? ' (met)' : ' (NOT met)'}`,
      },
      {
        name: `ingest (c) p99 ack latency, paced at ${PACED_RATE.toLocaleString('en-US')}/s`,
        value: paced.c!.p99,
        unit: 'ms',
        baseline: { name: '(b) at the same pace', value: paced.b!.p99 },
        ratio: paced.c!.p99 / paced.b!.p99,
        note:
          `open loop, latency from when each request was due; (c) p50 ${paced.c!.p50.toFixed(2)} ms, ` +
          `max ${paced.c!.max.toFixed(1)} ms; (b) p50 ${paced.b!.p50.toFixed(2)} ms, max ${paced.b!.max.toFixed(1)} ms` +
          (paced.b!.bad + paced.c!.bad ? `; ${paced.b!.bad + paced.c!.bad} non-2xx/errors` : ''),
      },
    ]
    const generator = wrk
      ? `wrk (one thread, replaying requests built and signed beforehand, each sent once${exhausted ? `; ${exhausted} round(s) of (b′) or (c) ran out and repeated some, so they include duplicates` : ''}); ` +
        `latencies are the median over rounds of wrk's per-round percentiles`
      : `the node:http load generator in the bench process (test/support/load.ts; wrk was not found — ` +
        `install the Debian package wrk for a generator that does not saturate first); latencies are pooled over all rounds`
    const notes = [
      `Ingest paced: ${options.pacedMs / 1000} s at ${PACED_RATE}/s to (b), then to (c), from the node:http ` +
        `generator in the bench process (bench/paced-load.ts), after the rounds below.`,
      `Ingest: ${options.rounds} alternating rounds of ${options.roundMs / 1000} s per server after a warm-up round; ` +
        `${options.connections} keep-alive connections; 1 KB JSON bodies signed with the standardwebhooks package ` +
        `(sent to all five so the client's cost is equal). Each server is a child process; the load generator is ` +
        `${generator}. req/s is the median over rounds.`,
    ]
    return { rows, notes }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s?.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
