-- Arbiter schema version 1 for MariaDB / MySQL (InnoDB).
-- Applied automatically when the store is opened with schema creation allowed;
-- otherwise run this script by hand (mariadb < file) before starting any master.
-- Times are UTC (UTC_TIMESTAMP(6)), so the session time zone of a master never matters.

CREATE TABLE IF NOT EXISTS arbiter_schema_version (
  version      INT         NOT NULL PRIMARY KEY,
  installed_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- One row per master name. incarnation grows by one at every join; a row whose
-- state is not ACTIVE, or whose incarnation is newer than a service's owner_incarnation,
-- is positive evidence that the older incarnation is dead.
CREATE TABLE IF NOT EXISTS arbiter_member (
  name          VARCHAR(64)  NOT NULL PRIMARY KEY,
  incarnation   BIGINT       NOT NULL,
  state         VARCHAR(16)  NOT NULL,
  lease_expires DATETIME(6)  NOT NULL,
  joined_at     DATETIME(6)  NOT NULL,
  renewed_at    DATETIME(6)  NOT NULL,
  host          VARCHAR(255),
  pid           BIGINT
) ENGINE=InnoDB;

-- One row per clustered service. token strictly increases with every grant.
CREATE TABLE IF NOT EXISTS arbiter_service (
  name              VARCHAR(64) NOT NULL PRIMARY KEY,
  owner_name        VARCHAR(64),
  owner_incarnation BIGINT,
  token             BIGINT      NOT NULL DEFAULT 0,
  granted_at        DATETIME(6),
  released_at       DATETIME(6),
  KEY arbiter_service_owner (owner_name, owner_incarnation)
) ENGINE=InnoDB;

-- A counter bumped on every cluster change; masters without push notifications poll it.
CREATE TABLE IF NOT EXISTS arbiter_change (
  id    INT    NOT NULL PRIMARY KEY,
  epoch BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO arbiter_change (id, epoch) VALUES (1, 0);

INSERT IGNORE INTO arbiter_schema_version (version, installed_at) VALUES (1, UTC_TIMESTAMP(6));
