import { describe, expect, it } from 'vitest'
import type { PushBatch, PushMessage } from '../../src/shared/ipc'
import { PushQueue, type PushQueueOptions } from '../../src/main/push-queue'

const intake = (paused: boolean): PushMessage => ({ type: 'intake', paused })
const deleted = (id: string): PushMessage => ({ type: 'workflow-deleted', id })

/** A queue whose deferred sends run when the test says (`endTurn`), recording every batch. */
function queueUnderTest(options: Omit<PushQueueOptions, 'defer'> = {}) {
  const batches: PushBatch[] = []
  const deferred: Array<() => void> = []
  const queue = new PushQueue((batch) => batches.push(batch), {
    ...options,
    defer: (send) => deferred.push(send),
  })
  const endTurn = () => deferred.splice(0).forEach((send) => send())
  const last = () => batches.at(-1)!
  return { queue, batches, endTurn, last }
}

describe('push queue', () => {
  it('holds messages until ready, then delivers them in order, one batch per turn', () => {
    const { queue, batches, endTurn, last } = queueUnderTest()
    queue.push(intake(true))
    queue.push(intake(false))
    endTurn()
    expect(batches).toEqual([])
    queue.markReady()
    expect(batches).toEqual([{ seq: 1, messages: [intake(true), intake(false)] }])
    queue.acknowledge(1)
    queue.push(deleted('a'))
    queue.push(deleted('b'))
    expect(batches).toHaveLength(1)
    endTurn()
    expect(last()).toEqual({ seq: 2, messages: [deleted('a'), deleted('b')] })
  })

  it('sends nothing more until the renderer acknowledges the last batch; other numbers are ignored', () => {
    const { queue, batches, endTurn, last } = queueUnderTest()
    queue.markReady()
    queue.push(deleted('a'))
    endTurn()
    queue.push(deleted('b'))
    queue.push(deleted('c'))
    endTurn()
    expect(batches).toHaveLength(1)
    queue.acknowledge(0)
    queue.acknowledge(2)
    expect(batches).toHaveLength(1)
    expect(queue.backlog).toBe(2)
    queue.acknowledge(1)
    expect(last()).toEqual({ seq: 2, messages: [deleted('b'), deleted('c')] })
    queue.acknowledge(1)
    queue.acknowledge(2)
    expect(batches).toHaveLength(2)
  })

  it('splits a long backlog into batches of at most batchMost', () => {
    const { queue, batches } = queueUnderTest({ batchMost: 2 })
    for (const id of ['a', 'b', 'c', 'd', 'e']) queue.push(deleted(id))
    queue.markReady()
    queue.acknowledge(1)
    queue.acknowledge(2)
    expect(batches.map((b) => b.messages)).toEqual([
      [deleted('a'), deleted('b')],
      [deleted('c'), deleted('d')],
      [deleted('e')],
    ])
  })

  it('holds again after a reload until the page says ready; an acknowledgement owed by the old page is void', () => {
    const { queue, batches, endTurn, last } = queueUnderTest()
    queue.markReady()
    queue.push(intake(true))
    endTurn()
    queue.markNotReady()
    queue.push(intake(false))
    endTurn()
    expect(batches).toHaveLength(1)
    queue.markReady()
    expect(last()).toEqual({ seq: 2, messages: [intake(false)] })
    queue.acknowledge(1)
    queue.push(intake(true))
    endTurn()
    expect(batches).toHaveLength(2)
  })

  it('beyond its limit drops the held changes, keeps navigation, and starts the next batch with a resync', () => {
    const { queue, batches, last } = queueUnderTest({ limit: 3 })
    const navigate: PushMessage = { type: 'navigate', target: { view: 'failures' } }
    queue.push(deleted('w0'))
    queue.push(navigate)
    queue.push(deleted('w1'))
    queue.push(deleted('w2'))
    queue.push(deleted('w3'))
    expect(queue.backlog).toBe(3)
    queue.markReady()
    expect(last().messages).toEqual([{ type: 'resync' }, navigate, deleted('w2'), deleted('w3')])
    queue.acknowledge(1)
    queue.markNotReady()
    queue.markReady()
    expect(batches).toHaveLength(1)
  })

  it('a renderer that never acknowledges holds at most the limit however many pushes come', () => {
    const { queue, endTurn } = queueUnderTest({ limit: 100 })
    queue.markReady()
    for (let i = 0; i < 10_000; i++) {
      queue.push(deleted(`w${i}`))
      if (i % 7 === 0) endTurn()
      expect(queue.backlog).toBeLessThanOrEqual(100)
    }
  })
})
