/**
 * The UI in Chromium against the real headless server: add a source, watch a signed webhook arrive live,
 * inspect it, see a failing workflow dead-letter, retry it once the API recovers, bulk-retry, and get the
 * editor's validation errors for a bad workflow.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeService } from '../fixtures/fake-services/fake-service'
import { tempDir } from '../support/temp-dir'
import { launchBrowser, resultPath } from './support/browser'
import { startServer, type RunningServer } from './support/headless-server'

const SECRET = `whsec_${Buffer.from('switchboard-e2e-secret-0123456789').toString('base64')}`

let server: RunningServer
let browser: Browser
let page: Page
let crm: FakeService
let data: { path: string; remove(): void }
let sourceId = ''
let sent = 0
const pageErrors: string[] = []

async function sendOrder(orderId: string): Promise<string> {
  const payload = JSON.stringify({
    type: 'order.placed',
    orderId,
    items: [{ sku: 'tea', qty: 2 }],
    note: '<b>hi</b>',
  })
  const msgId = `msg_e2e_${++sent}_${orderId}`
  const now = new Date()
  const response = await fetch(`${server.receiverUrl}/hooks/${sourceId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(SECRET).sign(msgId, now, payload),
    },
    body: payload,
  })
  const body = (await response.json()) as { id: string; duplicate: boolean }
  expect(response.status).toBe(200)
  return body.id
}

async function shot(name: string): Promise<string> {
  const path = resultPath(`ui-${name}.png`)
  await page.screenshot({ path })
  return path
}

async function go(tab: string): Promise<void> {
  await page.getByRole('tab', { name: tab }).click()
}

beforeAll(async () => {
  data = tempDir('switchboard-ui-e2e-')
  crm = await FakeService.start('crm', () => ({ status: 200, body: { ok: true } }))
  server = await startServer(data.path)
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.on('pageerror', (e) => pageErrors.push(e.message))
  await page.goto(server.loginUrl)
  await page.getByRole('status', { name: 'Change stream: Live' }).waitFor()
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await crm?.close()
  data?.remove()
})

describe('the UI against the headless server', () => {
  it('adds a source from a preset and shows its URL', async () => {
    await go('Sources')
    await page.getByRole('button', { name: 'Add source' }).click()
    const form = page.getByRole('form', { name: 'Add a source' })
    await form.getByLabel('Provider').selectOption('standard-webhooks')
    await form.getByLabel('Name').fill('Shop')
    await form.getByLabel(/Signing secret/).fill(SECRET)
    await expect(form.getByText(/How to set up Standard Webhooks/)).toBeTruthy()
    await form.getByRole('button', { name: 'Add source' }).click()
    const added = page.getByRole('region', { name: 'Source added' })
    await added.waitFor()
    const card = page.locator('article.source').first()
    sourceId = (await card.getAttribute('data-source-id'))!
    expect(sourceId).toBeTruthy()
    expect(await added.textContent()).toContain(`/hooks/${sourceId}`)
    // The secret came from the provider: it is not shown back.
    expect(await added.textContent()).not.toContain(SECRET)
    expect(await card.getByRole('button', { name: /Copy local URL/ }).count()).toBe(1)
    await shot('sources')
  })

  it('shows the editor’s validation errors for a bad workflow, then saves a good one', async () => {
    await go('Workflows')
    await page.getByRole('button', { name: 'New' }).click()
    const editor = page.getByLabel('Workflow definition (JSON)')
    const bad = {
      id: 'tell-crm',
      name: 'Tell the CRM',
      trigger: { source: sourceId },
      steps: [{ id: 'crm', kind: 'email', to: 'x' }],
    }
    await editor.fill(JSON.stringify(bad, null, 2))
    const problems = page.getByRole('list', { name: 'Problems' })
    await problems.getByText('steps.0.kind').waitFor()
    expect(await problems.textContent()).toContain('must be one of "http"')
    expect(await editor.getAttribute('aria-invalid')).toBe('true')
    // The server refuses it too; the field is already flagged, so its problem is not listed twice.
    await page.getByRole('button', { name: 'Create workflow' }).click()
    await page.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor()
    expect(await problems.getByText('steps.0.kind').count()).toBe(1)
    await shot('workflow-errors')

    const good = {
      id: 'tell-crm',
      name: 'Tell the CRM',
      enabled: true,
      trigger: { source: sourceId },
      steps: [
        {
          id: 'crm',
          kind: 'http',
          method: 'POST',
          url: `${crm.url}/orders`,
          body: { order: '{{ event.orderId }}' },
          retry: { attempts: 2, backoff: 'fixed', initial: '50ms' },
        },
      ],
    }
    await editor.fill(JSON.stringify(good, null, 2))
    await page.getByText('No problems found.').waitFor()
    await page.getByRole('button', { name: 'Create workflow' }).click()
    await page.getByRole('heading', { name: 'Tell the CRM (v1)' }).waitFor()
    expect((await server.call('workflows.get', { id: 'tell-crm' })).version).toBe(1)

    // A dry run shows the call it would make, and makes none.
    await page.getByLabel('Sample event body (JSON)').fill('{"orderId": "D-1"}')
    await page.getByRole('button', { name: 'Dry run' }).click()
    const result = page.getByRole('status', { name: 'Dry run result' })
    await result.getByText('Outgoing calls it would make (1)').waitFor()
    expect(await result.textContent()).toContain(`${crm.url}/orders`)
    expect(crm.requests).toHaveLength(0)
    await page.getByRole('heading', { name: 'Version history' }).waitFor()
    expect(await page.getByRole('button', { name: 'Load version 1 into the editor' }).count()).toBe(1)
  })

  it('shows a signed webhook live, opens it, dead-letters the failing run and retries it after recovery', async () => {
    crm.down()
    await go('Activity')
    await page.getByText('No events yet').waitFor()
    const eventId = await sendOrder('A-1')
    // Pushed over SSE: no reload, no polling — it is on screen within a second of the 200.
    const row = page.locator(`[data-event-id="${eventId}"]`)
    await row.waitFor({ timeout: 1000 })
    expect(await row.textContent()).toContain('order.placed')

    await row.click()
    const inspector = page.getByRole('complementary', { name: 'Event inspector' })
    await inspector.getByText('Signature verified').waitFor()
    await inspector.getByRole('list', { name: 'JSON body' }).getByText('"A-1"').waitFor()
    expect(await inspector.getByRole('table', { name: 'Request headers' }).textContent()).toContain(
      'webhook-id',
    )
    // The body's markup stays text.
    await inspector.getByText('"<b>hi</b>"').waitFor()

    const run = inspector.getByRole('article', { name: 'Run of Tell the CRM: dead' })
    await run.waitFor({ timeout: 20_000 })
    expect(await run.textContent()).toMatch(/503/)
    expect(await run.getByText(/Attempt 2: failed/).count()).toBe(1)
    await shot('dead-run')

    crm.up()
    await run.getByRole('button', { name: 'Retry from crm' }).click()
    await inspector
      .getByRole('article', { name: 'Run of Tell the CRM: succeeded' })
      .waitFor({ timeout: 20_000 })
    await page.getByText(/retried from crm/).waitFor()
    expect(crm.effects('/orders')).toHaveLength(1)
    expect(crm.to('/orders').at(-1)!.json).toEqual({ order: 'A-1' })
    // A clean picture for the README: no toasts, the inspector from its top.
    await page
      .locator('.outcomes button')
      .evaluateAll((buttons) => buttons.forEach((b) => (b as unknown as { click(): void }).click()))
    await inspector.evaluate((el) => el.scrollTo(0, 0))
    const path = await shot('inspector')
    // README's picture: written when missing or when asked (UPDATE_SCREENSHOT=1), so test runs leave git clean.
    const readmeShot = resolve(import.meta.dirname, '../../docs/screenshot.png')
    if (!existsSync(readmeShot) || process.env.UPDATE_SCREENSHOT === '1') {
      mkdirSync(resolve(import.meta.dirname, '../../docs'), { recursive: true })
      copyFileSync(path, readmeShot)
    }
    await page.keyboard.press('Escape')
    await inspector.waitFor({ state: 'detached' })
  })

  it('bulk-retries the dead letters matching the filter, with confirmation and progress', async () => {
    crm.down()
    const ids = [await sendOrder('B-1'), await sendOrder('B-2'), await sendOrder('B-3')]
    for (const id of ids) await page.locator(`[data-event-id="${id}"]`).waitFor()
    await go('Dead letters')
    await page.getByLabel('Filter dead runs by source').selectOption(sourceId)
    const table = page.getByRole('table', { name: 'Dead runs' })
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 30_000 }).toBe(3)
    // The actions cell stays in the table's grid: level with the row's other cells.
    const firstRow = table.locator('tbody tr').first()
    const [workflowCell, actionsCell] = await Promise.all([
      firstRow.locator('td').first().boundingBox(),
      firstRow.locator('td').last().boundingBox(),
    ])
    expect(actionsCell!.y).toBe(workflowCell!.y)
    expect(actionsCell!.height).toBe(workflowCell!.height)

    crm.up()
    await page.getByRole('button', { name: 'Retry all matching…' }).click()
    const confirm = page.getByRole('alertdialog', { name: 'Confirm bulk retry' })
    expect(await confirm.textContent()).toContain('Retry 3 dead runs matching source Shop?')
    await shot('bulk-confirm')
    await confirm.getByRole('button', { name: 'Retry 3' }).click()
    await page.getByText('Retried 3 of 3.').waitFor()
    await page.getByText(/No dead runs match these filters/).waitFor({ timeout: 30_000 })
    await expect
      .poll(async () => (await server.call('runs.list', { status: 'succeeded' })).items.length, {
        timeout: 30_000,
      })
      .toBe(4)
    expect(crm.effects('/orders')).toHaveLength(4)
    await shot('bulk-done')
    const actions = await server.call('actions.list', {})
    expect(actions.items.map((a) => a.kind)).toEqual(expect.arrayContaining(['retry', 'bulk-retry']))
    // Both retries are in the history, in words.
    await go('History')
    const history = page.getByRole('table', { name: 'Actions, newest first' })
    await history.getByText('Retried 3 dead runs at once').waitFor()
    await history.getByText('Retried a run from step crm').waitFor()
    await shot('history')
  })

  it('filters the feed and searches it', async () => {
    await go('Activity')
    await page.getByLabel('Filter by status').selectOption('rejected')
    await page.getByText('No events match these filters.').waitFor()
    await page.getByLabel('Filter by status').selectOption('')
    await expect.poll(() => page.locator('[data-event-id]').count()).toBe(4)
    expect(pageErrors).toEqual([])
  })

  it('sends a test event from a source, rotates its secret, and charts the traffic', async () => {
    await go('Sources')
    const card = page.locator(`article[data-source-id="${sourceId}"]`)
    await card.getByRole('button', { name: 'Send a test event' }).click()
    await card.getByText('Test event answered 200.').waitFor()
    await card.getByRole('link', { name: 'Open it' }).click()
    const inspector = page.getByRole('complementary', { name: 'Event inspector' })
    await inspector.getByText('Signature verified').waitFor()

    await go('Sources')
    page.once('dialog', (dialog) => void dialog.accept())
    await card.getByRole('button', { name: 'Rotate secret' }).click()
    const secret = await card.locator('code.secret').textContent()
    expect(secret).toMatch(/^whsec_/)
    expect(secret).not.toBe(SECRET)
    await card.getByText(/previous one verifies until/).waitFor()

    await go('Charts')
    await page.getByRole('figure').filter({ hasText: 'Events received per minute' }).waitFor()
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0)
    const totals = page.getByLabel('Engine figures')
    await totals.getByText('Ack latency p50').waitFor()
    expect(await totals.textContent()).toMatch(/Store size[\d.]+ (KiB|MiB)/)
    await shot('charts')

    // The theme follows the system.
    await page.emulateMedia({ colorScheme: 'dark' })
    await go('Activity')
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor')
    expect(background).toBe('rgb(19, 20, 23)')
    await shot('activity-dark')
    await page.emulateMedia({ colorScheme: 'light' })
    expect(pageErrors).toEqual([])
  })
})
