/**
 * The feed under load in Chromium against the real headless server: 100,000 events already stored (written
 * straight into the SQLite file before the server starts), then a live burst of about 1,000 events a second.
 * Frame times are recorded in the page with requestAnimationFrame and written to
 * test-results/feed-frames.json for `npm run bench` to report; the assertions are about behaviour (the list
 * stays virtualized, keeps rendering, and a click during the burst is handled), not about wall-clock time. The
 * one figure asserted is the burst's rate as its sender measured it (at least 90% of 1,000 a second), since a
 * slower burst would not test what the test claims; the sender is a child process so that it can keep up.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/core/store/database'
import { tempDir } from '../support/temp-dir'
import { launchBrowser, resultPath } from './support/browser'
import { prepareBurst } from './support/burst'
import { startServer, type RunningServer } from './support/headless-server'

const STORED = 100_000
const BURST_RATE = 1000
const BURST_SECONDS = 4
/** Keep-alive connections, one request in flight on each, like a provider's delivery workers. */
const BURST_SOCKETS = 64
const SOURCE = 'bulk'
/** The feed's row height (feed-list.tsx). */
const ROW_HEIGHT = 44
const T0 = Date.UTC(2026, 0, 1)

let server: RunningServer
let browser: Browser
let page: Page
let data: { path: string; remove(): void }
let stopBurst: (() => void) | undefined

/** Write the stored history the way the receiver would have: one source, 100,000 accepted events. */
function seedDatabase(dir: string): void {
  const db = openDatabase({ file: join(dir, 'switchboard.db') })
  try {
    db.prepare(
      `INSERT INTO sources (id, name, provider, enabled, options, created_at, updated_at) VALUES (?, ?, 'none', 1, '{}', ?, ?)`,
    ).run(SOURCE, 'Bulk history', T0, T0)
    const insert = db.prepare(
      `INSERT INTO events (id, source_id, provider, received_at, method, path, query, headers, content_type, body,
         body_size, dedup_id, type, status, verification, hop, summary)
       VALUES (?, ?, 'none', ?, 'POST', ?, '', ?, 'application/json', ?, ?, ?, ?, 'accepted', 'unsigned', 0, ?)`,
    )
    const headers = JSON.stringify({ 'content-type': 'application/json' })
    db.transaction(() => {
      for (let i = 0; i < STORED; i++) {
        const body = Buffer.from(JSON.stringify({ type: 'reading', n: i, value: i % 97 }))
        insert.run(
          `evt_hist_${String(i).padStart(7, '0')}`,
          SOURCE,
          T0 + i * 1000,
          `/hooks/${SOURCE}`,
          headers,
          body,
          body.length,
          `hist-${i}`,
          i % 10 === 0 ? 'sensor.alarm' : 'sensor.reading',
          `Reading ${i}`,
        )
      }
    }).immediate()
  } finally {
    db.close()
  }
}

/** Frame deltas since the page loaded, and which phase each frame belongs to. */
const FRAME_RECORDER = `
  window.__frames = [];
  window.__phase = 'load';
  let last = performance.now();
  const tick = (t) => { window.__frames.push([window.__phase, t - last]); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
`

interface FrameStats {
  frames: number
  meanMs: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
  maxMs: number
  over50Ms: number
}

function stats(deltas: number[]): FrameStats {
  const sorted = [...deltas].sort((a, b) => a - b)
  const q = (p: number) =>
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 10) / 10
  const mean = deltas.reduce((a, b) => a + b, 0) / Math.max(1, deltas.length)
  return {
    frames: deltas.length,
    meanMs: Math.round(mean * 10) / 10,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    maxMs: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
    over50Ms: deltas.filter((d) => d > 50).length,
  }
}

async function framesOf(phase: string): Promise<number[]> {
  const all = (await page.evaluate('window.__frames')) as Array<[string, number]>
  return all.filter(([p]) => p === phase).map(([, d]) => d)
}

const setPhase = (phase: string) => page.evaluate(`window.__phase = ${JSON.stringify(phase)}`)
const feed = () => page.getByRole('listbox', { name: 'Events, newest first' })
const loadedRows = async () => Number(await feed().getAttribute('data-rows'))
const domRows = () => page.locator('.feed-row[data-event-id]').count()

beforeAll(async () => {
  data = tempDir('switchboard-ui-feed-')
  seedDatabase(data.path)
  server = await startServer(data.path)
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  await page.addInitScript(FRAME_RECORDER)
  await page.goto(server.loginUrl)
  await page.getByRole('status', { name: 'Change stream: Live' }).waitFor()
})

afterAll(async () => {
  stopBurst?.()
  await browser?.close()
  await server?.stop()
  data?.remove()
})

describe('the feed under load', () => {
  const report: Record<string, unknown> = { storedEvents: STORED }

  afterAll(() => {
    writeFileSync(resultPath('feed-frames.json'), JSON.stringify(report, null, 2) + '\n')
  })

  it('shows the newest of 100,000 stored events, pages in more as it scrolls, and stays virtualized', async () => {
    await page.locator('[data-event-id="evt_hist_0099999"]').waitFor()
    expect(await loadedRows()).toBe(200)
    await setPhase('scroll')
    // Scroll to the end again and again: each time the next page streams in behind the visible rows.
    for (let pages = 0; (await loadedRows()) < 5000 && pages < 60; pages++) {
      const before = await loadedRows()
      await feed().evaluate((el) => el.scrollTo(0, el.scrollHeight))
      await expect.poll(loadedRows, { timeout: 10_000 }).toBeGreaterThan(before)
    }
    const loaded = await loadedRows()
    expect(loaded).toBeGreaterThanOrEqual(5000)
    // Then sweep back up through what is loaded, a screen at a time, as a person flicking through would.
    for (let y = loaded * ROW_HEIGHT; y > 0; y -= 4000) {
      await feed().evaluate((el, top) => el.scrollTo(0, top), y)
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => r()))')
    }
    await feed().evaluate((el) => el.scrollTo(0, 0))
    await page.locator('[data-event-id="evt_hist_0099999"]').waitFor()
    // Thousands of rows loaded, a screenful (plus overscan) in the DOM.
    expect(await domRows()).toBeLessThan(80)
    // Row N is the N-th newest event: newest first, no gaps, however many pages it took.
    await feed().evaluate((el, top) => el.scrollTo(0, top), (loaded - 1) * ROW_HEIGHT - 300)
    const row = page.locator(`[aria-posinset="${loaded}"]`)
    await row.waitFor()
    expect(await row.getAttribute('data-event-id')).toBe(
      `evt_hist_${String(STORED - loaded).padStart(7, '0')}`,
    )
    await feed().evaluate((el) => el.scrollTo(0, 0))
    report.scroll = { rowsLoaded: loaded, ...stats(await framesOf('scroll')) }
  })

  it('keeps rendering and answers a click during a 1,000 events/s live burst', async () => {
    await setPhase('idle')
    const before = await loadedRows()
    const total = BURST_RATE * BURST_SECONDS
    // The sender is its own process with every request built beforehand, so the burst is not held back by
    // this process (or the other way round) on a machine of two cores.
    const prepared = await prepareBurst(`${server.receiverUrl}/hooks/${SOURCE}`, {
      rate: BURST_RATE,
      count: total,
      sockets: BURST_SOCKETS,
    })
    stopBurst = prepared.stop
    await setPhase('burst')
    const burst = prepared.go()
    let burstOver = false
    void burst.done.then(() => (burstOver = true))
    // A click in the middle of the burst opens the inspector, while the burst is still going. The rows move
    // down every frame as events arrive on top, so Playwright would wait for a row to hold still before
    // clicking it; a person clicks where the fourth row is and gets whichever event is there.
    await burst.half
    const midBurstRows = await loadedRows()
    const inspector = page.getByRole('complementary', { name: 'Event inspector' })
    expect(await inspector.count()).toBe(0)
    const list = (await feed().boundingBox())!
    const clickedAt = performance.now()
    await page.mouse.click(list.x + list.width / 2, list.y + 3.5 * ROW_HEIGHT)
    await inspector.getByText('Overview').waitFor()
    const clickAnsweredMs = Math.round(performance.now() - clickedAt)
    const answeredMidBurst = !burstOver
    const result = await burst.done
    expect(result.failures).toEqual([])
    expect(result.accepted).toBe(total)
    // Every accepted event reaches the feed over the change stream; the frames until it has are the burst's.
    await expect.poll(loadedRows, { timeout: 30_000 }).toBe(before + total)
    await setPhase('after')
    // Recorded before the checks below, so that a burst that fell short still shows by how much.
    report.burst = {
      ...result,
      rowsBefore: before,
      rowsMidBurst: midBurstRows,
      clickAnsweredMs,
      ...stats(await framesOf('burst')),
    }
    // The burst really was about 1,000 events a second, measured from the first request to the last answer.
    expect(result.achievedPerSecond).toBeGreaterThanOrEqual(BURST_RATE * 0.9)
    expect(midBurstRows).toBeGreaterThan(before)
    expect(answeredMidBurst).toBe(true)
    expect(await domRows()).toBeLessThan(80)
  })
})
