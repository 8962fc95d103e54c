/**
 * The storage SPI on PostgreSQL and MariaDB/MySQL. Start at {@link io.arbiter.jdbc.JdbcArbiter},
 * the one entry point: it chooses the {@link io.arbiter.jdbc.Dialect}, makes the pools (the
 * heartbeat gets its own), migrates the schema with Flyway, and hands out the cluster, event and
 * session stores, the {@link io.arbiter.jdbc.JdbcFence} and the peer directory. The SQL of each
 * feature is in a package-level class of its own. See docs/architecture.md, docs/design.md (the
 * statements and why they are safe) and docs/upgrading.md (schema versions).
 */
package io.arbiter.jdbc;
