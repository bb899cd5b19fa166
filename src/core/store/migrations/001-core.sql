-- Sources, the events they deliver, the dedup keys, durable jobs and the history of user actions.

CREATE TABLE sources (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  provider        TEXT NOT NULL,
  enabled         INTEGER NOT NULL DEFAULT 1,
  options         TEXT NOT NULL DEFAULT '{}',
  secret_enc      BLOB,
  prev_secret_enc BLOB,
  prev_secret_until INTEGER,
  max_body_bytes  INTEGER NOT NULL DEFAULT 1048576,
  rate_per_second REAL,
  rate_burst      INTEGER,
  notice          TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  last_received_at INTEGER
);

CREATE TABLE events (
  seq          INTEGER PRIMARY KEY,
  id           TEXT NOT NULL UNIQUE,
  source_id    TEXT NOT NULL,
  provider     TEXT,
  received_at  INTEGER NOT NULL,
  method       TEXT NOT NULL,
  path         TEXT NOT NULL,
  query        TEXT NOT NULL DEFAULT '',
  headers      TEXT NOT NULL,
  content_type TEXT,
  body         BLOB NOT NULL,
  body_size    INTEGER NOT NULL,
  body_truncated INTEGER NOT NULL DEFAULT 0,
  dedup_id     TEXT NOT NULL,
  duplicate_of TEXT,
  type         TEXT,
  status       TEXT NOT NULL CHECK (status IN ('accepted','duplicate','rejected','blocked','handshake')),
  verification TEXT NOT NULL CHECK (verification IN ('verified','failed','unsigned')),
  reason       TEXT,
  hop          INTEGER NOT NULL DEFAULT 0,
  summary      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_source ON events (source_id, seq);
CREATE INDEX events_status ON events (status, seq);
CREATE INDEX events_type ON events (type, seq);

-- UNIQUE(source_id, dedup_id): the first delivery owns the key; later ones are stored as duplicates.
CREATE TABLE dedup_keys (
  source_id TEXT NOT NULL,
  dedup_id  TEXT NOT NULL,
  event_id  TEXT NOT NULL,
  PRIMARY KEY (source_id, dedup_id)
) WITHOUT ROWID;

-- Durable jobs: claimed with a lease by a compare-and-swap on lease_owner.
CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL,
  payload      TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('queued','running','dead')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 10,
  run_at       INTEGER NOT NULL,
  lease_owner  TEXT,
  lease_until  INTEGER,
  last_error   TEXT,
  key          TEXT UNIQUE,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);

CREATE TABLE actions (
  seq    INTEGER PRIMARY KEY,
  id     TEXT NOT NULL UNIQUE,
  at     INTEGER NOT NULL,
  kind   TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
