import { describe, expect, it } from 'vitest'
import type { PushMessage } from '../../src/shared/ipc'
import { PushQueue } from '../../src/main/push-queue'

const intake = (paused: boolean): PushMessage => ({ type: 'intake', paused })

describe('push queue', () => {
  it('holds messages until ready, then delivers them in order and passes later ones straight on', () => {
    const sent: PushMessage[] = []
    const queue = new PushQueue((m) => sent.push(m))
    queue.push(intake(true))
    queue.push(intake(false))
    expect(sent).toEqual([])
    queue.markReady()
    expect(sent).toEqual([intake(true), intake(false)])
    queue.push({ type: 'source-deleted', id: 's' })
    expect(sent.at(-1)).toEqual({ type: 'source-deleted', id: 's' })
  })

  it('holds again after a reload until the page says ready', () => {
    const sent: PushMessage[] = []
    const queue = new PushQueue((m) => sent.push(m))
    queue.markReady()
    queue.markNotReady()
    queue.push(intake(true))
    expect(sent).toEqual([])
    queue.markReady()
    expect(sent).toEqual([intake(true)])
  })

  it('drops the oldest beyond its limit and tells the renderer to resync first', () => {
    const sent: PushMessage[] = []
    const queue = new PushQueue((m) => sent.push(m), 3)
    for (let i = 0; i < 5; i++) queue.push({ type: 'workflow-deleted', id: `w${i}` })
    expect(queue.backlog).toBe(3)
    queue.markReady()
    expect(sent).toEqual([
      { type: 'resync' },
      { type: 'workflow-deleted', id: 'w2' },
      { type: 'workflow-deleted', id: 'w3' },
      { type: 'workflow-deleted', id: 'w4' },
    ])
    queue.markNotReady()
    queue.markReady()
    expect(sent).toHaveLength(4)
  })
})
