/**
 * The sender side of a live burst, run as its own process by `startBurst` (burst.ts) so that neither its work
 * nor the test's (Playwright) delays the other. Every request is built into bytes before the burst starts and
 * written, paced by a timer, over a fixed pool of raw keep-alive sockets on 127.0.0.1, one request in flight per
 * socket as a provider's delivery workers would. Responses are parsed just enough to count the status codes.
 * The burst is bounded (a given number of requests) and the process exits by itself when the last answer is in,
 * when a deadline passes, or when the test process goes away.
 */
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

/** What the parent passes as the one command-line argument (JSON). */
export interface BurstPlan {
  port: number
  path: string
  /** Requests a second the timer paces to. */
  rate: number
  count: number
  sockets: number
}

/** Parent → child and child → parent messages over the fork's IPC channel. */
export type BurstCommand = { kind: 'go' }
export type BurstMessage =
  | { kind: 'ready' }
  | { kind: 'half' }
  | { kind: 'done'; result: BurstResult }
  | { kind: 'error'; message: string }

/** What the burst achieved, measured by the sender. */
export interface BurstResult {
  events: number
  /** Requests written (less than `events` only when the deadline cut the burst short). */
  sent: number
  /** Answered 200. */
  accepted: number
  /** Up to 20 descriptions of other answers or socket errors. */
  failures: string[]
  /** From the first request written to the last answer read. */
  seconds: number
  /** `accepted / seconds`: the rate the server really took the burst at. */
  achievedPerSecond: number
  /** Answers read in each whole second after the first request (the last, partial second left out). */
  answeredEachSecond: number[]
  /** The most requests that were due by the schedule but not yet written (waiting for a free socket). */
  maxBehind: number
  latencyP50Ms: number
  latencyP99Ms: number
}

const plan = JSON.parse(process.argv[2] ?? 'null') as BurstPlan | null
if (!plan || !process.send) throw new Error('burst-sender runs as a forked child of startBurst (burst.ts)')
const send = (message: BurstMessage) => process.send!(message)
// The test process went away (finished or failed): nobody wants the rest.
process.on('disconnect', () => process.exit(0))

/** The whole HTTP/1.1 request, bytes ready to write. */
function requestBytes(n: number): Buffer {
  const body = JSON.stringify({ type: 'burst', n })
  return Buffer.from(
    `POST ${plan!.path} HTTP/1.1\r\nHost: 127.0.0.1:${plan!.port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    'latin1',
  )
}

interface Worker {
  socket: Socket
  /** The request in flight on this socket, or -1. */
  current: number
  pending: Buffer
}

const requests = Array.from({ length: plan.count }, (_, n) => requestBytes(n))
const sentAt = new Float64Array(plan.count)
const answeredAt = new Float64Array(plan.count)
const failures: string[] = []
const free: Worker[] = []
const waiting: number[] = []
let failed = 0
let accepted = 0
let answered = 0
let sent = 0
let due = 0
let maxBehind = 0
let startedAt = 0
let halfSent = false
let finished = false

function fail(what: string): void {
  failed++
  if (failures.length < 20) failures.push(what)
}

function write(worker: Worker, n: number): void {
  worker.current = n
  sentAt[n] = performance.now()
  sent++
  worker.socket.write(requests[n]!)
  if (!halfSent && sent >= plan!.count / 2) {
    halfSent = true
    send({ kind: 'half' })
  }
}

function release(worker: Worker): void {
  worker.current = -1
  const next = waiting.shift()
  if (next === undefined) free.push(worker)
  else write(worker, next)
}

/** Read whole responses off the socket's buffer; each frees the socket for the next request. */
function onData(worker: Worker, chunk: Buffer): void {
  worker.pending = worker.pending.length ? Buffer.concat([worker.pending, chunk]) : chunk
  for (;;) {
    const headEnd = worker.pending.indexOf('\r\n\r\n')
    if (headEnd < 0) return
    const head = worker.pending.subarray(0, headEnd).toString('latin1')
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    if (worker.pending.length < headEnd + 4 + length) return
    worker.pending = worker.pending.subarray(headEnd + 4 + length)
    const status = Number(head.slice(9, 12))
    const n = worker.current
    if (n < 0) {
      fail(`an answer nobody asked for: ${head.split('\r\n')[0]}`)
      continue
    }
    answeredAt[n] = performance.now()
    answered++
    if (status === 200) accepted++
    else fail(`request ${n}: HTTP ${status}`)
    release(worker)
    if (answered + failed >= plan!.count) finish()
  }
}

function open(): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: plan!.port, noDelay: true })
    const worker: Worker = { socket, current: -1, pending: Buffer.alloc(0) }
    socket.once('connect', () => resolve(worker))
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => onData(worker, chunk))
    socket.on('error', (error) => fail(error.message))
    socket.on('close', () => {
      if (finished) return
      const index = free.indexOf(worker)
      if (index >= 0) free.splice(index, 1)
      if (worker.current >= 0) {
        fail(`request ${worker.current}: connection closed before the answer`)
        worker.current = -1
        if (answered + failed >= plan!.count) finish()
      }
    })
  })
}

function quantile(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 10) / 10
}

function finish(): void {
  if (finished) return
  finished = true
  const last = answered ? Math.max(...answeredAt.filter((t) => t > 0)) : startedAt
  const seconds = Math.max(0.001, (last - startedAt) / 1000)
  const eachSecond: number[] = Array.from({ length: Math.floor(seconds) }, () => 0)
  const latencies: number[] = []
  for (let n = 0; n < plan!.count; n++) {
    if (!answeredAt[n]) continue
    latencies.push(answeredAt[n]! - sentAt[n]!)
    const second = Math.floor((answeredAt[n]! - startedAt) / 1000)
    if (second < eachSecond.length) eachSecond[second]!++
  }
  latencies.sort((a, b) => a - b)
  const done: BurstMessage = {
    kind: 'done',
    result: {
      events: plan!.count,
      sent,
      accepted,
      failures,
      seconds: Math.round(seconds * 1000) / 1000,
      achievedPerSecond: Math.round(accepted / seconds),
      answeredEachSecond: eachSecond,
      maxBehind,
      latencyP50Ms: quantile(latencies, 0.5),
      latencyP99Ms: quantile(latencies, 0.99),
    },
  }
  // Exit once the message is on its way; the sockets go with the process.
  process.send!(done, () => process.exit(0))
}

/** Every 2 ms, queue whatever the schedule says is due by now and write it on the free sockets. */
function tick(): void {
  if (finished) return
  const target = Math.min(plan!.count, Math.floor(((performance.now() - startedAt) / 1000) * plan!.rate))
  while (due < target) waiting.push(due++)
  while (waiting.length && free.length) write(free.pop()!, waiting.shift()!)
  maxBehind = Math.max(maxBehind, waiting.length)
  if (due < plan!.count) setTimeout(tick, 2)
}

async function main(): Promise<void> {
  free.push(...(await Promise.all(Array.from({ length: plan!.sockets }, open))))
  process.once('message', (command: BurstCommand) => {
    if (command.kind !== 'go') return
    startedAt = performance.now()
    // However the server fares, the burst is over well after it should have been.
    setTimeout(finish, (plan!.count / plan!.rate) * 1000 + 30_000).unref()
    tick()
  })
  send({ kind: 'ready' })
}

main().catch((error: unknown) => {
  send({ kind: 'error', message: (error as Error).message })
  process.exit(1)
})
