import { contextBridge, ipcRenderer } from 'electron'
import { OPERATION_NAMES } from '../shared/contract'
import {
  channelFor,
  isIpcErrorEnvelope,
  PUSH_ACK_CHANNEL,
  PUSH_CHANNEL,
  READY_CHANNEL,
  type PushBatch,
  type PushMessage,
} from '../shared/ipc'
import type { SwitchboardWindowApi } from './api'

// The sandboxed preload: exposes exactly the contract (a method per operation), the change listener and
// ready(). Never ipcRenderer itself, never an IPC event object.

const listeners = new Set<(message: PushMessage) => void>()
ipcRenderer.on(PUSH_CHANNEL, (_event, batch: PushBatch) => {
  for (const message of batch.messages) {
    for (const listener of listeners) {
      try {
        listener(message)
      } catch (error) {
        console.error('switchboard change listener failed', error)
      }
    }
  }
  // Handled: main sends the next batch only now, so a busy page slows the pushes rather than queueing them.
  ipcRenderer.send(PUSH_ACK_CHANNEL, batch.seq)
})

async function invoke(channel: string, args: unknown): Promise<unknown> {
  const envelope: unknown = await ipcRenderer.invoke(channel, args)
  if (isIpcErrorEnvelope(envelope)) {
    const { code, message, details } = envelope.error
    // A plain object: it crosses the context bridge with its fields intact, unlike an Error.
    throw details === undefined ? { code, message } : { code, message, details }
  }
  return (envelope as { result: unknown }).result
}

const api: Record<string, unknown> = {}
for (const name of OPERATION_NAMES) {
  const channel = channelFor(name)
  api[name] = (args?: unknown) => invoke(channel, args)
}
api.onChange = (callback: unknown) => {
  if (typeof callback !== 'function') throw new TypeError('onChange needs a function')
  const listener = (message: PushMessage) => (callback as (message: PushMessage) => void)(message)
  listeners.add(listener)
  return () => {
    listeners.delete(listener)
  }
}
api.ready = () => ipcRenderer.send(READY_CHANNEL)

contextBridge.exposeInMainWorld('switchboard', api as SwitchboardWindowApi)
