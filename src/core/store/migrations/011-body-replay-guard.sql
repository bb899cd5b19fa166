-- A signature over the body alone does not cover the delivery id beside it: a captured delivery can be sent
-- again under a fresh id and would pass as new. For the presets whose bodies are unique to their event (see
-- Provider.bodyIdentifiesEvent), an accepted event keeps the SHA-256 of its body, and a later delivery with the
-- same body from the same source is stored as a duplicate of it. Only those events carry a digest, so the
-- index grows with them alone.
ALTER TABLE events ADD COLUMN body_sha256 BLOB;
CREATE INDEX events_body_replay ON events (source_id, body_sha256) WHERE body_sha256 IS NOT NULL;
