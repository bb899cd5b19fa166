import { OPERATION_NAMES } from '../shared/contract'
import { channelFor, PUSH_ACK_CHANNEL, READY_CHANNEL, toIpcError, type IpcEnvelope } from '../shared/ipc'
import type { IpcMainPort, IpcSender } from './boundary'
import type { DesktopEngine } from './desktop-engine'
import type { Log } from '../core/engine'

export interface IpcBridgeOptions {
  ipcMain: IpcMainPort
  engine: Pick<DesktopEngine, 'call'>
  /** The sender check every handler runs first (see sender-policy). */
  isTrusted(sender: IpcSender): boolean
  /** The trusted renderer attached its change listener (main then flushes the held pushes). */
  onReady(sender: IpcSender): void
  /** The trusted renderer handled the push batch numbered `seq` (main then sends the next). */
  onAcknowledge(seq: number): void
  log?: Log
}

/**
 * The one IPC gateway: a handler per contract operation on `channelFor(name)`, each checking its sender,
 * then `engine.call(name, rawArgs)` — the same parse-then-handle the control API runs, so validation is
 * identical. Answers an {@link IpcEnvelope}; never throws across IPC (Electron would flatten the error).
 * Returns a function that removes every handler.
 */
export function registerIpcBridge(options: IpcBridgeOptions): () => void {
  const { ipcMain, engine, isTrusted, log } = options
  for (const name of OPERATION_NAMES) {
    ipcMain.handle(channelFor(name), async (sender, arg): Promise<IpcEnvelope> => {
      if (!isTrusted(sender)) {
        log?.('warn', `refused IPC ${name} from an untrusted sender`, { url: sender.frame?.url ?? null })
        return { error: { code: 'forbidden', message: 'this frame may not call the Switchboard API' } }
      }
      try {
        return { result: await engine.call(name, arg) }
      } catch (error) {
        const serialized = toIpcError(error)
        if (serialized.code === 'internal') log?.('error', `IPC ${name} failed`, { error: String(error) })
        return { error: serialized }
      }
    })
  }
  ipcMain.on(READY_CHANNEL, (sender) => {
    if (isTrusted(sender)) options.onReady(sender)
  })
  ipcMain.on(PUSH_ACK_CHANNEL, (sender, seq) => {
    if (isTrusted(sender) && Number.isSafeInteger(seq)) options.onAcknowledge(seq as number)
  })
  return () => {
    for (const name of OPERATION_NAMES) ipcMain.removeHandler(channelFor(name))
    ipcMain.removeAllListeners(READY_CHANNEL)
    ipcMain.removeAllListeners(PUSH_ACK_CHANNEL)
  }
}
