package io.arbiter.chaos;

import io.arbiter.InvalidConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * How a chaos run is set up. Built with {@link #builder()}; every default is a named constant, and
 * {@link Builder#build()} rejects values that cannot make a meaningful run, naming the option.
 *
 * @param jdbcUrl the database, or null for an embedded PostgreSQL the run starts (and may restart)
 * @param createSchema create Arbiter's tables if they are missing (else a missing schema is an
 *     error)
 * @param tick how long each service waits between two writes ({@code arbiter master --tick})
 * @param work how long each service works between deciding to write and writing ({@code --work}): a
 *     pause that lands inside it makes the master wake up and send a write with a stale token
 * @param workDir where the history files and master logs go; null for a new temporary directory
 * @param callbackDelayMax each start and stop callback of the workload first waits a seeded random
 *     time from 0 to this (while faults are injected)
 * @param callbackFailureRate the probability that a start or stop callback fails (while faults are
 *     injected)
 * @param callbackTimeout the masters' {@code ClusterConfig.callbackTimeout}
 */
public record ChaosOptions(
    String jdbcUrl,
    String user,
    String password,
    boolean createSchema,
    int masters,
    int services,
    Duration duration,
    long seed,
    Set<FaultKind> faults,
    List<String> plantedBugs,
    Duration leaseTtl,
    Duration tick,
    Duration work,
    Path workDir,
    Duration callbackDelayMax,
    double callbackFailureRate,
    Duration callbackTimeout) {
  /**
   * The safety mechanisms a run can break on purpose (`--plant-bug`), to prove that a checker
   * catches what they prevent. The masters get them as the system property {@code
   * arbiter.plantedBugs}, which the engine reads once at start.
   */
  public static final List<String> PLANTED_BUGS =
      List.of(
          "skip-fence",
          "no-self-fence",
          "wall-clock-lease",
          "forget-lost-ack",
          "keep-failed-start");

  /** Fails with a message naming the known labels when {@code label} is not one of them. */
  public static void validatePlantedBug(String label) {
    if (!PLANTED_BUGS.contains(label)) {
      throw new InvalidConfigException(
          "--plant-bug", label, "must be one of " + String.join(", ", PLANTED_BUGS));
    }
  }

  public static final int DEFAULT_MASTERS = 5;
  public static final int DEFAULT_SERVICES = 12;
  public static final Duration DEFAULT_DURATION = Duration.ofSeconds(60);
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(3);

  /**
   * Short waits and long work: a pause then usually lands between a decision and its write, which
   * is what the fence is for. (A master's services tick in step, so a pause catches all or none.)
   */
  public static final Duration DEFAULT_TICK = Duration.ofMillis(50);

  public static final Duration DEFAULT_WORK = Duration.ofMillis(100);

  public static final Duration DEFAULT_CALLBACK_DELAY_MAX = Duration.ZERO;
  public static final double DEFAULT_CALLBACK_FAILURE_RATE = 0;
  public static final Duration DEFAULT_CALLBACK_TIMEOUT =
      io.arbiter.ClusterConfig.DEFAULT_CALLBACK_TIMEOUT;

  public ChaosOptions {
    faults = Set.copyOf(faults);
    plantedBugs = List.copyOf(plantedBugs);
  }

  public boolean embedded() {
    return jdbcUrl == null;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link ChaosOptions}; unset values take the defaults above. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private boolean createSchema = true;
    private int masters = DEFAULT_MASTERS;
    private int services = DEFAULT_SERVICES;
    private Duration duration = DEFAULT_DURATION;
    private Long seed;
    private Set<FaultKind> faults = EnumSet.allOf(FaultKind.class);
    private final List<String> plantedBugs = new ArrayList<>();
    private Duration leaseTtl = DEFAULT_LEASE_TTL;
    private Duration tick = DEFAULT_TICK;
    private Duration work = DEFAULT_WORK;
    private Path workDir;
    private Duration callbackDelayMax = DEFAULT_CALLBACK_DELAY_MAX;
    private double callbackFailureRate = DEFAULT_CALLBACK_FAILURE_RATE;
    private Duration callbackTimeout = DEFAULT_CALLBACK_TIMEOUT;

    /** Start and stop callbacks wait a random time up to this ({@code --callback-delay-max}). */
    public Builder callbackDelayMax(Duration max) {
      this.callbackDelayMax = max;
      return this;
    }

    /** The probability that a callback fails ({@code --callback-failure-rate}). */
    public Builder callbackFailureRate(double rate) {
      this.callbackFailureRate = rate;
      return this;
    }

    public Builder callbackTimeout(Duration timeout) {
      this.callbackTimeout = timeout;
      return this;
    }

    /** A JDBC URL, or null for the embedded PostgreSQL. */
    public Builder database(String url, String user, String password) {
      this.jdbcUrl = url;
      this.user = user;
      this.password = password;
      return this;
    }

    public Builder createSchema(boolean create) {
      this.createSchema = create;
      return this;
    }

    public Builder masters(int n) {
      this.masters = n;
      return this;
    }

    public Builder services(int n) {
      this.services = n;
      return this;
    }

    public Builder duration(Duration d) {
      this.duration = d;
      return this;
    }

    /** The seed of the fault schedule; unset: a random one, printed so the run can be repeated. */
    public Builder seed(long s) {
      this.seed = s;
      return this;
    }

    public Builder faults(Set<FaultKind> kinds) {
      this.faults = kinds.isEmpty() ? EnumSet.noneOf(FaultKind.class) : EnumSet.copyOf(kinds);
      return this;
    }

    public Builder plantBug(String name) {
      this.plantedBugs.add(name);
      return this;
    }

    public Builder leaseTtl(Duration ttl) {
      this.leaseTtl = ttl;
      return this;
    }

    public Builder tick(Duration t) {
      this.tick = t;
      return this;
    }

    public Builder work(Duration w) {
      this.work = w;
      return this;
    }

    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    public ChaosOptions build() {
      if (masters < 2) {
        throw new InvalidConfigException(
            "--masters", masters, "must be at least 2, so that services can move");
      }
      if (services < 1) {
        throw new InvalidConfigException("--services", services, "must be at least 1");
      }
      if (duration == null || duration.isNegative() || duration.isZero()) {
        throw new InvalidConfigException("--duration", duration, "must be positive");
      }
      if (faults.isEmpty()) {
        throw new InvalidConfigException(
            "--faults", "", "must name at least one of " + FaultKind.allLabels());
      }
      if (leaseTtl.toMillis() < 1_000) {
        throw new InvalidConfigException(
            "--lease-ttl", leaseTtl, "must be at least 1s for the faults' timings to make sense");
      }
      if (tick.isNegative() || tick.isZero()) {
        throw new InvalidConfigException("--tick", tick, "must be positive");
      }
      if (work.isNegative()) {
        throw new InvalidConfigException("--work", work, "must not be negative");
      }
      if (callbackDelayMax == null || callbackDelayMax.isNegative()) {
        throw new InvalidConfigException(
            "--callback-delay-max", callbackDelayMax, "must not be negative");
      }
      if (!(callbackFailureRate >= 0 && callbackFailureRate <= 1)) {
        throw new InvalidConfigException(
            "--callback-failure-rate", callbackFailureRate, "must be between 0 and 1");
      }
      if (callbackTimeout == null || callbackTimeout.isNegative() || callbackTimeout.isZero()) {
        throw new InvalidConfigException("--callback-timeout", callbackTimeout, "must be positive");
      }
      plantedBugs.forEach(ChaosOptions::validatePlantedBug); // fails here, not in every master
      long s = seed != null ? seed : new java.security.SecureRandom().nextInt(Integer.MAX_VALUE);
      return new ChaosOptions(
          jdbcUrl,
          user,
          password,
          createSchema,
          masters,
          services,
          duration,
          s,
          faults,
          plantedBugs,
          leaseTtl,
          tick,
          work,
          workDir,
          callbackDelayMax,
          callbackFailureRate,
          callbackTimeout);
    }
  }
}
