/**
 * The type of `window.switchboard`, which the preload exposes in the desktop app (types only: the renderer
 * imports this, never the preload itself).
 *
 * - one method per contract operation, same name, raw arguments, a promise of the result. A refusal rejects
 *   with a plain `{ code, message, details? }` object (contextBridge strips custom fields from Error
 *   objects); `reviveIpcError` from src/shared/ipc.ts turns it back into an ApiError.
 * - `onChange(cb)` delivers every push message (engine changes, plus `navigate` and `resync`, see
 *   `PushMessage`) and returns the unsubscribe function.
 * - `ready()` tells the main process the listener is attached; changes held since the page loaded follow.
 */
import type { ApiClient } from '../shared/contract'
import type { PushMessage } from '../shared/ipc'

export type SwitchboardWindowApi = ApiClient & {
  onChange(callback: (message: PushMessage) => void): () => void
  ready(): void
}

declare global {
  interface Window {
    /** Present only in the desktop app. */
    switchboard?: SwitchboardWindowApi
  }
}
