/**
 * Start-up: pick the transport (the desktop bridge when the preload exposed one, else HTTP + SSE on this
 * origin), build the stores, feed them from the change stream, and render.
 */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createHttpTransport } from './api/http-transport'
import { createIpcTransport, findBridge } from './api/ipc-transport'
import { AppContext } from './app-context'
import { AppShell } from './components/app-shell'
import { createAppState } from './state/app-state'
import './styles.css'

const bridge = findBridge(window)
const transport = bridge ? createIpcTransport(bridge) : createHttpTransport()
const app = createAppState(transport, { window })
app.start()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppContext.Provider value={app}>
      <AppShell />
    </AppContext.Provider>
  </StrictMode>,
)
