-- The full-text index moves to a file of its own (search.db), written by a worker thread (see
-- src/core/events/search-file.mjs): its batches and segment merges no longer run on the thread, or in the file,
-- that acknowledges webhooks. The worker rebuilds the index there from the events. Deleted events reach it
-- through this log: the trigger records each deleted seq, the worker removes it from the index, and the engine
-- prunes what the worker has applied. AUTOINCREMENT: the worker remembers the newest id it applied, so an id
-- must never come back after the log is pruned empty.
DROP TRIGGER events_fts_delete;
DROP TABLE events_fts;
DELETE FROM settings WHERE key = 'search.indexedSeq';
CREATE TABLE search_forget (
  id  INTEGER PRIMARY KEY AUTOINCREMENT,
  seq INTEGER NOT NULL
);
CREATE TRIGGER events_search_forget AFTER DELETE ON events BEGIN
  INSERT INTO search_forget (seq) VALUES (old.seq);
END;
