-- Arbiter schema version 2 for MariaDB / MySQL: balancing, the peer link, the event log and
-- sessions. Applied on top of version 1 (a new database gets V1 then V2).

-- Balancing (issue 4): what a master offers and whether an operator is emptying it.
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS capacity DOUBLE NOT NULL DEFAULT 1;
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS tags VARCHAR(1000) NOT NULL DEFAULT '';
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS draining BOOLEAN NOT NULL DEFAULT FALSE;
-- The peer link (issue 5): where the master listens, and how it sees its peers (for status).
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS peer_address VARCHAR(255);
ALTER TABLE arbiter_member ADD COLUMN IF NOT EXISTS peer_view VARCHAR(4000);

-- Balancing: how heavy a service is, where it may run, and an operator's move.
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS weight DOUBLE NOT NULL DEFAULT 1;
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS required_tag VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS pinned_to VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS anti_affinity VARCHAR(64);
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS run_local BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS move_to VARCHAR(64);
-- name#incarnation of the master on which the service last failed to start: the balancer
-- gives it to another master until that one rejoins.
ALTER TABLE arbiter_service ADD COLUMN IF NOT EXISTS start_failed_by VARCHAR(90);

-- ---- event log (arbiter-events) ----

-- ---- sessions (arbiter-web) ----

INSERT IGNORE INTO arbiter_schema_version (version, installed_at) VALUES (2, UTC_TIMESTAMP(6));
