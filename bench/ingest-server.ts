/**
 * One ingest server under test, run as its own child process by bench/ingest.ts so that the load generator
 * does not share its CPU: `tsx bench/ingest-server.ts <mode> <dataDir> [secret]`.
 * Prints one line `READY <url> <path> <provider>` and serves until SIGTERM.
 *
 * - bare: node:http answering 200 to everything (the ceiling for any receiver on this machine).
 * - reference: node:http + better-sqlite3 (WAL, synchronous=FULL), one table, group commit flushed on the next
 *   event-loop turn, 200 after commit — nothing else. What a minimal durable receiver costs.
 * - reference-verified: the same, plus the two checks the contract puts before every acknowledgement: the
 *   Standard Webhooks signature (HMAC-SHA256, 401 when wrong) and the delivery id seen before (answered as a
 *   duplicate, from an in-memory set). What a minimal receiver that may not skip them costs.
 * - reference-mandated: the same, plus the event row as the issue lists it and a queued job (see referenceRows()).
 * - switchboard: createEngine on the data folder with one source (standard-webhooks when the preset exists,
 *   verified with the secret the bench signs with; else none).
 *
 * With BENCH_PROFILE_DIR set, the main thread is CPU-profiled through the inspector and the profile written there
 * on SIGTERM. (node --cpu-prof profiles every thread and waits for each at exit: with tsx's loader thread and
 * the search index's worker, the child took minutes to exit.)
 */
import Database from 'better-sqlite3'
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createEngine } from '../src/core/engine'
import { getProvider } from '../src/core/providers'

const [mode, dataDir, secret] = process.argv.slice(2)

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  )
}

function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => done(Buffer.concat(chunks)))
}

async function bare(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer((req, res) => {
    readBody(req, () =>
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 }).end('{"ok":true}'),
    )
  })
  const url = await listen(server)
  return { url, stop: () => new Promise((r) => server.close(() => r())) }
}

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the key after `whsec_`. */
function signatureValid(headers: IncomingMessage['headers'], body: Buffer, key: Buffer): boolean {
  const id = headers['webhook-id']
  const timestamp = headers['webhook-timestamp']
  const signature = headers['webhook-signature']
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false
  const expected = Buffer.from(
    createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64'),
  )
  return signature.split(' ').some((entry) => {
    const presented = Buffer.from(entry.slice(entry.indexOf(',') + 1))
    return presented.length === expected.length && timingSafeEqual(presented, expected)
  })
}

/** A webhook a reference server accepted, waiting for its group's commit. */
interface Accepted {
  id: string
  deliveryId: string
  method: string
  url: string
  headers: string
  body: Buffer
  res: ServerResponse
}

/** The reference servers' three levels of work (see the file's head). */
type ReferenceKind = 'plain' | 'verified' | 'mandated'

/**
 * The rows a reference server writes for one accepted webhook, inside its group's transaction: `plain` and
 * `verified` one row of four columns. `mandated` is the floor of what the issue names, written as tightly:
 * the event row with every field the issue lists (method, path, query, headers, received time, source, delivery
 * id, verification outcome, status) and a queued job for it, under the index a queue claims from. Delivery ids
 * are unique per source the way Switchboard keeps them: read back from the rows into memory at start, and
 * checked there by the one writer (a UNIQUE index over random ids costs a random B-tree page per webhook; with
 * it this server reached 0.43 of the reference, without it 0.73). No feed indexes, search, limits, metrics or
 * live changes.
 */
function referenceRows(db: Database.Database, kind: ReferenceKind): (a: Accepted, now: number) => void {
  if (kind !== 'mandated') {
    db.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL,
               received_at INTEGER NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL)`)
    const insert = db.prepare(`INSERT INTO events (id, received_at, headers, body) VALUES (?, ?, ?, ?)`)
    return (a, now) => insert.run(a.id, now, a.headers, a.body)
  }
  db.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, source_id TEXT NOT NULL,
             received_at INTEGER NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL,
             headers TEXT NOT NULL, body BLOB NOT NULL, dedup_id TEXT NOT NULL, verification TEXT NOT NULL,
             status TEXT NOT NULL)
           ;
           CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, status TEXT NOT NULL,
             attempts INTEGER NOT NULL DEFAULT 0, run_at INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER)
           ;
           CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (status, run_at)`)
  const insert = db.prepare(
    `INSERT INTO events (id, source_id, received_at, method, path, query, headers, body, dedup_id, verification,
       status) VALUES (?, 'bench', ?, ?, ?, ?, ?, ?, ?, 'verified', 'accepted')`,
  )
  const enqueue = db.prepare(`INSERT INTO jobs (event_seq, status, run_at) VALUES (?, 'queued', ?)`)
  return (a, now) => {
    const q = a.url.indexOf('?')
    const path = q === -1 ? a.url : a.url.slice(0, q)
    const query = q === -1 ? '' : a.url.slice(q + 1)
    const { lastInsertRowid } = insert.run(a.id, now, a.method, path, query, a.headers, a.body, a.deliveryId)
    enqueue.run(lastInsertRowid, now)
  }
}

async function reference(kind: ReferenceKind): Promise<{ url: string; stop: () => Promise<void> }> {
  const key = Buffer.from((secret ?? '').replace(/^whsec_/, ''), 'base64')
  const db = new Database(join(dataDir!, `reference-${kind}.db`))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  const write = referenceRows(db, kind)
  // Read back at start, as after a restart: the one writer checks each delivery id here before its row is written.
  const seen = new Set<string>(
    kind === 'mandated' ? (db.prepare(`SELECT dedup_id FROM events`).pluck().all() as string[]) : [],
  )
  let pending: Accepted[] = []
  const flush = () => {
    const batch = pending
    pending = []
    const now = Date.now()
    try {
      db.transaction(() => {
        for (const a of batch) write(a, now)
      }).immediate()
    } catch {
      for (const a of batch) {
        seen.delete(a.deliveryId)
        a.res.writeHead(503).end()
      }
      return
    }
    for (const a of batch) {
      const text = `{"id":"${a.id}"}`
      a.res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length }).end(text)
    }
  }
  const server = createServer((req, res) => {
    readBody(req, (body) => {
      const deliveryId = String(req.headers['webhook-id'])
      if (kind !== 'plain') {
        if (!signatureValid(req.headers, body, key)) {
          res.writeHead(401, { 'content-type': 'application/json', 'content-length': 2 }).end('{}')
          return
        }
        if (seen.has(deliveryId)) {
          const text = '{"duplicate":true}'
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length }).end(text)
          return
        }
        seen.add(deliveryId)
      }
      if (pending.length === 0) setImmediate(flush)
      pending.push({
        id: randomUUID(),
        deliveryId,
        method: req.method ?? 'POST',
        url: req.url ?? '/',
        headers: JSON.stringify(req.headers),
        body,
        res,
      })
    })
  })
  const url = await listen(server)
  return {
    url,
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()))
      db.close()
    },
  }
}

async function switchboard(): Promise<{ url: string; provider: string; stop: () => Promise<void> }> {
  const engine = createEngine({
    dataDir: dataDir!,
    receiver: { port: 0, host: '127.0.0.1' },
    tunnel: { mode: 'off' },
  })
  const provider = getProvider('standard-webhooks') && secret ? 'standard-webhooks' : 'none'
  await engine.call('sources.create', {
    id: 'bench',
    name: 'Bench',
    provider,
    ...(provider === 'standard-webhooks' ? { secret } : {}),
  })
  const { receiverUrl } = await engine.start()
  return { url: receiverUrl, provider, stop: () => engine.stop() }
}

/** Start the sampling profiler on this thread; the returned function stops it and writes the profile. */
async function startProfile(dir: string): Promise<() => Promise<void>> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return async () => {
    const { profile } = await session.post('Profiler.stop')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, `switchboard-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    session.disconnect()
  }
}

const REFERENCE_KINDS: Record<string, ReferenceKind> = {
  reference: 'plain',
  'reference-verified': 'verified',
  'reference-mandated': 'mandated',
}

async function main(): Promise<void> {
  const profileDir = process.env.BENCH_PROFILE_DIR
  const stopProfile = profileDir ? await startProfile(profileDir) : async () => {}
  const referenceKind = REFERENCE_KINDS[mode ?? '']
  const started =
    mode === 'bare'
      ? { ...(await bare()), provider: '-' }
      : referenceKind
        ? { ...(await reference(referenceKind)), provider: '-' }
        : mode === 'switchboard'
          ? await switchboard()
          : null
  if (!started)
    throw new Error(
      `unknown mode ${mode}; use bare, reference, reference-verified, reference-mandated or switchboard`,
    )
  console.log(`READY ${started.url} ${mode === 'switchboard' ? '/hooks/bench' : '/'} ${started.provider}`)
  process.on('SIGTERM', () => {
    started
      .stop()
      .then(stopProfile)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  })
}

main().catch((error: Error) => {
  console.error(error)
  process.exit(1)
})
