import { afterEach, describe, expect, it } from 'vitest'
import { OTHER_TYPE } from '../../../src/core/monitor/metric-recorder'
import type { ReceiverObservation } from '../../../src/core/receiver/receiver'
import { monitorFixture, type MonitorFixture } from './fixture'

let f: MonitorFixture
afterEach(() => f?.close())

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\["\\\\n])*"'
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{([a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE})*)\\})? ` +
    `(-?[0-9.e+-]+|\\+Inf|-Inf|NaN)$`,
)

/** Parse the text exposition format line by line, failing on anything that is not HELP, TYPE or a sample. */
function parse(text: string) {
  expect(text.endsWith('\n')).toBe(true)
  const types = new Map<string, string>()
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  const finished = new Set<string>()
  let current: string | null = null
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP (\S+) (.+)$/.exec(line)
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (help) {
      expect(help[1]).toMatch(new RegExp(`^${NAME}$`))
      continue
    }
    if (type) {
      expect(types.has(type[1]!), `TYPE ${type[1]} given twice`).toBe(false)
      types.set(type[1]!, type[2]!)
      if (current) finished.add(current)
      current = type[1]!
      continue
    }
    const m = SAMPLE.exec(line)
    expect(m, `not a valid sample line: ${line}`).not.toBeNull()
    const name = m![1]!
    const family = [...types.keys()].find((f) => name === f || name.replace(/_(bucket|sum|count)$/, '') === f)
    expect(family, `sample ${name} has no TYPE line`).toBeDefined()
    expect(family, `samples of ${family} are not contiguous`).toBe(current)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k!] = v!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    samples.push({ name, labels, value: m![3] === '+Inf' ? Infinity : Number(m![3]) })
  }
  return { types, samples }
}

const observation = (o: Partial<ReceiverObservation>): ReceiverObservation => ({
  sourceId: 'shop',
  type: 'order.placed',
  status: 'accepted',
  httpStatus: 200,
  latencyMs: 4,
  ...o,
})

describe('prometheus exposition', () => {
  it('is valid text format with HELP and TYPE lines and the counts observed', () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.observe(observation({}))
    f.monitor.observe(observation({ latencyMs: 40 }))
    f.monitor.observe(observation({ status: 'duplicate' }))
    f.monitor.observe(observation({ status: 'rejected', type: 'forged.type', httpStatus: 401 }))
    f.monitor.observe(observation({ sourceId: 'nope', status: 'unknown-source', httpStatus: 404 }))
    const event = f.addEvent('shop', { type: 'order.placed' })
    const run = f.run(event.id, 'queued')
    f.changes.emit({ type: 'run', run: { ...run, status: 'succeeded' } })
    f.changes.emit({
      type: 'step',
      step: {
        runId: run.id,
        stepId: 'call',
        kind: 'http',
        status: 'succeeded',
        input: null,
        output: null,
        error: null,
        attempts: [],
        startedAt: 1000,
        finishedAt: 1250,
      },
    })

    const { types, samples } = parse(f.monitor.prometheus())

    expect(types.get('switchboard_webhook_requests_total')).toBe('counter')
    expect(types.get('switchboard_ack_latency_seconds')).toBe('histogram')
    expect(types.get('switchboard_queue_depth')).toBe('gauge')
    const value = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value
    expect(
      value('switchboard_webhook_requests_total', {
        source: 'shop',
        type: 'order.placed',
        outcome: 'accepted',
      }),
    ).toBe(2)
    expect(value('switchboard_webhook_requests_total', { source: 'shop', outcome: 'duplicate' })).toBe(1)
    // An unverified request's type and an unknown source's id are not turned into labels.
    expect(
      value('switchboard_webhook_requests_total', { source: 'shop', type: '', outcome: 'rejected' }),
    ).toBe(1)
    expect(value('switchboard_webhook_requests_total', { source: '', outcome: 'unknown-source' })).toBe(1)
    expect(samples.some((s) => s.labels.source === 'nope' || s.labels.type === 'forged.type')).toBe(false)
    expect(value('switchboard_ack_latency_seconds_count', { source: 'shop' })).toBe(4)
    expect(value('switchboard_ack_latency_seconds_bucket', { source: 'shop', le: '0.005' })).toBe(3)
    expect(value('switchboard_ack_latency_seconds_bucket', { source: 'shop', le: '+Inf' })).toBe(4)
    expect(value('switchboard_runs_total', { source: 'shop', outcome: 'started' })).toBe(1)
    expect(value('switchboard_runs_total', { source: 'shop', outcome: 'succeeded' })).toBe(1)
    expect(value('switchboard_step_duration_seconds_sum', { kind: 'http' })).toBe(0.25)
  })

  it('bounds the run counters by type the way it bounds the request counters', () => {
    f = monitorFixture()
    f.addSource('shop')
    for (let i = 0; i < 150; i++) {
      const event = f.addEvent('shop', { type: `kind.${i}` })
      f.run(event.id, 'queued')
    }
    const { samples } = parse(f.monitor.prometheus())
    const started = samples.filter(
      (s) => s.name === 'switchboard_runs_total' && s.labels.outcome === 'started',
    )
    // A hundred types of their own, the other fifty under one label.
    expect(started).toHaveLength(101)
    expect(started.find((s) => s.labels.type === OTHER_TYPE)?.value).toBe(50)
  })

  it('escapes label values', () => {
    f = monitorFixture()
    const nasty = 'a"b\\c\nd'
    f.addSource('shop')
    f.monitor.observe(observation({ type: nasty }))
    const text = f.monitor.prometheus()
    expect(text).toContain('type="a\\"b\\\\c\\nd"')
    const { samples } = parse(text)
    expect(samples.find((s) => s.name === 'switchboard_webhook_requests_total')!.labels.type).toBe(nasty)
  })
})

describe('metrics.get', () => {
  it('reports per-minute series for charts, with zeros filled in', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.addSource('quiet')
    f.monitor.observe(observation({}))
    f.clock.advance(60_000)
    f.monitor.observe(observation({}))
    f.monitor.observe(observation({}))
    const metrics = await f.monitor.operations['metrics.get']({})
    const shop = metrics.series.find((s) => s.name === 'events.received' && s.sourceId === 'shop')!
    expect(shop.points).toHaveLength(60)
    expect(shop.points.slice(-2).map((p) => p[1])).toEqual([1, 2])
    expect(shop.points[59]![0] - shop.points[58]![0]).toBe(60_000)
    const quiet = metrics.series.find((s) => s.name === 'events.received' && s.sourceId === 'quiet')!
    expect(quiet.points.every((p) => p[1] === 0)).toBe(true)
    expect(metrics.series.map((s) => s.name)).toEqual(
      expect.arrayContaining(['runs.succeeded', 'runs.failed', 'runs.dead']),
    )
  })

  it('keeps the series across a restart (flushed per minute)', async () => {
    f = monitorFixture()
    f.addSource('shop')
    f.monitor.observe(observation({}))
    f.monitor.stop()
    const { createMonitor } = await import('../../../src/core/monitor')
    const { Settings } = await import('../../../src/core/store/settings')
    const again = createMonitor({
      db: f.db,
      clock: f.clock,
      changes: f.changes,
      settings: new Settings(f.db),
      queueDepth: () => 7,
      deadLettersOpen: () => 2,
      dataDir: f.dir,
      cipher: f.cipher,
    })
    const metrics = await again.operations['metrics.get']({})
    const shop = metrics.series.find((s) => s.name === 'events.received' && s.sourceId === 'shop')!
    expect(shop.points.at(-1)![1]).toBe(1)
    expect(metrics).toMatchObject({ queueDepth: 7, deadLettersOpen: 2 })
    again.stop()
  })
})
