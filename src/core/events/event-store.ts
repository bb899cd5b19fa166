import type { z } from 'zod'
import { ApiError, type eventFilterSchema } from '../../shared/contract'
import type {
  EventDetail,
  EventStatus,
  EventSummary,
  Page,
  ProviderId,
  Verification,
} from '../../shared/domain'
import type { Db } from '../store/database'
import { DedupIndex, dedupKey } from './dedup-index'

/** A row as the receiver writes it. */
export interface NewEvent {
  id: string
  sourceId: string
  provider: string | null
  receivedAt: number
  method: string
  path: string
  query: string
  headers: Record<string, string>
  contentType: string | null
  body: Buffer
  bodySize: number
  bodyTruncated: boolean
  dedupId: string
  duplicateOf: string | null
  type: string | null
  status: EventStatus
  verification: Verification
  reason: string | null
  hop: number
  summary: string
  /**
   * The body's SHA-256, for a preset whose body identifies its event (Provider.bodyIdentifiesEvent): a later
   * delivery of the same body from the source is a replay, stored as a duplicate. Null otherwise.
   */
  bodySha256: Buffer | null
}

interface EventRow {
  seq: number
  id: string
  source_id: string
  provider: string | null
  received_at: number
  method: string
  path: string
  query: string
  headers: string
  content_type: string | null
  body?: Buffer
  body_size: number
  body_truncated: number
  dedup_id: string
  duplicate_of: string | null
  type: string | null
  status: EventStatus
  verification: Verification
  reason: string | null
  hop: number
  summary: string
}

/** The stored event with everything a workflow sees. */
export interface LoadedEvent {
  summary: EventSummary
  headers: Record<string, string>
  body: Buffer
  /** The body parsed as JSON (or form fields) when it is, else undefined. */
  json: unknown
  query: string
  path: string
}

type EventFilter = z.output<typeof eventFilterSchema>

const SUMMARY_COLUMNS = `seq, id, source_id, provider, received_at, method, path, query, headers, content_type,
  body_size, body_truncated, dedup_id, duplicate_of, type, status, verification, reason, hop, summary`

/** Rows a page examines when no single index answers it: a filtered search, or filters that rarely meet. */
export const SEARCH_SCAN_PER_PAGE = 10_000

/** Counts runs per event; the orchestrator provides it (the runs table is its own). */
export type RunCounter = (eventIds: string[]) => Map<string, number>

/**
 * Reads and writes the events table. Writes happen only inside the receiver's group commit; reads serve the
 * control API and the orchestrator.
 */
export class EventStore {
  private readonly stmt
  private runCounter: RunCounter = () => new Map()
  /** The connection with the full-text index attached (see SearchIndex); without it a search scans. */
  private search: Db | null = null
  private dedupIndex: DedupIndex | null

  /**
   * @param dedup the engine's one dedup index; a store that only reads never needs it, so it loads lazily.
   * @param searchScan rows a page examines, when no single index answers it, before it answers with what it
   *   found and a cursor to go on from (so a common word or source with a rare filter cannot make one call read
   *   them all).
   */
  constructor(
    private readonly db: Db,
    dedup?: DedupIndex,
    private readonly searchScan = SEARCH_SCAN_PER_PAGE,
  ) {
    this.dedupIndex = dedup ?? null
    this.stmt = {
      insert: db.prepare(
        `INSERT INTO events (id, source_id, provider, received_at, method, path, query, headers, content_type, body,
           body_size, body_truncated, dedup_id, duplicate_of, type, status, verification, reason, hop, summary,
           body_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      sameBody: db
        .prepare(
          `SELECT id FROM events WHERE source_id = ? AND body_sha256 = ? AND status = 'accepted' LIMIT 1`,
        )
        .pluck(),
      get: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM events WHERE id = ?`),
      getFull: db.prepare(`SELECT ${SUMMARY_COLUMNS}, body FROM events WHERE id = ?`),
    }
  }

  /** Answer searches from the full-text index, on this connection (SearchIndex.reader). */
  useSearchIndex(reader: Db): void {
    this.search = reader
  }

  setRunCounter(counter: RunCounter): void {
    this.runCounter = counter
  }

  private get dedup(): DedupIndex {
    return (this.dedupIndex ??= DedupIndex.load(this.db))
  }

  /**
   * Insert inside the caller's transaction, then call `settle` with whether it committed. An accepted event
   * claims its dedup key: when an earlier event owns the key, the event is stored as a duplicate of it; so it
   * is when it carries a body digest and an accepted event of its source has the same body (a replay under
   * another delivery id). Returns the final status and the owner id.
   */
  insert(event: NewEvent): { status: EventStatus; duplicateOf: string | null; reason: string | null } {
    let { status, duplicateOf, reason } = event
    let key = 0
    if (status === 'accepted') {
      key = dedupKey(event.sourceId, event.dedupId)
      const owner = this.dedup.owner(event.sourceId, event.dedupId, key)
      const replayOf =
        owner || !event.bodySha256
          ? null
          : (this.stmt.sameBody.get(event.sourceId, event.bodySha256) as string | undefined)
      if (owner) {
        status = 'duplicate'
        duplicateOf = owner.id
      } else if (replayOf) {
        status = 'duplicate'
        duplicateOf = replayOf
        reason = `the same signed body as ${replayOf} came again under another delivery id (a replay)`
      }
    }
    // Positional parameters: binding twenty named ones from a spread object cost about 7 µs more an event.
    const { lastInsertRowid } = this.stmt.insert.run(
      event.id,
      event.sourceId,
      event.provider,
      event.receivedAt,
      event.method,
      event.path,
      event.query,
      JSON.stringify(event.headers),
      event.contentType,
      event.body,
      event.bodySize,
      event.bodyTruncated ? 1 : 0,
      event.dedupId,
      duplicateOf,
      event.type,
      status,
      event.verification,
      reason,
      event.hop,
      event.summary,
      event.bodySha256,
    )
    if (status === 'accepted') this.dedup.claim(key, Number(lastInsertRowid))
    return { status, duplicateOf, reason }
  }

  /** The transaction holding the inserts since the last call committed (true) or rolled back (false). */
  settle(committed: boolean): void {
    if (committed) this.dedupIndex?.commit()
    else this.dedupIndex?.rollback()
  }

  list(filter: EventFilter & { before?: string; limit: number }): Page<EventSummary> {
    const before = filter.before ? Number(filter.before) : null
    const conditions = filterConditions(filter)
    let where: string[] = []
    let params: unknown[] = []
    let from = 'events'
    let order = 'seq'
    /** The last row a bounded walk examined, when it stopped at its bound. */
    let lastWalked: (() => number | null) | null = null
    const plain = () => {
      if (before !== null) {
        where.push('seq < ?')
        params.push(before)
      }
      for (const c of conditions) {
        where.push(c.sql)
        params.push(c.param)
      }
    }
    const search = filter.q ? this.search : null
    if (search && filter.q) {
      plain()
      // The full-text index covers what the search indexer has reached: the engine catches it up first.
      // Walk the matches newest first and stop at a page (a `seq IN (…)` list would read every match first).
      // With filters, stop after `searchScan` matches too: the page then ends where the walk stopped.
      const matches = `SELECT rowid AS r FROM events_fts WHERE events_fts MATCH ?${before !== null ? ' AND rowid < ?' : ''}
        ORDER BY rowid DESC`
      const matchParams = [ftsQuery(filter.q), ...(before !== null ? [before] : [])]
      if (where.length > 0) {
        from = `(${matches} LIMIT ?) AS m CROSS JOIN events ON events.seq = m.r`
        params.unshift(...matchParams, this.searchScan)
        lastWalked = () =>
          (search
            .prepare(`${matches} LIMIT 1 OFFSET ?`)
            .pluck()
            .get(...matchParams, this.searchScan - 1) as number | undefined) ?? null
      } else {
        from = `(${matches}) AS m CROSS JOIN events ON events.seq = m.r`
        params.unshift(...matchParams)
      }
      order = 'm.r'
    } else if (!filter.q && (conditions.length > 1 || conditions.some((c) => c.range))) {
      ;({ from, where, params, lastWalked } = this.boundedWalk(conditions, before))
      order = 'win.w'
    } else {
      plain()
      if (filter.q) {
        where.push(`(instr(CAST(body AS TEXT), ?) > 0 OR instr(headers, ?) > 0)`)
        params.push(filter.q, filter.q)
      }
    }
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM ${from} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY ${order} DESC LIMIT ?`
    const rows = (search ?? this.db).prepare(sql).all(...params, filter.limit + 1) as EventRow[]
    const page = rows.slice(0, filter.limit)
    const counts = this.runCounter(page.map((r) => r.id))
    // A search that stopped its walk early goes on below the last match it examined, even from a short page.
    const walkedTo = rows.length > filter.limit ? null : (lastWalked?.() ?? null)
    return {
      items: page.map((r) => toSummary(r, counts.get(r.id) ?? 0)),
      nextCursor:
        rows.length > filter.limit
          ? String(page[page.length - 1]!.seq)
          : walkedTo !== null
            ? String(walkedTo)
            : null,
    }
  }

  /**
   * Filters that no one index answers (two or more conditions, or a type pattern) walk at most `searchScan`
   * rows per page, the way a filtered search does: a rare combination must not read the whole table on the
   * thread that answers webhooks (measured: 70 ms at 100k events for a source and a type that never meet).
   * The walk follows the condition with the fewest rows below the cursor (each counted in its index, up to a
   * thousand), so a rare status or source finds its events in one page. A page that stopped at the bound ends
   * with a cursor to go on from, even when it is short or empty.
   */
  private boundedWalk(
    conditions: FilterCondition[],
    before: number | null,
  ): { from: string; where: string[]; params: unknown[]; lastWalked: (() => number | null) | null } {
    const below = before === null ? '' : ' AND seq < ?'
    const belowParams = before === null ? [] : [before]
    const bound = this.searchScan
    // Counting is only to find a rare condition: up to a thousand index entries each is enough to tell.
    const enough = Math.min(bound, 1000)
    const counted = conditions.map((c) => ({ c, n: this.countUpTo(c, below, belowParams, enough + 1) }))
    const lead = counted.filter((x) => !x.c.range || x.n <= enough).sort((a, b) => a.n - b.n)[0]
    // No condition can lead (a lone, common type pattern): walk the newest rows and check each.
    const window = lead
      ? `SELECT seq AS w FROM events INDEXED BY ${lead.c.index} WHERE ${lead.c.sql}${below} ORDER BY seq DESC`
      : `SELECT seq AS w FROM events WHERE 1${below} ORDER BY seq DESC`
    const windowParams = lead ? [lead.c.param, ...belowParams] : belowParams
    const rest = conditions.filter((c) => c !== lead?.c)
    // A lead with more rows than were counted may fill the window: the page then ends where the walk stopped.
    const stopsAtBound = !lead || lead.n > enough
    return {
      from: `(${window} LIMIT ?) AS win CROSS JOIN events ON events.seq = win.w`,
      where: rest.map((c) => c.sql),
      params: [...windowParams, bound, ...rest.map((c) => c.param)],
      lastWalked: stopsAtBound
        ? () =>
            (this.db
              .prepare(`${window} LIMIT 1 OFFSET ?`)
              .pluck()
              .get(...windowParams, bound - 1) as number | undefined) ?? null
        : null,
    }
  }

  /**
   * The index entries a walk led by this condition would examine, counted up to `cap`. A type pattern walks
   * its index out of seq order (its page is sorted afterwards), so it counts the whole range of its literal
   * prefix, not just what lies below the cursor; with no literal prefix (`*.paid`) the range is the whole index,
   * so it is not counted at all and cannot lead.
   */
  private countUpTo(c: FilterCondition, below: string, belowParams: number[], cap: number): number {
    if (c.range) {
      const prefix = c.param.slice(0, c.param.search(/[*?[]/))
      if (!prefix) return Infinity
      return this.db
        .prepare(
          `SELECT count(*) FROM (SELECT 1 FROM events INDEXED BY ${c.index} WHERE type GLOB ? LIMIT ?)`,
        )
        .pluck()
        .get(`${prefix}*`, cap) as number
    }
    return this.db
      .prepare(
        `SELECT count(*) FROM (SELECT 1 FROM events INDEXED BY ${c.index} WHERE ${c.sql}${below} LIMIT ?)`,
      )
      .pluck()
      .get(c.param, ...belowParams, cap) as number
  }

  summary(id: string): EventSummary | null {
    const row = this.stmt.get.get(id) as EventRow | undefined
    return row ? toSummary(row, this.runCounter([id]).get(id) ?? 0) : null
  }

  /** The event with its body and parsed JSON, or null. For the workers: `summary.runCount` is not counted (0). */
  load(id: string): LoadedEvent | null {
    const row = this.stmt.getFull.get(id) as EventRow | undefined
    if (!row) return null
    const body = row.body!
    return {
      summary: toSummary(row, 0),
      headers: JSON.parse(row.headers),
      body,
      json: parseBody(row.content_type, body),
      query: row.query,
      path: row.path,
    }
  }

  detail(id: string): Omit<EventDetail, 'runs'> {
    const row = this.stmt.getFull.get(id) as EventRow | undefined
    if (!row) throw new ApiError('not_found', `no event ${id}`)
    const body = row.body!
    return {
      ...toSummary(row, this.runCounter([id]).get(id) ?? 0),
      query: row.query,
      headers: JSON.parse(row.headers),
      bodyTruncated: row.body_truncated === 1,
      bodyText: decodeText(body),
    }
  }

  body(id: string): { contentType: string | null; body: Buffer; truncated: boolean } {
    const row = this.db
      .prepare(`SELECT content_type, body, body_truncated FROM events WHERE id = ?`)
      .get(id) as { content_type: string | null; body: Buffer; body_truncated: number } | undefined
    if (!row) throw new ApiError('not_found', `no event ${id}`)
    return { contentType: row.content_type, body: row.body, truncated: row.body_truncated === 1 }
  }
}

function toSummary(r: EventRow, runCount: number): EventSummary {
  return {
    id: r.id,
    sourceId: r.source_id,
    provider: r.provider as ProviderId | null,
    receivedAt: r.received_at,
    method: r.method,
    path: r.path,
    type: r.type,
    status: r.status,
    verification: r.verification,
    reason: r.reason,
    dedupId: r.dedup_id,
    duplicateOf: r.duplicate_of,
    hop: r.hop,
    contentType: r.content_type,
    bodySize: r.body_size,
    summary: r.summary,
    runCount,
  }
}

/** One filter condition and the index that holds it in seq order. */
interface FilterCondition {
  sql: string
  param: string
  index: 'events_source' | 'events_status' | 'events_type'
  /** A pattern (GLOB): its index yields matches out of seq order. */
  range: boolean
}

/** In the order a bounded walk prefers them when their counts tie: a type is usually the rarest, a status the least. */
function filterConditions(filter: EventFilter): FilterCondition[] {
  const conditions: FilterCondition[] = []
  if (filter.type) {
    const range = filter.type.includes('*')
    conditions.push({
      sql: range ? 'type GLOB ?' : 'type = ?',
      param: filter.type,
      index: 'events_type',
      range,
    })
  }
  if (filter.source) {
    conditions.push({ sql: 'source_id = ?', param: filter.source, index: 'events_source', range: false })
  }
  if (filter.status) {
    conditions.push({ sql: 'status = ?', param: filter.status, index: 'events_status', range: false })
  }
  return conditions
}

/** Quote each word so user input cannot inject FTS5 syntax; words are ANDed. */
function ftsQuery(q: string): string {
  return q
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => `"${w.replace(/"/g, '""')}"`)
    .join(' ')
}

/** Body as text when it is valid UTF-8 without control bytes, else null (binary). */
export function decodeText(body: Buffer): string | null {
  if (body.length === 0) return ''
  const text = new TextDecoder('utf-8', { fatal: false }).decode(body)
  // Control bytes other than tab and line breaks mean binary.
  // eslint-disable-next-line no-control-regex
  if (text.includes('\uFFFD') || /[\x00-\x08\x0E-\x1F]/.test(text)) return null
  return text
}

/** Parse JSON bodies, and form bodies into an object of fields; undefined otherwise. */
export function parseBody(contentType: string | null, body: Buffer): unknown {
  const type = (contentType ?? '').toLowerCase()
  if (body.length === 0) return undefined
  if (type.includes('json') || (!type && (body[0] === 0x7b || body[0] === 0x5b))) {
    try {
      return JSON.parse(body.toString('utf8'))
    } catch {
      return undefined
    }
  }
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const fields: Record<string, string> = {}
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] = v
    // Slack and others wrap JSON in a `payload` field.
    if (typeof fields.payload === 'string') {
      try {
        return JSON.parse(fields.payload)
      } catch {
        return fields
      }
    }
    return fields
  }
  return undefined
}
