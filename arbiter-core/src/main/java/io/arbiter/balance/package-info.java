/**
 * Load balancing: which master runs which service, by weight and capacity, with placement rules
 * (tags, pins, anti-affinity, local services). Every master computes the same {@link
 * io.arbiter.balance.Assignment} from the same facts. See docs/balancing.md.
 */
package io.arbiter.balance;
