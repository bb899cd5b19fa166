/**
 * The renderer's one API client: a method per operation of the shared contract, whatever carries it.
 *
 * A `Transport` moves a named operation and its raw arguments to the engine (HTTP in a browser, IPC in the
 * desktop app) and delivers the engine's change stream; `createClient` turns any transport into an `ApiClient`.
 */
import type {
  ApiClient,
  Change,
  OperationArgs,
  OperationName,
  OperationResult,
} from '../../../shared/contract'
import { OPERATION_NAMES } from '../../../shared/contract'
import type { NavigateTarget } from '../../../shared/ipc'

/** State of the live change stream, for the header's indicator. */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'offline'

export interface StreamHandlers {
  onChange(change: Change): void
  onStatus?(status: StreamStatus): void
  /** Called when the stream comes back after a gap, so views can reload what they may have missed. */
  onResync?(): void
  /** The desktop shell asks to show something (a notification or tray item was clicked). */
  onNavigate?(target: NavigateTarget): void
}

export interface Transport {
  /** Which carrier this is (shown in the UI's about line, and used by tests). */
  readonly kind: 'http' | 'ipc'
  call<K extends OperationName>(name: K, args: OperationArgs<K>): Promise<OperationResult<K>>
  /** Start receiving changes; returns the unsubscribe function. */
  subscribe(handlers: StreamHandlers): () => void
  /** Tell the engine the UI is subscribed and may be sent queued changes (IPC only; no-op over HTTP). */
  ready(): void
}

/** An `ApiClient` whose every method forwards to the transport under its operation name. */
export function createClient(transport: Transport): ApiClient {
  const client: Partial<Record<OperationName, (args: unknown) => Promise<unknown>>> = {}
  for (const name of OPERATION_NAMES) {
    client[name] = (args: unknown) => transport.call(name, (args ?? {}) as OperationArgs<typeof name>)
  }
  return client as ApiClient
}
