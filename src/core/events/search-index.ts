import Database, { type Statement } from 'better-sqlite3'
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Db } from '../store/database'
import { restrictToOwner } from '../store/database'
import { attachSearchFile, prepareIndexStep, prepareProgressReads } from './search-file.mjs'

/** The full-text index's file in the data folder, beside the store. */
export const INDEX_FILE_NAME = 'search.db'

export interface SearchIndexOptions {
  /** switchboard.db, already migrated. */
  storeFile: string
  /** The index's own file (search.db beside it). */
  indexFile: string
  nativeBinding?: string
  /** Events (and deletions) per indexing transaction. */
  batch?: number
  /** How long the worker lets a burst gather before indexing it, when no search is waiting. */
  settleMs?: number
  /**
   * How long a search waits for the index to cover the events committed before it. Past it (the index is being
   * rebuilt: after an upgrade, or a lost file) the search answers with what is indexed and says how much is not.
   */
  searchWaitMs?: number
  log?: (level: 'info' | 'warn' | 'error', message: string, data?: object) => void
}

interface Progress {
  type: 'progress'
  indexedSeq: number
  forgottenId: number
  idle: boolean
}

interface Failed {
  type: 'failed'
  message: string
}

const SWEEP_MS = 10_000
const BUSY_TIMEOUT_MS = 5000
const STOP_GRACE_MS = 2000
/** A flood leaves the index a few hundred events behind, caught up in tens of milliseconds; a rebuild takes minutes. */
const SEARCH_WAIT_MS = 1500

/**
 * A path inside the packaged app's archive, turned into the same path among the files unpacked beside it
 * (electron-builder.yml `asarUnpack`); any other path as it is. The worker thread is started from real files.
 */
export function outsideAsar(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2')
}

/** The worker module, beside this one in the sources and copied beside the bundle (electron.vite.config.ts). */
const WORKER_FILE = outsideAsar(fileURLToPath(new URL('./search-worker.mjs', import.meta.url)))

/**
 * The full-text index over events, in a file of its own (search.db) written by a worker thread: indexing a
 * 1 KB body costs more than storing it, and merging a large index's segments takes tens of milliseconds, so it
 * stays off the thread that answers webhooks. Searches run on `reader`, a connection on switchboard.db with the
 * index attached; a search first waits until the index covers every event committed before it was asked.
 *
 * The worker reads committed events through its own connection and never writes switchboard.db, so the intake
 * transaction never waits for it. Deleted events reach the index through the search_forget log (a trigger on
 * events); the engine prunes the log behind the worker. A crash loses nothing: the index records how far it got
 * in the same transaction as the rows, and an index that is missing or from another version is rebuilt.
 */
export class SearchIndex {
  /** switchboard.db with the index attached as `search`: for searches (reads only, no transaction). */
  readonly reader: Db
  private worker: Worker | null = null
  private indexedSeq: number
  private forgottenId: number
  private prunedId: number
  private readonly waiting: Array<{ target: number; resolve: () => void }> = []
  private readonly reads: ReturnType<typeof prepareProgressReads>
  private readonly prune: Statement<[number]>
  private step: ReturnType<typeof prepareIndexStep> | null = null
  /** The worker was started (until then, and in set-up, a search indexes on this thread). */
  private started = false
  private stopped = false
  private notifyQueued = false
  /** Nudges the worker now and then, so deletions (retention) reach the index without waiting for a webhook. */
  private sweep: NodeJS.Timeout | null = null
  private readonly batch: number

  constructor(private readonly options: SearchIndexOptions) {
    this.batch = options.batch ?? 1000
    restrictToOwner(options.indexFile)
    this.reader = new Database(
      options.storeFile,
      options.nativeBinding ? { nativeBinding: options.nativeBinding } : {},
    )
    this.reader.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    // Its only write is pruning the deletion log, which a crash may redo.
    this.reader.pragma('main.synchronous = NORMAL')
    this.attach()
    this.reads = prepareProgressReads(this.reader)
    this.prune = this.reader.prepare(`DELETE FROM main.search_forget WHERE id <= ?`)
    ;({ indexedSeq: this.indexedSeq, forgottenId: this.forgottenId } = this.reads.progress())
    this.prunedId = this.forgottenId
  }

  /** Attach the index; one that cannot be read (a damaged file) is derived data: deleted and built again. */
  private attach(): void {
    const { indexFile, log } = this.options
    try {
      attachSearchFile(this.reader, indexFile)
    } catch (error) {
      log?.('warn', 'the search index could not be read; rebuilding it', { error: String(error) })
      try {
        this.reader.exec('DETACH DATABASE search')
      } catch {
        // not attached
      }
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${indexFile}${suffix}`, { force: true })
      restrictToOwner(indexFile)
      attachSearchFile(this.reader, indexFile)
    }
  }

  /** Start the worker; it indexes whatever is pending at once. */
  start(): void {
    if (this.worker || this.stopped) return
    this.started = true
    const worker = new Worker(WORKER_FILE, {
      workerData: {
        storeFile: this.options.storeFile,
        indexFile: this.options.indexFile,
        nativeBinding: this.options.nativeBinding,
        sqliteModule: outsideAsar(createRequire(import.meta.url).resolve('better-sqlite3')),
        batch: this.batch,
        settleMs: this.options.settleMs ?? 25,
      },
    })
    worker.on('message', (message: Progress | Failed) => this.received(message))
    worker.on('error', (error) =>
      this.options.log?.('error', 'search indexer stopped', { error: String(error) }),
    )
    worker.on('exit', () => {
      if (this.worker !== worker) return
      this.worker = null
      // Not asked to stop: start again, so searches are not left waiting.
      if (!this.stopped) setTimeout(() => this.start(), 1000).unref()
    })
    this.worker = worker
    worker.postMessage({ type: 'work', now: true })
    this.sweep ??= setInterval(() => this.notify(), SWEEP_MS).unref()
  }

  /** Events were committed: the worker indexes them after a short settle. One message a turn, however many. */
  notify(): void {
    if (this.notifyQueued) return
    this.notifyQueued = true
    queueMicrotask(() => {
      this.notifyQueued = false
      this.worker?.postMessage({ type: 'work' })
    })
  }

  /**
   * Resolves once every event committed before the call is in the index, with 0; or, when that takes longer
   * than `searchWaitMs`, with how many of those events at most are not in it yet (a search then misses their
   * matches). At most: the count is of seqs, and deleted events leave gaps (counting rows would read them all).
   */
  async catchUp(): Promise<number> {
    const target = this.reads.last()
    if (this.indexedSeq >= target) return 0
    if (!this.started) {
      this.indexAll()
      return 0
    }
    // A worker that is restarting after a crash indexes at once when it is back.
    this.worker?.postMessage({ type: 'work', now: true })
    const waiter = { target, resolve: () => {} }
    const caughtUp = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.options.searchWaitMs ?? SEARCH_WAIT_MS)
      waiter.resolve = () => {
        clearTimeout(timer)
        resolve(true)
      }
      this.waiting.push(waiter)
    })
    if (caughtUp) return 0
    const at = this.waiting.indexOf(waiter)
    if (at >= 0) this.waiting.splice(at, 1)
    return Math.max(0, target - this.indexedSeq)
  }

  /** Bring the index up to date on this thread, in one go: set-up and tests, when no worker runs. */
  indexAll(): number {
    if (this.worker) throw new Error('the search worker is running')
    this.step ??= prepareIndexStep(this.reader)
    let total = 0
    for (let idle = false; !idle;) {
      const result = this.step(this.batch)
      total += result.indexed
      idle = result.idle
    }
    this.refresh()
    return total
  }

  /** Events committed that the index has not reached yet (by seq: at most this many). */
  backlog(): number {
    return Math.max(0, this.reads.last() - this.indexedSeq)
  }

  /** How far the index has come (the newest event seq it covers). */
  indexedUpTo(): number {
    return this.indexedSeq
  }

  /**
   * Stop the worker (it finishes the step in progress and closes its connection; one that does not within
   * STOP_GRACE_MS is terminated, and its step rolls back) and close the reader.
   */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.sweep) clearInterval(this.sweep)
    const worker = this.worker
    this.worker = null
    if (worker) {
      const exited = new Promise((resolve) => worker.once('exit', resolve))
      worker.postMessage({ type: 'stop' })
      const grace = setTimeout(() => void worker.terminate(), STOP_GRACE_MS)
      await exited
      clearTimeout(grace)
    }
    for (const w of this.waiting.splice(0)) w.resolve()
    this.reader.close()
  }

  private refresh(): void {
    this.received({ type: 'progress', ...this.reads.progress(), idle: true })
  }

  private received(message: Progress | Failed): void {
    if (message.type === 'failed') {
      this.options.log?.('warn', 'search indexing failed; trying again', { error: message.message })
      // A search waiting on the index must not wait for the next webhook to retry.
      if (this.waiting.length > 0)
        setTimeout(() => this.worker?.postMessage({ type: 'work', now: true }), 1000)
      return
    }
    this.indexedSeq = message.indexedSeq
    this.forgottenId = message.forgottenId
    if (message.idle) this.pruneForgotten()
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!
      if (w.target <= this.indexedSeq || (message.idle && this.caughtUpTo(w.target))) {
        this.waiting.splice(i, 1)
        w.resolve()
      }
    }
  }

  /** Whether nothing up to `target` is left to index (the newest events may have been deleted meanwhile). */
  private caughtUpTo(target: number): boolean {
    return this.indexedSeq >= Math.min(target, this.reads.last())
  }

  /**
   * Once the worker is idle, drop the deletions it has applied from the log. The one write `reader` makes, and it
   * never waits: when switchboard.db's write lock is taken (a caller's open transaction) it is skipped, and the
   * next idle report tries again. The worker never writes switchboard.db.
   */
  private pruneForgotten(): void {
    if (this.forgottenId <= this.prunedId) return
    this.reader.pragma('busy_timeout = 0')
    try {
      this.prune.run(this.forgottenId)
      this.prunedId = this.forgottenId
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') {
        this.options.log?.('warn', "could not prune the search index's deletion log", {
          error: String(error),
        })
      }
    } finally {
      this.reader.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    }
  }
}
