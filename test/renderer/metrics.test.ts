import { describe, expect, it } from 'vitest'
import type { Metrics } from '../../src/shared/domain'
import { chartsFromMetrics, tilesFromMetrics } from '../../src/renderer/src/components/metrics-view'
import { healthFromMetrics } from '../../src/renderer/src/components/sources-view'

const metrics: Metrics = {
  at: 0,
  totals: {},
  perSource: [
    { sourceId: 'shop', type: 'order.placed', received: 8, rejected: 1 },
    { sourceId: 'shop', type: null, received: 2, rejected: 1 },
    { sourceId: 'gh', type: 'push', received: 5, rejected: 0 },
  ],
  series: [
    {
      name: 'events.received',
      sourceId: 'shop',
      points: [
        [60_000, 3],
        [120_000, 4],
      ],
    },
    { name: 'events.received', sourceId: 'gh', points: [[60_000, 1]] },
    { name: 'events.rejected', sourceId: 'gh', points: [] },
    { name: 'runs.succeeded', sourceId: 'shop', points: [[60_000, 2]] },
    {
      name: 'runs.succeeded',
      sourceId: 'gh',
      points: [
        [60_000, 1],
        [120_000, 1],
      ],
    },
    { name: 'runs.dead', sourceId: 'shop', points: [[120_000, 1]] },
  ],
  queueDepth: 0,
  deadLettersOpen: 1,
}

describe('tiles from metrics', () => {
  it('names each total for a reader and shows latencies and sizes in their units', () => {
    const tiles = tilesFromMetrics({
      ...metrics,
      queueDepth: 12_345,
      totals: {
        unknownSource: 3,
        ackLatencyP50Ms: 2.25,
        ackLatencyP99Ms: 14.6,
        storeBytes: 3_000_000_000,
        searchBacklog: 1200,
        later: 7,
      },
    })
    expect(tiles.map((t) => [t.label, t.value])).toEqual([
      ['Queue depth', (12_345).toLocaleString()],
      ['Dead letters open', '1'],
      ['Unknown source', '3'],
      ['Ack latency p50', '2.3 ms'],
      ['Ack latency p99', '15 ms'],
      ['Store size', '2.79 GiB'],
      ['Not yet searchable', (1200).toLocaleString()],
      // A total this build does not know yet still shows, under its own name.
      ['later', '7'],
    ])
  })
})

describe('charts from metrics', () => {
  it('draws events per minute per source, and run outcomes summed over sources', () => {
    const charts = chartsFromMetrics(metrics, (id) => id.toUpperCase())
    expect(charts.map((c) => c.title)).toEqual([
      'Events received per minute',
      'Run outcomes per minute (all sources)',
    ])
    expect(charts[0]!.series.map((s) => s.label)).toEqual(['SHOP', 'GH'])
    expect(charts[1]!.series).toEqual([
      {
        label: 'succeeded',
        points: [
          [60_000, 3],
          [120_000, 1],
        ],
      },
      { label: 'dead', points: [[120_000, 1]] },
    ])
  })

  it('has nothing to draw when no series has points', () => {
    expect(chartsFromMetrics({ ...metrics, series: [] }, (id) => id)).toEqual([])
  })
})

describe('source health from metrics', () => {
  it('sums received and rejected over a source’s event types', () => {
    const health = healthFromMetrics(metrics)
    expect(health.get('shop')).toEqual({ received: 10, rejected: 2 })
    expect(health.get('gh')).toEqual({ received: 5, rejected: 0 })
    expect(healthFromMetrics(null).size).toBe(0)
  })
})
