/**
 * The Electron IPC naming and message shapes, in one place, for the main process (bridge), the preload
 * (window.switchboard) and the renderer (its IPC transport). Pure: no node, electron or DOM imports.
 *
 * Every contract operation gets one invoke channel, `switchboard:op:<operation>`; main answers it with an
 * {@link IpcEnvelope}. Main pushes {@link PushMessage}s on {@link PUSH_CHANNEL} in {@link PushBatch}es,
 * holding them until the renderer has sent {@link READY_CHANNEL}, and sends the next batch only once the
 * renderer has acknowledged the last on {@link PUSH_ACK_CHANNEL} (so a busy renderer slows the pushes
 * instead of letting IPC messages pile up without bound).
 */
import type { Change, ErrorCode, OperationName } from './contract'
import { ApiError, ERROR_CODES } from './contract'

const OPERATION_PREFIX = 'switchboard:op:'

/** Main → renderer push messages, one {@link PushBatch} per IPC message. */
export const PUSH_CHANNEL = 'switchboard:push'
/** Renderer → main: "my change listener is attached; send what you held back". */
export const READY_CHANNEL = 'switchboard:ready'
/** Renderer → main: the `seq` of the {@link PushBatch} its listeners have handled. */
export const PUSH_ACK_CHANNEL = 'switchboard:push-ack'

/** The invoke channel of one operation. */
export function channelFor(name: OperationName): string {
  return OPERATION_PREFIX + name
}

/** Where a click on a desktop notification (or a tray item) asks the UI to go. */
export type NavigateTarget =
  | { view: 'event'; eventId: string }
  | { view: 'run'; runId: string }
  | { view: 'alerts'; alertId: string | null }
  | { view: 'failures' }

/**
 * What `window.switchboard.onChange` listeners receive: every engine {@link Change}, plus two messages of the
 * desktop shell. A renderer that switches on `type` and ignores unknown types stays correct.
 * - `navigate`: the user clicked a notification or tray item; show this target (the event in the inspector).
 * - `resync`: pushes were dropped (the renderer was not ready, or did not keep up); reload lists from scratch.
 */
export type PushMessage = Change | { type: 'navigate'; target: NavigateTarget } | { type: 'resync' }

/** The pushes of one IPC message, in order; `seq` is what the renderer acknowledges. */
export interface PushBatch {
  seq: number
  messages: PushMessage[]
}

/** How an operation's refusal travels over IPC (contextBridge strips custom properties from Error objects). */
export interface IpcErrorShape {
  code: ErrorCode
  message: string
  details?: unknown
}

/** What main answers on an operation channel: the result, or the serialized error. */
export type IpcEnvelope<T = unknown> = { result: T } | { error: IpcErrorShape }

/** Serialize anything an operation threw. Unknown errors become `internal` with their message only. */
export function toIpcError(error: unknown): IpcErrorShape {
  if (error instanceof ApiError) {
    return error.details === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, details: error.details }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'internal', message: message || 'internal error' }
}

/** Whether a value is an error envelope from main (as opposed to a result envelope). */
export function isIpcErrorEnvelope(value: unknown): value is { error: IpcErrorShape } {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false
  const error = (value as { error: unknown }).error
  return typeof error === 'object' && error !== null && 'code' in error && 'message' in error
}

/**
 * Turn what a `window.switchboard` method rejected with (a plain `{code, message, details}` object) back into
 * an {@link ApiError} with those fields. The renderer's IPC transport calls it in its `catch`.
 */
export function reviveIpcError(reason: unknown): ApiError {
  if (reason instanceof ApiError) return reason
  if (typeof reason === 'object' && reason !== null && 'code' in reason && 'message' in reason) {
    const { code, message, details } = reason as { code: unknown; message: unknown; details?: unknown }
    const known = typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
    return new ApiError(known ? (code as ErrorCode) : 'internal', String(message), details)
  }
  const message = reason instanceof Error ? reason.message : String(reason)
  return new ApiError('internal', message)
}
