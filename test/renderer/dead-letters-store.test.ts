import { describe, expect, it, vi } from 'vitest'
import { createDeadLettersStore, BULK_CHUNK } from '../../src/renderer/src/state/dead-letters-store'
import { makeRun } from './fixtures'

describe('bulk retry of dead letters', () => {
  it('counts what the filter covers, waits for confirmation, then retries in chunks with progress', async () => {
    const dead = Array.from({ length: BULK_CHUNK + 5 }, () => makeRun({ status: 'dead', workflowId: 'wf' }))
    const listCalls: unknown[] = []
    const bulkCalls: string[][] = []
    const client = {
      'runs.list': vi.fn(async (args: { before?: string }) => {
        listCalls.push(args)
        return args.before
          ? { items: dead.slice(20), nextCursor: null }
          : { items: dead.slice(0, 20), nextCursor: '99' }
      }),
      'runs.retryBulk': vi.fn(async (args: { ids?: string[] }) => {
        bulkCalls.push(args.ids!)
        return { retried: args.ids!.slice(1), skipped: [{ id: args.ids![0]!, reason: 'not dead any more' }] }
      }),
    }
    const store = createDeadLettersStore(client as never)
    store.store.setState({ filter: { source: 'shop', workflow: 'wf' } })
    await store.prepareBulk()
    expect(listCalls[0]).toEqual({ status: 'dead', source: 'shop', workflow: 'wf', limit: 500 })
    expect(store.store.getState().bulk).toMatchObject({ phase: 'confirm', ids: dead.map((r) => r.id) })
    expect(client['runs.retryBulk']).not.toHaveBeenCalled()

    const progress: number[] = []
    store.store.subscribe((s) => progress.push(s.bulk.done))
    await store.runBulk()
    expect(bulkCalls.map((c) => c.length)).toEqual([BULK_CHUNK, 5])
    expect(progress).toContain(BULK_CHUNK)
    const bulk = store.store.getState().bulk
    expect(bulk.phase).toBe('done')
    expect(bulk.done).toBe(dead.length)
    expect(bulk.retried).toHaveLength(dead.length - 2)
    expect(bulk.skipped).toHaveLength(2)
  })

  it('stops and says why when a chunk fails', async () => {
    const client = {
      'runs.list': vi.fn(async () => ({ items: [makeRun({ status: 'dead' })], nextCursor: null })),
      'runs.retryBulk': vi.fn(async () => {
        throw new Error('database locked')
      }),
    }
    const store = createDeadLettersStore(client as never)
    await store.prepareBulk()
    await store.runBulk()
    expect(store.store.getState().bulk).toMatchObject({ phase: 'error', error: 'database locked', done: 0 })
  })

  it('drops a run from the list once it is retried or resolved', async () => {
    const run = makeRun({ status: 'dead' })
    const client = {
      'runs.list': vi.fn(async () => ({ items: [run], nextCursor: null })),
      'runs.retryBulk': vi.fn(),
    }
    const store = createDeadLettersStore(client as never)
    await store.load()
    expect(store.store.getState().items).toHaveLength(1)
    store.applyChanges([{ type: 'run', run: { ...run, status: 'queued' } }])
    expect(store.store.getState().items).toHaveLength(0)
    store.applyChanges([{ type: 'run', run: { ...run, status: 'dead' } }])
    expect(store.store.getState().items).toHaveLength(1)
    store.applyChanges([{ type: 'run', run: { ...run, status: 'dead', resolvedAt: 5 } }])
    expect(store.store.getState().items).toHaveLength(0)
  })

  it('reloads when a run dies while a source filter is set (a run summary does not name its source)', async () => {
    vi.useFakeTimers()
    try {
      const run = makeRun({ status: 'dead' })
      let stored: ReturnType<typeof makeRun>[] = []
      const client = {
        'runs.list': vi.fn(async () => ({ items: stored, nextCursor: null })),
        'runs.retryBulk': vi.fn(),
      }
      const store = createDeadLettersStore(client as never)
      await store.setFilter({ source: 'shop' })
      expect(store.store.getState().items).toHaveLength(0)
      stored = [run]
      store.applyChanges([{ type: 'run', run }])
      store.applyChanges([{ type: 'run', run: makeRun({ status: 'dead' }) }])
      expect(client['runs.list']).toHaveBeenCalledTimes(1)
      await vi.advanceTimersByTimeAsync(300)
      expect(client['runs.list']).toHaveBeenCalledTimes(2)
      expect(store.store.getState().items.map((r) => r.id)).toEqual([run.id])
    } finally {
      vi.useRealTimers()
    }
  })
})
