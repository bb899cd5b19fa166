import { lazy, Suspense } from 'react'
import { useStore } from 'zustand'
import { useApp } from '../app-context'
import type { View } from '../state/router'
import { ActivityView } from './activity-view'
import { AlertBanner } from './alert-banner'
import { DeadLettersView } from './dead-letters-view'
import { HistoryView } from './history-view'
import { OutcomeList } from './outcome-list'
import { SourcesView } from './sources-view'
import { TunnelBadge } from './tunnel-badge'
import { WorkflowsView } from './workflows-view'

// Charts pull in uPlot: load them only when someone opens the view, to keep the first paint lean.
const MetricsView = lazy(() => import('./metrics-view'))

const TABS: Array<{ view: View; label: string }> = [
  { view: 'activity', label: 'Activity' },
  { view: 'dead', label: 'Dead letters' },
  { view: 'sources', label: 'Sources' },
  { view: 'workflows', label: 'Workflows' },
  { view: 'metrics', label: 'Charts' },
  { view: 'history', label: 'History' },
]

const STREAM_LABEL = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
} as const

function StreamIndicator() {
  const { system } = useApp()
  const stream = useStore(system.store, (s) => s.stream)
  return (
    <span
      className={`stream stream-${stream}`}
      role="status"
      aria-label={`Change stream: ${STREAM_LABEL[stream]}`}
    >
      <span className="dot" aria-hidden="true" />
      {STREAM_LABEL[stream]}
    </span>
  )
}

function IntakeToggle() {
  const { system, client } = useApp()
  const paused = useStore(system.store, (s) => s.intakePaused)
  if (paused === null) return null
  async function toggle() {
    try {
      const result = await client['intake.set']({ paused: !paused })
      system.store.setState({ intakePaused: result.paused })
      system.report(
        'ok',
        result.paused ? 'Intake paused: new webhooks are refused with 503' : 'Intake resumed',
      )
    } catch (error) {
      system.report('error', (error as Error).message)
    }
  }
  return (
    <button
      type="button"
      className={paused ? 'small warn' : 'small'}
      onClick={toggle}
      aria-pressed={paused}
      title={paused ? 'Intake is paused: the receiver answers 503 so senders retry later' : 'Pause intake'}
    >
      {paused ? 'Intake paused' : 'Intake on'}
    </button>
  )
}

function SignedOut() {
  return (
    <div className="signed-out" role="alert">
      <h1>Not signed in</h1>
      <p>
        Open the login link that <code>npm run serve</code> printed when it started (it ends in{' '}
        <code>/login?token=…</code>). The token is also in <code>api-token</code> in the data folder.
      </p>
    </div>
  )
}

export function AppShell() {
  const { router, system } = useApp()
  const route = useStore(router.store)
  const signedOut = useStore(system.store, (s) => s.signedOut)
  if (signedOut) return <SignedOut />
  return (
    <div className="app">
      <header className="app-header">
        <span className="brand">Switchboard</span>
        <nav aria-label="Views">
          <ul role="tablist">
            {TABS.map((tab) => (
              <li key={tab.view} role="presentation">
                <a
                  role="tab"
                  aria-selected={route.view === tab.view}
                  href={`#/${tab.view}`}
                  className={route.view === tab.view ? 'active' : undefined}
                  onClick={(e) => {
                    e.preventDefault()
                    router.go({ view: tab.view, id: null })
                  }}
                >
                  {tab.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="header-status">
          <IntakeToggle />
          <StreamIndicator />
          <TunnelBadge />
        </div>
      </header>
      <AlertBanner />
      <main className="app-main">
        {route.view === 'activity' && <ActivityView />}
        {route.view === 'dead' && <DeadLettersView />}
        {route.view === 'sources' && <SourcesView />}
        {route.view === 'workflows' && <WorkflowsView />}
        {route.view === 'history' && <HistoryView />}
        {route.view === 'metrics' && (
          <Suspense fallback={<p className="empty">Loading charts…</p>}>
            <MetricsView />
          </Suspense>
        )}
      </main>
      <OutcomeList />
    </div>
  )
}
