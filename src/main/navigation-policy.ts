import { parseStrictUrl } from './url-text'
import { safeExternalUrl } from './external-links'

/** What to do when the page tries to navigate (or open a window) to a URL. */
export type NavigationDecision =
  { action: 'allow' } | { action: 'open-external'; url: string } | { action: 'deny' }

/**
 * Whether `raw` is a URL on one of the app's own origins (e.g. `app://switchboard`, or the dev server's
 * `http://localhost:5173` in development). Compares scheme and host (with port) exactly, as text: the
 * WHATWG parser gives custom schemes an opaque `null` origin, so `URL.origin` cannot be used, and a
 * differently-cased host is refused rather than normalized.
 */
export function isAppUrl(raw: unknown, appOrigins: readonly string[]): boolean {
  const url = parseStrictUrl(raw)
  if (!url) return false
  return appOrigins.some((origin) => {
    const allowed = parseStrictUrl(origin)
    return (
      allowed !== null && url.protocol === allowed.protocol && url.host === allowed.host && url.host !== ''
    )
  })
}

/**
 * The navigation rule for the window: the app's own origin loads in place; an https link elsewhere opens in
 * the user's browser; everything else (`javascript:`, `file:`, `data:`, plain http, look-alike hosts) is
 * refused.
 */
export function decideNavigation(raw: unknown, appOrigins: readonly string[]): NavigationDecision {
  if (isAppUrl(raw, appOrigins)) return { action: 'allow' }
  const external = safeExternalUrl(raw)
  return external ? { action: 'open-external', url: external } : { action: 'deny' }
}
