import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { EventStatus } from '../src/shared/domain'
import { SearchIndex } from '../src/core/events/search-index'
import { EventStore, type NewEvent } from '../src/core/events/event-store'
import { openDatabase, type Db } from '../src/core/store/database'
import type { BenchRow } from './table'

export interface BacklogOptions {
  /** Stored events (default 1,000,000). */
  events?: number
  /** Timed runs per query; the median is reported (default 15, after 3 warm-up runs). */
  runs?: number
}

const SOURCES = ['github', 'stripe', 'shop', 'calendar', 'linear', 'slack', 'home', 'crm']
const TYPES = [
  'push',
  'pull_request.opened',
  'issues.closed',
  'invoice.paid',
  'charge.failed',
  'order.created',
  'order.cancelled',
  'event.updated',
  'event.cancelled',
  'issue.created',
  'comment.added',
  'message.posted',
  'sensor.changed',
  'deal.won',
  'contact.created',
  'refund.issued',
  'subscription.renewed',
  'shipment.sent',
  'task.completed',
  'ping',
]
/** A small vocabulary so bodies read like text (a search word is common, not unique). */
const WORDS = (
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec ' +
  'romeo sierra tango uniform victor whiskey xray yankee zulu amber basil cedar dune ember fjord garnet harbor ' +
  'iris jasper kelp lotus maple nectar onyx pearl quartz raven sage thistle umber violet willow yarrow zinnia ' +
  'customer invoice order payment refund shipment account project ticket meeting calendar reminder status ' +
  'pending complete failed retry priority urgent normal low high review approved rejected draft published'
).split(' ')

/** Deterministic pseudo-random numbers (mulberry32), so every run stores the same backlog. */
export function prng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hex(random: () => number, length: number): string {
  let out = ''
  while (out.length < length)
    out += Math.floor(random() * 0x100000000)
      .toString(16)
      .padStart(8, '0')
  return out.slice(0, length)
}

/** A ~1 KB JSON body: a few ids (unique terms, as real payloads have) and sentences from the vocabulary. */
let pools: { short: string[]; medium: string[]; long: string[] } | null = null

/** Sentences drawn once (generating ~100 random words per event would dominate the load time). */
function sentencePools(random: () => number) {
  const pick = () => WORDS[Math.floor(random() * WORDS.length)]!
  const sentences = (count: number, words: number) =>
    Array.from({ length: count }, () => Array.from({ length: words }, pick).join(' '))
  return (pools ??= { short: sentences(4096, 6), medium: sentences(4096, 40), long: sentences(4096, 60) })
}

function makeBody(i: number, type: string, random: () => number): Buffer {
  const pool = sentencePools(random)
  const pick = () => WORDS[Math.floor(random() * WORDS.length)]!
  const one = (list: string[]) => list[Math.floor(random() * list.length)]!
  const doc = {
    id: `evt_${i.toString(36)}_${hex(random, 12)}`,
    type,
    created: 1_767_225_600 + i,
    data: {
      object: {
        id: `obj_${Math.floor(random() * 1e9).toString(36)}`,
        customer: `cus_${Math.floor(random() * 50_000).toString(36)}`,
        amount: Math.floor(random() * 100_000),
        currency: 'eur',
        title: one(pool.short),
        description: one(pool.medium),
        tags: [pick(), pick(), pick()],
        notes: one(pool.long),
      },
    },
  }
  let text = JSON.stringify(doc)
  if (text.length < 1024 - 10) text = text.slice(0, -1) + `,"pad":"${'.'.repeat(1024 - text.length - 9)}"}`
  return Buffer.from(text)
}

export function makeEvent(i: number, receivedAt: number, random: () => number): NewEvent {
  const sourceId = SOURCES[i % SOURCES.length]!
  const type = TYPES[Math.floor(random() * TYPES.length)]!
  const body = makeBody(i, type, random)
  const r = random()
  const status: EventStatus = r < 0.9 ? 'accepted' : r < 0.97 ? 'duplicate' : 'rejected'
  const delivery = `${i.toString(16).padStart(8, '0')}-${hex(random, 8)}`
  return {
    id: `evt_${receivedAt.toString(32)}${i.toString(32).padStart(8, '0')}`,
    sourceId,
    provider: 'standard-webhooks',
    receivedAt,
    method: 'POST',
    path: `/hooks/${sourceId}`,
    query: '',
    headers: {
      host: 'example.loca.lt',
      'user-agent': 'Provider-Hookshot/1.0',
      'content-type': 'application/json',
      'content-length': String(body.length),
      'webhook-id': `msg_${delivery}`,
      'webhook-timestamp': String(Math.floor(receivedAt / 1000)),
      'webhook-signature': `v1,${Buffer.from(hex(random, 64), 'hex').toString('base64')}`,
      'x-forwarded-for': '203.0.113.7',
    },
    contentType: 'application/json',
    body,
    bodySize: body.length,
    bodyTruncated: false,
    dedupId: status === 'duplicate' ? `msg_dup_${i}` : `msg_${delivery}`,
    duplicateOf: null,
    type,
    status: status === 'duplicate' ? 'accepted' : status,
    verification: status === 'rejected' ? 'failed' : 'verified',
    reason: status === 'rejected' ? 'signature mismatch' : null,
    hop: 0,
    summary: `${type} ${i}`,
    bodySha256: null,
  }
}

/**
 * Store `total` events through EventStore.insert. Loading is set-up, not what is measured: big transactions, no
 * fsync, and the full-text index (search.db beside the store) built by the engine's SearchIndex after the load
 * (its worker does the same in the background after acks), in large batches. Returns the index, for searches.
 */
export async function loadBacklog(
  db: Db,
  total: number,
): Promise<{ loadMs: number; probeId: string; searchIndex: SearchIndex }> {
  const events = new EventStore(db)
  const random = prng(8)
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -262144')
  const start0 = Date.UTC(2025, 0, 1)
  const batch = 20_000
  const loadStart = performance.now()
  let probeId = ''
  for (let done = 0; done < total; done += batch) {
    const n = Math.min(batch, total - done)
    db.transaction(() => {
      for (let k = 0; k < n; k++) {
        const i = done + k
        const event = makeEvent(i, start0 + i * 1000, random)
        if (i === Math.floor(total / 3)) probeId = event.headers['webhook-id']!
        events.insert(event)
      }
    }).immediate()
    events.settle(true)
    await new Promise((r) => setImmediate(r))
  }
  const searchIndex = new SearchIndex({
    storeFile: db.name,
    indexFile: join(dirname(db.name), 'search.db'),
    batch: 100_000,
  })
  searchIndex.indexAll()
  const loadMs = performance.now() - loadStart
  db.pragma('cache_size = -2000')
  db.pragma('synchronous = FULL')
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.exec('ANALYZE')
  return { loadMs, probeId, searchIndex }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function time(runs: number, fn: () => unknown): number {
  for (let i = 0; i < 3; i++) fn()
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    fn()
    samples.push(performance.now() - start)
  }
  return median(samples)
}

function fileBytes(file: string): number {
  let n = 0
  for (const f of [file, `${file}-wal`]) {
    try {
      n += statSync(f).size
    } catch {
      // no WAL
    }
  }
  return n
}

/**
 * Issue 8's backlog figures: with 1,000,000 stored ~1 KB events (several sources and types, written through
 * EventStore.insert so the full-text triggers run), the time of the first feed page, a filtered page and
 * full-text searches through `EventStore.list` (median of several runs; baseline: a bare `SELECT … LIMIT 50`),
 * and the bytes the store takes per event.
 */
export async function runBacklogBench(options: BacklogOptions = {}): Promise<BenchRow[]> {
  const total = options.events ?? 1_000_000
  const runs = options.runs ?? 15
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-backlog-'))
  const file = join(dir, 'switchboard.db')
  let db: Db | null = null
  let searchIndex: SearchIndex | null = null
  try {
    db = openDatabase({ file })
    const events = new EventStore(db)
    const loaded = await loadBacklog(db, total)
    const { loadMs, probeId } = loaded
    searchIndex = loaded.searchIndex
    events.useSearchIndex(searchIndex.reader)
    const count = (db.prepare(`SELECT COUNT(*) AS n FROM events`).get() as { n: number }).n

    const bare = db.prepare(
      `SELECT seq, id, source_id, provider, received_at, method, path, query, headers, content_type, body_size,
         body_truncated, dedup_id, duplicate_of, type, status, verification, reason, hop, summary
       FROM events ORDER BY seq DESC LIMIT 50`,
    )
    const baseline = time(runs, () => bare.all())
    const row = (name: string, fn: () => { items: unknown[] }, note: string): BenchRow => {
      const items = fn().items.length
      const value = time(runs, fn)
      return {
        name,
        value,
        unit: 'ms',
        baseline: { name: 'bare SELECT … ORDER BY seq DESC LIMIT 50', value: baseline },
        ratio: value / baseline,
        note: `${note}; ${items} rows`,
      }
    }
    const firstPage = events.list({ limit: 50 })
    const rows: BenchRow[] = [
      row('backlog: first feed page', () => events.list({ limit: 50 }), 'events.list, no filter'),
      row(
        'backlog: second feed page (cursor)',
        () => events.list({ limit: 50, before: firstPage.nextCursor! }),
        'events.list with before',
      ),
      row(
        'backlog: filtered page',
        () => events.list({ source: 'stripe', status: 'accepted', type: 'invoice.paid', limit: 50 }),
        'source + status + type',
      ),
      row(
        'backlog: filtered page, type pattern',
        () => events.list({ type: 'order.*', limit: 50 }),
        'type=order.* (2 types in 20): too many matches to sort, so the newest rows are walked, at most 10,000 a page',
      ),
      row(
        'backlog: filtered page, worst case',
        () => events.list({ source: 'stripe', status: 'rejected', type: 'push', limit: 50 }),
        'three filters that rarely meet (1 stripe event in ~670 is a rejected push): one page walks at most 10,000 rows, then answers with a cursor to go on from',
      ),
      row(
        'backlog: full-text search, common word',
        () => events.list({ q: 'quartz', limit: 50 }),
        'q=quartz',
      ),
      row(
        'backlog: full-text search, two words + source',
        () => events.list({ q: 'refund urgent', source: 'shop', limit: 50 }),
        'q="refund urgent"&source=shop',
      ),
      row(
        'backlog: full-text search, worst case',
        () => events.list({ q: 'quartz', source: 'no-such-source', limit: 50 }),
        'a common word with a filter nothing passes: one page walks at most 10,000 matches, then answers with a cursor to go on from',
      ),
      row(
        'backlog: full-text search, one delivery id',
        () => events.list({ q: probeId, limit: 50 }),
        `q=${probeId}`,
      ),
    ]
    const bytes = fileBytes(file) + fileBytes(join(dir, 'search.db'))
    const ftsBytes = (
      searchIndex.reader
        .prepare(`SELECT COALESCE(SUM(length(block)), 0) AS n FROM search.events_fts_data`)
        .get() as { n: number }
    ).n
    rows.push(
      {
        name: 'backlog: bytes per stored 1 KB event',
        value: bytes / count,
        unit: 'B',
        note: `${(bytes / 1024 ** 3).toFixed(2)} GiB file for ${count.toLocaleString('en-US')} events (body ~1,024 B + headers ~330 B), with search.db`,
      },
      {
        name: 'backlog: full-text index bytes per event',
        value: ftsBytes / count,
        unit: 'B',
        note: 'contentless FTS5 (terms only) in search.db, included in the figure above',
      },
      {
        name: 'backlog: load rate (set-up)',
        value: count / (loadMs / 1000),
        unit: 'events/s',
        note: 'EventStore.insert, 20,000 per transaction, synchronous=OFF, FTS index built after the load',
      },
    )
    return rows
  } finally {
    await searchIndex?.stop()
    db?.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const events = process.argv[2] ? Number(process.argv[2]) : undefined
  const rows = await runBacklogBench({ events })
  for (const r of rows) {
    console.log(
      `${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.baseline ? ` (baseline ${r.baseline.value.toFixed(3)} ms)` : ''} — ${r.note ?? ''}`,
    )
  }
}
