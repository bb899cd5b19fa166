import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ControlApi } from '../../src/server/control-api'
import { OPERATION_NAMES, operations, type OperationName } from '../../src/shared/contract'
import { channelFor } from '../../src/shared/ipc'
import { registerIpcBridge } from '../../src/main/ipc-bridge'
import { http } from '../support/http'
import { startTestEngine, type TestEngine } from '../support/engine'
import { FakeIpcMain } from './fake-electron'

const TOKEN = 'conformance-token-0123456789'
const trusted = { frame: { url: 'app://switchboard/index.html', isMainFrame: true, webContentsId: 1 } }

let engine: TestEngine
let api: ControlApi
let base: string
const ipcMain = new FakeIpcMain()

beforeAll(async () => {
  engine = await startTestEngine()
  api = new ControlApi({ engine: engine.engine, token: TOKEN, rendererDir: null })
  const address = await api.listen(0)
  base = `http://127.0.0.1:${address.port}`
  registerIpcBridge({
    ipcMain,
    engine: engine.engine,
    isTrusted: () => true,
    onReady: () => {},
    onAcknowledge: () => {},
  })
})
afterAll(async () => {
  await api.close()
  await engine.close()
})

/** Call an operation over the control API the way a script would: path params, query for GET/DELETE, JSON body otherwise. */
async function overHttp(
  name: OperationName,
  input: Record<string, unknown>,
): Promise<{ status: number; json: unknown }> {
  const spec = operations[name]
  const rest = { ...input }
  const path = spec.path.replace(/:(\w+)/g, (_, param: string) => {
    const value = String(rest[param])
    delete rest[param]
    return encodeURIComponent(value)
  })
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }
  if (spec.method === 'GET' || spec.method === 'DELETE') {
    const query = new URLSearchParams(
      Object.entries(rest).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString()
    return http(`${base}${path}${query ? `?${query}` : ''}`, { method: spec.method, headers })
  }
  headers['content-type'] = 'application/json'
  return http(`${base}${path}`, { method: spec.method, headers, body: JSON.stringify(rest) })
}

async function overIpc(name: OperationName, input: unknown): Promise<unknown> {
  return ipcMain.invoke(channelFor(name), trusted, input)
}

/** A bad argument for each operation: an id/name that breaks its pattern where the route has one, else an unknown field. */
function badInput(name: OperationName): Record<string, unknown> {
  const params = [...operations[name].path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
  if (params.length === 0) return { unexpected: 'field' }
  return Object.fromEntries(params.map((p) => [p, p === 'name' ? '9-not-an-identifier' : '-not-an-id']))
}

describe('IPC bridge and control API conformance', () => {
  it('both handle every contract operation', async () => {
    expect([...ipcMain.handlers.keys()].sort()).toEqual(OPERATION_NAMES.map(channelFor).sort())
    for (const name of OPERATION_NAMES) {
      const res = await overHttp(name, badInput(name))
      const error = (res.json as { error?: { message?: string } } | undefined)?.error
      expect(error?.message ?? '', `${name} has a control API route`).not.toMatch(/^no route /)
      expect(res.status, name).not.toBe(405)
    }
  })

  it.each(OPERATION_NAMES)('%s refuses a bad argument the same way on both', async (name) => {
    const input = badInput(name)
    const viaHttp = await overHttp(name, input)
    const viaIpc = await overIpc(name, input)
    expect(viaHttp.status, JSON.stringify(viaHttp.json)).toBeGreaterThanOrEqual(400)
    expect(viaIpc).toEqual(viaHttp.json)
  })

  it.each([
    ['intake.set', { paused: 'yes' }],
    ['sources.create', { name: '', provider: 'carrier-pigeon' }],
    ['sources.create', { name: 'x', provider: 'none', maxBodyBytes: -1 }],
    ['events.list', { status: 'weird' }],
    ['runs.list', { limit: '0' }],
    ['runs.retryBulk', { ids: [] }],
    ['secrets.put', { name: '9x', value: 'v' }],
    ['tunnel.configure', { mode: 'carrier-pigeon' }],
    ['workflows.setEnabled', { id: 'wf', enabled: 'sometimes' }],
  ] as const)('%s %j is refused with the same code, message and details on both', async (name, input) => {
    const viaHttp = await overHttp(name, input)
    const viaIpc = await overIpc(name, input)
    expect(viaHttp.status).toBe(400)
    expect(viaIpc).toEqual(viaHttp.json)
    expect(viaIpc).toMatchObject({ error: { code: 'bad_request', details: { issues: expect.any(Array) } } })
  })

  it('a good argument gives the same result on both', async () => {
    const viaIpc = (await overIpc('sources.create', { id: 'same', name: 'Same', provider: 'none' })) as {
      result: unknown
    }
    const viaHttp = await overHttp('sources.get', { id: 'same' })
    expect(viaHttp.status).toBe(200)
    expect(viaIpc.result).toEqual(viaHttp.json)
    expect(await overIpc('sources.list', {})).toEqual({ result: (await overHttp('sources.list', {})).json })
  })
})
