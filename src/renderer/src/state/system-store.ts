/**
 * Things always on screen: the tunnel, open alerts, whether intake is paused, the change stream's health,
 * and the outcome of the user's last actions (an aria-live list of short messages).
 */
import { createStore } from 'zustand/vanilla'
import type { ApiClient, Change } from '../../../shared/contract'
import type { Alert, NotificationRecord, TunnelStatus } from '../../../shared/domain'
import type { StreamStatus } from '../api/client'

export interface Outcome {
  id: number
  kind: 'ok' | 'error' | 'info'
  text: string
  at: number
}

export interface SystemState {
  tunnel: TunnelStatus | null
  tunnelError: string | null
  alerts: Alert[]
  dismissedAlerts: string[]
  intakePaused: boolean | null
  stream: StreamStatus
  outcomes: Outcome[]
  notifications: NotificationRecord[]
  /** Set once the server says the session is not signed in. */
  signedOut: boolean
}

const MAX_OUTCOMES = 5

export type SystemStore = ReturnType<typeof createSystemStore>

export function createSystemStore(client: Pick<ApiClient, 'tunnel.get' | 'alerts.list' | 'intake.get'>) {
  const store = createStore<SystemState>(() => ({
    tunnel: null,
    tunnelError: null,
    alerts: [],
    dismissedAlerts: [],
    intakePaused: null,
    stream: 'connecting',
    outcomes: [],
    notifications: [],
    signedOut: false,
  }))
  let outcomeId = 0

  async function load(): Promise<void> {
    const [tunnel, alerts, intake] = await Promise.allSettled([
      client['tunnel.get']({}),
      client['alerts.list']({ open: true }),
      client['intake.get']({}),
    ])
    store.setState({
      ...(tunnel.status === 'fulfilled'
        ? { tunnel: tunnel.value, tunnelError: null }
        : { tunnelError: String((tunnel.reason as Error)?.message ?? tunnel.reason) }),
      ...(alerts.status === 'fulfilled' ? { alerts: alerts.value.items.filter((a) => !a.resolvedAt) } : {}),
      ...(intake.status === 'fulfilled' ? { intakePaused: intake.value.paused } : {}),
    })
  }

  function applyChanges(changes: readonly Change[]): void {
    const state = store.getState()
    let { alerts, notifications } = state
    const patch: Partial<SystemState> = {}
    for (const change of changes) {
      if (change.type === 'tunnel') patch.tunnel = change.tunnel
      else if (change.type === 'intake') patch.intakePaused = change.paused
      else if (change.type === 'alert') {
        const rest = alerts.filter((a) => a.id !== change.alert.id)
        alerts = change.alert.resolvedAt ? rest : [change.alert, ...rest]
      } else if (change.type === 'notification') {
        notifications = [change.notification, ...notifications].slice(0, 20)
        // A workflow's notify step: the desktop shell shows it natively; every UI shows it here too.
        const { title, body } = change.notification
        report('info', body ? `${title} — ${body}` : title)
      }
    }
    if (alerts !== state.alerts) patch.alerts = alerts
    if (notifications !== state.notifications) patch.notifications = notifications
    if (Object.keys(patch).length) store.setState(patch)
  }

  function setStream(stream: StreamStatus): void {
    store.setState({ stream })
  }

  /** Record the outcome of an action the user took; shown briefly and announced to screen readers. */
  function report(kind: Outcome['kind'], text: string): void {
    const outcome = { id: ++outcomeId, kind, text, at: Date.now() }
    store.setState({ outcomes: [outcome, ...store.getState().outcomes].slice(0, MAX_OUTCOMES) })
  }

  function dismissOutcome(id: number): void {
    store.setState({ outcomes: store.getState().outcomes.filter((o) => o.id !== id) })
  }

  function dismissAlert(id: string): void {
    store.setState({ dismissedAlerts: [...store.getState().dismissedAlerts, id] })
  }

  function markSignedOut(): void {
    store.setState({ signedOut: true })
  }

  return { store, load, applyChanges, setStream, report, dismissOutcome, dismissAlert, markSignedOut }
}
