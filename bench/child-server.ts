import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A bench server running as a child process (node + tsx), ready once it printed its `READY …` line. */
export interface ChildServer {
  child: ChildProcess
  /** The words after READY. */
  ready: string[]
  stop(): Promise<void>
  /** CPU time (user + system) the child used so far, ms, from /proc/<pid>/stat. */
  cpuMs(): number
}

/** Start `node [nodeArgs] --import tsx <script> ...args` (with `env` added) and wait for its READY line. */
export function startChildServer(
  script: string,
  args: string[],
  nodeArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    let stdout = ''
    void exited.then(() => reject(new Error(`${script} ${args[0] ?? ''} exited before READY: ${stderr}`)))
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
      const line = /^READY (.*)$/m.exec(stdout)
      if (!line) return
      resolve({
        child,
        ready: line[1]!.trim().split(/\s+/),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
          const forced = setTimeout(() => child.kill('SIGKILL'), 15_000)
          await exited
          clearTimeout(forced)
        },
        cpuMs: () => procCpuMs(child.pid!),
      })
    })
  })
}

/** utime + stime of a process in ms (Linux /proc; clock ticks assumed 100 Hz, as on every Linux build). */
export function procCpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}
