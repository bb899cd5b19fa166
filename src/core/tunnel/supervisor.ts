import { randomBytes } from 'node:crypto'
import type { LookupFunction } from 'node:net'
import type { AlertSeverity, TunnelState, TunnelStatus } from '../../shared/domain'
import type { ChangeBus } from '../changes'
import type { Clock } from '../clock'
import type { AlertSink } from '../monitor/alert-sink'
import { backoff } from '../queue/backoff'
import type { BackoffPolicy } from '../queue/backoff'
import { probePublicUrl } from './probe'
import type { PendingProbe } from './probe'
import { RegistrationRefusedError, registerTunnel } from './registration'
import type { PendingRegistration, TunnelLease } from './registration'
import { openSocketPool } from './socket-pool'
import type { SocketPool, SocketPoolEvent } from './socket-pool'

/** How the receiver is made public. Same fields as the `tunnel.configure` operation. */
export interface TunnelConfig {
  mode: 'tunnel' | 'external' | 'off'
  /** localtunnel relay; default https://localtunnel.me. */
  host?: string
  /** Subdomain to ask the relay for; without it the one remembered from the last registration is asked for. */
  subdomain?: string
  /** The URL of the user's own reverse proxy (mode `external`). */
  externalUrl?: string
}

export type TunnelLogLevel = 'info' | 'warn' | 'error'

export interface TunnelDeps {
  /** The RECEIVER's port (never the control API's), read at every connection. */
  localPort(): number
  localHost: string
  clock: Clock
  random: () => number
  changes: ChangeBus
  /** Remembers the subdomain, the last public URL and the configuration across restarts. */
  settings: { get(key: string): string | null; set(key: string, value: string): void }
  alerts: AlertSink
  /** Names the sources whose publicUrl a URL change breaks (for the alert); optional. */
  affectedSources?: () => string[]
  /** DNS override for every connection to the relay and the public URL (tests map relay names to 127.0.0.1). */
  lookup?: LookupFunction
  /** Time between self-probes while online (default 30 s). */
  probeIntervalMs?: number
  /** Deadline for one self-probe (default 10 s). */
  probeTimeoutMs?: number
  /** Consecutive failed self-probes that tear the tunnel down (default 2; the first only degrades it). */
  probeFailureLimit?: number
  /** Deadline for a registration answer (default 15 s). */
  registerTimeoutMs?: number
  /** Backoff between re-registrations (full jitter). */
  reconnect?: BackoffPolicy
  /**
   * Least pause before re-registering after a teardown (default 1.5 s): the relay holds a dropped client's
   * id for a second, and asking for it sooner would be answered with a different, random URL.
   */
  reclaimDelayMs?: number
  /** Consecutive failed connection cycles after which the state is `failed` (default 5; retries go on). */
  failAfterAttempts?: number
  /** How long the tunnel may be connecting/reconnecting before `tunnel-down` opens (default 60 s). */
  downAlertAfterMs?: number
  /** TCP keep-alive idle time on the relay sockets (default 15 s). */
  keepAliveMs?: number
  log?: (level: TunnelLogLevel, message: string, data?: object) => void
}

export interface TunnelSupervisor {
  /** Starts (or restarts) what the configuration asks for. Never throws; failures show in `status()`. */
  start(): void
  /** Closes the tunnel and every socket; the state becomes `off`. */
  stop(): Promise<void>
  /** The state machine and its bounded history (a copy). */
  status(): TunnelStatus
  /**
   * The URL providers call, without a trailing slash: the external URL in `external` mode; in `tunnel` mode
   * the URL the self-probe last confirmed (kept while reconnecting, since it is asked for again); else null.
   */
  publicUrl(): string | null
  /** Validates, remembers and applies a new configuration (the `tunnel.configure` operation). */
  configure(config: TunnelConfig): Promise<TunnelStatus>
  /** True when `nonce` belongs to a self-probe in flight; the receiver answers `/hooks/.probe/<nonce>` with it. */
  answerProbe(nonce: string): boolean
}

export const DEFAULT_TUNNEL_HOST = 'https://localtunnel.me'

/** Settings keys the supervisor owns. */
export const TUNNEL_SETTINGS = {
  subdomain: 'tunnel.subdomain',
  publicUrl: 'tunnel.publicUrl',
  config: 'tunnel.config',
} as const

export const TUNNEL_DOWN_RULE = 'tunnel-down'
export const TUNNEL_URL_CHANGED_RULE = 'tunnel-url-changed'

const HISTORY_LIMIT = 50
const DEFAULT_RECONNECT: BackoffPolicy = {
  attempts: Infinity,
  kind: 'exponential',
  initialMs: 1000,
  maxMs: 60_000,
}

/**
 * Checks a configuration and returns it normalised (URLs without a trailing slash, empty strings dropped).
 * Throws an Error naming the field when it cannot work.
 */
export function normalizeTunnelConfig(config: TunnelConfig): TunnelConfig {
  if (!['tunnel', 'external', 'off'].includes(config.mode)) {
    throw new Error(`tunnel mode must be tunnel, external or off, not ${JSON.stringify(config.mode)}`)
  }
  const httpUrl = (field: string, value: string): string => {
    let parsed: URL
    try {
      parsed = new URL(value)
    } catch {
      throw new Error(`tunnel ${field} is not a URL: ${JSON.stringify(value)}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`tunnel ${field} must be an http or https URL: ${JSON.stringify(value)}`)
    }
    return value.trim().replace(/\/+$/, '')
  }
  const result: TunnelConfig = { mode: config.mode }
  if (config.host?.trim()) result.host = httpUrl('host', config.host.trim())
  if (config.subdomain?.trim()) result.subdomain = config.subdomain.trim()
  if (config.externalUrl?.trim()) result.externalUrl = httpUrl('externalUrl', config.externalUrl.trim())
  if (result.mode === 'external' && !result.externalUrl) {
    throw new Error('tunnel mode external needs externalUrl (the URL of your own reverse proxy)')
  }
  return result
}

/** The configuration last saved by `configure()`, or null (none saved, or unreadable). */
export function storedTunnelConfig(settings: TunnelDeps['settings']): TunnelConfig | null {
  const text = settings.get(TUNNEL_SETTINGS.config)
  if (!text) return null
  try {
    return normalizeTunnelConfig(JSON.parse(text) as TunnelConfig)
  } catch {
    return null
  }
}

interface Cycle {
  registration: PendingRegistration | null
  lease: TunnelLease | null
  pool: SocketPool | null
  probe: PendingProbe | null
  /** The self-probe has come through this lease at least once. */
  verified: boolean
}

/**
 * Supervises the receiver's public URL. In `tunnel` mode it registers with a localtunnel relay (asking for the
 * remembered subdomain every time), keeps the relay's socket pool open, proves the URL works by probing itself
 * through it, and tears down and re-registers — with backoff and jitter — when a probe fails, the pool is lost
 * or registration fails or hangs. A refused subdomain is reported and replaced by a random one. A URL change
 * raises `tunnel-url-changed`; a long outage raises `tunnel-down`. Every status change goes on the ChangeBus
 * as `{type: 'tunnel'}` (probe timestamps alone do not, to keep the stream quiet).
 */
export function createTunnelSupervisor(initial: TunnelConfig, deps: TunnelDeps): TunnelSupervisor {
  const clock = deps.clock
  const probeIntervalMs = deps.probeIntervalMs ?? 30_000
  const probeTimeoutMs = deps.probeTimeoutMs ?? 10_000
  const probeFailureLimit = Math.max(1, deps.probeFailureLimit ?? 2)
  const registerTimeoutMs = deps.registerTimeoutMs ?? 15_000
  const reconnectPolicy = deps.reconnect ?? DEFAULT_RECONNECT
  const reclaimDelayMs = deps.reclaimDelayMs ?? 1500
  const failAfterAttempts = deps.failAfterAttempts ?? 5
  const downAlertAfterMs = deps.downAlertAfterMs ?? 60_000
  const log = (level: TunnelLogLevel, message: string, data?: object): void => {
    try {
      deps.log?.(level, message, data)
    } catch {
      // Logging must never take the tunnel down.
    }
  }

  let config = normalizeTunnelConfig(initial)
  let running = false
  let cycle: Cycle = emptyCycle()
  let timers = new Set<unknown>()
  let attempt = 0
  let probeFailures = 0
  let verifiedUrl: string | null = null
  /** Subdomains the relay refused under the current configuration; not asked for again until it changes. */
  const refused = new Set<string>()
  let refusal: string | null = null
  const nonces = new Set<string>()
  let downTimer: unknown = null
  let downSince: number | null = null
  let downAlertOpen = false
  let downAlertSeverity: AlertSeverity | null = null

  const status: TunnelStatus = {
    state: 'off',
    mode: config.mode,
    url: null,
    host: null,
    subdomain: null,
    error: null,
    lastProbeAt: null,
    lastProbeOk: null,
    history: [],
  }

  function emptyCycle(): Cycle {
    return { registration: null, lease: null, pool: null, probe: null, verified: false }
  }

  const host = (): string => config.host ?? DEFAULT_TUNNEL_HOST

  const remembered = (key: string): string | null => {
    try {
      return deps.settings.get(key) || null
    } catch {
      return null
    }
  }
  const remember = (key: string, value: string): void => {
    try {
      deps.settings.set(key, value)
    } catch (err) {
      log('warn', `tunnel: could not save ${key}`, { error: (err as Error).message })
    }
  }

  function snapshot(): TunnelStatus {
    return { ...status, history: status.history.map((entry) => ({ ...entry })) }
  }

  /** Applies a status change; records history when the state or URL moves or a new message is given. */
  function update(patch: Partial<Omit<TunnelStatus, 'history'>>, message?: string): void {
    // A probe's timestamp alone is not news: leaving it out keeps the change stream quiet while all is well.
    const fingerprint = (): string => JSON.stringify({ ...status, lastProbeAt: null, history: null })
    const before = fingerprint()
    Object.assign(status, patch)
    const last = status.history.at(-1)
    if (
      !last ||
      last.state !== status.state ||
      last.url !== status.url ||
      (message !== undefined && last.message !== message)
    ) {
      status.history.push({ at: clock.now(), state: status.state, url: status.url, message: message ?? null })
      if (status.history.length > HISTORY_LIMIT)
        status.history.splice(0, status.history.length - HISTORY_LIMIT)
    }
    if (fingerprint() !== before || message !== undefined) {
      deps.changes.emit({ type: 'tunnel', tunnel: snapshot() })
    }
    watchDown()
  }

  /** Opens `tunnel-down` when the tunnel has been away too long (at once when failed); resolves it when back. */
  function watchDown(): void {
    const state: TunnelState = status.state
    if (state === 'connecting' || state === 'reconnecting' || state === 'failed') {
      downSince ??= clock.now()
      if (state === 'failed') {
        if (downAlertSeverity !== 'critical') raiseDown()
      } else if (downTimer === null && !downAlertOpen) {
        downTimer = clock.setTimeout(() => {
          downTimer = null
          if (status.state === 'connecting' || status.state === 'reconnecting' || status.state === 'failed') {
            raiseDown()
          }
        }, downAlertAfterMs)
      }
      return
    }
    downSince = null
    if (downTimer !== null) clock.clearTimeout(downTimer)
    downTimer = null
    // Off because the engine stops says nothing about the tunnel's health; off by the user's choice resolves it.
    if (downAlertOpen && state !== 'off') resolveDown()
  }

  function resolveDown(): void {
    downAlertOpen = false
    downAlertSeverity = null
    safeAlert(() => deps.alerts.resolve(TUNNEL_DOWN_RULE, 'tunnel'))
  }

  function raiseDown(): void {
    const severity: AlertSeverity = status.state === 'failed' ? 'critical' : 'warning'
    downAlertOpen = true
    downAlertSeverity = severity
    const since = new Date(downSince ?? clock.now()).toISOString()
    const url = verifiedUrl ?? remembered(TUNNEL_SETTINGS.publicUrl)
    safeAlert(() =>
      deps.alerts.open(TUNNEL_DOWN_RULE, 'tunnel', {
        severity,
        title: 'Tunnel down',
        message:
          `The tunnel through ${host()} has been down since ${since}` +
          (status.error ? `: ${status.error}` : '') +
          `. Webhooks sent to ${url ?? 'the public URL'} are not arriving; Switchboard keeps reconnecting.`,
        data: { host: host(), url, since: downSince, state: status.state, error: status.error },
      }),
    )
  }

  function noteVerifiedUrl(url: string): void {
    const old = remembered(TUNNEL_SETTINGS.publicUrl)
    if (old === url) return
    remember(TUNNEL_SETTINGS.publicUrl, url)
    if (old === null) return
    let sources: string[] = []
    try {
      sources = deps.affectedSources?.() ?? []
    } catch {
      sources = []
    }
    const which =
      sources.length > 0
        ? `Update the webhook URL at the provider for: ${sources.join(', ')}.`
        : "Every source's publicUrl must be updated at its provider."
    log('warn', 'tunnel: public URL changed', { oldUrl: old, newUrl: url })
    safeAlert(() =>
      deps.alerts.open(TUNNEL_URL_CHANGED_RULE, 'tunnel', {
        severity: 'warning',
        title: 'Public URL changed',
        message: `The public URL changed from ${old} to ${url}. ${which}`,
        data: { oldUrl: old, newUrl: url, sources },
      }),
    )
  }

  function safeAlert(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      log('error', 'tunnel: the alert sink failed', { error: (err as Error).message })
    }
  }

  /** Timers that belong to the current cycle; a teardown cancels them all. */
  function later(ms: number, fn: () => void): void {
    const owner = timers
    const handle = clock.setTimeout(() => {
      owner.delete(handle)
      if (owner === timers) fn()
    }, ms)
    owner.add(handle)
  }

  function teardown(): void {
    const old = cycle
    cycle = emptyCycle()
    for (const handle of timers) clock.clearTimeout(handle)
    timers = new Set()
    old.registration?.cancel()
    old.probe?.cancel()
    old.pool?.close()
    nonces.clear()
    probeFailures = 0
  }

  function wantedSubdomain(): string | null {
    const candidates = [config.subdomain ?? null, remembered(TUNNEL_SETTINGS.subdomain)]
    return candidates.find((name): name is string => name !== null && !refused.has(name)) ?? null
  }

  function connect(): void {
    const mine = cycle
    const subdomain = wantedSubdomain()
    update({ subdomain, host: host() })
    log('info', `tunnel: registering with ${host()}`, { subdomain })
    const registration = registerTunnel({
      host: host(),
      subdomain,
      timeoutMs: registerTimeoutMs,
      clock,
      lookup: deps.lookup,
    })
    mine.registration = registration
    registration.promise.then(
      (lease) => {
        if (cycle !== mine) return
        mine.registration = null
        mine.lease = lease
        remember(TUNNEL_SETTINGS.subdomain, lease.id)
        const note =
          subdomain !== null && lease.id !== subdomain
            ? `the relay handed out "${lease.id}" instead of "${subdomain}" (taken)`
            : undefined
        update({ subdomain: lease.id, url: lease.url }, note)
        openPool(mine, lease)
      },
      (err: Error) => {
        if (cycle !== mine) return
        mine.registration = null
        if (
          err instanceof RegistrationRefusedError &&
          err.subdomain !== null &&
          [400, 403].includes(err.status)
        ) {
          refused.add(err.subdomain)
          refusal = `${err.message}; using a random subdomain instead`
          log('warn', `tunnel: ${refusal}`)
          update({ error: refusal }, refusal)
          connect()
          return
        }
        fail(err.message)
      },
    )
  }

  function openPool(mine: Cycle, lease: TunnelLease): void {
    mine.pool = openSocketPool({
      remoteHost: lease.remoteHost,
      remotePort: lease.remotePort,
      size: lease.maxConnections,
      localHost: deps.localHost,
      localPort: deps.localPort,
      clock,
      lookup: deps.lookup,
      keepAliveMs: deps.keepAliveMs,
      onEvent: (event) => onPoolEvent(mine, event),
    })
  }

  function onPoolEvent(mine: Cycle, event: SocketPoolEvent): void {
    if (cycle !== mine) return
    switch (event.type) {
      case 'connected':
        if (!mine.verified && !mine.probe) probe(mine)
        else if (mine.verified && status.state === 'degraded' && status.lastProbeOk) {
          update({ state: 'online', error: refusal }, 'tunnel sockets reconnected')
        }
        return
      case 'disconnected':
        if (event.live === 0 && mine.verified && status.state === 'online') {
          update({ state: 'degraded' }, `every tunnel socket dropped (${event.error ?? 'closed'}); reopening`)
        }
        return
      case 'local-error':
        log('warn', `tunnel: ${event.error}`)
        return
      case 'lost':
        fail(`the relay dropped the tunnel: ${event.error}`)
        return
    }
  }

  function probe(mine: Cycle): void {
    const lease = mine.lease
    if (!lease) return
    const nonce = randomBytes(16).toString('hex')
    nonces.add(nonce)
    const pending = probePublicUrl({
      publicUrl: lease.url,
      nonce,
      timeoutMs: probeTimeoutMs,
      clock,
      lookup: deps.lookup,
    })
    mine.probe = pending
    pending.promise.then(
      () => {
        nonces.delete(nonce)
        if (cycle !== mine) return
        mine.probe = null
        const first = !mine.verified
        mine.verified = true
        probeFailures = 0
        attempt = 0
        verifiedUrl = lease.url
        noteVerifiedUrl(lease.url)
        update(
          { state: 'online', url: lease.url, error: refusal, lastProbeAt: clock.now(), lastProbeOk: true },
          first ? `online at ${lease.url}` : undefined,
        )
        if (first) log('info', `tunnel: online at ${lease.url}`)
        later(probeIntervalMs, () => probe(mine))
      },
      (err: Error) => {
        nonces.delete(nonce)
        if (cycle !== mine) return
        mine.probe = null
        probeFailures++
        status.lastProbeAt = clock.now()
        if (!mine.verified || probeFailures >= probeFailureLimit) {
          status.lastProbeOk = false
          fail(err.message)
          return
        }
        log('warn', `tunnel: ${err.message}`)
        update({ state: 'degraded', error: err.message, lastProbeOk: false }, err.message)
        later(probeIntervalMs, () => probe(mine))
      },
    )
  }

  /** Tears the tunnel down and schedules a re-registration with backoff and jitter. */
  function fail(reason: string): void {
    teardown()
    attempt++
    const state: TunnelState = attempt >= failAfterAttempts ? 'failed' : 'reconnecting'
    const delay = backoff(attempt, reconnectPolicy, deps.random, reclaimDelayMs)
    log('warn', `tunnel: ${reason}; re-registering in ${delay} ms`, { attempt })
    update({ state, error: reason, url: null }, reason)
    later(delay, connect)
  }

  function apply(): void {
    teardown()
    attempt = 0
    verifiedUrl = null
    // Folded into the next update, so the history starts with the state this configuration leads to.
    Object.assign(status, {
      mode: config.mode,
      host: config.mode === 'tunnel' ? host() : null,
      subdomain: config.mode === 'tunnel' ? wantedSubdomain() : null,
    })
    if (!running || config.mode === 'off') {
      update({ state: 'off', url: null, error: null }, running ? 'tunnel turned off' : undefined)
      if (running && downAlertOpen) resolveDown()
      return
    }
    if (config.mode === 'external') {
      const url = config.externalUrl!
      noteVerifiedUrl(url)
      update({ state: 'online', url, error: null }, `using the external URL ${url}`)
      return
    }
    refusal = null
    update({ state: 'connecting', url: null, error: null }, `connecting to ${host()}`)
    connect()
  }

  return {
    start() {
      if (running) return
      running = true
      apply()
    },
    async stop() {
      running = false
      teardown()
      verifiedUrl = null
      update({ state: 'off', url: null }, 'stopped')
      // Let the destroyed sockets finish closing before the caller closes what they forwarded to.
      await new Promise((resolve) => setImmediate(resolve))
    },
    status: snapshot,
    publicUrl() {
      if (config.mode === 'external') return config.externalUrl ?? null
      if (config.mode === 'tunnel' && running) return verifiedUrl
      return null
    },
    async configure(next) {
      const normalized = normalizeTunnelConfig(next)
      if (JSON.stringify(normalized) === JSON.stringify(config) && running && status.state !== 'failed') {
        return snapshot()
      }
      if (normalized.subdomain !== config.subdomain || normalized.host !== config.host) refused.clear()
      config = normalized
      remember(TUNNEL_SETTINGS.config, JSON.stringify(config))
      apply()
      return snapshot()
    },
    answerProbe(nonce) {
      return nonces.has(nonce)
    },
  }
}
