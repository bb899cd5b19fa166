/**
 * The real headless server as a child process (`tsx src/server/cli.ts`) on free loopback ports with a fresh
 * data folder, as a user would run it; its three start-up lines are parsed for the URLs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'
import type { OperationArgs, OperationName, OperationResult } from '../../../src/shared/contract'
import { operations } from '../../../src/shared/contract'

const ROOT = resolve(import.meta.dirname, '../../..')

export interface RunningServer {
  receiverUrl: string
  apiUrl: string
  loginUrl: string
  token: string
  /** Call an operation over the control API with the bearer token (test set-up and checks). */
  call<K extends OperationName>(name: K, args: OperationArgs<K>): Promise<OperationResult<K>>
  stop(): Promise<void>
  output(): string
}

export async function startServer(dataDir: string, extraArgs: string[] = []): Promise<RunningServer> {
  // The token is generated into the fresh data folder, not taken from whoever runs the tests.
  const env = { ...process.env }
  delete env.SWITCHBOARD_API_TOKEN
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules/.bin/tsx'),
    [
      'src/server/cli.ts',
      '--data-dir',
      dataDir,
      '--port',
      '0',
      '--api-port',
      '0',
      '--no-tunnel',
      ...extraArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))

  const lines = await new Promise<Record<string, string>>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${output}`)), 60_000)
    const check = () => {
      const receiver = /Switchboard receiver: (\S+)/.exec(output)?.[1]
      const api = /Switchboard control API: (\S+)/.exec(output)?.[1]
      const open = /Open: (\S+)/.exec(output)?.[1]
      if (receiver && api && open) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        resolvePromise({ receiver, api, open })
      }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}) before starting:\n${output}`))
    })
  })
  const token = new URL(lines.open!).searchParams.get('token')!

  async function call<K extends OperationName>(name: K, args: OperationArgs<K>): Promise<OperationResult<K>> {
    const spec = operations[name]
    const rest: Record<string, unknown> = { ...(args as Record<string, unknown>) }
    const path = spec.path.replace(/:([A-Za-z_]+)/g, (_m, p: string) => {
      const v = rest[p]
      delete rest[p]
      return encodeURIComponent(String(v))
    })
    const query = spec.method === 'GET' || spec.method === 'DELETE'
    const qs = query ? new URLSearchParams(rest as Record<string, string>).toString() : ''
    const response = await fetch(`${lines.api}${path}${qs ? `?${qs}` : ''}`, {
      method: spec.method,
      headers: { authorization: `Bearer ${token}`, ...(query ? {} : { 'content-type': 'application/json' }) },
      body: query ? undefined : JSON.stringify(rest),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${name} → ${response.status}: ${text}`)
    return JSON.parse(text) as OperationResult<K>
  }

  return {
    receiverUrl: lines.receiver!,
    apiUrl: lines.api!,
    loginUrl: lines.open!,
    token,
    call,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
