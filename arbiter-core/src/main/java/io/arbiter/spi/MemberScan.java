package io.arbiter.spi;

import java.time.Duration;
import java.util.Optional;

/**
 * A look at the members table.
 *
 * @param overdue live-marked members whose lease has run out by the store's clock
 * @param nextExpiry time until the soonest lease of another live member runs out, if any
 */
public record MemberScan(int overdue, Optional<Duration> nextExpiry) {}
