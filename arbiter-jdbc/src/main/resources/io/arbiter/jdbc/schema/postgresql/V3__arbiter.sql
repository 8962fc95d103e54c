-- Arbiter schema version 3 for PostgreSQL: the event log's purge watermark.
-- Applied on top of version 2. Additive: masters of version 2 already running keep working (see
-- docs/upgrading.md), and a master of version 2 that restarts stops at its version check.

-- The highest event number the retention purge has deleted through. A purge deletes a prefix of
-- the log (every seq <= through_seq) and moves this row in the same transaction, so a reader can
-- tell a purged number (at or below it: gone for good, and the reader is told) from one that is
-- not visible yet (above it: wait for it, never skip it).
CREATE TABLE IF NOT EXISTS arbiter_event_purged (
  id          INT         NOT NULL PRIMARY KEY,
  through_seq BIGINT      NOT NULL,
  purged_at   TIMESTAMPTZ NOT NULL
);
-- Version 2 purged without a record: everything below the oldest event left is gone (and in an
-- empty log everything up to the head).
INSERT INTO arbiter_event_purged (id, through_seq, purged_at)
SELECT 1,
       COALESCE((SELECT MIN(seq) - 1 FROM arbiter_event),
                (SELECT last_seq FROM arbiter_event_head WHERE id = 1),
                0),
       clock_timestamp()
ON CONFLICT DO NOTHING;

INSERT INTO arbiter_schema_version (version) VALUES (3) ON CONFLICT DO NOTHING;
