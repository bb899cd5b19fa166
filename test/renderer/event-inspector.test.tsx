import { act, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup } from '@testing-library/react'
import type { EventDetail, RunDetail } from '../../src/shared/domain'
import { EventInspector } from '../../src/renderer/src/components/event-inspector'
import { prettyBody } from '../../src/renderer/src/components/body-view'
import { makeEvent, makeRun } from './fixtures'
import { renderWithApp } from './render-app'

afterEach(cleanup)

function detail(patch: Partial<EventDetail>): EventDetail {
  return {
    ...makeEvent(),
    query: '',
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    bodyTruncated: false,
    bodyText: '{}',
    runs: [],
    ...patch,
  }
}

async function openInspector(event: EventDetail, runs: RunDetail[] = []) {
  const view = renderWithApp(<EventInspector />, {
    'events.get': () => event,
    'runs.get': (args: { id: string }) => runs.find((r) => r.id === args.id),
  })
  await act(() => view.app.inspector.open(event.id))
  return view
}

describe('the event inspector', () => {
  it('shows a JSON body as a tree of text, never as markup', async () => {
    const body = {
      order: { id: 'A-17', items: [{ sku: 'tea', qty: 2 }] },
      note: '<img src=x onerror=alert(1)>',
    }
    await openInspector(detail({ bodyText: JSON.stringify(body), bodySize: 80 }))
    const tree = screen.getByRole('list', { name: 'JSON body' })
    expect(within(tree).getByText('"A-17"')).toBeTruthy()
    expect(within(tree).getByText('sku:')).toBeTruthy()
    expect(within(tree).getByText('"<img src=x onerror=alert(1)>"')).toBeTruthy()
    expect(document.querySelector('img')).toBeNull()
  })

  it('shows a form-encoded body as its fields', async () => {
    await openInspector(
      detail({
        contentType: 'application/x-www-form-urlencoded',
        bodyText: 'From=%2B15551234&Body=Hello+there&Body=again',
        bodySize: 44,
      }),
    )
    const table = screen.getByRole('table', { name: 'Form fields' })
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows.map((r) => r.textContent)).toEqual(['From+15551234', 'BodyHello there', 'Bodyagain'])
  })

  it('switches to the raw body exactly as stored', async () => {
    const text = '{"a":1,\n  "b":[true]}'
    await openInspector(detail({ bodyText: text }))
    act(() => screen.getByRole('button', { name: 'Raw' }).click())
    expect(screen.getByLabelText('Raw body').textContent).toBe(text)
  })

  it('says why verification failed and what dedup decided', async () => {
    await openInspector(
      detail({
        status: 'duplicate',
        verification: 'failed',
        reason: 'no signature matched',
        dedupId: 'msg_9',
        duplicateOf: 'evt_first',
      }),
    )
    expect(screen.getByText(/Verification failed/).textContent).toContain('no signature matched')
    expect(screen.getByRole('link', { name: 'evt_first' })).toBeTruthy()
    expect(screen.getByText(/A duplicate event starts no workflow/)).toBeTruthy()
  })

  it('shows the runs with their steps and attempts, and updates a step in place', async () => {
    const event = detail({ runCount: 1 })
    const run: RunDetail = {
      ...makeRun({ eventId: event.id, status: 'dead', currentStep: 'stock', error: 'HTTP 503' }),
      callbackUrl: null,
      steps: [
        {
          runId: '',
          stepId: 'stock',
          kind: 'http',
          status: 'failed',
          input: null,
          output: null,
          error: 'HTTP 503 Service Unavailable',
          attempts: [
            {
              n: 1,
              startedAt: 1,
              finishedAt: 20,
              ok: false,
              error: 'HTTP 503',
              request: { method: 'GET', url: 'http://inventory.test/stock', headers: {}, body: null },
              response: { status: 503, headers: {}, body: 'down' },
              retryAt: null,
            },
          ],
          startedAt: 1,
          finishedAt: 20,
        },
      ],
    }
    run.steps[0]!.runId = run.id
    event.runs = [run]
    const view = await openInspector(event, [run])
    await waitFor(() =>
      expect(screen.getByRole('article', { name: /Run of Fulfil orders: dead/ })).toBeTruthy(),
    )
    expect(screen.getByRole('button', { name: 'Retry from stock' })).toBeTruthy()
    expect(screen.getByText(/Attempt 1: failed/)).toBeTruthy()
    expect(screen.getByText('http://inventory.test/stock')).toBeTruthy()

    act(() => {
      view.fake.push({ type: 'step', step: { ...run.steps[0]!, status: 'succeeded', error: null } })
      view.frames.frame()
    })
    const step = document.querySelector('[data-step-id="stock"]')!
    expect(step.querySelector('.badge')!.textContent).toBe('succeeded')
  })
})

describe('prettyBody', () => {
  it('recognises JSON by shape when the content type says nothing', () => {
    expect(prettyBody(null, ' [1,2]')).toEqual({ kind: 'json', value: [1, 2] })
    expect(prettyBody('text/plain', 'hello')).toEqual({ kind: 'none' })
    expect(prettyBody('application/json', '{broken')).toEqual({ kind: 'none' })
  })
})

describe('the inspector store', () => {
  it('does not lose a run that starts while the event is still loading', async () => {
    const event = detail({})
    const run: RunDetail = { ...makeRun({ eventId: event.id, status: 'dead' }), steps: [], callbackUrl: null }
    let answer!: (e: EventDetail) => void
    const view = renderWithApp(<div />, {
      'events.get': () => new Promise<EventDetail>((r) => (answer = r)),
      'runs.get': () => run,
    })
    const opening = view.app.inspector.open(event.id)
    act(() => {
      view.fake.push({ type: 'run', run })
      view.frames.frame()
    })
    answer(event) // loaded before the run was recorded: its detail lists no runs
    await act(() => opening)
    await waitFor(() => expect(view.app.inspector.store.getState().runs.map((r) => r.id)).toEqual([run.id]))
  })

  it('does not let a fetch answered after a pushed change overwrite it (retry, then refresh)', async () => {
    const event = detail({ runCount: 1 })
    const dead: RunDetail = {
      ...makeRun({ eventId: event.id, status: 'dead', currentStep: 'crm' }),
      steps: [],
      callbackUrl: null,
    }
    event.runs = [dead]
    const queued = { ...dead, status: 'queued' as const, updatedAt: dead.updatedAt + 1 }
    const succeeded = { ...dead, status: 'succeeded' as const, updatedAt: dead.updatedAt + 2 }
    let hold = false
    const held: Array<(run: RunDetail) => void> = []
    const view = renderWithApp(<div />, {
      'events.get': () => event,
      'runs.get': () => (hold ? new Promise<RunDetail>((answer) => held.push(answer)) : dead),
    })
    await act(() => view.app.inspector.open(event.id))
    hold = true
    const refreshing = view.app.inspector.refreshRun(dead.id)
    await waitFor(() => expect(held).toHaveLength(1))
    // The control API answered while the run was queued, but the stream's "succeeded" arrives first.
    act(() => {
      view.fake.push({ type: 'run', run: succeeded })
      view.frames.frame()
    })
    held[0]!(queued)
    await waitFor(() => expect(held).toHaveLength(2))
    held[1]!(succeeded)
    await act(() => refreshing)
    expect(view.app.inspector.store.getState().runs.map((r) => r.status)).toEqual(['succeeded'])
  })
})
