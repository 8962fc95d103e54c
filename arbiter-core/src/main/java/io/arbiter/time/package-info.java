/**
 * Time as Arbiter measures it: a monotonic {@link io.arbiter.time.Ticker} (injected, so tests drive
 * it by hand) and {@link io.arbiter.time.Wakeup}. Leases are judged by the database clock and
 * measured locally on the ticker, never on the wall clock. See docs/design.md.
 */
package io.arbiter.time;
