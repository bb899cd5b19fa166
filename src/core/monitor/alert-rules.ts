import type { AlertInput } from './alert-sink'
import type { AlertStore } from './alert-store'
import { MINUTE, type MetricRecorder } from './metric-recorder'
import type { MonitorSettingsStore } from './monitor-settings'

/** Rule names, as they appear in `Alert.rule`. The tunnel raises its own (`tunnel-down`, `tunnel-url-changed`). */
export const RULES = {
  silence: 'silence',
  failureRate: 'failure-rate',
  deadLetters: 'dead-letters-growing',
  signatureFailures: 'signature-failures',
  storeSize: 'store-size',
} as const

export interface SourceRow {
  id: string
  name: string
  enabled: boolean
  createdAt: number
  lastReceivedAt: number | null
}

export interface RuleInputs {
  sources(): SourceRow[]
  deadLettersOpen(): number
  /** Bytes the database files take, and the free bytes on their disk (null when unknown). */
  storeBytes(): { used: number; free: number | null }
}

type Decision = { fire: AlertInput } | 'resolve' | 'keep'

/**
 * Evaluates the alert rules against the recorded metrics and opens or resolves alerts. Every rule is
 * level-triggered: it looks at the present state, so alerts resolve themselves when the condition clears.
 */
export class AlertRules {
  /** Dead-letter counts sampled at each evaluation, for the growth window. */
  private deadSamples: Array<{ at: number; count: number }> = []

  constructor(
    private readonly alerts: AlertStore,
    private readonly metrics: MetricRecorder,
    private readonly settings: MonitorSettingsStore,
    private readonly inputs: RuleInputs,
  ) {}

  evaluate(now: number): void {
    const sources = this.inputs.sources()
    this.perSource(RULES.silence, sources, (s) => this.silence(s, now))
    this.perSource(RULES.failureRate, sources, (s) => this.failureRate(s, now))
    this.perSource(RULES.signatureFailures, sources, (s) => this.signatureFailures(s, now))
    this.apply(RULES.deadLetters, 'global', this.deadLetters(now))
    this.apply(RULES.storeSize, 'global', this.storeSize())
  }

  /** Check one source's signature failures now (called as rejected requests arrive, not only on the timer). */
  checkSignatureFailures(source: SourceRow, now: number): void {
    this.apply(RULES.signatureFailures, source.id, this.signatureFailures(source, now))
  }

  /** A source just delivered an event: its silence is over. */
  heard(sourceId: string): void {
    this.alerts.resolve(RULES.silence, sourceId)
  }

  private silence(source: SourceRow, now: number): Decision {
    const every = this.settings.forSource(source.id).expectedEveryMinutes
    if (every === null || !source.enabled) return 'resolve'
    const last = source.lastReceivedAt ?? source.createdAt
    const quietMs = now - last
    if (quietMs <= every * MINUTE) return 'resolve'
    return {
      fire: {
        severity: 'warning',
        sourceId: source.id,
        title: `${source.name} has gone quiet`,
        message:
          `No events from ${source.name} for ${duration(quietMs)} ` +
          `(${source.lastReceivedAt === null ? 'none since it was added' : `expected one every ${duration(every * MINUTE)}`}).`,
        data: { lastReceivedAt: source.lastReceivedAt, expectedEveryMinutes: every },
      },
    }
  }

  private failureRate(source: SourceRow, now: number): Decision {
    const rule = this.settings.forSource(source.id).failureRate
    if (!rule.enabled) return 'resolve'
    const since = now - rule.windowMinutes * MINUTE
    const succeeded = this.metrics.windowSum('runs.succeeded', source.id, since)
    const dead = this.metrics.windowSum('runs.dead', source.id, since)
    const finished = succeeded + dead
    if (finished < rule.minRuns || dead / finished < rule.threshold) return 'resolve'
    const rate = dead / finished
    return {
      fire: {
        severity: rate >= 0.9 ? 'critical' : 'warning',
        sourceId: source.id,
        title: `Runs for ${source.name} are failing`,
        message: `${dead} of ${finished} runs for ${source.name} died in the last ${duration(rule.windowMinutes * MINUTE)}.`,
        data: { dead, succeeded, rate, windowMinutes: rule.windowMinutes },
      },
    }
  }

  private signatureFailures(source: SourceRow, now: number): Decision {
    const rule = this.settings.forSource(source.id).signatureFailures
    if (!rule.enabled) return 'resolve'
    const rejected = this.metrics.windowSum('events.rejected', source.id, now - rule.windowMinutes * MINUTE)
    if (rejected >= rule.threshold) {
      return {
        fire: {
          severity: 'critical',
          sourceId: source.id,
          title: `Signature failures on ${source.name}`,
          message:
            `${rejected} requests to ${source.name} failed verification in the last ` +
            `${duration(rule.windowMinutes * MINUTE)}: someone is sending forged requests, or the provider's ` +
            `secret was rotated and this source still has the old one.`,
          data: { rejected, windowMinutes: rule.windowMinutes },
        },
      }
    }
    // Hysteresis: stay open until the rate falls under half the threshold, so a steady trickle does not flap.
    return rejected >= Math.ceil(rule.threshold / 2) ? 'keep' : 'resolve'
  }

  private deadLetters(now: number): Decision {
    const rule = this.settings.global().deadLetters
    const count = this.inputs.deadLettersOpen()
    const windowMs = rule.windowMinutes * MINUTE
    this.deadSamples.push({ at: now, count })
    // Keep one sample at or before the window's start as the baseline.
    while (this.deadSamples.length > 1 && this.deadSamples[1]!.at <= now - windowMs) this.deadSamples.shift()
    if (!rule.enabled || count === 0) return 'resolve'
    const baseline = Math.min(...this.deadSamples.map((s) => s.count))
    const growth = count - baseline
    if (growth >= rule.growth) {
      return {
        fire: {
          severity: 'warning',
          title: 'Dead letters are piling up',
          message: `${growth} runs were dead-lettered in the last ${duration(windowMs)}; ${count} are open.`,
          data: { open: count, growth, windowMinutes: rule.windowMinutes },
        },
      }
    }
    return growth === 0 ? 'resolve' : 'keep'
  }

  private storeSize(): Decision {
    const rule = this.settings.global().store
    if (!rule.enabled) return 'resolve'
    const { used, free } = this.inputs.storeBytes()
    // The disk is a limit too: the store cannot grow past what is free on it.
    const limit = free === null ? rule.limitBytes : Math.min(rule.limitBytes, used + free)
    if (used < limit * rule.warnRatio) return 'resolve'
    const full = used >= limit * 0.98
    return {
      fire: {
        severity: full ? 'critical' : 'warning',
        title: full ? 'The event store is full' : 'The event store is nearly full',
        message: `The database takes ${bytes(used)} of a ${bytes(limit)} limit; shorten retention or free disk space.`,
        data: { usedBytes: used, limitBytes: limit, freeBytes: free },
      },
    }
  }

  private perSource(rule: string, sources: SourceRow[], decide: (s: SourceRow) => Decision): void {
    const seen = new Set<string>()
    for (const source of sources) {
      seen.add(source.id)
      this.apply(rule, source.id, decide(source))
    }
    // A deleted source's alerts resolve with it.
    for (const key of this.alerts.openFor(rule).keys()) if (!seen.has(key)) this.alerts.resolve(rule, key)
  }

  private apply(rule: string, key: string, decision: Decision): void {
    if (decision === 'resolve') this.alerts.resolve(rule, key)
    else if (decision !== 'keep') this.alerts.open(rule, key, decision.fire)
  }
}

/** "45 s", "12 min", "3 h", "2 d": coarse, for messages. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 120) return `${m} min`
  const h = Math.round(m / 60)
  if (h < 48) return `${h} h`
  return `${Math.round(h / 24)} d`
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}
