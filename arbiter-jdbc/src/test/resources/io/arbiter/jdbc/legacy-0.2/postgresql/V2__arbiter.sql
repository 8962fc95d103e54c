-- Arbiter schema version 2 for PostgreSQL: balancing, the peer link, the event log and sessions.
-- Applied on top of version 1 (a new database gets V1 then V2). Every statement is additive, so
-- masters of version 1 stop at the version check instead of misreading these tables.

-- Balancing (issue 4): what a master offers and whether an operator is emptying it.
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS capacity DOUBLE PRECISION NOT NULL DEFAULT 1;
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS tags VARCHAR(1000) NOT NULL DEFAULT '';
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS draining BOOLEAN NOT NULL DEFAULT FALSE;
-- The peer link (issue 5): where the master listens, and how it sees its peers (for status).
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS peer_address VARCHAR(255);
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS peer_view VARCHAR(4000);

-- Balancing: how heavy a service is, where it may run, and an operator's move.
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS weight DOUBLE PRECISION NOT NULL DEFAULT 1;
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS required_tag VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS pinned_to VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS anti_affinity VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS run_local BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS move_to VARCHAR(64);
-- name#incarnation of the master on which the service last failed to start: the balancer
-- gives it to another master until that one rejoins.
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS start_failed_by VARCHAR(90);
-- The change epoch of the transaction that last changed the row: a master that has read the
-- cluster up to epoch E reads only the rows changed after E.
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS changed_epoch BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS arbiter_service_changed ON arbiter_service (changed_epoch);

-- ---- event log (arbiter-events) ----
-- The cluster event log. seq is allocated by bumping the one head row inside the publishing
-- transaction: its row lock serializes publishers, so sequences commit in order and without gaps
-- (a rolled-back publish gives its number back). A reader that has read up to seq N has therefore
-- seen every event that can ever have a number <= N.
CREATE TABLE IF NOT EXISTS arbiter_event_head (
  id       INT    NOT NULL PRIMARY KEY,
  last_seq BIGINT NOT NULL
);
INSERT INTO arbiter_event_head (id, last_seq) VALUES (1, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS arbiter_event (
  seq        BIGINT       NOT NULL PRIMARY KEY,
  topic      VARCHAR(128) NOT NULL,
  event_key  VARCHAR(512),
  payload    BYTEA,
  publisher  VARCHAR(64)  NOT NULL,
  created_at TIMESTAMPTZ  NOT NULL
);
CREATE INDEX IF NOT EXISTS arbiter_event_created ON arbiter_event (created_at);

-- Where each master has delivered up to (saved in batches: it may redeliver, never skip).
CREATE TABLE IF NOT EXISTS arbiter_event_consumer (
  member_name   VARCHAR(64) NOT NULL PRIMARY KEY,
  delivered_seq BIGINT      NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL
);

-- ---- sessions (arbiter-web) ----
-- Shared web sessions: a login made on one master is valid on every master. The key is the
-- SHA-256 (hex) of the session id, so the table holds nothing a client could present. A session
-- is live while expires_at > clock_timestamp(); a touch moves expires_at to now + max_inactive_ms.
CREATE TABLE IF NOT EXISTS arbiter_session (
  id_hash         VARCHAR(64)  NOT NULL PRIMARY KEY,
  principal       VARCHAR(255) NOT NULL,
  created_at      TIMESTAMPTZ  NOT NULL,
  last_access_at  TIMESTAMPTZ  NOT NULL,
  max_inactive_ms BIGINT       NOT NULL,
  expires_at      TIMESTAMPTZ  NOT NULL
);
CREATE INDEX IF NOT EXISTS arbiter_session_expires ON arbiter_session (expires_at);
-- One row per attribute: a write of one attribute is one statement and never overwrites another
-- master's write of a different attribute. Deleted with the session.
CREATE TABLE IF NOT EXISTS arbiter_session_attribute (
  session_id_hash VARCHAR(64)  NOT NULL REFERENCES arbiter_session (id_hash) ON DELETE CASCADE,
  name            VARCHAR(128) NOT NULL,
  value           TEXT         NOT NULL,
  PRIMARY KEY (session_id_hash, name)
);

INSERT INTO arbiter_schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;
