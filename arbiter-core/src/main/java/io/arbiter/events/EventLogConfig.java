package io.arbiter.events;

import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import io.arbiter.time.Ticker;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * How one master reads the cluster event log. Immutable; built and validated by {@link Builder}.
 * Every default is a named constant next to its field.
 */
public final class EventLogConfig {
  /**
   * With push wake-ups (PostgreSQL), the longest the reader sleeps without looking at the log. A
   * safety net only: the NOTIFY after each publish and the cluster heartbeat's head reading wake it
   * sooner. At rest this is the only query the reader makes.
   */
  public static final Duration DEFAULT_SAFETY_POLL_INTERVAL = Duration.ofSeconds(10);

  /** Without push wake-ups (MariaDB/MySQL), how often the reader polls the log. */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(50);

  /** How often the delivered position is saved, at most (only when it moved). */
  public static final Duration DEFAULT_SAVE_POSITION_INTERVAL = Duration.ofSeconds(1);

  /** Events read per statement while catching up. */
  public static final int DEFAULT_BATCH_SIZE = 500;

  /** First and longest wait between attempts to read the log after a failure. */
  public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(100);

  public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofSeconds(2);

  /**
   * Events older than this are purged. A master down for longer resumes after the purged ones and
   * is told what it lost ({@link Builder#onEventsLost}).
   */
  public static final Duration DEFAULT_RETENTION_AGE = Duration.ofDays(7);

  /** At most this many events are kept. */
  public static final long DEFAULT_RETENTION_MAX_EVENTS = 1_000_000;

  /** How often this master runs the retention purge ({@link Duration#ZERO}: never). */
  public static final Duration DEFAULT_PURGE_INTERVAL = Duration.ofMinutes(10);

  private final String memberName;
  private final Duration safetyPollInterval;
  private final Duration pollInterval;
  private final Duration savePositionInterval;
  private final int batchSize;
  private final Duration retryBackoffMin;
  private final Duration retryBackoffMax;
  private final Duration retentionAge;
  private final long retentionMaxEvents;
  private final Duration purgeInterval;
  private final Ticker ticker;
  private final Consumer<EventsLost> onEventsLost;

  private EventLogConfig(Builder b) {
    this.memberName = b.memberName;
    this.safetyPollInterval = b.safetyPollInterval;
    this.pollInterval = b.pollInterval;
    this.savePositionInterval = b.savePositionInterval;
    this.batchSize = b.batchSize;
    this.retryBackoffMin = b.retryBackoffMin;
    this.retryBackoffMax = b.retryBackoffMax;
    this.retentionAge = b.retentionAge;
    this.retentionMaxEvents = b.retentionMaxEvents;
    this.purgeInterval = b.purgeInterval;
    this.ticker = b.ticker;
    this.onEventsLost = b.onEventsLost;
    validate();
  }

  /** A builder for the reader of member {@code memberName} (its position is saved under it). */
  public static Builder builder(String memberName) {
    return new Builder(memberName);
  }

  private void validate() {
    ClusterConfig.validateName("memberName", memberName);
    positive("safetyPollInterval", safetyPollInterval);
    positive("pollInterval", pollInterval);
    positive("savePositionInterval", savePositionInterval);
    positive("retryBackoffMin", retryBackoffMin);
    positive("retryBackoffMax", retryBackoffMax);
    positive("retentionAge", retentionAge);
    if (batchSize < 1 || batchSize > 10_000) {
      throw new InvalidConfigException("batchSize", batchSize, "must be between 1 and 10000");
    }
    if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
      throw new InvalidConfigException(
          "retryBackoffMax", retryBackoffMax, "must not be shorter than retryBackoffMin");
    }
    if (retentionMaxEvents < 1) {
      throw new InvalidConfigException(
          "retentionMaxEvents", retentionMaxEvents, "must be at least 1");
    }
    if (purgeInterval == null || purgeInterval.isNegative()) {
      throw new InvalidConfigException(
          "purgeInterval", purgeInterval, "must be zero (never purge) or positive");
    }
    if (ticker == null) {
      throw new InvalidConfigException("ticker", null, "must not be null");
    }
    if (onEventsLost == null) {
      throw new InvalidConfigException("onEventsLost", null, "must not be null");
    }
  }

  private static void positive(String field, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new InvalidConfigException(field, d, "must be a positive duration");
    }
  }

  public String memberName() {
    return memberName;
  }

  public Duration safetyPollInterval() {
    return safetyPollInterval;
  }

  public Duration pollInterval() {
    return pollInterval;
  }

  public Duration savePositionInterval() {
    return savePositionInterval;
  }

  public int batchSize() {
    return batchSize;
  }

  public Duration retryBackoffMin() {
    return retryBackoffMin;
  }

  public Duration retryBackoffMax() {
    return retryBackoffMax;
  }

  public Duration retentionAge() {
    return retentionAge;
  }

  public long retentionMaxEvents() {
    return retentionMaxEvents;
  }

  public Duration purgeInterval() {
    return purgeInterval;
  }

  /** The monotonic clock confirmations are stamped with; the cluster heartbeat must use it too. */
  public Ticker ticker() {
    return ticker;
  }

  /** Told of events purged before this master read them (does nothing unless set). */
  public Consumer<EventsLost> onEventsLost() {
    return onEventsLost;
  }

  @Override
  public String toString() {
    return "EventLogConfig{member="
        + memberName
        + ", safetyPollInterval="
        + safetyPollInterval
        + ", pollInterval="
        + pollInterval
        + ", savePositionInterval="
        + savePositionInterval
        + ", batchSize="
        + batchSize
        + ", retryBackoff="
        + retryBackoffMin
        + ".."
        + retryBackoffMax
        + ", retentionAge="
        + retentionAge
        + ", retentionMaxEvents="
        + retentionMaxEvents
        + ", purgeInterval="
        + purgeInterval
        + "}";
  }

  /** Builds an {@link EventLogConfig}; every setting has a default. */
  public static final class Builder {
    private final String memberName;
    private Duration safetyPollInterval = DEFAULT_SAFETY_POLL_INTERVAL;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration savePositionInterval = DEFAULT_SAVE_POSITION_INTERVAL;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private Duration retryBackoffMin = DEFAULT_RETRY_BACKOFF_MIN;
    private Duration retryBackoffMax = DEFAULT_RETRY_BACKOFF_MAX;
    private Duration retentionAge = DEFAULT_RETENTION_AGE;
    private long retentionMaxEvents = DEFAULT_RETENTION_MAX_EVENTS;
    private Duration purgeInterval = DEFAULT_PURGE_INTERVAL;
    private Ticker ticker = Ticker.system();
    private Consumer<EventsLost> onEventsLost = lost -> {};

    private Builder(String memberName) {
      this.memberName = memberName;
    }

    public Builder safetyPollInterval(Duration d) {
      this.safetyPollInterval = d;
      return this;
    }

    public Builder pollInterval(Duration d) {
      this.pollInterval = d;
      return this;
    }

    public Builder savePositionInterval(Duration d) {
      this.savePositionInterval = d;
      return this;
    }

    public Builder batchSize(int n) {
      this.batchSize = n;
      return this;
    }

    public Builder retryBackoff(Duration min, Duration max) {
      this.retryBackoffMin = min;
      this.retryBackoffMax = max;
      return this;
    }

    public Builder retentionAge(Duration d) {
      this.retentionAge = d;
      return this;
    }

    public Builder retentionMaxEvents(long n) {
      this.retentionMaxEvents = n;
      return this;
    }

    public Builder purgeInterval(Duration d) {
      this.purgeInterval = d;
      return this;
    }

    public Builder ticker(Ticker t) {
      this.ticker = t;
      return this;
    }

    /**
     * Called (on the reader thread) when retention purged events before this master read them, with
     * the exact range; a WARN with the range is logged as well. Use it to drop whatever was derived
     * from the log. {@link EventLog#onEventsLost(Runnable)} adds handlers later.
     */
    public Builder onEventsLost(Consumer<EventsLost> callback) {
      this.onEventsLost = callback;
      return this;
    }

    public EventLogConfig build() {
      return new EventLogConfig(this);
    }
  }
}
