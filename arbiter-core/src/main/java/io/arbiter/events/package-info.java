/**
 * The cluster event log (ordered, durable, at least once, catch-up from a saved position) and
 * {@link io.arbiter.events.ClusterCache}, evicted on every master through it. A recipe: built on
 * the public API and the {@link io.arbiter.spi.EventStore} SPI only. See docs/events.md.
 */
package io.arbiter.events;
