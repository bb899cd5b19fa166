/**
 * Which view is showing, kept in `location.hash` so reloads and the back button work (in a browser and
 * under Electron's file:// alike): `#/activity[/<eventId>]`, `#/dead`, `#/sources`, `#/workflows[/<id>]`,
 * `#/metrics`, `#/history`.
 */
import { createStore } from 'zustand/vanilla'

export const VIEWS = ['activity', 'dead', 'sources', 'workflows', 'metrics', 'history'] as const
export type View = (typeof VIEWS)[number]

export interface Route {
  view: View
  /** The event open in the inspector, or the workflow open in the editor. */
  id: string | null
}

export function parseHash(hash: string): Route {
  const [view, ...rest] = hash.replace(/^#\/?/, '').split('/')
  const known = (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'activity'
  const id = rest.length && known === view ? decodeURIComponent(rest.join('/')) || null : null
  return { view: known, id }
}

export function formatHash(route: Route): string {
  return `#/${route.view}${route.id ? `/${encodeURIComponent(route.id)}` : ''}`
}

export type Router = ReturnType<typeof createRouter>

export function createRouter(
  win: Pick<Window, 'location' | 'addEventListener' | 'removeEventListener'> | null,
) {
  const store = createStore<Route>(() =>
    win ? parseHash(win.location.hash) : { view: 'activity', id: null },
  )

  function go(route: Route): void {
    store.setState(route, true)
    if (win) {
      const hash = formatHash(route)
      if (win.location.hash !== hash) win.location.hash = hash
    }
  }

  function listen(): () => void {
    if (!win) return () => {}
    const onHash = () => {
      const next = parseHash(win.location.hash)
      const now = store.getState()
      if (next.view !== now.view || next.id !== now.id) store.setState(next, true)
    }
    win.addEventListener('hashchange', onHash)
    return () => win.removeEventListener('hashchange', onHash)
  }

  return { store, go, listen }
}
