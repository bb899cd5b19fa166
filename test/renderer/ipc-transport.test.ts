import { describe, expect, it } from 'vitest'
import type { Change } from '../../src/shared/contract'
import type { NavigateTarget, PushMessage } from '../../src/shared/ipc'
import { ApiError } from '../../src/shared/contract'
import { createClient } from '../../src/renderer/src/api/client'
import {
  createIpcTransport,
  findBridge,
  type SwitchboardBridge,
} from '../../src/renderer/src/api/ipc-transport'

function fakeBridge(methods: Record<string, (args: unknown) => Promise<unknown>>) {
  const listeners = new Set<(c: PushMessage) => void>()
  let readyCalls = 0
  const bridge = {
    ...methods,
    onChange(cb: (c: PushMessage) => void) {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    ready() {
      readyCalls++
    },
  } as unknown as SwitchboardBridge
  return {
    bridge,
    push: (c: PushMessage) => listeners.forEach((l) => l(c)),
    get listeners() {
      return listeners.size
    },
    get readyCalls() {
      return readyCalls
    },
  }
}

describe('the IPC transport', () => {
  it('calls the bridge method named after the operation with the raw arguments', async () => {
    const calls: unknown[] = []
    const { bridge } = fakeBridge({
      'runs.retry': async (args) => {
        calls.push(args)
        return { id: 'run_1', status: 'queued' }
      },
    })
    const client = createClient(createIpcTransport(bridge))
    await expect(client['runs.retry']({ id: 'run_1', latest: true })).resolves.toEqual({
      id: 'run_1',
      status: 'queued',
    })
    expect(calls).toEqual([{ id: 'run_1', latest: true }])
  })

  it('maps an Electron rejection carrying the error envelope to an ApiError', async () => {
    const envelope = { error: { code: 'not_found', message: 'no run r9', details: { id: 'r9' } } }
    const { bridge } = fakeBridge({
      'runs.get': async () => {
        throw new Error(`Error invoking remote method 'runs.get': Error: ${JSON.stringify(envelope)}`)
      },
      'runs.cancel': async () => {
        throw Object.assign(new Error('conflict!'), { code: 'conflict' })
      },
      // What the preload rejects with: a plain object, since contextBridge strips fields from Errors.
      'runs.retry': async () => {
        throw { code: 'bad_request', message: 'latest: expected boolean', details: { issues: [] } }
      },
      'runs.resolve': async () => {
        throw new Error("Error invoking remote method 'runs.resolve': Error: disk on fire")
      },
    })
    const client = createClient(createIpcTransport(bridge))
    const notFound = await client['runs.get']({ id: 'r9' }).catch((e) => e)
    expect(notFound).toBeInstanceOf(ApiError)
    expect(notFound).toMatchObject({ code: 'not_found', message: 'no run r9', details: { id: 'r9' } })
    await expect(client['runs.cancel']({ id: 'r' })).rejects.toMatchObject({ code: 'conflict' })
    const refused = await client['runs.retry']({ id: 'r' }).catch((e) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect(refused).toMatchObject({
      code: 'bad_request',
      message: 'latest: expected boolean',
      details: { issues: [] },
    })
    await expect(client['runs.resolve']({ id: 'r' })).rejects.toMatchObject({
      code: 'internal',
      message: 'disk on fire',
    })
  })

  it('says which operation the bridge lacks instead of crashing', async () => {
    const { bridge } = fakeBridge({})
    await expect(createClient(createIpcTransport(bridge))['tunnel.get']({})).rejects.toMatchObject({
      code: 'not_found',
    })
  })

  it('forwards changes, reports live, and releases queued changes on ready', () => {
    const fake = fakeBridge({})
    const transport = createIpcTransport(fake.bridge)
    const got: Change[] = []
    const statuses: string[] = []
    const stop = transport.subscribe({ onChange: (c) => got.push(c), onStatus: (s) => statuses.push(s) })
    transport.ready()
    fake.push({ type: 'intake', paused: false })
    expect(got).toEqual([{ type: 'intake', paused: false }])
    expect(statuses).toEqual(['live'])
    expect(fake.readyCalls).toBe(1)
    stop()
    expect(fake.listeners).toBe(0)
  })

  it('finds the bridge only when the preload exposed one', () => {
    expect(findBridge({})).toBeUndefined()
    expect(findBridge({ switchboard: 'nope' })).toBeUndefined()
    const { bridge } = fakeBridge({})
    expect(findBridge({ switchboard: bridge })).toBe(bridge)
  })

  it('turns the shell’s resync and navigate messages into their handlers, not changes', () => {
    const fake = fakeBridge({})
    const got: unknown[] = []
    const targets: NavigateTarget[] = []
    let resyncs = 0
    createIpcTransport(fake.bridge).subscribe({
      onChange: (c) => got.push(c),
      onResync: () => resyncs++,
      onNavigate: (t) => targets.push(t),
    })
    fake.push({ type: 'resync' })
    fake.push({ type: 'navigate', target: { view: 'event', eventId: 'evt_1' } })
    fake.push({ type: 'intake', paused: true })
    expect(resyncs).toBe(1)
    expect(targets).toEqual([{ view: 'event', eventId: 'evt_1' }])
    expect(got).toEqual([{ type: 'intake', paused: true } satisfies Change])
  })
})
