import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LoadRequest } from '../test/support/load'
import { procCpuMs } from './child-server'

const REPLAY = fileURLToPath(new URL('./wrk-replay.lua', import.meta.url))

/**
 * wrk (a C load generator; Debian package `wrk`) when it is installed, else null. The ingest bench prefers it:
 * on two cores the node:http load generator saturates before a bare node:http server does, which bounds
 * every server it measures at the same ceiling.
 */
export function findWrk(): string | null {
  const wrk = process.env.WRK ?? 'wrk'
  const probe = spawnSync(wrk, ['--version'], { encoding: 'utf8' })
  return probe.error ? null : wrk
}

export interface WrkOptions {
  wrk: string
  url: string
  path: string
  connections: number
  durationMs: number
  /** Built once per request, in order; each is sent once (enough must be built for the whole run). */
  build(i: number): LoadRequest
  count: number
  /** Where to write the raw requests file. */
  file: string
}

export interface WrkResult {
  okPerSecond: number
  p50: number
  p99: number
  max: number
  non2xx: number
  errors: number
  durationMs: number
  /** The run needed more requests than were built, so some were sent twice. */
  exhausted: boolean
  /** CPU the load generator used per wall-clock ms (1 = one core). */
  cpu: number
}

/** Serialize requests as raw HTTP/1.1, NUL-separated, for wrk-replay.lua. */
function writeRequests(options: WrkOptions): void {
  const host = new URL(options.url).host
  const parts: Buffer[] = []
  for (let i = 0; i < options.count; i++) {
    const r = options.build(i)
    const body = Buffer.from(r.body ?? '')
    const headers = Object.entries(r.headers ?? {})
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')
    parts.push(
      Buffer.from(
        `${r.method ?? 'POST'} ${options.path} HTTP/1.1\r\nhost: ${host}\r\n${headers}content-length: ${body.length}\r\n\r\n`,
      ),
      body,
      Buffer.from([0]),
    )
  }
  writeFileSync(options.file, Buffer.concat(parts))
}

/** One closed-loop wrk run (one thread, `connections` keep-alive connections) replaying built requests. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  writeRequests(options)
  const seconds = Math.max(1, Math.round(options.durationMs / 1000))
  const child = spawn(
    options.wrk,
    [
      '-t1',
      `-c${options.connections}`,
      `-d${seconds}s`,
      '--timeout',
      '10s',
      '-s',
      REPLAY,
      options.url,
      '--',
      options.file,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  let cpuMs = 0
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)))
  // Sample the generator's CPU until it exits (its /proc entry goes with it).
  const sampler = setInterval(() => {
    const now = procCpuMs(child.pid!)
    if (Number.isFinite(now)) cpuMs = now
  }, 100)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearInterval(sampler)
  const line = /^WRK (\{.*\})$/m.exec(stdout)
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr || stdout}`)
  const r = JSON.parse(line[1]!) as {
    requests: number
    durationUs: number
    status: number
    connect: number
    read: number
    write: number
    timeout: number
    p50Us: number
    p99Us: number
    maxUs: number
  }
  const durationMs = r.durationUs / 1000
  return {
    okPerSecond: (r.requests - r.status) / (durationMs / 1000),
    p50: r.p50Us / 1000,
    p99: r.p99Us / 1000,
    max: r.maxUs / 1000,
    non2xx: r.status,
    errors: r.connect + r.read + r.write + r.timeout,
    durationMs,
    exhausted: r.requests > options.count,
    cpu: cpuMs / durationMs,
  }
}
