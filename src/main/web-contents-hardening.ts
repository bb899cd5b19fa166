import type { Log } from '../core/engine'
import type { WebContentsPort } from './boundary'
import { decideNavigation } from './navigation-policy'

export interface HardeningOptions {
  /** The app's own origins (app://switchboard, plus the dev server in development). */
  appOrigins: readonly string[]
  /** Opens an already-checked https URL in the user's browser. */
  openExternal(url: string): void
  log?: Log
}

/**
 * Apply the navigation rules to a WebContents: no new windows (an https link opens in the browser instead),
 * in-place navigation and redirects only within the app's origin, and no <webview>.
 */
export function hardenWebContents(contents: WebContentsPort, options: HardeningOptions): void {
  const { appOrigins, openExternal, log } = options
  contents.setWindowOpenHandler((url) => {
    const decision = decideNavigation(url, appOrigins)
    if (decision.action === 'open-external') openExternal(decision.url)
    else log?.('warn', 'refused to open a window', { url: String(url).slice(0, 200) })
    return 'deny'
  })
  contents.onWillNavigate((event, url) => {
    const decision = decideNavigation(url, appOrigins)
    if (decision.action === 'allow') return
    event.preventDefault()
    if (decision.action === 'open-external') openExternal(decision.url)
    else log?.('warn', 'refused a navigation', { url: String(url).slice(0, 200) })
  })
  contents.onWillRedirect((event, url) => {
    if (decideNavigation(url, appOrigins).action !== 'allow') event.preventDefault()
  })
  contents.onWillAttachWebview((event) => event.preventDefault())
}
