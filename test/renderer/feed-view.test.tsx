import { act, cleanup, fireEvent, screen } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ActivityView } from '../../src/renderer/src/components/activity-view'
import { makeEvent } from './fixtures'
import { renderWithApp } from './render-app'

afterEach(cleanup)

// happy-dom does no layout: give elements a viewport's size so the virtualizer has rows to render.
const saved = {
  height: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight'),
  width: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth'),
}
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 })
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 800 })
})
afterAll(() => {
  if (saved.height) Object.defineProperty(HTMLElement.prototype, 'clientHeight', saved.height)
  if (saved.width) Object.defineProperty(HTMLElement.prototype, 'clientWidth', saved.width)
})

describe('the activity feed', () => {
  it('renders readable rows, adds live ones per frame, and holds them while paused behind "N new"', async () => {
    const stored = [makeEvent({ type: 'order.paid', summary: 'Order 17 paid' })]
    const view = renderWithApp(<ActivityView />, {
      'events.list': () => ({ items: stored, nextCursor: null }),
    })
    const row = await screen.findByRole('option', { name: /order\.paid: Order 17 paid, accepted/ })
    expect(row.textContent).toContain('Order 17 paid')

    const live = makeEvent({ type: 'order.placed', summary: 'Order 18 placed' })
    act(() => view.fake.push({ type: 'event', event: live }))
    expect(screen.queryByText('Order 18 placed')).toBeNull() // not before the frame
    act(() => view.frames.frame())
    expect(screen.getByText('Order 18 placed')).toBeTruthy()

    act(() => screen.getByRole('button', { name: 'Pause' }).click())
    act(() => {
      view.fake.push({ type: 'event', event: makeEvent({ summary: 'held one' }) })
      view.fake.push({ type: 'event', event: makeEvent({ summary: 'held two' }) })
      view.frames.frame()
    })
    expect(screen.queryByText('held one')).toBeNull()
    const marker = screen.getByRole('button', { name: '2 new' })
    act(() => marker.click())
    expect(screen.getByText('held one')).toBeTruthy()
    expect(screen.getByText('held two')).toBeTruthy()
    expect(screen.queryByRole('button', { name: /new/ })).toBeNull()
    expect(screen.getByRole('button', { name: 'Pause' })).toBeTruthy()
  })

  it('asks the server again when a filter changes', async () => {
    const view = renderWithApp(<ActivityView />, {
      'events.list': () => ({ items: [], nextCursor: null }),
    })
    await screen.findByText(/No events yet/)
    await act(async () => {
      fireEvent.change(screen.getByLabelText('Filter by status'), { target: { value: 'rejected' } })
    })
    const lists = view.fake.calls.filter((c) => c.name === 'events.list')
    expect(lists[lists.length - 1]!.args).toEqual({ status: 'rejected', limit: 200 })
    expect(await screen.findByText('No events match these filters.')).toBeTruthy()
  })

  it('goes on through older events by itself when a search page comes back empty with a cursor', async () => {
    const found = makeEvent({ type: 'order.paid', summary: 'The old match' })
    let release: () => void = () => {}
    const later = new Promise<void>((resolve) => (release = resolve))
    const view = renderWithApp(<ActivityView />, {
      'events.list': async (args: { before?: string }) => {
        if (!args.before) return { items: [], nextCursor: '900' }
        if (args.before === '900') return { items: [], nextCursor: '400' }
        await later
        return { items: [found], nextCursor: null }
      },
    })
    expect(await screen.findByText('Searching older events…')).toBeTruthy()
    await act(async () => release())
    expect(await screen.findByText('The old match')).toBeTruthy()
    const befores = view.fake.calls
      .filter((c) => c.name === 'events.list')
      .map((c) => (c.args as { before?: string }).before)
    expect(befores).toEqual([undefined, '900', '400'])
  })

  it('says when a search could not see events the index has not reached, and searches again on a click', async () => {
    let pending = 3200
    const view = renderWithApp(<ActivityView />, {
      'events.list': (args: { q?: string }) => ({
        items: [makeEvent({ summary: 'An indexed match' })],
        nextCursor: null,
        ...(args.q && pending ? { searchPending: pending } : {}),
      }),
    })
    await screen.findByText('An indexed match')
    expect(screen.queryByRole('button', { name: /not indexed yet/ })).toBeNull()
    await act(async () => {
      fireEvent.change(screen.getByLabelText('Search events'), { target: { value: 'invoice' } })
      fireEvent.submit(screen.getByRole('search'))
    })
    const notice = await screen.findByRole('button', { name: /3,200 not indexed yet/ })
    pending = 0
    await act(async () => notice.click())
    const lists = view.fake.calls.filter((c) => c.name === 'events.list')
    expect(lists[lists.length - 1]!.args).toEqual({ q: 'invoice', limit: 200 })
    expect(screen.queryByRole('button', { name: /not indexed yet/ })).toBeNull()
  })

  it('moves the selection with j and k', async () => {
    const events = [makeEvent({ summary: 'first' }), makeEvent({ summary: 'second' })]
    const view = renderWithApp(<ActivityView />, {
      'events.list': () => ({ items: events, nextCursor: null }),
    })
    await screen.findByText('first')
    act(() => {
      fireEvent.keyDown(document.body, { key: 'j' })
      fireEvent.keyDown(document.body, { key: 'j' })
    })
    expect(view.app.feed.store.getState().selectedId).toBe(events[1]!.id)
    const selectedRow = () =>
      screen.getByRole('listbox', { name: /Events/ }).querySelector('[aria-selected="true"]')
    expect(selectedRow()!.textContent).toContain('second')
    act(() => {
      fireEvent.keyDown(document.body, { key: 'k' })
    })
    expect(selectedRow()!.textContent).toContain('first')
    act(() => {
      fireEvent.keyDown(document.body, { key: 'Enter' })
    })
    expect(view.app.router.store.getState()).toEqual({ view: 'activity', id: events[0]!.id })
  })

  it('says so when events cannot be loaded, and offers to try again', async () => {
    renderWithApp(<ActivityView />, {
      'events.list': () => {
        throw new Error('database is locked')
      },
    })
    expect((await screen.findByRole('alert')).textContent).toContain('database is locked')
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy()
  })
})
