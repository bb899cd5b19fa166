-- Observability: full-text search over events, alerts, per-source monitor settings and per-minute metric rollups.

-- Full-text index over each event's body (when it is text) and headers. Contentless (content=''): the index
-- holds no copy of the text, only the terms, so it stays small; contentless_delete=1 lets a plain DELETE by
-- rowid remove a row. The rowid is events.seq. Binary bodies (a NUL byte) are not indexed, and only the first
-- 64 Ki characters of a body are: a search finds an event by what its start says.
CREATE VIRTUAL TABLE events_fts USING fts5(
  body, headers,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
  INSERT INTO events_fts (rowid, body, headers) VALUES (
    new.seq,
    CASE WHEN instr(new.body, x'00') = 0 THEN substr(CAST(new.body AS TEXT), 1, 65536) END,
    new.headers
  );
END;

CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
  DELETE FROM events_fts WHERE rowid = old.seq;
END;

INSERT INTO events_fts (rowid, body, headers)
  SELECT seq, CASE WHEN instr(body, x'00') = 0 THEN substr(CAST(body AS TEXT), 1, 65536) END, headers FROM events;

-- Retention walks events of one source by age; (source_id, seq) already exists, received_at follows seq.

-- Alerts: identified by (rule, key); at most one open alert per (rule, key).
CREATE TABLE alerts (
  seq         INTEGER PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  rule        TEXT NOT NULL,
  key         TEXT NOT NULL,
  source_id   TEXT,
  severity    TEXT NOT NULL CHECK (severity IN ('info','warning','critical')),
  title       TEXT NOT NULL,
  message     TEXT NOT NULL,
  data        TEXT NOT NULL DEFAULT '{}',
  opened_at   INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule, key) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved ON alerts (resolved_at, seq);

-- Monitor settings per source (alert thresholds, expected cadence, retention); '*' holds the defaults
-- the user changed for every source. JSON, validated by the monitor's schema on the way in.
CREATE TABLE monitor_settings (
  source_id  TEXT PRIMARY KEY,
  config     TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Per-minute counters, flushed from memory each minute so charts survive a restart. source_id '' = none.
CREATE TABLE metric_minutes (
  minute    INTEGER NOT NULL,
  name      TEXT NOT NULL,
  source_id TEXT NOT NULL,
  value     REAL NOT NULL,
  PRIMARY KEY (minute, name, source_id)
) WITHOUT ROWID;
