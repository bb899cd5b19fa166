/**
 * Replay windows. A signed timestamp is accepted only within `toleranceMs` of the receiver's clock in BOTH
 * directions: too old is a replay, too far in the future is a pre-computed request (or a broken clock).
 * Returns the reason to reject, or null when fresh.
 */
export function staleness(timestampMs: number, nowMs: number, toleranceMs: number): string | null {
  const skew = nowMs - timestampMs
  if (skew > toleranceMs)
    return `timestamp is ${Math.round(skew / 1000)} s old (limit ${toleranceMs / 1000} s)`
  if (-skew > toleranceMs) {
    return `timestamp is ${Math.round(-skew / 1000)} s in the future (limit ${toleranceMs / 1000} s)`
  }
  return null
}

/** Strictly parses a non-negative integer timestamp (digits only), or null. */
export function parseIntegerTimestamp(value: string | undefined | null): number | null {
  if (value === undefined || value === null || !/^[0-9]{1,16}$/.test(value.trim())) return null
  return Number(value.trim())
}

/** Unix seconds as the receiver's clock sees them now. */
export function unixSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1000)
}
