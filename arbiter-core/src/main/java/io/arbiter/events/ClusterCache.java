package io.arbiter.events;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local cache on each master (Caffeine) kept coherent through the cluster {@link EventLog}:
 * {@link #invalidate(Object)} and {@link #invalidateAll()} publish an event on the topic {@code
 * cache:<name>}, and every master, the publisher included, evicts when it delivers it.
 *
 * <p><b>Bounded staleness.</b> A master serves from its cache only while its log is confirmed up to
 * (now − {@link Builder#maxStaleness}), default {@value #DEFAULT_MAX_STALENESS_MILLIS} ms: every
 * invalidation committed more than that long ago has been applied. Otherwise (the database is out
 * of reach, the reader is behind) reads go straight to the loader and are counted as bypasses,
 * until the reader has caught up. To keep the confirmation fresh while reads happen, a read that
 * finds it older than half the bound asks the reader to look at the log; at rest nothing is read.
 *
 * <p>To evict with a data change atomically, call {@link #invalidate(Connection, Object)} inside
 * the transaction that changes the data. Values are not cached as null: a loader returning null is
 * asked again next time.
 *
 * <p>Counters are plain ({@link #stats()}), to be exported by whatever metrics the host uses.
 *
 * @param <K> key type; turned into the event key by the key encoder (default {@code toString})
 * @param <V> value type
 */
public final class ClusterCache<K, V> implements AutoCloseable {
  /** The default staleness bound, in milliseconds. */
  public static final long DEFAULT_MAX_STALENESS_MILLIS = 1000;

  public static final Duration DEFAULT_MAX_STALENESS =
      Duration.ofMillis(DEFAULT_MAX_STALENESS_MILLIS);

  /** Entries kept per master by default. */
  public static final long DEFAULT_MAXIMUM_SIZE = 10_000;

  /** Topics of cache invalidations start with this, followed by the cache's name. */
  public static final String TOPIC_PREFIX = "cache:";

  private static final Logger log = LoggerFactory.getLogger(ClusterCache.class);

  private final EventLog eventLog;
  private final String name;
  private final String topic;
  private final Duration maxStaleness;
  private final Function<? super K, String> keyEncoder;
  private final Cache<String, V> cache;
  // Bumped before each applied invalidation, so a load that raced one can drop what it loaded.
  private final AtomicLong generation = new AtomicLong();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder bypasses = new LongAdder();
  private final LongAdder evictionsApplied = new LongAdder();
  private final AutoCloseable subscription;
  private final AutoCloseable lossSubscription;

  private ClusterCache(Builder<K, V> b) {
    this.eventLog = b.eventLog;
    this.name = b.name;
    this.topic = TOPIC_PREFIX + b.name;
    this.maxStaleness = b.maxStaleness;
    this.keyEncoder = b.keyEncoder;
    Caffeine<Object, Object> c = Caffeine.newBuilder().maximumSize(b.maximumSize);
    if (b.expireAfterWrite != null) {
      c.expireAfterWrite(b.expireAfterWrite);
    }
    this.cache = c.build();
    this.subscription = eventLog.subscribe(topic, this::apply);
    this.lossSubscription = eventLog.onEventsLost(this::applyLoss);
    log.info(
        "cluster cache '{}' on {}: maxStaleness {}, maximumSize {}",
        name,
        eventLog.member(),
        maxStaleness,
        b.maximumSize);
  }

  /** A builder of the cache {@code name} (the same name on every master). */
  public static <K, V> Builder<K, V> builder(EventLog eventLog, String name) {
    return new Builder<>(eventLog, name);
  }

  public String name() {
    return name;
  }

  /**
   * The cached value of {@code key}, loading it with {@code loader} on a miss; or, when the log
   * cannot be confirmed fresh enough, the loader's value without touching the cache.
   */
  public V get(K key, Function<? super K, ? extends V> loader) {
    if (!eventLog.confirmedWithin(maxStaleness)) {
      bypasses.increment();
      eventLog.requestConfirmation();
      return loader.apply(key);
    }
    if (!eventLog.confirmedWithin(maxStaleness.dividedBy(2))) {
      eventLog.requestConfirmation(); // refresh before the bound runs out, while reads happen
    }
    String k = encode(key);
    V v = cache.getIfPresent(k);
    if (v != null) {
      hits.increment();
      return v;
    }
    misses.increment();
    long before = generation.get();
    v = cache.get(k, x -> loader.apply(key));
    if (generation.get() != before) {
      // An invalidation was applied while we loaded: what we loaded may predate it.
      cache.invalidate(k);
    }
    return v;
  }

  /** The cached value, without loading; null if absent or if the cache may be stale. */
  public V getIfPresent(K key) {
    if (!eventLog.confirmedWithin(maxStaleness)) {
      bypasses.increment();
      eventLog.requestConfirmation();
      return null;
    }
    V v = cache.getIfPresent(encode(key));
    if (v != null) {
      hits.increment();
    } else {
      misses.increment();
    }
    return v;
  }

  /** Evicts {@code key} here at once and, through the log, on every master. */
  public void invalidate(K key) {
    String k = encode(key);
    eventLog.publish(topic, k, null);
    generation.incrementAndGet();
    cache.invalidate(k);
  }

  /**
   * Evicts {@code key} on every master once the caller's transaction on {@code transaction} commits
   * (nothing happens if it rolls back). Call it late in the transaction: publishers wait from here
   * to the commit.
   */
  public void invalidate(Connection transaction, K key) {
    eventLog.publish(transaction, topic, encode(key), null);
  }

  /** Empties this cache here at once and, through the log, on every master. */
  public void invalidateAll() {
    eventLog.publish(topic, null, null);
    generation.incrementAndGet();
    cache.invalidateAll();
  }

  /** Empties this cache on every master once the caller's transaction commits. */
  public void invalidateAll(Connection transaction) {
    eventLog.publish(transaction, topic, null, null);
  }

  /** Entries held on this master now (approximate). */
  public long size() {
    return cache.estimatedSize();
  }

  /** The counters since this cache was built. */
  public CacheStats stats() {
    return new CacheStats(
        hits.sum(), misses.sum(), bypasses.sum(), evictionsApplied.sum(), cache.estimatedSize());
  }

  private String encode(K key) {
    if (key == null) {
      throw new IllegalArgumentException("cluster cache '" + name + "': the key must not be null");
    }
    return keyEncoder.apply(key);
  }

  private void apply(Event e) {
    generation.incrementAndGet();
    if (e.key() == null) {
      cache.invalidateAll();
    } else {
      cache.invalidate(e.key());
    }
    evictionsApplied.increment();
  }

  private void applyLoss() {
    generation.incrementAndGet();
    cache.invalidateAll();
  }

  /** Stops following the log and drops the entries. */
  @Override
  public void close() {
    try {
      subscription.close();
      lossSubscription.close();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    cache.invalidateAll();
  }

  /** Builds a {@link ClusterCache}; every setting but the log and the name has a default. */
  public static final class Builder<K, V> {
    private final EventLog eventLog;
    private final String name;
    private Duration maxStaleness = DEFAULT_MAX_STALENESS;
    private long maximumSize = DEFAULT_MAXIMUM_SIZE;
    private Duration expireAfterWrite;
    private Function<? super K, String> keyEncoder = String::valueOf;

    private Builder(EventLog eventLog, String name) {
      this.eventLog = eventLog;
      this.name = name;
    }

    /** How old the newest confirmed read of the log may be before reads bypass the cache. */
    public Builder<K, V> maxStaleness(Duration d) {
      this.maxStaleness = d;
      return this;
    }

    public Builder<K, V> maximumSize(long n) {
      this.maximumSize = n;
      return this;
    }

    /** Also expire entries this long after they were loaded (none by default). */
    public Builder<K, V> expireAfterWrite(Duration d) {
      this.expireAfterWrite = d;
      return this;
    }

    /** How a key becomes the event's key (at most {@link EventLimits#MAX_KEY_LENGTH} chars). */
    public Builder<K, V> keyEncoder(Function<? super K, String> encoder) {
      this.keyEncoder = encoder;
      return this;
    }

    public ClusterCache<K, V> build() {
      if (eventLog == null) {
        throw new InvalidConfigException("eventLog", null, "must not be null");
      }
      ClusterConfig.validateName("cache name", name);
      if (maxStaleness == null || maxStaleness.isNegative() || maxStaleness.isZero()) {
        throw new InvalidConfigException("maxStaleness", maxStaleness, "must be positive");
      }
      if (maximumSize < 0) {
        throw new InvalidConfigException("maximumSize", maximumSize, "must not be negative");
      }
      if (expireAfterWrite != null
          && (expireAfterWrite.isNegative() || expireAfterWrite.isZero())) {
        throw new InvalidConfigException(
            "expireAfterWrite", expireAfterWrite, "must be positive (or not set)");
      }
      if (keyEncoder == null) {
        throw new InvalidConfigException("keyEncoder", null, "must not be null");
      }
      return new ClusterCache<>(this);
    }
  }
}
