/** The app state handed to components through React context (tests hand in their own). */
import { createContext, useContext } from 'react'
import type { AppState } from './state/app-state'

export const AppContext = createContext<AppState | null>(null)

export function useApp(): AppState {
  const app = useContext(AppContext)
  if (!app) throw new Error('useApp() outside <AppContext.Provider>')
  return app
}
