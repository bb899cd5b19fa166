import { describe, expect, it } from 'vitest'
import { runCrashScenario } from '../faults/crash-scenario'

describe('crash safety (headless server as a child process, kill -9 mid-stream)', () => {
  it('keeps every acknowledged webhook and processes each accepted event exactly once after a restart', async () => {
    const result = await runCrashScenario({
      kills: 1,
      requestsPerRound: 1500,
      connections: 50,
      killAtFraction: 0.4,
      settleTimeoutMs: 40_000,
      workflowEvery: 10,
    })
    expect(result.acked).toBeGreaterThan(500)
    expect(result.lostAcks).toEqual([])
    expect(result.wrongStatus).toEqual([])
    expect(result.storedAccepted).toBeGreaterThanOrEqual(result.acked)
    expect(result.settled).toBe(true)
    if (result.orchestrator) {
      // Every dispatch finished (no job left, none dead); every acknowledged `crash.run` event ran both http steps
      // exactly once per step key; no event got two runs; every run succeeded.
      expect(result.leftoverJobs).toEqual({})
      expect(result.missingEffects).toEqual([])
      expect(result.repeatedDispatch).toEqual([])
      expect(result.distinctKeys).toBe(result.storedRunEvents * 2)
      expect(result.unfinishedRuns).toEqual({})
    } else {
      // Until the orchestrator exists: each accepted event (acked or not) has exactly one dispatch job.
      expect(result.dispatchMismatches).toEqual([])
    }
  }, 90_000)
})
