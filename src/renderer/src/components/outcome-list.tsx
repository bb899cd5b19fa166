import { useEffect } from 'react'
import { useStore } from 'zustand'
import { useApp } from '../app-context'

/** How long a result that is not an error stays, from when it appeared. */
export const OUTCOME_SHOWN_MS = 6000

/** What the user's last actions did, announced politely; errors stay until dismissed, the rest fade. */
export function OutcomeList() {
  const { system } = useApp()
  const outcomes = useStore(system.store, (s) => s.outcomes)
  useEffect(() => {
    // Counted from each one's own time: a new result must not keep the older ones up.
    const timers = outcomes
      .filter((o) => o.kind !== 'error')
      .map((o) =>
        setTimeout(() => system.dismissOutcome(o.id), Math.max(0, o.at + OUTCOME_SHOWN_MS - Date.now())),
      )
    return () => timers.forEach(clearTimeout)
  }, [outcomes, system])
  return (
    <div className="outcomes" aria-live="polite" aria-label="Action results">
      {outcomes.map((o) => (
        <div
          key={o.id}
          className={`outcome outcome-${o.kind}`}
          role={o.kind === 'error' ? 'alert' : 'status'}
        >
          <span>{o.text}</span>
          <button
            type="button"
            className="small"
            aria-label="Dismiss"
            onClick={() => system.dismissOutcome(o.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
