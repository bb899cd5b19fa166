import { act, cleanup, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { OUTCOME_SHOWN_MS, OutcomeList } from '../../src/renderer/src/components/outcome-list'
import { renderWithApp } from './render-app'

afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

describe('action results', () => {
  it('fades each result a while after it appeared, however many follow it; errors stay', () => {
    vi.useFakeTimers()
    const view = renderWithApp(<OutcomeList />, {})
    act(() => view.app.system.report('ok', 'Source Shop added'))
    act(() => view.app.system.report('error', 'Not saved: bad workflow'))
    // Results keep coming, each sooner than the last one would fade.
    for (let i = 1; i <= 3; i++) {
      act(() => vi.advanceTimersByTime(OUTCOME_SHOWN_MS / 2))
      act(() => view.app.system.report('ok', `Retried run ${i}`))
    }
    expect(screen.queryByText('Source Shop added')).toBeNull()
    expect(screen.queryByText('Retried run 1')).toBeNull()
    expect(screen.getByText('Retried run 3')).toBeTruthy()
    act(() => vi.advanceTimersByTime(OUTCOME_SHOWN_MS))
    expect(screen.queryByText(/Retried run/)).toBeNull()
    expect(screen.getByText('Not saved: bad workflow')).toBeTruthy()
  })
})
