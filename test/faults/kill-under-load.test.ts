import { describe, expect, it } from 'vitest'
import { runCrashScenario } from './crash-scenario'
import { recordFaultResult } from './fault-results'

describe('kill -9 under load, repeated', () => {
  it('loses no acknowledged event, repeats no completed step, and finishes every run', async () => {
    const result = await runCrashScenario({
      kills: 4,
      requestsPerRound: 2500,
      connections: 64,
      killAtFraction: 0.4,
      settleTimeoutMs: 240_000,
      workflowEvery: 5,
    })
    recordFaultResult('kill-under-load', {
      kills: result.kills,
      events: result.acked,
      lost: result.lostAcks.length,
      details: {
        sent: result.sent,
        acked: result.acked,
        storedAccepted: result.storedAccepted,
        orchestrator: result.orchestrator,
        runsForAckedEvents: result.ackedRuns,
        runs: result.storedRunEvents,
        stepCalls: result.stepCalls,
        distinctIdempotencyKeys: result.distinctKeys,
        repeatedCallsOfInFlightSteps: result.stepCalls - result.distinctKeys,
        jobsInFlightAtKills: result.inFlightAtKills,
        missingEffects: result.missingEffects.length,
        repeatedDispatch: result.repeatedDispatch.length,
        unfinishedRuns: result.unfinishedRuns,
        leftoverJobs: result.leftoverJobs,
        settled: result.settled,
      },
    })
    expect(result.lostAcks).toEqual([])
    expect(result.wrongStatus).toEqual([])
    expect(result.settled).toBe(true)
    if (result.orchestrator) {
      expect(result.leftoverJobs).toEqual({})
      expect(result.missingEffects).toEqual([])
      expect(result.repeatedDispatch).toEqual([])
      // One key per (run, http step): no completed step ran under a second key, and every run made both calls.
      expect(result.distinctKeys).toBe(result.storedRunEvents * 2)
      // A call repeats only when its step was in flight at a kill (same key: the receiver can dedupe it).
      expect(result.stepCalls - result.distinctKeys).toBeLessThanOrEqual(result.inFlightAtKills)
      expect(result.unfinishedRuns).toEqual({})
    } else {
      expect(result.dispatchMismatches).toEqual([])
    }
  })
})
