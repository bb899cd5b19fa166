-- Retention deletes the finished runs of the events it deletes, with everything that hangs off them; a run's
-- notifications are found by run id rather than by a scan of every notification.
CREATE INDEX notifications_run ON notifications (run_id);
