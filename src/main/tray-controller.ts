import type { Change } from '../shared/contract'
import type { RunSummary } from '../shared/domain'
import type { Log } from '../core/engine'
import type { ElectronBoundary, TrayPort } from './boundary'
import type { DesktopEngine } from './desktop-engine'
import { trayView, type TrayAction, type TrayState } from './tray-model'

/** How many dead runs the tray reads at start-up (pages of 500); beyond it the count shows as "N+"-ish. */
const MAX_FAILURE_PAGES = 20

export interface TrayControllerOptions {
  boundary: Pick<ElectronBoundary, 'app' | 'createTray' | 'clipboard'>
  engine: Pick<DesktopEngine, 'call'>
  icons: { normal: string; alert: string }
  /** Show the window; `failures` also asks the UI to show the failed runs. */
  open(target?: 'failures'): void
  quit(): void
  log?: Log
}

export interface TrayController {
  /** Read the initial tunnel, intake and failure state, then show it. */
  start(): Promise<void>
  /** Feed every engine change here. */
  handle(change: Change): void
  state(): TrayState
  /** Run a menu action as if clicked. */
  perform(action: TrayAction): Promise<void>
  destroy(): void
}

function isUnresolvedFailure(run: RunSummary): boolean {
  return run.status === 'dead' && run.resolvedAt === null && !run.dryRun
}

/**
 * The tray icon: tunnel status and unresolved failures at a glance; open, pause/resume intake, copy the public
 * URL, launch at login, quit. Failures are counted from `runs.list {status:'dead'}` once, then kept exact from
 * the `run` changes (a run leaving `dead`, or being resolved, drops out).
 */
export function createTrayController(options: TrayControllerOptions): TrayController {
  const { boundary, engine, log } = options
  const loginItemsSupported = boundary.app.platform === 'darwin' || boundary.app.platform === 'win32'
  const failed = new Set<string>()
  /** Runs whose status a change told us while the initial list was loading (the change is newer). */
  const seen = new Set<string>()
  let loading = true
  let tunnel: TrayState['tunnel'] = null
  let paused = false
  let tray: TrayPort | null = null

  const state = (): TrayState => ({
    tunnel,
    paused,
    failures: failed.size,
    openAtLogin: loginItemsSupported ? boundary.app.getLoginItemSettings().openAtLogin : null,
  })

  function render(): void {
    if (!tray) return
    const view = trayView(state())
    tray.setImage(view.icon === 'alert' ? options.icons.alert : options.icons.normal)
    tray.setToolTip(view.tooltip)
    tray.setContextMenu(
      view.items.map((item) => {
        const action = item.id
        return action ? { ...item, click: () => void perform(action) } : item
      }),
    )
  }

  async function perform(action: TrayAction): Promise<void> {
    try {
      switch (action) {
        case 'open':
          options.open()
          break
        case 'failures':
          options.open('failures')
          break
        case 'toggle-intake': {
          const result = await engine.call('intake.set', { paused: !paused })
          paused = result.paused
          render()
          break
        }
        case 'copy-url':
          if (tunnel?.url) boundary.clipboard.writeText(tunnel.url)
          break
        case 'toggle-login':
          if (loginItemsSupported) {
            boundary.app.setLoginItemSettings({
              openAtLogin: !boundary.app.getLoginItemSettings().openAtLogin,
            })
            render()
          }
          break
        case 'quit':
          options.quit()
          break
      }
    } catch (error) {
      log?.('error', `tray action ${action} failed`, { error: String(error) })
    }
  }

  async function loadFailures(): Promise<void> {
    let before: string | undefined
    for (let page = 0; page < MAX_FAILURE_PAGES; page++) {
      const result = await engine.call('runs.list', {
        status: 'dead',
        limit: 500,
        ...(before ? { before } : {}),
      })
      for (const run of result.items) if (!seen.has(run.id) && isUnresolvedFailure(run)) failed.add(run.id)
      if (!result.nextCursor) return
      before = result.nextCursor
    }
  }

  return {
    async start() {
      tray = boundary.createTray(options.icons.normal)
      tray.onClick(() => options.open())
      render()
      const settle = async <T>(what: string, load: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await load()
        } catch (error) {
          log?.('warn', `tray could not read ${what}`, { error: String(error) })
          return undefined
        }
      }
      const [t, intake] = await Promise.all([
        settle('tunnel', () => engine.call('tunnel.get', {})),
        settle('intake', () => engine.call('intake.get', {})),
        settle('failures', loadFailures),
      ])
      if (t && !tunnel) tunnel = t
      if (intake) paused = intake.paused
      loading = false
      seen.clear()
      render()
    },
    handle(change) {
      switch (change.type) {
        case 'run':
          if (loading) seen.add(change.run.id)
          if (isUnresolvedFailure(change.run)) failed.add(change.run.id)
          else failed.delete(change.run.id)
          break
        case 'tunnel':
          tunnel = change.tunnel
          break
        case 'intake':
          paused = change.paused
          break
        default:
          return
      }
      render()
    },
    state,
    perform,
    destroy() {
      tray?.destroy()
      tray = null
    },
  }
}
