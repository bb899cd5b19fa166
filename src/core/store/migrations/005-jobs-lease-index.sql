-- Expired leases are found by an index too, so claiming and scheduling stay O(log n) with a deep backlog.
CREATE INDEX jobs_lease ON jobs (status, lease_until);
