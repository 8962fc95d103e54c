package io.arbiter.sessions;

import io.arbiter.InvalidConfigException;
import io.arbiter.time.Ticker;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How {@link ClusterSessions} keeps web sessions. Immutable; built and validated by {@link
 * Builder}. Every default is a named constant next to its field.
 */
public final class SessionConfig {
  /** How long a session lives without a request, judged by the database's clock. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);

  /**
   * The share of the idle timeout that may pass before a request extends the session: with 0.1 and
   * 30 minutes, a busy session costs one UPDATE per 3 minutes, not one per request. The price: a
   * session may end up to this share earlier than a full idle timeout after its last request.
   */
  public static final double DEFAULT_TOUCH_FRACTION = 0.1;

  /**
   * How long a master trusts a session it has read from the database before it reads it again. A
   * session invalidated (logged out) on one master stops working on every other master within this
   * bound (plus the time of one read).
   */
  public static final Duration DEFAULT_STALENESS = Duration.ofSeconds(1);

  /** How often a master deletes expired sessions (every master does; the work is shared). */
  public static final Duration DEFAULT_PURGE_INTERVAL = Duration.ofMinutes(1);

  /** Sessions deleted by one purge statement. */
  public static final int DEFAULT_PURGE_BATCH_SIZE = 500;

  /** Purge statements per run at most, so one run stays short even after a long outage. */
  public static final int DEFAULT_PURGE_MAX_BATCHES = 20;

  /** Sessions a master keeps validated in memory at most (only those used in the last second). */
  public static final int DEFAULT_CACHE_MAX_ENTRIES = 10_000;

  /** The cookie that carries the session id. */
  public static final String DEFAULT_COOKIE_NAME = "ARBITER_SESSION";

  private static final Pattern COOKIE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final Duration idleTimeout;
  private final Duration touchInterval;
  private final Duration staleness;
  private final Duration purgeInterval;
  private final int purgeBatchSize;
  private final int purgeMaxBatches;
  private final int cacheMaxEntries;
  private final String cookieName;
  private final boolean cookieSecure;
  private final Ticker ticker;

  private SessionConfig(Builder b) {
    this.idleTimeout = b.idleTimeout;
    this.touchInterval =
        b.touchInterval != null
            ? b.touchInterval
            : Duration.ofMillis((long) (b.idleTimeout.toMillis() * DEFAULT_TOUCH_FRACTION));
    this.staleness = b.staleness;
    this.purgeInterval = b.purgeInterval;
    this.purgeBatchSize = b.purgeBatchSize;
    this.purgeMaxBatches = b.purgeMaxBatches;
    this.cacheMaxEntries = b.cacheMaxEntries;
    this.cookieName = b.cookieName;
    this.cookieSecure = b.cookieSecure;
    this.ticker = b.ticker;
    validate();
  }

  public static Builder builder() {
    return new Builder();
  }

  public static SessionConfig defaults() {
    return builder().build();
  }

  private void validate() {
    if (idleTimeout == null || idleTimeout.toMillis() < 100) {
      throw new InvalidConfigException("idleTimeout", idleTimeout, "must be at least 100 ms");
    }
    if (touchInterval.isNegative() || touchInterval.compareTo(idleTimeout) >= 0) {
      throw new InvalidConfigException(
          "touchInterval",
          touchInterval,
          "must be at least 0 and smaller than idleTimeout (" + idleTimeout + ")");
    }
    if (staleness == null || staleness.isNegative()) {
      throw new InvalidConfigException("staleness", staleness, "must be at least 0");
    }
    if (purgeInterval == null || purgeInterval.isNegative() || purgeInterval.isZero()) {
      throw new InvalidConfigException("purgeInterval", purgeInterval, "must be positive");
    }
    if (purgeBatchSize < 1 || purgeBatchSize > 10_000) {
      throw new InvalidConfigException("purgeBatchSize", purgeBatchSize, "must be 1 to 10000");
    }
    if (purgeMaxBatches < 1) {
      throw new InvalidConfigException("purgeMaxBatches", purgeMaxBatches, "must be at least 1");
    }
    if (cacheMaxEntries < 0) {
      throw new InvalidConfigException("cacheMaxEntries", cacheMaxEntries, "must be at least 0");
    }
    if (cookieName == null || !COOKIE_NAME.matcher(cookieName).matches()) {
      throw new InvalidConfigException(
          "cookieName",
          "'" + cookieName + "'",
          "must be 1 to 64 letters, digits, '_' or '-' (a valid cookie name)");
    }
  }

  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** A request extends its session only if at least this long has passed since the last touch. */
  public Duration touchInterval() {
    return touchInterval;
  }

  /** How long a validated session is trusted without reading the database again. */
  public Duration staleness() {
    return staleness;
  }

  public Duration purgeInterval() {
    return purgeInterval;
  }

  public int purgeBatchSize() {
    return purgeBatchSize;
  }

  public int purgeMaxBatches() {
    return purgeMaxBatches;
  }

  public int cacheMaxEntries() {
    return cacheMaxEntries;
  }

  public String cookieName() {
    return cookieName;
  }

  /** Whether the cookie is marked Secure (sent over HTTPS only); on for any real deployment. */
  public boolean cookieSecure() {
    return cookieSecure;
  }

  public Ticker ticker() {
    return ticker;
  }

  @Override
  public String toString() {
    return "SessionConfig[idleTimeout="
        + idleTimeout
        + ", touchInterval="
        + touchInterval
        + ", staleness="
        + staleness
        + ", purgeInterval="
        + purgeInterval
        + ", purgeBatchSize="
        + purgeBatchSize
        + ", purgeMaxBatches="
        + purgeMaxBatches
        + ", cacheMaxEntries="
        + cacheMaxEntries
        + ", cookieName="
        + cookieName
        + ", cookieSecure="
        + cookieSecure
        + "]";
  }

  /** Builds a {@link SessionConfig}; every setter has a documented default. */
  public static final class Builder {
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration touchInterval; // null: DEFAULT_TOUCH_FRACTION of idleTimeout
    private Duration staleness = DEFAULT_STALENESS;
    private Duration purgeInterval = DEFAULT_PURGE_INTERVAL;
    private int purgeBatchSize = DEFAULT_PURGE_BATCH_SIZE;
    private int purgeMaxBatches = DEFAULT_PURGE_MAX_BATCHES;
    private int cacheMaxEntries = DEFAULT_CACHE_MAX_ENTRIES;
    private String cookieName = DEFAULT_COOKIE_NAME;
    private boolean cookieSecure;
    private Ticker ticker = Ticker.system();

    private Builder() {}

    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = idleTimeout;
      return this;
    }

    public Builder touchInterval(Duration touchInterval) {
      this.touchInterval = touchInterval;
      return this;
    }

    public Builder staleness(Duration staleness) {
      this.staleness = staleness;
      return this;
    }

    public Builder purgeInterval(Duration purgeInterval) {
      this.purgeInterval = purgeInterval;
      return this;
    }

    public Builder purgeBatchSize(int purgeBatchSize) {
      this.purgeBatchSize = purgeBatchSize;
      return this;
    }

    public Builder purgeMaxBatches(int purgeMaxBatches) {
      this.purgeMaxBatches = purgeMaxBatches;
      return this;
    }

    public Builder cacheMaxEntries(int cacheMaxEntries) {
      this.cacheMaxEntries = cacheMaxEntries;
      return this;
    }

    public Builder cookieName(String cookieName) {
      this.cookieName = cookieName;
      return this;
    }

    public Builder cookieSecure(boolean cookieSecure) {
      this.cookieSecure = cookieSecure;
      return this;
    }

    /** The monotonic clock for the cache's ages; tests pass a manual one. */
    public Builder ticker(Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    public SessionConfig build() {
      return new SessionConfig(this);
    }
  }
}
