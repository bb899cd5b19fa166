import { join } from 'node:path'
import type { Change } from '../../../src/shared/contract'
import type { EventStatus, RunStatus, RunSummary } from '../../../src/shared/domain'
import { ChangeBus } from '../../../src/core/changes'
import { FakeClock } from '../../../src/core/clock'
import { DedupIndex } from '../../../src/core/events/dedup-index'
import { SearchIndex } from '../../../src/core/events/search-index'
import { EventStore, type NewEvent } from '../../../src/core/events/event-store'
import { newId } from '../../../src/core/ids'
import { createMonitor, type Monitor, type MonitorDeps } from '../../../src/core/monitor'
import { KeyFileCipher } from '../../../src/core/secrets/cipher'
import { SourceStore } from '../../../src/core/sources/source-store'
import { openDatabase, type Db } from '../../../src/core/store/database'
import { Settings } from '../../../src/core/store/settings'
import { tempDir } from '../../support/temp-dir'

/** A real database file in a temp folder with the stores the monitor reads, a fake clock and a change log. */
export interface MonitorFixture {
  db: Db
  dir: string
  clock: FakeClock
  changes: ChangeBus
  emitted: Change[]
  events: EventStore
  /** The full-text index, brought up to date on this thread after each addEvent (no worker). */
  searchIndex: SearchIndex
  dedup: DedupIndex
  sources: SourceStore
  cipher: KeyFileCipher
  monitor: Monitor
  deadLetters: { count: number }
  addSource(id: string, name?: string): void
  addEvent(sourceId: string, fields?: Partial<NewEvent>): NewEvent
  run(eventId: string, status: RunStatus, id?: string): RunSummary
  close(): void
}

export function monitorFixture(overrides: Partial<MonitorDeps> = {}): MonitorFixture {
  const dir = tempDir('switchboard-monitor-')
  const db = openDatabase({ file: join(dir.path, 'switchboard.db') })
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0))
  const changes = new ChangeBus()
  const emitted: Change[] = []
  changes.subscribe((c) => emitted.push(c))
  const dedup = DedupIndex.load(db)
  const events = new EventStore(db, dedup)
  const searchIndex = new SearchIndex({
    storeFile: join(dir.path, 'switchboard.db'),
    indexFile: join(dir.path, 'search.db'),
  })
  events.useSearchIndex(searchIndex.reader)
  const cipher = new KeyFileCipher(join(dir.path, 'secret.key'))
  const sources = new SourceStore(db, cipher, clock, changes, {
    receiverBase: () => 'http://127.0.0.1:1',
    publicBase: () => null,
  })
  const deadLetters = { count: 0 }
  const monitor = createMonitor({
    db,
    clock,
    changes,
    settings: new Settings(db),
    queueDepth: () => 0,
    deadLettersOpen: () => deadLetters.count,
    dataDir: dir.path,
    cipher,
    onDedupKeysDeleted: (deleted) => dedup.release(deleted),
    ...overrides,
  })
  return {
    db,
    dir: dir.path,
    clock,
    changes,
    emitted,
    events,
    searchIndex,
    dedup,
    sources,
    cipher,
    monitor,
    deadLetters,
    addSource(id, name = id) {
      sources.create({ id, name, provider: 'none' })
    },
    addEvent(sourceId, fields = {}) {
      const event = sampleEvent(sourceId, clock.now(), fields)
      db.transaction(() => events.insert(event)).immediate()
      events.settle(true)
      searchIndex.indexAll()
      return event
    },
    run(eventId, status, id = newId('run', clock.now())) {
      const now = clock.now()
      const run: RunSummary = {
        id,
        eventId,
        workflowId: 'wf',
        workflowVersion: 1,
        workflowName: 'wf',
        status,
        currentStep: null,
        error: null,
        resolvedAt: null,
        createdAt: now,
        updatedAt: now,
        finishedAt: status === 'succeeded' || status === 'dead' ? now : null,
        dryRun: false,
      }
      changes.emit({ type: 'run', run })
      return run
    },
    close() {
      monitor.stop()
      void searchIndex.stop()
      db.close()
      dir.remove()
    },
  }
}

export function alertChanges(emitted: Change[]) {
  return emitted.flatMap((c) => (c.type === 'alert' ? [c.alert] : []))
}

/** An accepted, unsigned JSON event of `sourceId` received at `now`, with `fields` overriding. */
export function sampleEvent(sourceId: string, now: number, fields: Partial<NewEvent> = {}): NewEvent {
  const body = fields.body ?? Buffer.from(JSON.stringify({ hello: 'world' }))
  return {
    id: newId('evt', now),
    sourceId,
    provider: 'none',
    receivedAt: now,
    method: 'POST',
    path: `/hooks/${sourceId}`,
    query: '',
    headers: { 'content-type': 'application/json' },
    contentType: 'application/json',
    body,
    bodySize: body.length,
    bodyTruncated: false,
    dedupId: `d-${Math.random().toString(36).slice(2)}`,
    duplicateOf: null,
    type: 'thing.happened',
    status: 'accepted' as EventStatus,
    verification: 'unsigned',
    reason: null,
    hop: 0,
    summary: '',
    bodySha256: null,
    ...fields,
  }
}
