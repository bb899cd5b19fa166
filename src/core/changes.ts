import type { Change } from '../shared/contract'

export type ChangeListener = (change: Change) => void

/** The engine's change stream: every module publishes here; the SSE route and the IPC bridge subscribe. */
export class ChangeBus {
  private listeners = new Set<ChangeListener>()

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change)
      } catch {
        // A broken subscriber (a closed stream) must not stop the engine or the other subscribers.
      }
    }
  }

  get size(): number {
    return this.listeners.size
  }
}
