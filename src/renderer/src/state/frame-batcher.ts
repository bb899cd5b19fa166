/**
 * Collects items as they arrive and hands them over once per animation frame, so a burst of a thousand
 * changes a second costs one store update (and one render) per frame instead of one per change.
 */

/** Runs a callback before the next paint; returns a cancel function. */
export type FrameScheduler = (callback: () => void) => () => void

/**
 * requestAnimationFrame, with a timer fallback: a hidden tab gets no frames, and the buffer must not grow
 * without bound while nobody looks.
 */
export const animationFrameScheduler: FrameScheduler = (callback) => {
  let done = false
  const run = () => {
    if (done) return
    done = true
    cancelAnimationFrame(frame)
    clearTimeout(timer)
    callback()
  }
  const frame = requestAnimationFrame(run)
  const timer = setTimeout(run, 250)
  return () => {
    done = true
    cancelAnimationFrame(frame)
    clearTimeout(timer)
  }
}

export interface FrameBatcher<T> {
  push(item: T): void
  /** Deliver what is buffered now (tests; shutdown). */
  flush(): void
  /** Drop the pending frame and the buffer. */
  cancel(): void
  readonly pending: number
}

export function createFrameBatcher<T>(
  deliver: (items: T[]) => void,
  schedule: FrameScheduler = animationFrameScheduler,
): FrameBatcher<T> {
  let buffer: T[] = []
  let cancelFrame: (() => void) | null = null

  function flush(): void {
    cancelFrame?.()
    cancelFrame = null
    if (buffer.length === 0) return
    const items = buffer
    buffer = []
    deliver(items)
  }

  return {
    push(item) {
      buffer.push(item)
      if (!cancelFrame) cancelFrame = schedule(flush)
    },
    flush,
    cancel() {
      cancelFrame?.()
      cancelFrame = null
      buffer = []
    },
    get pending() {
      return buffer.length
    },
  }
}
