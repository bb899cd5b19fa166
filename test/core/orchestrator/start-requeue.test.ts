import { afterEach, describe, expect, it } from 'vitest'
import { Harness } from './harness'

let harness: Harness | null = null
afterEach(async () => {
  await harness?.close()
  harness = null
})

describe('queued runs at start-up', () => {
  it('gives every queued run without a job its job, a page per transaction with the loop turning between', async () => {
    // No workers: the jobs stay in the table to be counted.
    const before = new Harness({ workers: 0 })
    const now = Date.now()
    const insert = before.db.prepare(
      `INSERT INTO runs (id, event_id, source_id, workflow_id, workflow_version, workflow_name, status, created_at,
         updated_at) VALUES (?, 'evt_x', 'shop', 'wf', 1, 'wf', ?, ?, ?)`,
    )
    before.db.transaction(() => {
      for (let i = 0; i < 2500; i++) insert.run(`run_${i}`, i % 10 === 9 ? 'succeeded' : 'queued', now, now)
    })()
    await before.close(true)

    harness = new Harness({ dir: before.dir, workers: 0 })
    const runJobs = () =>
      harness!.db.prepare(`SELECT key FROM jobs WHERE kind = 'run' ORDER BY id`).pluck().all() as string[]
    // The first thousand before the loop has turned once; the rest after.
    expect(runJobs()).toHaveLength(1000)
    for (let i = 0; i < 50 && runJobs().length < 2250; i++) await new Promise((r) => setImmediate(r))
    const keys = runJobs()
    expect(keys).toHaveLength(2250)
    expect(new Set(keys)).toEqual(
      new Set(
        Array.from({ length: 2500 }, (_, i) => i)
          .filter((i) => i % 10 !== 9)
          .map((i) => `run:run_${i}`),
      ),
    )
  })
})
