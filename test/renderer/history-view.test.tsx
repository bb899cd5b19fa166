import { act, cleanup, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { ActionRecord } from '../../src/shared/domain'
import { describeAction, HistoryView } from '../../src/renderer/src/components/history-view'
import { renderWithApp } from './render-app'

afterEach(cleanup)

let at = Date.UTC(2026, 10, 28, 9, 0)
const action = (kind: ActionRecord['kind'], target: string, detail: Record<string, unknown> = {}) => ({
  id: `act_${kind}_${at}`,
  at: at++,
  kind,
  target,
  detail,
})

const rows = () =>
  within(screen.getByRole('table', { name: 'Actions, newest first' }))
    .getAllByRole('row')
    .slice(1)
    .map((r) => r.getAttribute('data-action-kind'))

describe('the history view', () => {
  it('lists actions newest first in words, adds pushed ones on top, and pages in older ones', async () => {
    const older = action('resolve', 'run_1')
    const newer = action('retry', 'run_2', { fromStep: 'ship', latest: false })
    const oldest = action('replay', 'evt_9', { runs: ['run_a', 'run_b'] })
    const view = renderWithApp(<HistoryView />, {
      'actions.list': (args: { before?: string }) =>
        args.before === 'c1'
          ? { items: [oldest], nextCursor: null }
          : { items: [newer, older], nextCursor: 'c1' },
    })
    expect(await screen.findByText('Retried a run from step ship')).toBeTruthy()
    expect(screen.getByText('Resolved a dead letter')).toBeTruthy()
    expect(rows()).toEqual(['retry', 'resolve'])

    act(() => {
      view.fake.push({
        type: 'action',
        action: action('bulk-retry', 'run_3,run_4', { ids: ['run_3', 'run_4'] }),
      })
      view.frames.frame()
    })
    expect(rows()).toEqual(['bulk-retry', 'retry', 'resolve'])
    expect(screen.getByText('Retried 2 dead runs at once')).toBeTruthy()

    await act(async () => screen.getByRole('button', { name: 'Show older' }).click())
    expect(await screen.findByText('Replayed an event (2 runs started)')).toBeTruthy()
    expect(rows()).toEqual(['bulk-retry', 'retry', 'resolve', 'replay'])
    expect(screen.queryByRole('button', { name: 'Show older' })).toBeNull()
  })

  it('says so when there is nothing yet, and when the history cannot be loaded', async () => {
    renderWithApp(<HistoryView />, { 'actions.list': () => ({ items: [], nextCursor: null }) })
    expect(await screen.findByText(/Nothing yet/)).toBeTruthy()
    cleanup()
    renderWithApp(<HistoryView />, {
      'actions.list': () => {
        throw new Error('store unavailable')
      },
    })
    expect((await screen.findByRole('alert')).textContent).toContain('Could not load the history')
  })

  it('says so when older actions cannot be loaded, and loads them on the next try', async () => {
    let fail = true
    renderWithApp(<HistoryView />, {
      'actions.list': (args: { before?: string }) => {
        if (!args.before) return { items: [action('resolve', 'run_1')], nextCursor: 'c1' }
        if (fail) throw new Error('store unavailable')
        return { items: [action('replay', 'evt_1', { runs: [] })], nextCursor: null }
      },
    })
    await act(async () => (await screen.findByRole('button', { name: 'Show older' })).click())
    expect((await screen.findByRole('alert')).textContent).toContain('Could not load older actions')
    fail = false
    await act(async () => screen.getByRole('button', { name: 'Show older' }).click())
    expect(await screen.findByText('Replayed an event (0 runs started)')).toBeTruthy()
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('opens a retried run’s event from its row', async () => {
    const view = renderWithApp(<HistoryView />, {
      'actions.list': () => ({ items: [action('retry', 'run_7')], nextCursor: null }),
      'runs.get': () => ({ id: 'run_7', eventId: 'evt_7' }),
    })
    await act(async () => (await screen.findByRole('link', { name: 'Open run' })).click())
    expect(view.app.router.store.getState()).toEqual({ view: 'activity', id: 'evt_7' })
  })
})

describe('describeAction', () => {
  it('tells a source’s secret rotation and test event from the alert webhook’s', () => {
    expect(describeAction(action('rotate-secret', 'shop', { graceSeconds: 86400 }))).toBe(
      'Rotated a source’s secret, the old one valid 86400 s more',
    )
    expect(describeAction(action('rotate-secret', 'alerts.webhook', { graceSeconds: 0 }))).toBe(
      'Rotated the alert webhook’s secret',
    )
    expect(describeAction(action('test-event', 'shop', { status: 200, eventId: 'evt_1' }))).toBe(
      'Sent a test event (answered 200)',
    )
    expect(describeAction(action('test-event', 'alerts.webhook', { ok: false, status: 500 }))).toBe(
      'Sent a test alert (failed, 500)',
    )
    expect(
      describeAction(
        action('alert-webhook', 'alerts.webhook', { change: 'set', host: 'chat.example', newSecret: true }),
      ),
    ).toBe('Set the alert webhook to chat.example with a new secret')
    expect(describeAction(action('alert-webhook', 'alerts.webhook', { change: 'off', host: null }))).toBe(
      'Turned the alert webhook off',
    )
  })
})
