package io.arbiter.sessions;

import io.arbiter.StoreUnavailableException;
import io.arbiter.spi.SessionStore;
import io.arbiter.spi.StoredSession;
import io.arbiter.time.Ticker;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shared web sessions as a server uses them: log in, find the session of a request, extend it, log
 * out, and delete expired sessions in the background. The sessions live in the shared database (a
 * {@link SessionStore}); this class adds a small local cache so that a busy master does not read
 * the database on every request.
 *
 * <p><b>The staleness bound.</b> A cached session is trusted for at most {@link
 * SessionConfig#staleness()} (1 s by default) after it was read from the database; after that the
 * next request reads it again. So a session invalidated on one master is refused by every other
 * master within the staleness bound (plus one read), and an invalidation on this master is seen at
 * once (it drops the entry). A cached session is never trusted past its expiry as the database
 * reported it. The database stays the truth: a lost or late cache entry costs a read, never a wrong
 * answer beyond the bound.
 *
 * <p><b>Cost.</b> A request whose session was validated less than the staleness bound ago costs no
 * statement; otherwise one SELECT (by primary key). A touch (one UPDATE by primary key) is made at
 * most once per {@link SessionConfig#touchInterval()} per session per master.
 *
 * <p>Thread-safe. {@link #close()} stops the purge thread and closes the store.
 */
public final class ClusterSessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterSessions.class);

  private final SessionStore store;
  private final SessionConfig config;
  private final Ticker ticker;
  private final long stalenessNanos;
  private final long touchIntervalNanos;
  private final long idleTimeoutNanos;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();
  private final AtomicLong reads = new AtomicLong();
  private final AtomicLong cacheHits = new AtomicLong();
  private final AtomicLong touches = new AtomicLong();
  private final AtomicLong purged = new AtomicLong();
  private volatile ScheduledExecutorService purger;
  private volatile boolean initialized;

  /**
   * A session as this master last validated it. The times are on this master's monotonic clock:
   * {@code readAt} starts the staleness window; {@code lastTouch} and {@code expires} are where the
   * database's last_access_at and expires_at fall on this clock (measured from the database's own
   * idle and remaining, so no wall clocks are compared).
   */
  private record Cached(Session session, long readAt, long lastTouch, long expires) {
    Cached touchedAt(long now, long idleTimeoutNanos) {
      return new Cached(session, readAt, now, now + idleTimeoutNanos);
    }
  }

  private ClusterSessions(SessionStore store, SessionConfig config) {
    this.store = store;
    this.config = config;
    this.ticker = config.ticker();
    this.stalenessNanos = config.staleness().toNanos();
    this.touchIntervalNanos = config.touchInterval().toNanos();
    this.idleTimeoutNanos = config.idleTimeout().toNanos();
  }

  /**
   * Sessions on {@code store} (closed by {@link #close()}). Checks the schema now; if the database
   * does not answer, logs a warning and checks again on first use, so that a master can start while
   * its database is down (requests that need a session fail until it is back). Does not start the
   * purge thread: call {@link #startPurging()}, or call {@link #purgeExpired()} from your own
   * scheduler.
   *
   * @throws io.arbiter.ArbiterException if the schema is missing (and may not be created) or is
   *     from another version
   */
  public static ClusterSessions create(SessionStore store, SessionConfig config) {
    ClusterSessions sessions = new ClusterSessions(store, config);
    try {
      sessions.ensureInitialized();
    } catch (StoreUnavailableException e) {
      log.warn(
          "the session database is not reachable at start ({}); requests that need a session will"
              + " fail until it is",
          e.getMessage());
    }
    log.info("shared web sessions: {}", config);
    return sessions;
  }

  /** Checks the schema once; retried on each use until it has succeeded. */
  private void ensureInitialized() {
    if (initialized) {
      return;
    }
    synchronized (this) {
      if (!initialized) {
        store.initialize();
        initialized = true;
      }
    }
  }

  public SessionConfig config() {
    return config;
  }

  /**
   * Logs {@code principal} in: a new session with a fresh random id. The caller authenticates the
   * principal first, and should invalidate the request's previous session (a new id at each login
   * defeats session fixation).
   *
   * @throws InvalidSessionDataException if the principal is empty or too long
   */
  public Session login(String principal) {
    return login(principal, Map.of());
  }

  /** As {@link #login(String)}, with attributes stored in the same transaction. */
  public Session login(String principal, Map<String, String> attributes) {
    SessionIds.checkPrincipal(principal);
    SessionIds.checkAttributes(attributes);
    ensureInitialized();
    StoredSession stored = store.create(principal, attributes, config.idleTimeout());
    long now = ticker.nanos();
    Cached entry = cached(stored, now);
    remember(stored.id(), entry);
    log.debug("session created for {}", principal);
    return entry.session();
  }

  /**
   * The live session with this id, read from the database unless this master validated it less than
   * the staleness bound ago. Empty for an unknown, expired, invalidated or malformed id; never
   * throws for a bad id. Does not extend the session: call {@link #touchIfDue(String)} for that.
   */
  public Optional<Session> find(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    long now = ticker.nanos();
    Cached entry = cache.get(id);
    if (entry != null && fresh(entry, now)) {
      cacheHits.incrementAndGet();
      return Optional.of(entry.session());
    }
    reads.incrementAndGet();
    ensureInitialized();
    Optional<StoredSession> stored = store.read(id);
    if (stored.isEmpty()) {
      cache.remove(id);
      return Optional.empty();
    }
    Cached read = cached(stored.get(), now);
    remember(id, read);
    return Optional.of(read.session());
  }

  /**
   * Extends the session if at least {@link SessionConfig#touchInterval()} has passed since its last
   * touch (one UPDATE); otherwise does nothing. Call it once per request that used the session. A
   * session this master does not cache (its cache was full) is touched unconditionally.
   *
   * @return false if the database says the session is gone
   */
  public boolean touchIfDue(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    long now = ticker.nanos();
    Cached entry = cache.get(id);
    if (entry == null) {
      // Not validated here lately (evicted, or never read): touch without the cache's help.
      return touchNow(id);
    }
    if (now - entry.lastTouch() < touchIntervalNanos) {
      return true;
    }
    // Claim the touch first so that concurrent requests of one session make one UPDATE, not many.
    Cached claimed = entry.touchedAt(now, idleTimeoutNanos);
    if (!cache.replace(id, entry, claimed)) {
      return true; // another request is touching it
    }
    try {
      ensureInitialized();
      boolean live = store.touch(id);
      touches.incrementAndGet();
      if (!live) {
        cache.remove(id);
      }
      return live;
    } catch (RuntimeException e) {
      cache.replace(id, claimed, entry); // not touched after all: the next request tries again
      throw e;
    }
  }

  private boolean touchNow(String id) {
    touches.incrementAndGet();
    ensureInitialized();
    return store.touch(id);
  }

  /**
   * Sets one attribute (one statement). Other masters see it within the staleness bound.
   *
   * @return false if the session is gone
   * @throws InvalidSessionDataException if the name or value breaks a limit
   */
  public boolean setAttribute(String id, String name, String value) {
    SessionIds.checkAttribute(name, value);
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    ensureInitialized();
    boolean live = store.setAttribute(id, name, value);
    cache.remove(id); // re-read on next use: cheaper to reason about than patching the snapshot
    return live;
  }

  /** Removes one attribute; returns true if the live session had it. */
  public boolean removeAttribute(String id, String name) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    ensureInitialized();
    boolean removed = store.removeAttribute(id, name);
    cache.remove(id);
    return removed;
  }

  /**
   * Logs out: deletes the session in the database. This master refuses it at once; every other
   * master within the staleness bound.
   *
   * @return true if a session was deleted
   */
  public boolean invalidate(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return false;
    }
    // Drop the entry before and after the delete. A find on this master racing with the delete
    // may still cache a read made just before it; that entry lives at most the staleness bound,
    // the same bound every other master keeps.
    cache.remove(id);
    ensureInitialized();
    boolean deleted = store.invalidate(id);
    cache.remove(id);
    return deleted;
  }

  /**
   * Deletes expired sessions, {@link SessionConfig#purgeBatchSize()} per statement and at most
   * {@link SessionConfig#purgeMaxBatches()} statements per call; also drops stale cache entries.
   * Every master may run it; the work is shared through the database.
   *
   * @return how many sessions were deleted
   */
  public int purgeExpired() {
    sweepCache(ticker.nanos());
    ensureInitialized();
    int total = 0;
    for (int batch = 0; batch < config.purgeMaxBatches(); batch++) {
      int deleted = store.purgeExpired(config.purgeBatchSize());
      total += deleted;
      if (deleted < config.purgeBatchSize()) {
        break;
      }
    }
    purged.addAndGet(total);
    if (total > 0) {
      log.debug("purged {} expired sessions", total);
    }
    return total;
  }

  /** Starts a daemon thread that calls {@link #purgeExpired()} every purge interval. */
  public synchronized void startPurging() {
    if (purger != null) {
      return;
    }
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "arbiter-session-purge");
              t.setDaemon(true);
              return t;
            });
    long every = config.purgeInterval().toMillis();
    executor.scheduleWithFixedDelay(this::purgeQuietly, every, every, TimeUnit.MILLISECONDS);
    purger = executor;
  }

  private void purgeQuietly() {
    try {
      purgeExpired();
    } catch (RuntimeException e) {
      // Expired sessions are refused anyway (reads check expires_at); a missed purge only leaves
      // rows for the next run.
      log.warn("could not purge expired sessions, will retry in {}: {}", config.purgeInterval(), e);
    }
  }

  /** Counters since start: database reads, cache hits, touches, sessions purged. */
  public Stats stats() {
    return new Stats(reads.get(), cacheHits.get(), touches.get(), purged.get(), cache.size());
  }

  /** What {@link #stats()} returns. */
  public record Stats(long reads, long cacheHits, long touches, long purged, int cached) {}

  /** Stops the purge thread and closes the store. */
  @Override
  public synchronized void close() {
    if (purger != null) {
      purger.shutdownNow();
      try {
        purger.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      purger = null;
    }
    cache.clear();
    store.close();
  }

  private boolean fresh(Cached entry, long now) {
    return now - entry.readAt() < stalenessNanos && now - entry.expires() < 0;
  }

  private Cached cached(StoredSession s, long now) {
    Session session = new Session(s.id(), s.principal(), s.attributes(), s.createdAt());
    return new Cached(session, now, now - s.idle().toNanos(), now + s.remaining().toNanos());
  }

  private void remember(String id, Cached entry) {
    // Kept even with staleness 0 (then never served, always re-read): the entry still tells
    // touchIfDue when the session was last touched.
    if (cache.size() >= config.cacheMaxEntries()) {
      sweepCache(entry.readAt());
      if (cache.size() >= config.cacheMaxEntries()) {
        return; // still full of fresh entries: serve this one uncached
      }
    }
    cache.put(id, entry);
  }

  /** Drops entries past the staleness bound: they would be read again anyway. */
  private void sweepCache(long now) {
    cache.values().removeIf(e -> !fresh(e, now));
  }
}
