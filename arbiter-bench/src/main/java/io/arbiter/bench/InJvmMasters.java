package io.arbiter.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.MemberId;
import io.arbiter.balance.Assignment;
import io.arbiter.jdbc.ArbiterDataSources;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Masters as {@link Cluster} instances in this JVM, each with its own small connection pools and
 * {@link JdbcArbiter}, as separate processes would have. Every pool, the heartbeat's too, is
 * wrapped in one {@link StatementCounter} per master, so the statements of each master are counted
 * at the driver.
 */
final class InJvmMasters implements AutoCloseable {
  /**
   * The heartbeat's own pool, as {@code arbiter master} has it: a renewal never waits for a
   * connection behind the assignment thread.
   */
  static final int HEARTBEAT_POOL_SIZE = JdbcArbiter.DEFAULT_HEARTBEAT_POOL_SIZE;

  /**
   * The rest of the lease thread's statements, the assignment and LISTEN threads: LISTEN holds one
   * connection, and a hand-over's releases and claims must not queue behind each other for the
   * other (with 2, convergence at 10,000 services took about a third longer).
   */
  static final int POOL_SIZE = 3;

  /** With the event log: its LISTEN and its reader too, as `arbiter master` sizes its pool. */
  static final int POOL_SIZE_WITH_EVENTS = JdbcArbiter.DEFAULT_POOL_SIZE;

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);

  /** One master: its cluster, its arbiter, its pools and its counter. */
  static final class Master {
    final String name;
    final Cluster cluster;
    final StatementCounter counter;
    final JdbcArbiter arbiter;
    final List<HikariDataSource> pools;
    private volatile long joinedNanos;

    private Master(
        String name,
        Cluster cluster,
        StatementCounter counter,
        JdbcArbiter arbiter,
        List<HikariDataSource> pools) {
      this.name = name;
      this.cluster = cluster;
      this.counter = counter;
      this.arbiter = arbiter;
      this.pools = pools;
    }

    /** {@link System#nanoTime()} when it last joined (the listener's call), or 0. */
    long joinedNanos() {
      return joinedNanos;
    }
  }

  private final String url;
  private final String user;
  private final String password;
  private final Duration leaseTtl;
  private final Ledger ledger;
  private final Dialect dialect;
  private final List<Master> masters = new ArrayList<>();
  private int maxMovesInFlight = ClusterConfig.DEFAULT_MAX_MOVES_IN_FLIGHT;
  private String peerSecret;
  private boolean eventLog;

  InJvmMasters(String url, String user, String password, Duration leaseTtl, Ledger ledger) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.leaseTtl = leaseTtl;
    this.ledger = ledger;
    this.dialect = Dialect.forUrl(url);
  }

  /** The {@link ClusterConfig#maxMovesInFlight()} of the masters started from now on. */
  InJvmMasters maxMovesInFlight(int maxMovesInFlight) {
    this.maxMovesInFlight = maxMovesInFlight;
    return this;
  }

  /** Runs the cluster event log on the masters started from now on, as `arbiter master` does. */
  InJvmMasters eventLog() {
    this.eventLog = true;
    return this;
  }

  /** Runs a peer link between the masters started from now on (loopback, this secret). */
  InJvmMasters peerLink(String secret) {
    this.peerSecret = secret;
    return this;
  }

  /** Builds and starts a master that registers {@code services}; returns without waiting. */
  Master start(String name, List<String> services) {
    HikariDataSource pool =
        ArbiterDataSources.create(
            url,
            user,
            password,
            leaseTtl,
            eventLog ? POOL_SIZE_WITH_EVENTS : POOL_SIZE,
            name,
            dialect.sessionInitSql());
    HikariDataSource heartbeatPool =
        ArbiterDataSources.create(
            url,
            user,
            password,
            leaseTtl,
            HEARTBEAT_POOL_SIZE,
            name + "-heartbeat",
            dialect.sessionInitSql());
    StatementCounter counter = new StatementCounter();
    ClusterConfig config =
        ClusterConfig.builder(name).leaseTtl(leaseTtl).maxMovesInFlight(maxMovesInFlight).build();
    JdbcArbiter arbiter =
        JdbcArbiter.builder(counter.wrap(pool))
            .jdbcUrl(url)
            .heartbeatDataSource(counter.wrap(heartbeatPool))
            .clusterConfig(config)
            .createSchema(true)
            .build();
    Master[] self = new Master[1];
    Cluster.Builder builder =
        Cluster.builder(arbiter.clusterStore(), config)
            .listener(
                new ClusterListener() {
                  @Override
                  public void joined(MemberId member, long sentNanos) {
                    self[0].joinedNanos = System.nanoTime();
                  }
                });
    if (eventLog) {
      builder.events(arbiter.eventStore());
    }
    if (peerSecret != null) {
      builder.peerLink(
          io.arbiter.peer.PeerLinkConfig.builder(peerSecret)
              .databaseStaleAfter(leaseTtl.multipliedBy(2).dividedBy(3)) // two renewals
              .bindHost("127.0.0.1")
              .advertisedHost("127.0.0.1")
              .build());
    }
    var service = ledger.service();
    for (String s : services) {
      builder.service(s, service);
    }
    Master master =
        new Master(name, builder.build(), counter, arbiter, List.of(pool, heartbeatPool));
    self[0] = master;
    synchronized (masters) {
      masters.add(master);
    }
    master.cluster.start();
    return master;
  }

  List<Master> all() {
    synchronized (masters) {
      return List.copyOf(masters);
    }
  }

  /** Waits until every master holds a lease; false on timeout. */
  boolean awaitAllActive(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Master m : all()) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !m.cluster.awaitActive(Duration.ofNanos(left))) {
        return false;
      }
    }
    return true;
  }

  /**
   * The assignment every master agrees on, if they all computed one, they agree, it places
   * something on each of {@code required} (the members it must already know of), and every one of
   * {@code services} runs on exactly the master it names, by the ledger. Empty otherwise.
   */
  Optional<Assignment> converged(List<String> services, Set<String> required) {
    Assignment first = null;
    for (Master m : all()) {
      Optional<Assignment> a = m.cluster.assignment();
      if (a.isEmpty()) {
        return Optional.empty();
      }
      if (first == null) {
        first = a.get();
      } else if (first != a.get() && !first.owners().equals(a.get().owners())) {
        return Optional.empty();
      }
    }
    if (first == null) {
      return Optional.empty();
    }
    Map<String, String> owners = first.owners();
    if (!new HashSet<>(owners.values()).containsAll(required)) {
      return Optional.empty();
    }
    for (String s : services) {
      String owner = owners.get(s);
      if (owner == null || !owner.equals(ledger.owner(s))) {
        return Optional.empty();
      }
    }
    return Optional.of(first);
  }

  /**
   * Waits until {@link #converged} holds and no service has started or stopped for {@code quiet}.
   * Returns the assignment, or empty if that did not happen within {@code timeout}.
   */
  Optional<Assignment> awaitQuiet(
      List<String> services, Set<String> required, Duration quiet, Duration timeout)
      throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    long nextReport = start + PROGRESS_EVERY.toNanos();
    while (System.nanoTime() - deadline < 0) {
      Optional<Assignment> a = converged(services, required);
      if (a.isPresent() && System.nanoTime() - ledger.lastEventNanos() >= quiet.toNanos()) {
        return a;
      }
      if (System.nanoTime() - nextReport >= 0) {
        nextReport += PROGRESS_EVERY.toNanos();
        BalanceBench.say(
            String.format(
                "  settling for %d s: %d of %d services not yet on the master the assignment names",
                (System.nanoTime() - start) / 1_000_000_000L,
                misplaced(services),
                services.size()));
      }
      // Not too often: the check walks every service, and the masters need the CPU.
      Thread.sleep(50);
    }
    return Optional.empty();
  }

  /** Services not running on the master the first master's assignment names (all if none yet). */
  int misplaced(List<String> services) {
    Map<String, String> owners =
        all().isEmpty()
            ? Map.of()
            : all().get(0).cluster.assignment().map(Assignment::owners).orElse(Map.of());
    int n = 0;
    for (String s : services) {
      String owner = owners.get(s);
      if (owner == null || !owner.equals(ledger.owner(s))) {
        n++;
      }
    }
    return n;
  }

  /**
   * Closes every master at once (each stops its services and leaves), then its arbiter and its
   * pools. Closing them one after another would make the others claim and start what each leaver
   * gave up.
   */
  @Override
  public void close() {
    List<Master> all = all();
    // Own threads, not the common pool: on a small machine that runs one task at a time.
    List<Thread> closers = new ArrayList<>();
    for (Master m : all) {
      Thread t = new Thread(m.cluster::close, "bench-close-" + m.name);
      t.start();
      closers.add(t);
    }
    for (Thread t : closers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Master m : all) {
      m.arbiter.close(); // the pools are the caller's: the arbiter leaves them open
      m.pools.forEach(HikariDataSource::close);
    }
    synchronized (masters) {
      masters.clear();
    }
  }

  /**
   * The bench's own view of the database, apart from the masters' (and not counted): it creates the
   * schema and reads and deletes the bench's rows. Two connections; it runs no member, so no
   * heartbeat pool.
   */
  static JdbcArbiter benchArbiter(String url, String user, String password, Duration leaseTtl) {
    return JdbcArbiter.builder(url)
        .credentials(user, password)
        .leaseTtl(leaseTtl)
        .poolSize(2)
        .heartbeatPoolSize(0)
        .createSchema(true)
        .build();
  }

  /**
   * Deletes the rows a bench left under {@code prefix} (its services and members), so that the next
   * run, or the next user of a shared database, does not balance them.
   */
  static void deleteRows(javax.sql.DataSource pool, String prefix) throws SQLException {
    try (Connection c = pool.getConnection()) {
      for (String table : List.of("arbiter_service", "arbiter_member")) {
        try (PreparedStatement ps =
            c.prepareStatement("DELETE FROM " + table + " WHERE name LIKE ?")) {
          ps.setString(1, prefix + "%");
          ps.executeUpdate();
        }
      }
    }
  }
}
