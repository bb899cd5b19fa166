import type { PushMessage } from '../shared/ipc'

/** Pushes held for a renderer that has not said ready; beyond this the oldest are dropped and a resync sent. */
export const DEFAULT_PUSH_BACKLOG = 5000

/**
 * Main → renderer pushes for one window. Messages are held until the renderer says ready (its change listener
 * is attached), then delivered in order; a reload makes it not-ready again. If more than `limit` pile up, the
 * oldest go and the renderer gets `{type:'resync'}` first, so it reloads its lists instead of missing changes.
 */
export class PushQueue {
  private ready = false
  private held: PushMessage[] = []
  private dropped = false

  constructor(
    private readonly send: (message: PushMessage) => void,
    private readonly limit = DEFAULT_PUSH_BACKLOG,
  ) {}

  push(message: PushMessage): void {
    if (this.ready) {
      this.send(message)
      return
    }
    if (this.held.length >= this.limit) {
      this.held.shift()
      this.dropped = true
    }
    this.held.push(message)
  }

  /** The renderer is listening: deliver what was held. */
  markReady(): void {
    this.ready = true
    const held = this.held
    this.held = []
    if (this.dropped) {
      this.dropped = false
      this.send({ type: 'resync' })
    }
    for (const message of held) this.send(message)
  }

  /** The page is reloading: hold pushes until it says ready again. */
  markNotReady(): void {
    this.ready = false
  }

  get isReady(): boolean {
    return this.ready
  }

  get backlog(): number {
    return this.held.length
  }
}
