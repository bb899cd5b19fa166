import { useEffect, useMemo, useRef, useState } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { useStore } from 'zustand'
import type { Metrics } from '../../../shared/domain'
import { describeError } from '../api/api-errors'
import { useApp } from '../app-context'
import { formatBytes, formatTime } from '../format'
import { AlertWebhookSettingsCard } from './alert-webhook-settings'

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d']
/** Metrics are refetched when activity happens, at most this often. */
const REFRESH_MS = 10_000

interface ChartSeries {
  label: string
  points: Array<[number, number]>
}

const TITLES: Record<string, string> = {
  'events.received': 'Events received per minute',
  'events.accepted': 'Events accepted per minute',
  'events.rejected': 'Requests rejected (failed verification) per minute',
  'events.duplicate': 'Duplicate deliveries per minute',
}
const RUN_OUTCOMES = ['runs.succeeded', 'runs.failed', 'runs.dead'] as const

const latency = (ms: number) => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`
/** How each of the engine's totals reads on a tile; a total not named here shows under its own name. */
const TOTALS: Record<string, { label: string; format?: (value: number) => string }> = {
  received: { label: 'Received' },
  accepted: { label: 'Accepted' },
  rejected: { label: 'Rejected (bad signature)' },
  duplicates: { label: 'Duplicates' },
  blocked: { label: 'Blocked (loop guard)' },
  handshakes: { label: 'Handshakes' },
  refused: { label: 'Refused (limits)' },
  errors: { label: 'Store errors' },
  unknownSource: { label: 'Unknown source' },
  runsStarted: { label: 'Runs started' },
  runsSucceeded: { label: 'Runs succeeded' },
  runsFailed: { label: 'Runs failed' },
  runsDead: { label: 'Runs dead' },
  ackLatencyP50Ms: { label: 'Ack latency p50', format: latency },
  ackLatencyP95Ms: { label: 'Ack latency p95', format: latency },
  ackLatencyP99Ms: { label: 'Ack latency p99', format: latency },
  storeBytes: { label: 'Store size', format: formatBytes },
  alertsOpen: { label: 'Open alerts' },
  searchBacklog: { label: 'Not yet searchable' },
}

/** The tiles above the charts: queue and dead letters, then the engine's figures (counts since it started). */
export function tilesFromMetrics(metrics: Metrics): Array<{ key: string; label: string; value: string }> {
  const count = (n: number) => n.toLocaleString()
  return [
    { key: 'queueDepth', label: 'Queue depth', value: count(metrics.queueDepth) },
    { key: 'deadLettersOpen', label: 'Dead letters open', value: count(metrics.deadLettersOpen) },
    ...Object.entries(metrics.totals).map(([key, value]) => {
      const known = TOTALS[key]
      return { key, label: known?.label ?? key, value: (known?.format ?? count)(value) }
    }),
  ]
}

function sumBySeriesTime(series: Metrics['series']): Array<[number, number]> {
  const sums = new Map<number, number>()
  for (const s of series) for (const [t, v] of s.points) sums.set(t, (sums.get(t) ?? 0) + v)
  return [...sums.entries()].sort((a, b) => a[0] - b[0])
}

/**
 * The charts to draw: one per event series (a line per source), then run outcomes — succeeded, failed
 * (a step failed), dead — summed over sources. Series with no points are left out.
 */
export function chartsFromMetrics(
  metrics: Metrics,
  sourceName: (id: string) => string,
): Array<{ title: string; series: ChartSeries[] }> {
  const byName = new Map<string, ChartSeries[]>()
  for (const s of metrics.series) {
    if (s.points.length === 0 || s.name.startsWith('runs.')) continue
    const list = byName.get(s.name) ?? []
    list.push({ label: s.sourceId ? sourceName(s.sourceId) : 'all sources', points: s.points })
    byName.set(s.name, list)
  }
  const charts = [...byName.entries()].map(([name, series]) => ({ title: TITLES[name] ?? name, series }))
  const outcomes = RUN_OUTCOMES.map((name) => ({
    label: name.slice('runs.'.length),
    points: sumBySeriesTime(metrics.series.filter((s) => s.name === name)),
  })).filter((s) => s.points.length > 0)
  if (outcomes.length) charts.push({ title: 'Run outcomes per minute (all sources)', series: outcomes })
  return charts
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return v || fallback
}

function Chart({ title, series }: { title: string; series: ChartSeries[] }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b)
    const columns = series.map((s) => {
      const at = new Map(s.points)
      return xs.map((x) => at.get(x) ?? null)
    })
    const fg = cssVar('--fg-muted', '#666')
    const grid = cssVar('--border', '#ddd')
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
    const plot = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height: 220,
        series: [
          {},
          ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2 })),
        ],
        axes: [axis, axis],
        scales: { x: { time: true } },
      },
      // uPlot's time axis is in seconds; the metrics are in milliseconds.
      [xs.map((x) => x / 1000), ...columns],
      el,
    )
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(300, el.clientWidth), height: 220 }),
    )
    resize.observe(el)
    return () => {
      resize.disconnect()
      plot.destroy()
    }
  }, [series])
  const last = series.map((s) => `${s.label} ${s.points[s.points.length - 1]?.[1] ?? 0}`).join(', ')
  return (
    <figure className="chart card">
      <figcaption>{title}</figcaption>
      <div ref={ref} role="img" aria-label={`${title}. Latest: ${last}`} />
    </figure>
  )
}

/** Charts of what the metrics report (events per minute per source, success and failure), or why there are none. */
export default function MetricsView() {
  const { client, catalog, feed } = useApp()
  const sources = useStore(catalog.store, (s) => s.sources)
  const activity = useStore(feed.store, (s) => s.version)
  const [metrics, setMetrics] = useState<Metrics | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loadedAt, setLoadedAt] = useState(0)
  const [tick, setTick] = useState(0)

  useEffect(() => {
    let live = true
    const wait = Math.max(0, loadedAt + REFRESH_MS - Date.now())
    const timer = setTimeout(
      () => {
        client['metrics.get']({}).then(
          (m) => {
            if (!live) return
            setMetrics(m)
            setError(null)
            setLoadedAt(Date.now())
          },
          (e) => {
            if (!live) return
            setError(describeError(e))
            setLoadedAt(Date.now())
          },
        )
      },
      loadedAt === 0 ? 0 : wait,
    )
    return () => {
      live = false
      clearTimeout(timer)
    }
    // Refetch on activity (throttled) and on demand; not on a timer of its own.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, activity, tick])

  const charts = useMemo(
    () => (metrics ? chartsFromMetrics(metrics, (id) => sources.find((s) => s.id === id)?.name ?? id) : []),
    [metrics, sources],
  )

  return (
    <section className="page" aria-labelledby="metrics-title">
      <div className="page-head">
        <h1 id="metrics-title">Charts</h1>
        <span className="muted">{loadedAt ? `updated ${formatTime(loadedAt)}` : ''}</span>
        <button
          type="button"
          className="small"
          onClick={() => {
            setLoadedAt(0)
            setTick((t) => t + 1)
          }}
        >
          Refresh
        </button>
      </div>
      {error && (
        <p role="alert" className="error-text">
          Could not load metrics: {error}
        </p>
      )}
      {!metrics && !error && <p role="status">Loading metrics…</p>}
      {metrics && (
        <>
          <dl className="tiles" aria-label="Engine figures">
            {tilesFromMetrics(metrics).map((tile) => (
              <div key={tile.key}>
                <dt>{tile.label}</dt>
                <dd>{tile.value}</dd>
              </div>
            ))}
          </dl>
          {charts.length === 0 ? (
            <p className="empty">No time series yet: charts appear once events have been received.</p>
          ) : (
            <div className="charts">
              {charts.map((c) => (
                <Chart key={c.title} title={c.title} series={c.series} />
              ))}
            </div>
          )}
        </>
      )}
      <AlertWebhookSettingsCard />
    </section>
  )
}
