-- Workflows (versioned), runs pinned to a version, their steps and attempts, waits for correlation,
-- notifications, and the encrypted secret store.

CREATE TABLE workflows (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1,
  version     INTEGER NOT NULL,
  source_id   TEXT NOT NULL,
  definition  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX workflows_source ON workflows (source_id);

-- Every saved version is kept (runs are pinned to one), also after the workflow is deleted.
CREATE TABLE workflow_versions (
  workflow_id TEXT NOT NULL,
  version     INTEGER NOT NULL,
  definition  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
) WITHOUT ROWID;

CREATE TABLE runs (
  seq              INTEGER PRIMARY KEY,
  id               TEXT NOT NULL UNIQUE,
  event_id         TEXT NOT NULL,
  source_id        TEXT NOT NULL,
  workflow_id      TEXT NOT NULL,
  workflow_version INTEGER NOT NULL,
  workflow_name    TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('queued','running','waiting','succeeded','dead','cancelled')),
  current_step     TEXT,
  error            TEXT,
  hop              INTEGER NOT NULL DEFAULT 0,
  resolved_at      INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  finished_at      INTEGER,
  dry_run          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_event ON runs (event_id);
CREATE INDEX runs_status ON runs (status, seq);
CREATE INDEX runs_workflow ON runs (workflow_id, status, seq);

-- One row per step a run has reached. `attempt_base` is the attempt count when the run was last retried,
-- so a retry gets a fresh budget while the history keeps every attempt.
CREATE TABLE steps (
  run_id       TEXT NOT NULL,
  step_id      TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('pending','running','waiting','succeeded','failed','skipped')),
  input        TEXT,
  output       TEXT,
  error        TEXT,
  attempt_base INTEGER NOT NULL DEFAULT 0,
  wake_at      INTEGER,
  started_at   INTEGER,
  finished_at  INTEGER,
  PRIMARY KEY (run_id, step_id)
) WITHOUT ROWID;

CREATE TABLE attempts (
  run_id      TEXT NOT NULL,
  step_id     TEXT NOT NULL,
  n           INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  ok          INTEGER NOT NULL,
  error       TEXT,
  request     TEXT,
  response    TEXT,
  retry_at    INTEGER,
  PRIMARY KEY (run_id, step_id, n)
) WITHOUT ROWID;

-- Runs waiting for a later event (waitForEvent), looked up by source when an event is dispatched.
CREATE TABLE waits (
  run_id      TEXT NOT NULL,
  step_id     TEXT NOT NULL,
  source_id   TEXT NOT NULL,
  types       TEXT,
  match       TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (run_id, step_id)
) WITHOUT ROWID;
CREATE INDEX waits_source ON waits (source_id);

CREATE TABLE notifications (
  seq      INTEGER PRIMARY KEY,
  id       TEXT NOT NULL UNIQUE,
  at       INTEGER NOT NULL,
  title    TEXT NOT NULL,
  body     TEXT,
  run_id   TEXT,
  event_id TEXT
);

CREATE TABLE secrets (
  name       TEXT PRIMARY KEY,
  value_enc  BLOB NOT NULL,
  updated_at INTEGER NOT NULL
);
