import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine, type Engine } from '../../src/core/engine'
import { http } from '../support/http'
import { tempDir } from '../support/temp-dir'
import { runLoad } from '../support/load'
import { recordFaultResult } from './fault-results'
import { spawnHeadless, type HeadlessProcess } from './headless-process'

interface Tally {
  sent: number
  statuses: Record<string, number>
  acked: string[]
}

async function send(
  url: string,
  count: number,
  bodyBytes: number,
  tally: Tally,
  tag: string,
): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ type: 'disk.test', tag, i, data: 'd'.repeat(bodyBytes) })
    const res = await http(`${url}/hooks/disk`, { body, headers: { 'content-type': 'application/json' } })
    tally.sent++
    tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1
    if (res.status >= 200 && res.status < 300) tally.acked.push((res.json as { id: string }).id)
    out.push(res.status)
  }
  return out
}

/**
 * Fill the filesystem holding `dir` with one preallocated file (fallocate: writing to a full tmpfs can stall
 * instead of failing); returns the file's path. The server under test may be writing meanwhile, so what was
 * free when measured can be gone when asked for: then measure again and take what is left.
 */
function fill(dir: string): string {
  const file = join(dir, 'filler')
  writeFileSync(file, '')
  for (let tries = 0; tries < 20; tries++) {
    const { bavail, bsize } = statfsSync(dir)
    if (bavail === 0) break
    try {
      const offset = String(statSync(file).size)
      execFileSync('fallocate', ['-o', offset, '-l', String(bavail * bsize), file], { stdio: 'ignore' })
    } catch {
      // ENOSPC: someone else took some of it first.
    }
  }
  return file
}

async function startEngine(dataDir: string): Promise<{ engine: Engine; url: string }> {
  const engine = createEngine({ dataDir, receiver: { port: 0, host: '127.0.0.1' }, tunnel: { mode: 'off' } })
  const { receiverUrl } = await engine.start()
  await engine.call('sources.create', { id: 'disk', name: 'Disk', provider: 'none' })
  return { engine, url: receiverUrl }
}

const parts: Record<string, unknown> = {}
let faults = 0
let events = 0
let lost = 0

afterAll(() => recordFaultResult('full-disk', { faults, events, lost, details: parts }))

describe('the store on a full disk', () => {
  it('answers 503, never a 2xx it did not store, on a real full filesystem (tmpfs), and recovers when space returns', async (ctx) => {
    const dir = tempDir('switchboard-disk-')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir.path], { stdio: 'ignore' })
    } catch {
      dir.remove()
      parts.tmpfs = 'skipped: mount is not permitted here (the injected failure below still runs)'
      ctx.skip()
      return
    }
    const dataDir = join(dir.path, 'data')
    mkdirSync(dataDir)
    let engine: Engine | null = null
    try {
      const started = await startEngine(dataDir)
      engine = started.engine
      const tally: Tally = { sent: 0, statuses: {}, acked: [] }
      expect(await send(started.url, 5, 1000, tally, 'before')).toEqual([200, 200, 200, 200, 200])
      // Let the dispatch jobs of those five finish first (the next test fills the disk with jobs pending).
      const pendingJobs = engine.db.prepare(
        `SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`,
      )
      for (let i = 0; i < 100 && (pendingJobs.get() as { n: number }).n > 0; i++)
        await new Promise((r) => setTimeout(r, 100))
      const filler = fill(dir.path)
      // Large bodies: the WAL must grow, which it cannot. Keep sending until the store refuses.
      const whileFull = await send(started.url, 60, 48 * 1024, tally, 'full')
      const refused = whileFull.filter((s) => s === 503).length
      rmSync(filler)
      const after = await send(started.url, 20, 1000, tally, 'after')
      const stored = tally.acked.filter((id) => {
        try {
          engine!.operations['events.get']({ id })
          return true
        } catch {
          return false
        }
      })
      faults += refused
      events += tally.acked.length
      lost += tally.acked.length - stored.length
      parts.tmpfs = {
        statusesWhileFull: countBy(whileFull),
        refused,
        statuses: tally.statuses,
        acked: tally.acked.length,
      }
      expect(refused).toBeGreaterThan(0)
      expect(whileFull.every((s) => s === 200 || s === 503)).toBe(true)
      expect(stored.length).toBe(tally.acked.length)
      expect(after).toEqual(Array(20).fill(200))
    } finally {
      await engine?.stop().catch(() => {})
      execFileSync('umount', ['-l', dir.path], { stdio: 'ignore' })
      dir.remove()
    }
  })

  it('keeps answering (503, then 200) when the disk fills while jobs are pending (headless child on tmpfs)', async (ctx) => {
    const dir = tempDir('switchboard-disk-busy-')
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir.path], { stdio: 'ignore' })
    } catch {
      dir.remove()
      ctx.skip()
      return
    }
    let server: HeadlessProcess | null = null
    try {
      server = await spawnHeadless({ dataDir: join(dir.path, 'data') })
      await server.api('POST', '/api/sources', { id: 'disk', name: 'Disk', provider: 'none' })
      // A workflow listens to the source, so every accepted event gets a dispatch job and a run.
      await server.api('POST', '/api/workflows', {
        id: 'note',
        name: 'Note it',
        trigger: { source: 'disk' },
        steps: [
          { id: 'wait', kind: 'delay', duration: '1s' },
          { id: 'tell', kind: 'notify', title: 'got {{ i }}' },
        ],
      })
      const build = (size: number) => (i: number) => ({
        path: '/hooks/disk',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'disk.test', i, data: 'd'.repeat(size) }),
      })
      // Jobs pending: 200 events whose dispatch jobs are still queued when the disk fills.
      const before = await runLoad({
        url: server.receiverUrl,
        connections: 20,
        requests: 200,
        build: build(100),
      })
      const filler = fill(dir.path)
      const ackedWhileFull: string[] = []
      const whileFull = await runLoad({
        url: server.receiverUrl,
        connections: 4,
        requests: 20,
        timeoutMs: 5000,
        build: build(48 * 1024),
        onResponse: (_i, status, body) => {
          if (status === 200) ackedWhileFull.push((JSON.parse(body) as { id: string }).id)
        },
      })
      rmSync(filler)
      const after = await runLoad({
        url: server.receiverUrl,
        connections: 4,
        requests: 20,
        timeoutMs: 5000,
        build: build(100),
      })
      parts.fullWithJobsPending = {
        before: before.statuses,
        whileFull: { ...whileFull.statuses, unanswered: whileFull.errors },
        after: { ...after.statuses, unanswered: after.errors },
        alive: server.child.exitCode === null,
      }
      faults += whileFull.sent
      events += ackedWhileFull.length
      let missing = 0
      for (const id of ackedWhileFull)
        if ((await server.api('GET', `/api/events/${id}`)).status !== 200) missing++
      lost += missing
      expect(missing).toBe(0)
      expect(whileFull.errors).toBe(0)
      expect(Object.keys(whileFull.statuses).every((s) => s === '200' || s === '503')).toBe(true)
      expect(after.ok).toBe(20)
    } finally {
      await server?.kill9()
      execFileSync('umount', ['-l', dir.path], { stdio: 'ignore' })
      dir.remove()
    }
  })

  it('answers 503 to every request while writes fail (injected), stores none of them, and recovers', async () => {
    const dir = tempDir('switchboard-disk-inject-')
    const { engine, url } = await startEngine(dir.path)
    try {
      // SQLITE_FULL on demand: a trigger that aborts every event insert while the switch is on.
      engine.db.exec(`CREATE TABLE fault_switch (on_ INTEGER NOT NULL);
        INSERT INTO fault_switch VALUES (0);
        CREATE TRIGGER fault_full BEFORE INSERT ON events WHEN (SELECT on_ FROM fault_switch) = 1
        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`)
      const tally: Tally = { sent: 0, statuses: {}, acked: [] }
      const count = () => (engine.db.prepare(`SELECT COUNT(*) AS n FROM events`).get() as { n: number }).n
      await send(url, 3, 200, tally, 'before')
      const before = count()
      engine.db.exec(`UPDATE fault_switch SET on_ = 1`)
      const concurrent = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          http(`${url}/hooks/disk`, {
            body: JSON.stringify({ i }),
            headers: { 'content-type': 'application/json' },
          }),
        ),
      )
      const duringFault = concurrent.map((r) => r.status)
      const retryAfter = concurrent[0]!.headers['retry-after']
      expect(count()).toBe(before)
      engine.db.exec(`UPDATE fault_switch SET on_ = 0`)
      const after = await send(url, 10, 200, tally, 'after')
      faults += duringFault.length
      events += tally.acked.length
      parts.injected = { duringFault: countBy(duringFault), after: countBy(after), retryAfter }
      expect(duringFault).toEqual(Array(50).fill(503))
      expect(retryAfter).toBeDefined()
      expect(after).toEqual(Array(10).fill(200))
      expect(count()).toBe(before + 10)
    } finally {
      await engine.stop()
      dir.remove()
    }
  })
})

function countBy(statuses: number[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}
