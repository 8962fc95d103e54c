/**
 * The storage SPI a backend implements ({@link io.arbiter.spi.ClusterStore}, {@link
 * io.arbiter.spi.EventStore}, {@link io.arbiter.spi.SessionStore}), with the invariants each method
 * keeps. arbiter-jdbc implements it on PostgreSQL and MariaDB/MySQL; arbiter-testkit holds the
 * contract tests every backend passes. See docs/architecture.md.
 */
package io.arbiter.spi;
