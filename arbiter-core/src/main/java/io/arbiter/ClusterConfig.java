package io.arbiter;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How one master takes part in the cluster. Immutable; built and validated by {@link Builder}.
 * Every default is a named constant next to its field.
 */
public final class ClusterConfig {
  /** How long a lease lasts without renewal, judged by the database's clock. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(3);

  /** How often the lease is renewed: a third of the TTL unless set. */
  public static final int DEFAULT_RENEWALS_PER_TTL = 3;

  /**
   * How much earlier than the lease's end, on its own monotonic clock, a master stops its services
   * when it cannot renew. Covers the time the stop callbacks take and clock-rate drift.
   */
  public static final Duration DEFAULT_SELF_FENCE_MARGIN = Duration.ofMillis(500);

  /** The longest a master waits between two looks for services to claim (a safety net). */
  public static final Duration DEFAULT_CLAIM_POLL_INTERVAL = Duration.ofSeconds(1);

  /**
   * How often a master without push notifications (MariaDB/MySQL) polls for cluster changes such as
   * a clean stop, so that handoff stays fast.
   */
  public static final Duration DEFAULT_CHANGE_POLL_INTERVAL = Duration.ofMillis(50);

  /** How long a service's start or stop callback may take before Arbiter warns and moves on. */
  public static final Duration DEFAULT_CALLBACK_TIMEOUT = Duration.ofSeconds(10);

  /** First and longest wait between attempts to reach the database at start or after a loss. */
  public static final Duration DEFAULT_RETRY_BACKOFF_MIN = Duration.ofMillis(250);

  public static final Duration DEFAULT_RETRY_BACKOFF_MAX = Duration.ofSeconds(2);

  /**
   * How long a master that has never joined waits for a read-only database (a hot standby, a
   * primary demoted by a failover) to become writable before it gives up. Once joined, a read-only
   * database is retried for ever, like an unreachable one.
   */
  public static final Duration DEFAULT_READ_ONLY_STARTUP_LIMIT = Duration.ofMinutes(1);

  /** A master's share of the services relative to the others; 0 takes nothing. */
  public static final double DEFAULT_CAPACITY = 1;

  /**
   * The most services a master has handed over (stopped and released) whose new owner has not
   * claimed them yet. Bounds how much stops at once when a master joins or drains; the rest follow
   * as the new owners claim.
   */
  public static final int DEFAULT_MAX_MOVES_IN_FLIGHT = 100;

  public static final int MAX_NAME_LENGTH = 64;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private final String memberName;
  private final Duration leaseTtl;
  private final Duration renewInterval;
  private final Duration selfFenceMargin;
  private final Duration claimPollInterval;
  private final Duration changePollInterval;
  private final Duration callbackTimeout;
  private final Duration retryBackoffMin;
  private final Duration retryBackoffMax;
  private final Duration readOnlyStartupLimit;
  private final double capacity;
  private final java.util.Set<String> tags;
  private final int maxMovesInFlight;

  private ClusterConfig(Builder b) {
    this.capacity = b.capacity;
    this.tags = java.util.Set.copyOf(new java.util.TreeSet<>(b.tags));
    this.maxMovesInFlight = b.maxMovesInFlight;
    this.memberName = b.memberName;
    this.leaseTtl = b.leaseTtl;
    this.renewInterval =
        b.renewInterval != null ? b.renewInterval : b.leaseTtl.dividedBy(DEFAULT_RENEWALS_PER_TTL);
    this.selfFenceMargin =
        b.selfFenceMargin != null
            ? b.selfFenceMargin
            : min(DEFAULT_SELF_FENCE_MARGIN, b.leaseTtl.dividedBy(6));
    this.claimPollInterval = b.claimPollInterval;
    this.changePollInterval = b.changePollInterval;
    this.callbackTimeout = b.callbackTimeout;
    this.retryBackoffMin = b.retryBackoffMin;
    this.retryBackoffMax = b.retryBackoffMax;
    this.readOnlyStartupLimit = b.readOnlyStartupLimit;
    validate();
  }

  public static Builder builder(String memberName) {
    return new Builder(memberName);
  }

  /** Checks a member or service name; used for both so the rules read the same everywhere. */
  public static void validateName(String field, String name) {
    if (name == null || name.isBlank()) {
      throw new InvalidConfigException(field, "'" + name + "'", "must not be empty");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new InvalidConfigException(
          field, "'" + name + "'", "must be at most " + MAX_NAME_LENGTH + " characters");
    }
    if (!NAME.matcher(name).matches()) {
      throw new InvalidConfigException(
          field,
          "'" + name + "'",
          "may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit");
    }
  }

  private void validate() {
    validateName("memberName", memberName);
    positive("leaseTtl", leaseTtl);
    positive("renewInterval", renewInterval);
    positive("claimPollInterval", claimPollInterval);
    positive("changePollInterval", changePollInterval);
    positive("callbackTimeout", callbackTimeout);
    positive("retryBackoffMin", retryBackoffMin);
    positive("readOnlyStartupLimit", readOnlyStartupLimit);
    if (leaseTtl.toMillis() < 100) {
      throw new InvalidConfigException("leaseTtl", leaseTtl, "must be at least 100 ms");
    }
    if (selfFenceMargin.isNegative()) {
      throw new InvalidConfigException("selfFenceMargin", selfFenceMargin, "must not be negative");
    }
    if (renewInterval.compareTo(leaseTtl) >= 0) {
      throw new InvalidConfigException(
          "leaseTtl",
          leaseTtl,
          "must be larger than renewInterval (" + renewInterval + "), or no renewal can keep it");
    }
    if (renewInterval.plus(selfFenceMargin).compareTo(leaseTtl) >= 0) {
      throw new InvalidConfigException(
          "selfFenceMargin",
          selfFenceMargin,
          "renewInterval ("
              + renewInterval
              + ") + selfFenceMargin must be smaller than leaseTtl ("
              + leaseTtl
              + ")");
    }
    if (!(capacity >= 0) || Double.isInfinite(capacity)) {
      throw new InvalidConfigException("capacity", capacity, "must be a finite number >= 0");
    }
    for (String tag : tags) {
      validateName("tag", tag);
    }
    if (maxMovesInFlight < 1) {
      throw new InvalidConfigException("maxMovesInFlight", maxMovesInFlight, "must be at least 1");
    }
    if (retryBackoffMax.compareTo(retryBackoffMin) < 0) {
      throw new InvalidConfigException(
          "retryBackoffMax",
          retryBackoffMax,
          "must be at least retryBackoffMin (" + retryBackoffMin + ")");
    }
  }

  private static void positive(String field, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new InvalidConfigException(field, value, "must be a positive duration");
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  public String memberName() {
    return memberName;
  }

  public Duration leaseTtl() {
    return leaseTtl;
  }

  public Duration renewInterval() {
    return renewInterval;
  }

  public Duration selfFenceMargin() {
    return selfFenceMargin;
  }

  public Duration claimPollInterval() {
    return claimPollInterval;
  }

  public Duration changePollInterval() {
    return changePollInterval;
  }

  public Duration callbackTimeout() {
    return callbackTimeout;
  }

  public Duration retryBackoffMin() {
    return retryBackoffMin;
  }

  public Duration retryBackoffMax() {
    return retryBackoffMax;
  }

  /** See {@link #DEFAULT_READ_ONLY_STARTUP_LIMIT}. */
  public Duration readOnlyStartupLimit() {
    return readOnlyStartupLimit;
  }

  public double capacity() {
    return capacity;
  }

  public java.util.Set<String> tags() {
    return tags;
  }

  public int maxMovesInFlight() {
    return maxMovesInFlight;
  }

  @Override
  public String toString() {
    return "memberName="
        + memberName
        + ", capacity="
        + capacity
        + ", tags="
        + tags
        + ", maxMovesInFlight="
        + maxMovesInFlight
        + ", leaseTtl="
        + leaseTtl.toMillis()
        + "ms, renewInterval="
        + renewInterval.toMillis()
        + "ms, selfFenceMargin="
        + selfFenceMargin.toMillis()
        + "ms, claimPollInterval="
        + claimPollInterval.toMillis()
        + "ms, changePollInterval="
        + changePollInterval.toMillis()
        + "ms, callbackTimeout="
        + callbackTimeout.toMillis()
        + "ms, readOnlyStartupLimit="
        + readOnlyStartupLimit.toMillis()
        + "ms";
  }

  /** Builds a {@link ClusterConfig}; {@link #build()} validates and names any broken rule. */
  public static final class Builder {
    private final String memberName;
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private Duration renewInterval;
    private Duration selfFenceMargin;
    private Duration claimPollInterval = DEFAULT_CLAIM_POLL_INTERVAL;
    private Duration changePollInterval = DEFAULT_CHANGE_POLL_INTERVAL;
    private Duration callbackTimeout = DEFAULT_CALLBACK_TIMEOUT;
    private Duration retryBackoffMin = DEFAULT_RETRY_BACKOFF_MIN;
    private Duration retryBackoffMax = DEFAULT_RETRY_BACKOFF_MAX;
    private Duration readOnlyStartupLimit = DEFAULT_READ_ONLY_STARTUP_LIMIT;
    private double capacity = DEFAULT_CAPACITY;
    private java.util.Set<String> tags = java.util.Set.of();
    private int maxMovesInFlight = DEFAULT_MAX_MOVES_IN_FLIGHT;

    private Builder(String memberName) {
      this.memberName = memberName;
    }

    /** This master's share of the services relative to the others (default 1; 0 takes none). */
    public Builder capacity(double capacity) {
      this.capacity = capacity;
      return this;
    }

    /** What this master offers (e.g. "web"), matched by services that require a tag. */
    public Builder tags(java.util.Collection<String> tags) {
      if (tags == null) {
        throw new InvalidConfigException("tags", null, "must not be null");
      }
      this.tags = java.util.Set.copyOf(tags);
      return this;
    }

    /** See {@link ClusterConfig#DEFAULT_MAX_MOVES_IN_FLIGHT}. */
    public Builder maxMovesInFlight(int maxMovesInFlight) {
      this.maxMovesInFlight = maxMovesInFlight;
      return this;
    }

    public Builder leaseTtl(Duration leaseTtl) {
      this.leaseTtl = leaseTtl;
      return this;
    }

    /** Defaults to a third of the lease TTL. */
    public Builder renewInterval(Duration renewInterval) {
      this.renewInterval = renewInterval;
      return this;
    }

    /** Defaults to the smaller of 500 ms and a sixth of the lease TTL. */
    public Builder selfFenceMargin(Duration selfFenceMargin) {
      this.selfFenceMargin = selfFenceMargin;
      return this;
    }

    public Builder claimPollInterval(Duration claimPollInterval) {
      this.claimPollInterval = claimPollInterval;
      return this;
    }

    public Builder changePollInterval(Duration changePollInterval) {
      this.changePollInterval = changePollInterval;
      return this;
    }

    public Builder callbackTimeout(Duration callbackTimeout) {
      this.callbackTimeout = callbackTimeout;
      return this;
    }

    public Builder retryBackoff(Duration min, Duration max) {
      this.retryBackoffMin = min;
      this.retryBackoffMax = max;
      return this;
    }

    /** See {@link ClusterConfig#DEFAULT_READ_ONLY_STARTUP_LIMIT}. */
    public Builder readOnlyStartupLimit(Duration readOnlyStartupLimit) {
      this.readOnlyStartupLimit = readOnlyStartupLimit;
      return this;
    }

    public ClusterConfig build() {
      if (leaseTtl == null) {
        throw new InvalidConfigException("leaseTtl", null, "must be a positive duration");
      }
      return new ClusterConfig(this);
    }
  }
}
