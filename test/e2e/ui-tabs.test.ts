/**
 * Many tabs of the UI in one browser against the real headless server. Over HTTP/1.1 Chromium keeps at most six
 * connections to one host for all its tabs, and each change stream holds one: before the tabs shared one stream,
 * the seventh tab never loaded. Now one tab holds the stream and passes changes on; when it closes, another takes
 * over.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/temp-dir'
import { launchBrowser } from './support/browser'
import { startServer, type RunningServer } from './support/headless-server'

const TABS = 8

let server: RunningServer
let browser: Browser
let context: BrowserContext
let data: { path: string; remove(): void }

beforeAll(async () => {
  data = tempDir('switchboard-ui-tabs-')
  server = await startServer(data.path)
  await server.call('sources.create', { id: 'shop', name: 'Shop', provider: 'none' })
  browser = await launchBrowser()
  context = await browser.newContext()
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  data?.remove()
})

async function send(note: string): Promise<void> {
  const res = await fetch(`${server.receiverUrl}/hooks/shop`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'note.added', note }),
  })
  expect(res.status).toBe(200)
}

const sees = (page: Page, text: string) => page.getByText(text).first().waitFor({ timeout: 10_000 })

describe('many tabs of the UI', () => {
  const tabs: Page[] = []

  it(`loads ${TABS} tabs in one browser, each live, and a webhook shows in all of them`, async () => {
    for (let i = 0; i < TABS; i++) {
      const page = await context.newPage()
      await page.goto(server.loginUrl, { timeout: 15_000 })
      await page.getByRole('status', { name: 'Change stream: Live' }).waitFor({ timeout: 15_000 })
      tabs.push(page)
    }
    await send('first of many tabs')
    for (const page of tabs) await sees(page, 'first of many tabs')
  })

  it('hands the stream to another tab when the one holding it closes', async () => {
    // The first tab took the stream; the others wait in line for it.
    await tabs.shift()!.close()
    for (const page of tabs) {
      await page.getByRole('status', { name: 'Change stream: Live' }).waitFor({ timeout: 15_000 })
    }
    await send('after the hand-over')
    for (const page of tabs) await sees(page, 'after the hand-over')
  })
})
