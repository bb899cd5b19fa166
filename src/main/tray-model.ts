import type { TunnelStatus } from '../shared/domain'
import type { MenuItemSpec } from './boundary'

/** What the tray shows. */
export interface TrayState {
  tunnel: Pick<TunnelStatus, 'state' | 'mode' | 'url'> | null
  paused: boolean
  /** Dead runs the user has not resolved. */
  failures: number
  /** Null where the OS offers no login items (Linux). */
  openAtLogin: boolean | null
}

/** Menu actions, by item id. */
export type TrayAction = 'open' | 'failures' | 'toggle-intake' | 'copy-url' | 'toggle-login' | 'quit'

export interface TrayView {
  tooltip: string
  /** The alert variant of the icon when something needs the user. */
  icon: 'normal' | 'alert'
  items: Array<MenuItemSpec & { id?: TrayAction }>
}

function tunnelLine(tunnel: TrayState['tunnel']): string {
  if (!tunnel) return 'Tunnel: unknown'
  if (tunnel.mode === 'off') return 'Tunnel: off'
  if (tunnel.mode === 'external') return tunnel.url ? `Public URL: ${tunnel.url}` : 'Public URL: not set'
  return `Tunnel: ${tunnel.state}`
}

function failuresLine(n: number): string {
  if (n === 0) return 'No unresolved failures'
  return n === 1 ? '1 unresolved failure' : `${n} unresolved failures`
}

/** The tray's tooltip, icon and menu for a state. Pure, so the labels are tested directly. */
export function trayView(state: TrayState): TrayView {
  const tunnelBad = state.tunnel?.mode === 'tunnel' && state.tunnel.state !== 'online'
  const items: TrayView['items'] = [
    { id: 'open', label: 'Open Switchboard' },
    { type: 'separator' },
    { label: tunnelLine(state.tunnel), enabled: false },
    { id: 'failures', label: failuresLine(state.failures), enabled: state.failures > 0 },
    ...(state.paused ? [{ label: 'Intake is paused', enabled: false }] : []),
    { type: 'separator' },
    { id: 'toggle-intake', label: state.paused ? 'Resume intake' : 'Pause intake' },
    { id: 'copy-url', label: 'Copy public URL', enabled: Boolean(state.tunnel?.url) },
    ...(state.openAtLogin === null
      ? []
      : [
          {
            id: 'toggle-login' as const,
            label: 'Launch at login',
            type: 'checkbox' as const,
            checked: state.openAtLogin,
          },
        ]),
    { type: 'separator' },
    { id: 'quit', label: 'Quit Switchboard' },
  ]
  const parts = ['Switchboard', tunnelLine(state.tunnel), failuresLine(state.failures)]
  if (state.paused) parts.push('intake paused')
  return {
    tooltip: parts.join(' · '),
    icon: state.failures > 0 || state.paused || tunnelBad ? 'alert' : 'normal',
    items,
  }
}
