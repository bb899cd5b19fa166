/**
 * A paced, bounded burst of webhooks sent from a child process (burst-sender.ts), so that the sender's work and
 * the test's own event loop (Playwright) neither slow nor pause each other.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { resolve } from 'node:path'
import type { BurstCommand, BurstMessage, BurstPlan, BurstResult } from './burst-sender'

const ROOT = resolve(import.meta.dirname, '../../..')

export type { BurstResult }

export interface Burst {
  /** Resolves once half the requests are written. */
  half: Promise<void>
  /** Resolves with the sender's measurements when every request is answered (or the sender's deadline passed). */
  done: Promise<BurstResult>
  /** End the sender early (a failed test). */
  stop(): void
}

/**
 * Start the sender process, open its sockets and build its requests; resolves when it is ready, and `go()`
 * starts the burst itself, so that setting up is not measured as part of it.
 */
export async function prepareBurst(
  url: string,
  options: Omit<BurstPlan, 'port' | 'path'>,
): Promise<{
  go(): Burst
  stop(): void
}> {
  const target = new URL(url)
  const plan: BurstPlan = { port: Number(target.port), path: target.pathname, ...options }
  if (target.hostname !== '127.0.0.1')
    throw new Error(`a burst goes to 127.0.0.1 only, not ${target.hostname}`)
  const child: ChildProcess = fork(resolve(import.meta.dirname, 'burst-sender.ts'), [JSON.stringify(plan)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  const exited = new Promise<string>((r) => child.once('exit', (code, signal) => r(`${code ?? signal}`)))
  const next = (kind: BurstMessage['kind']) =>
    new Promise<BurstMessage>((resolvePromise, reject) => {
      const onMessage = (message: BurstMessage) => {
        if (message.kind === 'error') reject(new Error(`burst sender: ${message.message}`))
        else if (message.kind === kind) {
          child.off('message', onMessage)
          resolvePromise(message)
        }
      }
      child.on('message', onMessage)
      void exited.then((how) => reject(new Error(`burst sender exited (${how}) before '${kind}'`)))
    })
  await next('ready')
  return {
    stop,
    go() {
      const half = next('half').then(() => undefined)
      const done = next('done').then((m) => (m as Extract<BurstMessage, { kind: 'done' }>).result)
      // Whichever the test does not await must not become an unhandled rejection.
      half.catch(() => undefined)
      done.catch(() => undefined)
      child.send({ kind: 'go' } satisfies BurstCommand)
      return { half, done, stop }
    },
  }
}
