import type { PushBatch, PushMessage } from '../shared/ipc'

/** Pushes held for a renderer that is not ready or has not caught up; beyond this it is told to resync. */
export const DEFAULT_PUSH_BACKLOG = 5000
/** Messages in one IPC message at most; the rest follow the renderer's acknowledgement. */
export const DEFAULT_PUSH_BATCH = 500

export interface PushQueueOptions {
  limit?: number
  batchMost?: number
  /** When to send what was pushed in this turn (one IPC message for a burst); a microtask by default. */
  defer?: (send: () => void) => void
}

/**
 * Main → renderer pushes for one window, with flow control. Messages are held until the renderer says ready
 * (its change listener is attached); then they go in batches, one IPC message at a time: the next batch waits
 * until the renderer acknowledges the last, so a renderer that is busy (or hung) holds at most `limit`
 * messages here instead of an unbounded IPC backlog. A reload makes it not-ready again.
 *
 * When more than `limit` pile up, the held engine changes are dropped (a user's `navigate` is kept) and the
 * next batch starts with `{type:'resync'}`: the renderer reloads its lists, which covers every change dropped.
 */
export class PushQueue {
  private ready = false
  private held: PushMessage[] = []
  private dropped = false
  /** The batch the renderer has not acknowledged yet. */
  private awaiting: number | null = null
  private lastSeq = 0
  private scheduled = false
  private readonly limit: number
  private readonly batchMost: number
  private readonly defer: (send: () => void) => void

  constructor(
    private readonly send: (batch: PushBatch) => void,
    options: PushQueueOptions = {},
  ) {
    this.limit = options.limit ?? DEFAULT_PUSH_BACKLOG
    this.batchMost = options.batchMost ?? DEFAULT_PUSH_BATCH
    this.defer = options.defer ?? queueMicrotask
  }

  push(message: PushMessage): void {
    if (this.held.length >= this.limit) {
      // Dropping them all (not the oldest one by one) keeps a push O(1) while the renderer is behind.
      this.held = this.held.filter((m) => m.type === 'navigate')
      this.dropped = true
    }
    this.held.push(message)
    if (this.ready && this.awaiting === null && !this.scheduled) {
      this.scheduled = true
      this.defer(() => {
        this.scheduled = false
        this.sendNext()
      })
    }
  }

  /** The renderer is listening: deliver what was held. */
  markReady(): void {
    this.ready = true
    this.awaiting = null
    this.sendNext()
  }

  /** The page is reloading: hold pushes until it says ready again (an acknowledgement owed dies with it). */
  markNotReady(): void {
    this.ready = false
    this.awaiting = null
  }

  /** The renderer handled batch `seq`: send the next. Any other number (a stale page's) is ignored. */
  acknowledge(seq: number): void {
    if (seq !== this.awaiting) return
    this.awaiting = null
    this.sendNext()
  }

  get isReady(): boolean {
    return this.ready
  }

  get backlog(): number {
    return this.held.length
  }

  private sendNext(): void {
    if (!this.ready || this.awaiting !== null || (this.held.length === 0 && !this.dropped)) return
    const messages = this.held.splice(0, this.batchMost)
    if (this.dropped) {
      this.dropped = false
      messages.unshift({ type: 'resync' })
    }
    this.awaiting = ++this.lastSeq
    this.send({ seq: this.awaiting, messages })
  }
}
