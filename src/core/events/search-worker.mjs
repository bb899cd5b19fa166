// @ts-check
/**
 * The search indexer's thread: keeps search.db up with the events committed to switchboard.db, so indexing
 * (which costs more than storing a 1 KB body, and whose segment merges take tens of milliseconds on a large
 * index) never runs on the thread that answers webhooks.
 *
 * Messages in: `{ type: 'work', now?: boolean }` when events were committed or deleted (`now`: a search is
 * waiting); `{ type: 'stop' }` to finish the step in progress, close the connection and exit. Messages out:
 * `{ type: 'progress', indexedSeq, forgottenId, idle }` after each step, `idle` once nothing is left;
 * `{ type: 'failed', message }` when a step failed (the engine retries on its next nudge).
 */
import { createRequire } from 'node:module'
import { parentPort, workerData } from 'node:worker_threads'
import { attachSearchFile, prepareIndexStep } from './search-file.mjs'

/** @type {{ storeFile: string, indexFile: string, nativeBinding?: string, sqliteModule: string, batch: number, settleMs: number }} */
const options = workerData
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort)

/** better-sqlite3 as the engine resolved it, so the worker loads the same copy (and native build) it does. */
const Database = /** @type {typeof import('better-sqlite3')} */ (
  createRequire(import.meta.url)(options.sqliteModule)
)
const db = new Database(
  options.storeFile,
  options.nativeBinding ? { nativeBinding: options.nativeBinding } : {},
)
db.pragma('busy_timeout = 5000')
attachSearchFile(db, options.indexFile)
const step = prepareIndexStep(db)

/** @type {NodeJS.Timeout | null} */
let settle = null
let running = false
let stopping = false

function exit() {
  db.close()
  port.close()
}

/** Index until nothing is left, a step at a time, giving the thread's event loop a turn between steps. */
async function run() {
  settle = null
  if (running) return
  running = true
  try {
    while (!stopping) {
      const result = step(options.batch)
      const { idle } = result
      port.postMessage({
        type: 'progress',
        indexedSeq: result.indexedSeq,
        forgottenId: result.forgottenId,
        idle,
      })
      if (idle) break
      await new Promise((resolve) => setImmediate(resolve))
    }
  } catch (error) {
    port.postMessage({ type: 'failed', message: String(error) })
  } finally {
    running = false
    if (stopping) exit()
  }
}

port.on('message', (/** @type {{ type: string, now?: boolean }} */ message) => {
  if (message.type === 'stop') {
    stopping = true
    if (settle) clearTimeout(settle)
    if (!running) exit()
    return
  }
  if (message.type !== 'work' || stopping) return
  // Events arrive in bursts: waiting a moment indexes them in one transaction (fewer, larger segments to merge)
  // instead of one each. A search does not wait.
  if (message.now) {
    if (settle) clearTimeout(settle)
    void run()
  } else if (!settle && !running) settle = setTimeout(run, options.settleMs)
})
