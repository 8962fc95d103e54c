-- Arbiter schema version 3 for MariaDB / MySQL: the event log's purge watermark.
-- Applied on top of version 2. Additive: masters of version 2 already running keep working (see
-- docs/upgrading.md), and a master of version 2 that restarts stops at its version check.

-- The highest event number the retention purge has deleted through. A purge deletes a prefix of
-- the log (every seq <= through_seq) and moves this row in the same transaction, so a reader can
-- tell a purged number (at or below it: gone for good, and the reader is told) from one that is
-- not visible yet (above it: wait for it, never skip it).
CREATE TABLE IF NOT EXISTS arbiter_event_purged (
  id          INT         NOT NULL PRIMARY KEY,
  through_seq BIGINT      NOT NULL,
  purged_at   DATETIME(6) NOT NULL
) ENGINE=InnoDB;
-- Version 2 purged without a record: everything below the oldest event left is gone (and in an
-- empty log everything up to the head).
INSERT IGNORE INTO arbiter_event_purged (id, through_seq, purged_at)
SELECT 1,
       COALESCE((SELECT MIN(seq) - 1 FROM arbiter_event),
                (SELECT last_seq FROM arbiter_event_head WHERE id = 1),
                0),
       UTC_TIMESTAMP(6);

INSERT IGNORE INTO arbiter_schema_version (version, installed_at) VALUES (3, UTC_TIMESTAMP(6));
