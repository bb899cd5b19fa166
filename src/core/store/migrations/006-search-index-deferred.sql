-- Full-text indexing moves off the acknowledgement path: a background indexer adds committed events to
-- events_fts in batches (on the work connection), so an ack pays for its event, not for its search terms.
-- Everything up to now was indexed by the trigger; the indexer continues after the newest event.
DROP TRIGGER events_fts_insert;
INSERT INTO settings (key, value) VALUES ('search.indexedSeq', (SELECT COALESCE(MAX(seq), 0) FROM events))
  ON CONFLICT (key) DO NOTHING;
