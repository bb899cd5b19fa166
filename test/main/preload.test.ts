import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { OPERATION_NAMES } from '../../src/shared/contract'
import {
  channelFor,
  PUSH_ACK_CHANNEL,
  PUSH_CHANNEL,
  READY_CHANNEL,
  type PushBatch,
} from '../../src/shared/ipc'

type Listener = (event: unknown, message: unknown) => void

/** The two Electron modules a sandboxed preload may use, faked: records what the preload exposes and sends. */
function fakePreloadElectron(answer: (channel: string, args: unknown) => unknown) {
  const exposed: Record<string, unknown> = {}
  const listeners = new Map<string, Listener[]>()
  const sent: unknown[][] = []
  return {
    exposed,
    sent,
    push(batch: PushBatch) {
      for (const l of listeners.get(PUSH_CHANNEL) ?? [])
        l({ sender: 'ipcRenderer event, must not leak' }, batch)
    },
    electron: {
      contextBridge: {
        exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api),
      },
      ipcRenderer: {
        invoke: async (channel: string, args: unknown) => answer(channel, args),
        on: (channel: string, listener: Listener) =>
          void listeners.set(channel, [...(listeners.get(channel) ?? []), listener]),
        send: (...args: unknown[]) => void sent.push(args),
      },
    },
  }
}

const bundle = join(process.cwd(), 'out/preload/index.cjs')

describe.skipIf(!existsSync(bundle))('preload bundle (out/preload/index.cjs, as the sandbox runs it)', () => {
  function load(answer: (channel: string, args: unknown) => unknown) {
    const fake = fakePreloadElectron(answer)
    const required: string[] = []
    const module = { exports: {} }
    runInNewContext(readFileSync(bundle, 'utf8'), {
      // A sandboxed preload gets a require that knows only a few modules; anything else would throw here.
      require: (id: string) => {
        required.push(id)
        if (id === 'electron') return fake.electron
        throw new Error(`a sandboxed preload cannot require ${id}`)
      },
      module,
      exports: module.exports,
      console,
    })
    return { ...fake, required }
  }

  it('requires nothing but electron', () => {
    const { required } = load(() => ({ result: null }))
    expect(new Set(required)).toEqual(new Set(['electron']))
  })

  it('exposes exactly one method per operation, onChange and ready', () => {
    const { exposed } = load(() => ({ result: null }))
    expect(Object.keys(exposed)).toEqual(['switchboard'])
    const api = exposed.switchboard as Record<string, unknown>
    expect(Object.keys(api).sort()).toEqual([...OPERATION_NAMES, 'onChange', 'ready'].sort())
    for (const value of Object.values(api)) expect(typeof value).toBe('function')
  })

  it('calls each operation on its own channel and unwraps the result', async () => {
    const calls: Array<[string, unknown]> = []
    const { exposed } = load((channel, args) => {
      calls.push([channel, args])
      return { result: { paused: true } }
    })
    const api = exposed.switchboard as Record<string, (a?: unknown) => Promise<unknown>>
    expect(await api['intake.set']!({ paused: true })).toEqual({ paused: true })
    expect(calls).toEqual([[channelFor('intake.set'), { paused: true }]])
  })

  it('rejects a refusal with a plain {code, message, details} object (fields survive the context bridge)', async () => {
    const { exposed } = load(() => ({
      error: { code: 'bad_request', message: 'paused: expected boolean', details: { issues: [] } },
    }))
    const api = exposed.switchboard as Record<string, (a?: unknown) => Promise<unknown>>
    const reason = await api['intake.set']!({ paused: 'yes' }).catch((e: unknown) => e)
    expect(reason).toEqual({
      code: 'bad_request',
      message: 'paused: expected boolean',
      details: { issues: [] },
    })
    expect(reason instanceof Error).toBe(false)
  })

  it('hands listeners each message only, never the IPC event, then acknowledges the batch; ready() signals main', () => {
    const { exposed, push, sent } = load(() => ({ result: null }))
    const api = exposed.switchboard as {
      onChange(cb: (...args: unknown[]) => void): () => void
      ready(): void
    }
    const received: unknown[][] = []
    const off = api.onChange((...args) => {
      // Acknowledged only after the listeners ran: main must not send more while the page is busy.
      expect(sent).toEqual([])
      received.push(args)
    })
    push({ seq: 1, messages: [{ type: 'intake', paused: true }, { type: 'resync' }] })
    expect(received).toEqual([[{ type: 'intake', paused: true }], [{ type: 'resync' }]])
    expect(sent).toEqual([[PUSH_ACK_CHANNEL, 1]])
    off()
    push({ seq: 2, messages: [{ type: 'intake', paused: false }] })
    expect(received).toHaveLength(2)
    expect(sent).toEqual([
      [PUSH_ACK_CHANNEL, 1],
      [PUSH_ACK_CHANNEL, 2],
    ])
    expect(() => api.onChange('not a function' as never)).toThrow(/function/)
    api.ready()
    expect(sent.at(-1)).toEqual([READY_CHANNEL])
  })
})
