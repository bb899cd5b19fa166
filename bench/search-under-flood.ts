import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Webhook } from 'standardwebhooks'
import { createEngine } from '../src/core/engine'
import { tempDir } from '../test/support/temp-dir'
import { signedRequest } from './signed-request'
import { unavailable, type BenchRow } from './table'
import { findWrk, runWrk } from './wrk'

/** The longest stretch the event loop did not turn, seen by a 5 ms ticker, from `start` to `stop`. */
class LoopGaps {
  private last = performance.now()
  private longest = 0
  private readonly ticker = setInterval(() => {
    const now = performance.now()
    this.longest = Math.max(this.longest, now - this.last)
    this.last = now
  }, 5)

  /** Forget what was seen so far and start a new window. */
  restart(): void {
    this.last = performance.now()
    this.longest = 0
  }

  get longestMs(): number {
    return this.longest
  }

  stop(): void {
    clearInterval(this.ticker)
  }
}

/**
 * A search asked in the middle of a webhook flood. While webhooks arrive the search indexer keeps to a small
 * share of the loop, so the index falls behind; a search first catches it up, in batches that leave intake
 * running. Two figures, each against a baseline from the same run: the longest stop of the engine's event loop
 * (which is what answers webhooks) while the search runs, against the longest stop in the same flood just
 * before it; and the search's time, against the same search once the flood is over and the index caught up.
 *
 * The engine runs in this process (the loop is what is measured); wrk sends the flood from its own process.
 */
export async function runSearchUnderFloodBench(options: { floodMs: number }): Promise<BenchRow[]> {
  const wrk = findWrk()
  if (!wrk) return [unavailable('search during a flood', 'ms', 'n/a (wrk is not installed)')]
  const dir = tempDir('switchboard-bench-search-')
  const secret = `whsec_${randomBytes(24).toString('base64')}`
  const signer = new Webhook(secret)
  const engine = createEngine({
    dataDir: dir.path,
    receiver: { port: 0, host: '127.0.0.1' },
    tunnel: { mode: 'off' },
  })
  const gaps = new LoopGaps()
  try {
    await engine.call('sources.create', { id: 'flood', name: 'Flood', provider: 'standard-webhooks', secret })
    const { receiverUrl } = await engine.start()
    const count = Math.ceil((15_000 * options.floodMs) / 1000)
    const flood = runWrk({
      wrk,
      url: receiverUrl,
      path: '/hooks/flood',
      connections: 50,
      durationMs: options.floodMs,
      count,
      file: join(dir.path, 'requests.bin'),
      build: (i) =>
        signedRequest(
          signer,
          '/hooks/flood',
          JSON.stringify({ type: 'flood.event', n: i, note: `delivery ${i} of the flood` }),
        ),
    })
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    const stored = () => engine.db.prepare(`SELECT COALESCE(MAX(seq), 0) FROM events`).pluck().get() as number
    const indexed = () => engine.searchIndexedUpTo()
    // The requests file is written before wrk starts: wait for the first events, then half the flood.
    while (stored() === 0) await sleep(20)
    await sleep(options.floodMs / 2 - 3000)
    gaps.restart()
    await sleep(3000)
    const quietGapMs = gaps.longestMs
    const behind = stored() - indexed()
    gaps.restart()
    const searchStarted = performance.now()
    const { searchPending } = await engine.call('events.list', { q: 'flood', limit: 50 })
    const searchMs = performance.now() - searchStarted
    const searchGapMs = gaps.longestMs
    const result = await flood
    await engine.call('events.list', { q: 'flood', limit: 50 })
    const idleStarted = performance.now()
    await engine.call('events.list', { q: 'flood', limit: 50 })
    const idleSearchMs = performance.now() - idleStarted
    const rate = Math.round(result.okPerSecond).toLocaleString('en-US')
    return [
      {
        name: 'search during a flood: longest stop of intake',
        value: searchGapMs,
        unit: 'ms',
        baseline: { name: 'longest stop in the 3 s of the same flood before it', value: quietGapMs },
        ratio: searchGapMs / quietGapMs,
        note: `${behind.toLocaleString('en-US')} events not yet indexed when the search was asked, ${rate} webhooks/s acknowledged; the longest gap between 5 ms ticks of the engine's event loop`,
      },
      {
        name: 'search during a flood: answered in',
        value: searchMs,
        unit: 'ms',
        baseline: { name: 'the same search after the flood', value: idleSearchMs },
        ratio: searchMs / idleSearchMs,
        note: `the search waits for the index to catch up, which it does in batches that leave intake running${
          searchPending ? `; it gave up waiting, ${searchPending} events unseen` : ''
        }`,
      },
    ]
  } finally {
    gaps.stop()
    await engine.stop()
    dir.remove()
  }
}
