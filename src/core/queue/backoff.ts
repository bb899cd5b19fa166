/** How a failing attempt is retried. Durations in milliseconds. */
export interface BackoffPolicy {
  /** Total tries, the first included. */
  attempts: number
  kind: 'exponential' | 'fixed'
  initialMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  attempts: 5,
  kind: 'exponential',
  initialMs: 1000,
  maxMs: 3_600_000,
}

/**
 * Delay before the next try after `attempt` tries have failed (attempt ≥ 1), with full jitter:
 * a uniform draw in [0, min(max, initial · 2^(attempt-1))] for exponential, [0, initial] for fixed.
 * `random` returns a number in [0, 1). A `retryAfterMs` from the other side is a floor.
 */
export function backoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs = 0,
): number {
  const ceiling =
    policy.kind === 'fixed'
      ? policy.initialMs
      : Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 52))
  const jittered = Math.floor(random() * (ceiling + 1))
  return Math.max(jittered, Math.min(retryAfterMs, Math.max(policy.maxMs, retryAfterMs)))
}

/** Parse a duration like `500ms`, `1s`, `5m`, `2h`, `2d` (or a bare number of ms). */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 500ms, 30s, 5m, 2h, 2d)`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms']!
  return Math.round(Number(match[1]) * unit)
}
