/**
 * The UI's state, assembled: one client, the stores, and the wiring that feeds every store from the change
 * stream outside React, one batch per animation frame.
 */
import type { ApiClient, Change } from '../../../shared/contract'
import { ApiError } from '../../../shared/contract'
import { describeError } from '../api/api-errors'
import type { Transport } from '../api/client'
import { createClient } from '../api/client'
import { createCatalogStore } from './catalog-store'
import { createDeadLettersStore } from './dead-letters-store'
import { createFeedStore } from './feed-store'
import type { FrameScheduler } from './frame-batcher'
import { animationFrameScheduler, createFrameBatcher } from './frame-batcher'
import { createHistoryStore } from './history-store'
import { createInspectorStore } from './inspector-store'
import { createRouter } from './router'
import { createSystemStore } from './system-store'

export interface AppStateOptions {
  schedule?: FrameScheduler
  /** The window whose hash holds the route (null in tests that do not care). */
  window?: Window | null
}

export type AppState = ReturnType<typeof createAppState>

/** Wrap a transport so an `unauthorized` answer marks the session signed out (the UI then says how to sign in). */
function watchAuth(transport: Transport, onUnauthorized: () => void): Transport {
  return {
    kind: transport.kind,
    subscribe: (handlers) => transport.subscribe(handlers),
    ready: () => transport.ready(),
    async call(name, args) {
      try {
        return await transport.call(name, args)
      } catch (error) {
        if (error instanceof ApiError && error.code === 'unauthorized') onUnauthorized()
        throw error
      }
    },
  }
}

export function createAppState(transport: Transport, options: AppStateOptions = {}) {
  let markSignedOut = () => {}
  const guarded = watchAuth(transport, () => markSignedOut())
  const client: ApiClient = createClient(guarded)
  const feed = createFeedStore(client)
  const dead = createDeadLettersStore(client)
  const catalog = createCatalogStore(client)
  const system = createSystemStore(client)
  const inspector = createInspectorStore(client)
  const history = createHistoryStore(client)
  const router = createRouter(options.window === undefined ? (globalThis.window ?? null) : options.window)
  markSignedOut = () => system.markSignedOut()

  const batcher = createFrameBatcher<Change>((changes) => {
    feed.applyChanges(changes)
    inspector.applyChanges(changes)
    dead.applyChanges(changes)
    catalog.applyChanges(changes)
    system.applyChanges(changes)
    history.applyChanges(changes)
  }, options.schedule ?? animationFrameScheduler)

  /** Subscribe to changes and load the first screens; returns the function that stops it all. */
  function start(): () => void {
    const stopRouter = router.listen()
    const unsubscribe = guarded.subscribe({
      onChange: (change) => batcher.push(change),
      onStatus: (status) => system.setStream(status),
      onNavigate: (target) => {
        if (target.view === 'event') router.go({ view: 'activity', id: target.eventId })
        else if (target.view === 'failures') router.go({ view: 'dead', id: null })
        else if (target.view === 'alerts') router.go({ view: 'activity', id: null })
        else if (target.view === 'run') {
          client['runs.get']({ id: target.runId }).then(
            (run) => router.go({ view: 'activity', id: run.eventId }),
            (error) => system.report('error', `Could not open run ${target.runId}: ${describeError(error)}`),
          )
        }
      },
      onResync: () => {
        // Changes may have been missed while the stream was down: reload what is on screen.
        void feed.load()
        void feed.loadRuns()
        void catalog.load()
        void system.load()
        void dead.load()
        void inspector.reload()
        if (history.store.getState().phase !== 'idle') void history.load()
      },
    })
    guarded.ready()
    void feed.load()
    void feed.loadRuns()
    void catalog.load()
    void system.load()
    return () => {
      unsubscribe()
      stopRouter()
      batcher.cancel()
    }
  }

  return {
    client,
    transport: guarded,
    feed,
    dead,
    catalog,
    system,
    inspector,
    history,
    router,
    batcher,
    start,
  }
}
