// @ts-check
/**
 * The full-text index's own file (search.db beside switchboard.db), and the one step that brings it up to date.
 *
 * Plain JavaScript on purpose: the search worker thread loads this module itself, and a worker cannot go through
 * the TypeScript loaders the engine runs under (tsx, vitest, the electron-vite bundle). The engine imports the same
 * functions, so the SQL lives in one place.
 *
 * A connection that uses the index opens switchboard.db as `main` and attaches the index as `search`. Only the
 * worker (or `indexAll` in set-up, when no worker runs) writes `search`; nothing here writes `main`, and the
 * transactions are deferred, so the intake connection never waits for the indexer's lock. The index is derived
 * data: search.db is written with synchronous=NORMAL and, if it is lost or from another version, rebuilt.
 */

/** Bump when the index's schema or what it indexes changes: an index of another version is rebuilt from zero. */
export const SEARCH_FILE_VERSION = 2

/**
 * Contentless (content=''): the index holds the terms only, not a copy of the text, so it stays small;
 * contentless_delete=1 lets a plain DELETE by rowid remove a row. The rowid is events.seq. Binary bodies (a NUL
 * byte) are not indexed, and only the first 64 Ki characters of a body are: a search finds an event by what its
 * start says. `progress` holds how far the index has come, committed with the rows it covers, and the id of the
 * event at that seq: the index belongs to the store only while that event is still there.
 */
const SCHEMA = `
  CREATE VIRTUAL TABLE IF NOT EXISTS search.events_fts USING fts5(
    body, headers,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TABLE IF NOT EXISTS search.progress (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_seq  INTEGER NOT NULL,
    indexed_id   TEXT,
    forgotten_id INTEGER NOT NULL
  );
  INSERT OR IGNORE INTO search.progress (id, indexed_seq, forgotten_id) VALUES (1, 0, 0);
`

const BODY_TEXT = `CASE WHEN instr(body, x'00') = 0 THEN substr(CAST(body AS TEXT), 1, 65536) END`

/**
 * Attach the index file to a connection on switchboard.db as `search`, creating it first. An index of another
 * version, or one that does not belong to this store (switchboard.db was replaced, say by an older copy, and the
 * event the index reached is gone or another), is emptied and built again from the events.
 * @param {import('better-sqlite3').Database} db
 * @param {string} indexFile
 */
export function attachSearchFile(db, indexFile) {
  db.prepare(`ATTACH DATABASE ? AS search`).run(indexFile)
  db.pragma('search.journal_mode = WAL')
  db.pragma('search.synchronous = NORMAL')
  const version = /** @type {number} */ (db.pragma('search.user_version', { simple: true }))
  if (version !== SEARCH_FILE_VERSION || !belongsToStore(db)) {
    db.exec(`DROP TABLE IF EXISTS search.events_fts; DROP TABLE IF EXISTS search.progress;`)
    db.pragma(`search.user_version = ${SEARCH_FILE_VERSION}`)
  }
  db.exec(SCHEMA)
}

/**
 * Whether the event the index reached is still the one at that seq, or its deletion is in the log and not yet
 * applied (retention deleted it just before a stop). An index that reached nothing belongs to any store.
 * @param {import('better-sqlite3').Database} db
 */
function belongsToStore(db) {
  const progress =
    /** @type {{ indexed_seq: number, indexed_id: string | null, forgotten_id: number } | undefined} */ (
      db.prepare(`SELECT indexed_seq, indexed_id, forgotten_id FROM search.progress`).get()
    )
  if (!progress || progress.indexed_seq === 0) return true
  const id = db.prepare(`SELECT id FROM main.events WHERE seq = ?`).pluck().get(progress.indexed_seq)
  if (id === progress.indexed_id) return true
  const deletionPending = db
    .prepare(`SELECT 1 FROM main.search_forget WHERE seq = ? AND id > ? LIMIT 1`)
    .get(progress.indexed_seq, progress.forgotten_id)
  return deletionPending !== undefined
}

/**
 * How far the index has come, and the newest event in the store: what the indexer and the searches both read.
 * @param {import('better-sqlite3').Database} db a connection with the index attached
 */
export function prepareProgressReads(db) {
  const progress = db.prepare(
    `SELECT indexed_seq AS indexedSeq, forgotten_id AS forgottenId FROM search.progress`,
  )
  const last = db.prepare(`SELECT MAX(seq) FROM main.events`).pluck()
  return {
    /** @returns {{ indexedSeq: number, forgottenId: number }} */
    progress: () => /** @type {{ indexedSeq: number, forgottenId: number }} */ (progress.get()),
    /** The newest event's seq, 0 for none. */
    last: () => /** @type {number | null} */ (last.get()) ?? 0,
  }
}

/**
 * The statements of one indexing step, prepared once per connection.
 * @param {import('better-sqlite3').Database} db a connection with the index attached
 */
export function prepareIndexStep(db) {
  const reads = prepareProgressReads(db)
  const stmt = {
    forgets: db.prepare(`SELECT id, seq FROM main.search_forget WHERE id > ? ORDER BY id LIMIT ?`),
    forget: db.prepare(`DELETE FROM search.events_fts WHERE rowid = ?`),
    newest: db
      .prepare(`SELECT MAX(seq) FROM (SELECT seq FROM main.events WHERE seq > ? ORDER BY seq LIMIT ?)`)
      .pluck(),
    // OR REPLACE: a row left behind for a seq (whatever the cause) is replaced, so a step never fails on it.
    index: db.prepare(
      `INSERT OR REPLACE INTO search.events_fts (rowid, body, headers)
       SELECT seq, ${BODY_TEXT}, headers FROM main.events WHERE seq > ? AND seq <= ?`,
    ),
    save: db.prepare(
      `UPDATE search.progress SET indexed_seq = @seq, forgotten_id = @forgotten,
         indexed_id = (SELECT id FROM main.events WHERE seq = @seq)`,
    ),
  }

  /**
   * One transaction: first the rows of deleted events are removed (retention logs each deleted seq in
   * search_forget), then up to `limit` new events are indexed. Seqs can be reused (events.seq is a plain rowid
   * and the newest rows can be deleted), so a forgotten seq that holds an event again is indexed again, and when
   * the newest indexed events are gone the pointer steps back to the newest that remains. New events are indexed
   * only once every logged deletion is applied.
   * @param {number} limit
   * @returns {{ indexed: number, forgotten: number, indexedSeq: number, forgottenId: number, idle: boolean }}
   */
  const step = (limit) =>
    db
      .transaction(() => {
        let { indexedSeq, forgottenId } = reads.progress()
        const from = indexedSeq
        const forgets = /** @type {Array<{ id: number, seq: number }>} */ (
          stmt.forgets.all(forgottenId, limit)
        )
        for (const { id, seq } of forgets) {
          stmt.forget.run(seq)
          if (seq <= indexedSeq) stmt.index.run(seq - 1, seq)
          forgottenId = id
        }
        let indexed = 0
        if (forgets.length < limit) {
          const last = reads.last()
          if (last < indexedSeq) indexedSeq = last
          const to = /** @type {number | null} */ (stmt.newest.get(indexedSeq, limit))
          if (to !== null) {
            indexed = stmt.index.run(indexedSeq, to).changes
            indexedSeq = to
          }
        }
        if (forgets.length > 0 || indexedSeq !== from)
          stmt.save.run({ seq: indexedSeq, forgotten: forgottenId })
        // Nothing left: neither batch was full.
        const idle = indexed < limit && forgets.length < limit
        return { indexed, forgotten: forgets.length, indexedSeq, forgottenId, idle }
      })
      .deferred()

  return step
}
