import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { openDatabase } from '../src/core/store/database'
import { spawnHeadless } from '../test/faults/headless-process'
import { runLoad } from '../test/support/load'
import { tempDir } from '../test/support/temp-dir'
import type { BenchRow } from './table'

/** Write `count` stored events straight into a fresh store (far faster than sending them; same rows). */
function seed(dataDir: string, count: number): void {
  const db = openDatabase({ file: join(dataDir, 'switchboard.db') })
  const now = Date.now()
  db.prepare(
    `INSERT INTO sources (id, name, provider, created_at, updated_at) VALUES ('mem', 'Memory bench', 'none', ?, ?)`,
  ).run(now, now)
  const insert = db.prepare(
    `INSERT INTO events (id, source_id, provider, received_at, method, path, headers, content_type, body, body_size,
       dedup_id, type, status, verification, summary)
     VALUES (?, 'mem', 'none', ?, 'POST', '/hooks/mem', '{"content-type":"application/json"}', 'application/json', ?, ?,
       ?, 'bench.event', 'accepted', 'unsigned', 'bench')`,
  )
  const body = Buffer.from(JSON.stringify({ type: 'bench.event', data: 'x'.repeat(900) }))
  const batch = 50_000
  for (let start = 0; start < count; start += batch) {
    db.transaction(() => {
      for (let i = start; i < Math.min(count, start + batch); i++) {
        insert.run(
          `evt_seed_${String(i).padStart(8, '0')}`,
          now - (count - i),
          body,
          body.length,
          randomUUID(),
        )
      }
    }).immediate()
  }
  // Every accepted event owns a dedup key, which the engine holds in memory.
  db.exec(`INSERT INTO dedup_keys (event_seq, key) SELECT seq, dedup_key(source_id, dedup_id) FROM events`)
  db.close()
}

/**
 * Resident memory of the headless server (child process, VmRSS from /proc): idle, under sustained load, and
 * idle on a store holding `stored` events (seeded directly into SQLite, then the server started on it and its
 * feed queried). Baseline: the same server idle on an empty store.
 */
export async function runMemoryBench(options: { sustainMs: number; stored: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const empty = tempDir('switchboard-bench-mem-')
  let idle: number
  let emptyStartMs: number
  try {
    const started = performance.now()
    const server = await spawnHeadless({ dataDir: empty.path })
    emptyStartMs = performance.now() - started
    await server.api('POST', '/api/sources', { id: 'mem', name: 'Memory bench', provider: 'none' })
    await new Promise((r) => setTimeout(r, 500))
    idle = server.rss()
    let peak = idle
    const sampler = setInterval(() => (peak = Math.max(peak, server.rss())), 250)
    const load = await runLoad({
      url: server.receiverUrl,
      connections: 50,
      requests: 10_000_000,
      maxDurationMs: options.sustainMs,
      build: (i) => ({
        path: '/hooks/mem',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'bench.event', n: i, data: 'x'.repeat(900) }),
      }),
    })
    clearInterval(sampler)
    const end = server.rss()
    await server.stop()
    rows.push({ name: 'headless RSS idle (empty store)', value: idle / 2 ** 20, unit: 'MiB' })
    rows.push({
      name: `headless RSS under sustained load (peak over ${options.sustainMs / 1000} s)`,
      value: peak / 2 ** 20,
      unit: 'MiB',
      baseline: { name: 'idle', value: idle / 2 ** 20 },
      ratio: peak / idle,
      note: `${load.ok} webhooks acked at ${Math.round(load.okPerSecond)}/s; RSS at the end ${(end / 2 ** 20).toFixed(0)} MiB`,
    })
  } finally {
    empty.remove()
  }
  const full = tempDir('switchboard-bench-mem-full-')
  try {
    const t0 = performance.now()
    seed(full.path, options.stored)
    const seededIn = (performance.now() - t0) / 1000
    const started = performance.now()
    const server = await spawnHeadless({ dataDir: full.path, startTimeoutMs: 120_000 })
    const fullStartMs = performance.now() - started
    for (let i = 0; i < 5; i++) await server.api('GET', '/api/events?limit=200')
    // The index is built from nothing on a store seeded straight into SQLite: search until it has caught up, so
    // the figure includes a whole index (a search answers with searchPending while it is behind).
    for (let i = 0; i < 600; i++) {
      const { json } = await server.api('GET', '/api/events?q=bench&limit=50')
      if (!(json as { searchPending?: number }).searchPending) break
    }
    await server.api('GET', '/api/metrics')
    await new Promise((r) => setTimeout(r, 500))
    const rss = server.rss()
    await server.stop()
    rows.push({
      name: `headless RSS at ${options.stored.toLocaleString('en-US')} stored events`,
      value: rss / 2 ** 20,
      unit: 'MiB',
      baseline: { name: 'idle, empty store', value: idle / 2 ** 20 },
      ratio: rss / idle,
      note: `events seeded straight into SQLite in ${seededIn.toFixed(0)} s, then the server started and the feed, search and metrics queried`,
    })
    rows.push({
      name: `headless start-up at ${options.stored.toLocaleString('en-US')} stored events`,
      value: fullStartMs,
      unit: 'ms',
      baseline: { name: 'start-up on an empty store', value: emptyStartMs },
      ratio: fullStartMs / emptyStartMs,
      note: 'process start to receiver listening; includes reading the dedup keys back into memory',
    })
  } finally {
    full.remove()
  }
  return rows
}
