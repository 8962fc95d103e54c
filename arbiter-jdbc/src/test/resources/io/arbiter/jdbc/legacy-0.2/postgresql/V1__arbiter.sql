-- Arbiter schema version 1 for PostgreSQL.
-- Applied automatically when the store is opened with schema creation allowed;
-- otherwise run this script by hand (psql -f) before starting any master.

CREATE TABLE IF NOT EXISTS arbiter_schema_version (
  version     INTEGER     NOT NULL PRIMARY KEY,
  installed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);

-- One row per master name. incarnation grows by one at every join; a row whose
-- state is not ACTIVE, or whose incarnation is newer than a service's owner_incarnation,
-- is positive evidence that the older incarnation is dead.
CREATE TABLE IF NOT EXISTS arbiter_member (
  name          VARCHAR(64)  NOT NULL PRIMARY KEY,
  incarnation   BIGINT       NOT NULL,
  state         VARCHAR(16)  NOT NULL,
  lease_expires TIMESTAMPTZ  NOT NULL,
  joined_at     TIMESTAMPTZ  NOT NULL,
  renewed_at    TIMESTAMPTZ  NOT NULL,
  host          VARCHAR(255),
  pid           BIGINT
);

-- One row per clustered service. token strictly increases with every grant.
CREATE TABLE IF NOT EXISTS arbiter_service (
  name              VARCHAR(64)  NOT NULL PRIMARY KEY,
  owner_name        VARCHAR(64),
  owner_incarnation BIGINT,
  token             BIGINT       NOT NULL DEFAULT 0,
  granted_at        TIMESTAMPTZ,
  released_at       TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS arbiter_service_owner ON arbiter_service (owner_name, owner_incarnation);

-- A counter bumped on every cluster change; masters without push notifications poll it.
CREATE TABLE IF NOT EXISTS arbiter_change (
  id    INTEGER NOT NULL PRIMARY KEY,
  epoch BIGINT  NOT NULL
);
INSERT INTO arbiter_change (id, epoch) VALUES (1, 0) ON CONFLICT DO NOTHING;

INSERT INTO arbiter_schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;
