/** Time as a dependency, so tests can hand in a fake. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return t
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** A manual clock for tests: time moves only when `advance` is called, and due timers fire then. */
export class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>()
  private nextId = 1
  constructor(private current = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.current
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const target = this.current + ms
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.timers)
        if (entry[1].at <= target && (!due || entry[1].at < due[1].at)) due = entry
      if (!due) break
      this.timers.delete(due[0])
      this.current = Math.max(this.current, due[1].at)
      due[1].fn()
    }
    this.current = target
  }
}
