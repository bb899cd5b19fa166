/**
 * Token buckets per key: `perSecond` tokens refill continuously up to `burst`. Kept in memory: a limit that
 * resets on restart is fine for shedding a flood.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(private readonly maxKeys = 10_000) {}

  /** Take a token; returns 0 when allowed, else the milliseconds until one is available. */
  take(key: string, perSecond: number, burst: number, now: number): number {
    let bucket = this.buckets.get(key)
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.buckets.clear()
      bucket = { tokens: burst, at: now }
      this.buckets.set(key, bucket)
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000)
  }
}
