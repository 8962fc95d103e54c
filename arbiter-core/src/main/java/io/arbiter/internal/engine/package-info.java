/**
 * The engine behind {@link io.arbiter.Cluster}: the member lease, the lease thread, the assignment
 * loop, service slots and grants, and the wiring to the peer link. Not API: it may change in any
 * release. See docs/design.md and docs/architecture.md.
 */
package io.arbiter.internal.engine;
