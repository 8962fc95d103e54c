package io.arbiter.events;

/**
 * Counters of one {@link ClusterCache} on one master, since it was built.
 *
 * @param hits reads served from the cache
 * @param misses reads that loaded (and cached) the value
 * @param bypasses reads sent to the loader because the log could not be confirmed fresh enough
 * @param evictionsApplied invalidations delivered by the log and applied here
 * @param size entries held now (approximate)
 */
public record CacheStats(long hits, long misses, long bypasses, long evictionsApplied, long size) {}
