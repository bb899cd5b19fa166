/**
 * A cumulative histogram with fixed upper bounds (Prometheus style), in seconds. Quantiles are estimated by
 * linear interpolation inside the bucket that holds the rank, which is what `histogram_quantile` does too.
 */
export class Histogram {
  /** counts[i] = observations <= bounds[i]; counts[bounds.length] = all (the +Inf bucket). */
  private readonly counts: number[]
  sum = 0
  count = 0

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0)
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return
    this.sum += seconds
    this.count++
    for (let i = 0; i < this.bounds.length; i++) if (seconds <= this.bounds[i]!) this.counts[i]!++
    this.counts[this.bounds.length]!++
  }

  /** Add another histogram's observations (same bounds) into this one. */
  add(other: Histogram): void {
    if (other.bounds.length !== this.bounds.length) throw new Error('histograms have different bounds')
    other.counts.forEach((n, i) => (this.counts[i]! += n))
    this.sum += other.sum
    this.count += other.count
  }

  /** Cumulative count per upper bound, ending with +Inf. */
  buckets(): Array<[number, number]> {
    return [...this.bounds.map((b, i) => [b, this.counts[i]!] as [number, number]), [Infinity, this.count]]
  }

  /** The q-quantile (0..1) in seconds, or null with no observations. Above the last bound it answers that bound. */
  quantile(q: number): number | null {
    if (this.count === 0) return null
    const rank = q * this.count
    let lowerBound = 0
    let lowerCount = 0
    for (let i = 0; i < this.bounds.length; i++) {
      const upper = this.bounds[i]!
      const cumulative = this.counts[i]!
      if (cumulative >= rank) {
        const inBucket = cumulative - lowerCount
        return inBucket === 0 ? upper : lowerBound + ((upper - lowerBound) * (rank - lowerCount)) / inBucket
      }
      lowerBound = upper
      lowerCount = cumulative
    }
    return this.bounds[this.bounds.length - 1] ?? null
  }
}

/** Receiver acknowledgement latency bounds (seconds): the ack waits for a group commit (fsync). */
export const ACK_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const
/** Workflow step duration bounds (seconds): from an in-process `set` to a slow outgoing call. */
export const STEP_BOUNDS = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const
