import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CLI = fileURLToPath(new URL('../../src/server/cli.ts', import.meta.url))

/** The headless server (`src/server/cli.ts`) running as a child process, as `npm run serve` starts it. */
export interface HeadlessProcess {
  child: ChildProcess
  pid: number
  receiverUrl: string
  apiUrl: string
  token: string
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Everything it wrote to stderr so far. */
  stderr(): string
  /** SIGKILL: no shutdown code runs. Resolves once the process is gone. */
  kill9(): Promise<void>
  /** SIGTERM: graceful stop. Resolves once the process is gone. */
  stop(): Promise<void>
  /** Resident set size in bytes, from /proc/<pid>/status (VmRSS). */
  rss(): number
  /** A control API call with the bearer token; answers status and parsed JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>
}

export interface SpawnOptions {
  dataDir: string
  port?: number
  apiPort?: number
  /** Extra node flags (e.g. `--cpu-prof`). */
  nodeArgs?: string[]
  env?: NodeJS.ProcessEnv
  /** Give up waiting for the three start-up lines after this long. */
  startTimeoutMs?: number
}

/**
 * Start `src/server/cli.ts --data-dir D --port 0 --api-port 0 --no-tunnel` with node + tsx directly (not npx,
 * so that the pid is the server itself and kill -9 hits it), and parse its three start-up lines.
 */
export function spawnHeadless(options: SpawnOptions): Promise<HeadlessProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      CLI,
      '--data-dir',
      options.dataDir,
      '--port',
      String(options.port ?? 0),
      '--api-port',
      String(options.apiPort ?? 0),
      '--no-tunnel',
    ],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    stderr += c
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`headless server did not start in time; stdout: ${stdout}; stderr: ${stderr}`))
    }, options.startTimeoutMs ?? 30_000)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`headless server exited (${code ?? signal}) before start-up; stderr: ${stderr}`))
    })
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
      const receiver = /^Switchboard receiver: (\S+)$/m.exec(stdout)
      const api = /^Switchboard control API: (\S+)$/m.exec(stdout)
      const open = /^Open: \S+\/login\?token=(\S+)$/m.exec(stdout)
      if (!receiver || !api || !open) return
      clearTimeout(timer)
      const token = decodeURIComponent(open[1]!)
      const apiUrl = api[1]!
      const gone = async (signal: NodeJS.Signals) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
        await exited
      }
      resolve({
        child,
        pid: child.pid!,
        receiverUrl: receiver[1]!,
        apiUrl,
        token,
        exited,
        stderr: () => stderr,
        kill9: () => gone('SIGKILL'),
        stop: () => gone('SIGTERM'),
        rss: () => {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
          const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
          return kb ? Number(kb[1]) * 1024 : Number.NaN
        },
        api: async (method, path, body) => {
          const res = await fetch(apiUrl + path, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          })
          const text = await res.text()
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = text
          }
          return { status: res.status, json }
        },
      })
    })
  })
}
