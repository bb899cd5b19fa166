import { describe, expect, it } from 'vitest'
import { runCrashScenario } from '../faults/crash-scenario'

describe('crash safety (headless server as a child process, kill -9 mid-stream)', () => {
  it('keeps every acknowledged webhook and processes each accepted event exactly once after a restart', async () => {
    const result = await runCrashScenario({
      kills: 1,
      requestsPerRound: 3000,
      connections: 64,
      killAtFraction: 0.5,
      settleTimeoutMs: 15_000,
    })
    expect(result.acked).toBeGreaterThan(1000)
    expect(result.lostAcks).toEqual([])
    expect(result.wrongStatus).toEqual([])
    expect(result.storedAccepted).toBeGreaterThanOrEqual(result.acked)
    if (result.orchestrator) {
      // Every acknowledged event ran both http steps; no event got two runs; every run finished.
      expect(result.missingEffects).toEqual([])
      expect(result.repeatedDispatch).toEqual([])
      expect(result.distinctKeys).toBe(result.storedAccepted * 2)
      expect(result.unfinishedRuns).toEqual({})
    } else {
      // Until the orchestrator exists: each accepted event (acked or not) has exactly one dispatch job.
      expect(result.dispatchMismatches).toEqual([])
    }
  }, 60_000)
})
