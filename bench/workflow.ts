import { startCountingServer } from '../test/faults/counting-server'
import { spawnHeadless } from '../test/faults/headless-process'
import { quantile, runLoad } from '../test/support/load'
import { tempDir } from '../test/support/temp-dir'
import { unavailable, type BenchRow } from './table'

/**
 * End-to-end latency from receipt (the webhook's send) to the workflow's first step reaching a local fake API,
 * and runs per second for a three-step workflow (http, set, http), against the headless server as a child
 * process. Baseline: the same webhooks' ack latency in the same run.
 */
export async function runWorkflowBench(options: {
  events: number
  connections: number
}): Promise<BenchRow[]> {
  const dir = tempDir('switchboard-bench-wf-')
  const counting = await startCountingServer()
  const server = await spawnHeadless({ dataDir: dir.path })
  try {
    await server.api('POST', '/api/sources', { id: 'wf', name: 'Workflow bench', provider: 'none' })
    const created = await server.api('POST', '/api/workflows', {
      id: 'three-steps',
      name: 'Three steps',
      enabled: true,
      trigger: { source: 'wf' },
      steps: [
        {
          id: 'first',
          kind: 'http',
          method: 'POST',
          url: `${counting.url}/first`,
          body: { n: '{{ event.n }}' },
        },
        { id: 'mark', kind: 'set', values: { n: '{{ event.n }}' } },
        {
          id: 'last',
          kind: 'http',
          method: 'POST',
          url: `${counting.url}/last`,
          body: { n: '{{ event.n }}' },
        },
      ],
    })
    if (created.status === 503) {
      return [
        unavailable('e2e receipt → first step p50', 'ms', 'n/a (orchestrator not built)'),
        unavailable('e2e receipt → first step p99', 'ms', 'n/a (orchestrator not built)'),
        unavailable('runs/s, three-step workflow', 'runs/s', 'n/a (orchestrator not built)'),
      ]
    }
    const sentAt = new Map<number, number>()
    const firstAt = new Map<number, number>()
    let lastDone = 0
    let lastAt = 0
    counting.onCall = (call) => {
      const n = Number((JSON.parse(call.body) as { n: unknown }).n)
      if (call.path === '/first' && !firstAt.has(n)) firstAt.set(n, call.at)
      if (call.path === '/last') {
        lastDone++
        lastAt = call.at
      }
    }
    // Paced first, well below capacity: the latency a user sees when events arrive as they do in life. The first
    // events after a start pay for compiling the code paths and opening the first connections: warm up first,
    // as the ingest rounds do, and measure what comes after.
    const warmUp = 20
    const pacedCount = 200
    const pacedBase = 1_000_000
    const warmUpBase = 2_000_000
    const pacedAcks: number[] = []
    for (let k = -warmUp; k < pacedCount; k++) {
      const n = k < 0 ? warmUpBase + warmUp + k : pacedBase + k
      const paced = await runLoad({
        url: server.receiverUrl,
        connections: 1,
        requests: 1,
        build: () => {
          sentAt.set(n, performance.now())
          return {
            path: '/hooks/wf',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'bench', n }),
          }
        },
      })
      if (k >= 0) pacedAcks.push(paced.p50)
      await new Promise((r) => setTimeout(r, 20))
    }
    const pacedDeadline = performance.now() + 30_000
    while (lastDone < warmUp + pacedCount && performance.now() < pacedDeadline)
      await new Promise((r) => setTimeout(r, 50))
    const pacedE2e = [...firstAt]
      .filter(([n]) => n >= pacedBase && n < warmUpBase)
      .map(([n, at]) => at - sentAt.get(n)!)
      .sort((x, y) => x - y)
    pacedAcks.sort((x, y) => x - y)
    lastDone = 0
    const started = performance.now()
    const load = await runLoad({
      url: server.receiverUrl,
      connections: options.connections,
      requests: options.events,
      build: (i) => {
        sentAt.set(i, performance.now())
        return {
          path: '/hooks/wf',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'bench', n: i }),
        }
      },
    })
    const deadline = performance.now() + 300_000
    while (lastDone < load.ok && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const e2e = [...firstAt]
      .filter(([n]) => n < pacedBase)
      .map(([n, at]) => at - sentAt.get(n)!)
      .sort((x, y) => x - y)
    const seconds = (lastAt - started) / 1000
    return [
      {
        name: 'e2e receipt → first step p50, paced (~40 events/s)',
        value: quantile(pacedE2e, 0.5),
        unit: 'ms',
        baseline: { name: 'ack p50, same webhooks', value: quantile(pacedAcks, 0.5) },
        ratio: quantile(pacedE2e, 0.5) / quantile(pacedAcks, 0.5),
        note: `${pacedE2e.length} events one at a time, 20 ms apart, after ${warmUp} warm-up events`,
      },
      {
        name: 'e2e receipt → first step p99, paced (~40 events/s)',
        value: quantile(pacedE2e, 0.99),
        unit: 'ms',
        baseline: { name: 'ack p99, same webhooks', value: quantile(pacedAcks, 0.99) },
        ratio: quantile(pacedE2e, 0.99) / quantile(pacedAcks, 0.99),
      },
      {
        name: 'e2e receipt → first step p50, burst (queueing included)',
        value: quantile(e2e, 0.5),
        unit: 'ms',
        baseline: { name: 'ack p50, same webhooks', value: load.p50 },
        ratio: quantile(e2e, 0.5) / load.p50,
      },
      {
        name: 'e2e receipt → first step p99, burst (queueing included)',
        value: quantile(e2e, 0.99),
        unit: 'ms',
        baseline: { name: 'ack p99, same webhooks', value: load.p99 },
        ratio: quantile(e2e, 0.99) / load.p99,
      },
      {
        name: 'runs/s, three-step workflow (http, set, http) against a local fake API',
        value: lastDone / seconds,
        unit: 'runs/s',
        baseline: { name: 'webhooks acked/s in the same burst', value: load.okPerSecond },
        ratio: lastDone / seconds / load.okPerSecond,
        note: `${options.events} events over ${options.connections} connections; ${lastDone}/${load.ok} runs finished`,
      },
    ]
  } finally {
    await server.stop()
    await counting.close()
    dir.remove()
  }
}
