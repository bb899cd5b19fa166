-- waitForEvent also considers events that arrived before the wait was registered (a fast 3PL answers inside
-- its webhook handler, before the run reaches its wait), and an event answers at most one wait of a run.

-- The events.seq after which events may answer this run's waits: the triggering event's seq for a run the
-- event started; the newest event's seq at creation for a replayed run (it must not take answers from the
-- past). NULL (a run whose triggering event is gone): only events arriving after its wait registered count.
ALTER TABLE runs ADD COLUMN events_after INTEGER;
UPDATE runs SET events_after = (SELECT seq FROM events WHERE events.id = runs.event_id);

-- Every event that answered a wait of a run: the same event never answers the same run twice (not the same
-- wait again through a late or repeated dispatch, not a later wait of that run on the same source). Different
-- runs may each take the same event (fan-in).
CREATE TABLE wait_answers (
  run_id   TEXT NOT NULL,
  event_id TEXT NOT NULL,
  step_id  TEXT NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (run_id, event_id)
) WITHOUT ROWID;
