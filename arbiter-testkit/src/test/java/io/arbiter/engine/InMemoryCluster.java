package io.arbiter.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.arbiter.Cluster;
import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.ClusteredService;
import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.MemberStateChange;
import io.arbiter.testkit.InMemoryClusterStore;
import io.arbiter.testkit.ManualTicker;
import io.arbiter.testkit.RecordingService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Masters in one JVM on one in-memory database, all on one manual clock: the database judges leases
 * by it, and every master measures its own lease on it. Time stands still until a test calls {@link
 * #advance}, so whatever happens without it did not wait for a lease to run out; a lease runs out
 * only when a test says so, and at once.
 *
 * <p>The engine's threads still run in real time (renewals, the claim loop, the watchdog); each
 * master renews every {@link #RENEW_INTERVAL} of real time, which keeps the tests fast. Every
 * service started through {@link #recorded()} is watched by {@link #ledger}, which notes any moment
 * at which two masters ran one service; {@link #close()} asserts that there was none.
 */
final class InMemoryCluster implements AutoCloseable {
  /** The lease, on the manual clock. */
  static final Duration TTL = Duration.ofSeconds(3);

  /** Real time between renewals: the manual clock does not move between them. */
  static final Duration RENEW_INTERVAL = Duration.ofMillis(20);

  /** The longest {@link #advance} moves the clock at once (less if a master's margin is less). */
  static final Duration STEP = Duration.ofMillis(250);

  /** How long (real time) a test waits for something that should happen within milliseconds. */
  static final Duration SETTLE = Duration.ofSeconds(10);

  final ManualTicker clock = new ManualTicker();
  final InMemoryClusterStore database = new InMemoryClusterStore(clock);
  final RecordingService.Ledger ledger = new RecordingService.Ledger();

  /** The operator's tools, on a connection of their own. */
  final ClusterAdmin admin = new ClusterAdmin(database.connect());

  private final List<Master> masters = new CopyOnWriteArrayList<>();

  /** A master's config as the tests use it: the lease on the manual clock, quick retries. */
  static ClusterConfig.Builder config(String name) {
    return ClusterConfig.builder(name)
        .leaseTtl(TTL)
        .renewInterval(RENEW_INTERVAL)
        .claimPollInterval(Duration.ofMillis(100))
        .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(100));
  }

  /** Starts a master running recorded services with the given names. */
  Master start(String name, String... services) {
    return start(config(name), b -> List.of(services).forEach(s -> b.service(s, recorded())));
  }

  /** Starts a master with its own connection to the database. */
  Master start(ClusterConfig.Builder config, Consumer<Cluster.Builder> services) {
    return build(config, services).start();
  }

  /** Builds a master with its own connection to the database; {@link Master#start()} starts it. */
  Master build(ClusterConfig.Builder config, Consumer<Cluster.Builder> services) {
    Master m = new Master(config.build(), database.connect());
    Cluster.Builder b =
        Cluster.builder(m.connection, m.config)
            .ticker(clock)
            .clock(new TickerClock(clock))
            .listener(m);
    services.accept(b);
    m.cluster = b.build();
    masters.add(m);
    return m;
  }

  /** A service that records its starts and stops in {@link #ledger}. */
  ClusteredService recorded() {
    return new RecordingService(ledger);
  }

  /**
   * Moves the clock by {@code d}, in steps no longer than any master's self-fence margin. After
   * each step it waits (in real time) until every master has caught up with the new time: a master
   * whose connection works has renewed, and a master whose own lease ran out has stopped its
   * services. That is what a real clock gives: a master that can renew renews long before its lease
   * runs out, and the watchdog acts within the margin.
   */
  void advance(Duration d) {
    long step =
        masters.stream()
            .map(m -> m.config.selfFenceMargin())
            .filter(margin -> margin.compareTo(STEP) < 0)
            .min(Duration::compareTo)
            .orElse(STEP)
            .toNanos();
    for (long left = d.toNanos(); left > 0; left -= step) {
      clock.advance(Duration.ofNanos(Math.min(step, left)));
      long now = clock.nanos();
      for (Master m : masters) {
        await(
            () -> m.name() + " to catch up with the clock: " + m.lagging(now),
            () -> m.lagging(now) == null);
      }
    }
  }

  /** Waits (real time, up to {@link #SETTLE}) until {@code condition} holds. */
  void await(String what, BooleanSupplier condition) {
    await(() -> what, condition);
  }

  private void await(Supplier<String> what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("waited " + SETTLE.toSeconds() + " s for " + what.get());
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what.get(), e);
      }
    }
  }

  /**
   * Waits until the database shows the balancer's assignment carried out and every one of {@code
   * services} runs somewhere.
   */
  void awaitBalanced(Collection<String> services) throws InterruptedException {
    assertThat(admin.awaitBalanced(SETTLE)).as("balanced within %s", SETTLE).isTrue();
    await(
        "every service to run: " + services,
        () -> services.stream().allMatch(s -> ledger.runningOn(s).isPresent()));
  }

  /** Heals every connection, closes every master (last started first), then checks the ledger. */
  @Override
  public void close() {
    masters.forEach(m -> m.connection.fault(InMemoryClusterStore.Fault.NONE));
    for (int i = masters.size() - 1; i >= 0; i--) {
      masters.get(i).cluster.close();
    }
    database.close();
    assertThat(ledger.overlaps()).as("moments with two masters running one service").isEmpty();
  }

  /** One master: its cluster, its connection and what its listener heard. */
  final class Master implements ClusterListener {
    final ClusterConfig config;
    final InMemoryClusterStore connection;
    final List<MemberStateChange> changes = new CopyOnWriteArrayList<>();
    private volatile long lastRenewalSentNanos = Long.MIN_VALUE;
    private volatile MemberId lastJoined;
    private Cluster cluster;

    private Master(ClusterConfig config, InMemoryClusterStore connection) {
      this.config = config;
      this.connection = connection;
    }

    Master start() {
      cluster.start();
      return this;
    }

    Cluster cluster() {
      return cluster;
    }

    String name() {
      return config.memberName();
    }

    Set<String> running() {
      return cluster.runningServices();
    }

    MemberState state() {
      return cluster.state();
    }

    long incarnation() {
      return cluster.member().orElseThrow().incarnation();
    }

    /** Cuts this master off the database: every call fails at once. */
    void cut() {
      connection.fault(InMemoryClusterStore.Fault.UNAVAILABLE);
    }

    /** Blackholes this master's link to the database: every call hangs. */
    void hang() {
      connection.fault(InMemoryClusterStore.Fault.HANG);
    }

    void heal() {
      connection.fault(InMemoryClusterStore.Fault.NONE);
    }

    /** The state changes heard, as "FROM->TO: reason". */
    List<String> transitions() {
      List<String> out = new ArrayList<>();
      changes.forEach(c -> out.add(c.from() + "->" + c.to() + ": " + c.reason()));
      return out;
    }

    /** Why this master has not caught up with the clock at {@code now} (see {@link #advance}). */
    private String lagging(long now) {
      MemberState state = cluster.state();
      if (state == MemberState.ACTIVE || state == MemberState.SUSPECT) {
        long localDeadline =
            lastRenewalSentNanos + config.leaseTtl().minus(config.selfFenceMargin()).toNanos();
        if (localDeadline - now <= 0) {
          return "its lease ran out on its own clock, but it is still " + state;
        }
        boolean connected = connection.fault() == InMemoryClusterStore.Fault.NONE;
        return connected && lastRenewalSentNanos - now < 0 ? "it has not renewed yet" : null;
      }
      // Without a lease: its stop callbacks must have returned.
      MemberId last = lastJoined;
      Set<String> running = last == null ? Set.of() : ledger.servicesOn(last);
      return running.isEmpty() ? null : state + " but still running " + running;
    }

    @Override
    public void joined(MemberId member, long sentNanos) {
      lastJoined = member;
      lastRenewalSentNanos = sentNanos;
    }

    @Override
    public void renewed(MemberId member, long sentNanos) {
      lastRenewalSentNanos = Math.max(lastRenewalSentNanos, sentNanos);
    }

    @Override
    public void stateChanged(MemberStateChange change) {
      changes.add(change);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** A wall clock that follows the manual ticker, so the engine sees no wall-clock jump. */
  private static final class TickerClock extends Clock {
    private final ManualTicker ticker;
    private final Instant start = Instant.now();
    private final long startNanos;

    TickerClock(ManualTicker ticker) {
      this.ticker = ticker;
      this.startNanos = ticker.nanos();
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return start.plusNanos(ticker.nanos() - startNanos);
    }

    @Override
    public long millis() {
      return start.toEpochMilli() + TimeUnit.NANOSECONDS.toMillis(ticker.nanos() - startNanos);
    }
  }
}
