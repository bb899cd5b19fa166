/**
 * IPC transport, for the desktop app: the preload exposes `window.switchboard` with one method per contract
 * operation (same name, raw arguments, promise of the result; a refusal rejects with a plain
 * `{code, message, details}` object), `onChange(cb)` returning an unsubscribe function, and `ready()` to
 * release changes the main process queued before the UI subscribed. Besides engine changes, `onChange`
 * delivers the shell's `navigate` and `resync` messages (src/shared/ipc.ts).
 */
import type { ApiClient, OperationArgs, OperationName, OperationResult } from '../../../shared/contract'
import { ApiError } from '../../../shared/contract'
import type { PushMessage } from '../../../shared/ipc'
import { toApiError } from './api-errors'
import type { StreamHandlers, Transport } from './client'

/** The shape the preload exposes, derived from the contract (the renderer never sees ipcRenderer). */
export type SwitchboardBridge = ApiClient & {
  onChange(callback: (message: PushMessage) => void): () => void
  ready(): void
}

/** The bridge the preload exposed on this window, or undefined in a plain browser. */
export function findBridge(scope: object = globalThis): SwitchboardBridge | undefined {
  const candidate = (scope as { switchboard?: unknown }).switchboard
  if (!candidate || typeof candidate !== 'object') return undefined
  const bridge = candidate as Partial<SwitchboardBridge>
  return typeof bridge.onChange === 'function' ? (bridge as SwitchboardBridge) : undefined
}

export function createIpcTransport(bridge: SwitchboardBridge): Transport {
  async function call<K extends OperationName>(name: K, args: OperationArgs<K>): Promise<OperationResult<K>> {
    const method = bridge[name] as unknown as
      ((a: OperationArgs<K>) => Promise<OperationResult<K>>) | undefined
    if (typeof method !== 'function') {
      throw new ApiError('not_found', `The desktop bridge does not offer ${name}`)
    }
    try {
      return await method((args ?? {}) as OperationArgs<K>)
    } catch (error) {
      throw toApiError(error)
    }
  }

  function subscribe(handlers: StreamHandlers): () => void {
    handlers.onStatus?.('live')
    return bridge.onChange((message) => {
      if (message.type === 'resync') handlers.onResync?.()
      else if (message.type === 'navigate') handlers.onNavigate?.(message.target)
      else handlers.onChange(message)
    })
  }

  return { kind: 'ipc', call, subscribe, ready: () => bridge.ready() }
}
