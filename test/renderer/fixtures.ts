/** Small builders for the domain objects the renderer tests feed the stores and components. */
import type { EventSummary, RunSummary } from '../../src/shared/domain'

let seq = 0

export function makeEvent(patch: Partial<EventSummary> = {}): EventSummary {
  seq++
  return {
    id: `evt_${String(seq).padStart(6, '0')}`,
    sourceId: 'shop',
    provider: 'standard-webhooks',
    receivedAt: Date.UTC(2026, 0, 1, 12, 0, 0) + seq * 1000,
    method: 'POST',
    path: '/hooks/shop',
    type: 'order.placed',
    status: 'accepted',
    verification: 'verified',
    reason: null,
    dedupId: `msg_${seq}`,
    duplicateOf: null,
    hop: 0,
    contentType: 'application/json',
    bodySize: 42,
    summary: `Order ${seq} placed`,
    runCount: 0,
    ...patch,
  }
}

export function makeRun(patch: Partial<RunSummary> = {}): RunSummary {
  seq++
  return {
    id: `run_${String(seq).padStart(6, '0')}`,
    eventId: 'evt_000001',
    workflowId: 'fulfil',
    workflowVersion: 1,
    workflowName: 'Fulfil orders',
    status: 'running',
    currentStep: 'stock',
    error: null,
    resolvedAt: null,
    createdAt: 1000 + seq,
    updatedAt: 1000 + seq,
    finishedAt: null,
    dryRun: false,
    ...patch,
  }
}

/** A frame scheduler the test advances by hand, counting frames. */
export function manualFrames() {
  let queue: Array<() => void> = []
  return {
    schedule(callback: () => void) {
      queue.push(callback)
      return () => {
        queue = queue.filter((c) => c !== callback)
      }
    },
    get waiting() {
      return queue.length
    },
    frame() {
      const run = queue
      queue = []
      for (const c of run) c()
    },
  }
}
