package io.arbiter.chaos;

import java.util.Set;

/**
 * The cluster after the last fault was healed and the run had settled.
 *
 * @param healedAtMillis when every fault had been healed (database clock)
 * @param observedAtMillis when this was observed (database clock); ticks are read up to here
 * @param ownedByLiveMember the services whose owner was an ACTIVE member with lease left
 */
public record FinalState(
    long healedAtMillis, long observedAtMillis, Set<String> ownedByLiveMember) {}
