-- Dedup keys move from a unique index on (source_id, dedup_id), where every new key landed at a random place
-- in a large B-tree (one more page rewritten and fsynced per acknowledged webhook), to an append-only table in
-- event order that the engine reads into an in-memory hash table when it opens (see DedupIndex). `key` is
-- dedup_key(source_id, dedup_id): 53 bits of the pair's SHA-256; the owning event's row settles a shared key.
CREATE TABLE dedup_keys_by_event (
  event_seq INTEGER PRIMARY KEY,
  key       INTEGER NOT NULL
);
INSERT INTO dedup_keys_by_event (event_seq, key)
  SELECT e.seq, dedup_key(k.source_id, k.dedup_id) FROM dedup_keys k JOIN events e ON e.id = k.event_id;
DROP TABLE dedup_keys;
ALTER TABLE dedup_keys_by_event RENAME TO dedup_keys;
