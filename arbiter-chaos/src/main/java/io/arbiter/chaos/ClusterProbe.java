package io.arbiter.chaos;

import io.arbiter.ClusterAdmin;
import io.arbiter.ClusterStatus;
import io.arbiter.chaos.nemesis.ServiceMover;
import io.arbiter.examples.buildfarm.BuildFarmWorkload;
import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * The harness's own view of the database, on a direct connection (no fault proxy): the cluster
 * status, the accepted ticks, the database's clock. Reads only this run's members and services (by
 * their prefix), so runs sharing a server do not see each other.
 */
final class ClusterProbe implements AutoCloseable, ServiceMover {
  /** Sizes the pool's timeouts: the probe holds no lease, so this is not the masters' TTL. */
  private static final Duration TIMEOUTS = Duration.ofSeconds(10);

  /** The probe runs no member, so it has no heartbeat pool: these are all its connections. */
  private static final int POOL_SIZE = 3;

  private final JdbcArbiter arbiter;
  private final DataSource pool;
  private final JdbcClusterStore store;
  private final Dialect dialect;
  private final String prefix;
  private volatile List<String> services = List.of();
  private volatile long dbClockOffsetMillis;

  ClusterProbe(String jdbcUrl, String user, String password, boolean createSchema, String prefix) {
    this.arbiter =
        JdbcArbiter.builder(jdbcUrl)
            .credentials(user, password)
            .leaseTtl(TIMEOUTS)
            .poolSize(POOL_SIZE)
            .heartbeatPoolSize(0)
            .createSchema(createSchema)
            .build();
    this.pool = arbiter.dataSource();
    this.store = arbiter.clusterStore();
    this.dialect = arbiter.dialect();
    this.prefix = prefix;
  }

  /**
   * Creates the schema and the tick table, and learns how far the database's clock is from ours.
   */
  void prepare() throws SQLException {
    store.initialize();
    // Before the masters start: two masters creating the table at once on an empty database can
    // collide.
    BuildFarmWorkload.createTable(pool, dialect);
    long before = System.currentTimeMillis();
    long db = dbNowMillis();
    long after = System.currentTimeMillis();
    dbClockOffsetMillis = db - (before + after) / 2;
  }

  /** The run's services, as the masters registered them (known after {@link #awaitStarted}). */
  List<String> services() {
    return services;
  }

  /**
   * Waits until {@code members} masters are live, {@code count} services are registered and owned,
   * and every one of them has written a tick.
   *
   * @return false on timeout
   */
  boolean awaitStarted(int members, int count, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      try {
        ClusterStatus s = status();
        long live =
            s.members().stream()
                .filter(m -> m.state().equals("ACTIVE") && m.leaseLeftMillis() > 0)
                .count();
        List<String> names = s.services().stream().map(ClusterStatus.Service::name).toList();
        boolean owned = s.services().stream().allMatch(x -> x.owner() != null);
        if (live == members && names.size() == count && owned) {
          services = names;
          if (allTickedSince(0, 0)) {
            return true;
          }
        }
      } catch (SQLException | RuntimeException e) {
        // the schema or the masters are not there yet
      }
      Thread.sleep(100);
    }
    return false;
  }

  long dbNowMillis() throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT " + dialect.now() + " AS t");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return dialect.readInstant(rs, "t").toEpochMilli();
    }
  }

  /**
   * Now on the database's clock, from ours and the offset measured at the start: usable while the
   * database is down or unreachable, and taken at the very moment a fault is injected.
   */
  long estimatedDbMillis() {
    return System.currentTimeMillis() + dbClockOffsetMillis;
  }

  /** This run's services and members. */
  ClusterStatus status() {
    ClusterStatus s = store.status();
    return new ClusterStatus(
        s.databaseTime(),
        s.members().stream().filter(m -> m.name().startsWith(prefix)).toList(),
        s.services().stream().filter(x -> x.name().startsWith(prefix)).toList());
  }

  /** Service → token, for the services {@code member} (any incarnation) owns now. */
  Map<String, Long> tokensOwnedBy(String member) {
    return status().services().stream()
        .filter(s -> s.owner() != null && s.owner().startsWith(member + "#"))
        .collect(Collectors.toMap(ClusterStatus.Service::name, ClusterStatus.Service::token));
  }

  /** Service → token, for every service of the run. */
  Map<String, Long> tokensOfAll() {
    Map<String, Long> tokens = new HashMap<>();
    status().services().forEach(s -> tokens.put(s.name(), s.token()));
    return tokens;
  }

  /** Of {@code members}, the one that owns the most services now (the first on a tie). */
  String busiest(Collection<String> members) {
    Map<String, Long> owned =
        status().services().stream()
            .filter(s -> s.owner() != null)
            .collect(
                Collectors.groupingBy(
                    s -> s.owner().substring(0, s.owner().lastIndexOf('#')),
                    Collectors.counting()));
    return members.stream()
        .max(Comparator.comparingLong(m -> owned.getOrDefault(m, 0L)))
        .orElseThrow();
  }

  @Override
  public List<String> moveOnto(String member, int count, int offset) {
    List<String> others =
        status().services().stream()
            .filter(s -> s.owner() == null || !s.owner().startsWith(member + "#"))
            .map(ClusterStatus.Service::name)
            .sorted()
            .toList();
    List<String> moved = new ArrayList<>();
    ClusterAdmin admin = new ClusterAdmin(store);
    for (int i = 0; i < Math.min(count, others.size()); i++) {
      String service = others.get((offset + i) % others.size());
      admin.move(service, member);
      moved.add(service);
    }
    return moved;
  }

  @Override
  public void unmove(Collection<String> services) {
    ClusterAdmin admin = new ClusterAdmin(store);
    services.forEach(admin::unmove);
  }

  /** Who owns what now, among the live incarnations. */
  OwnerSnapshot ownership() {
    ClusterStatus s = status();
    long local = System.currentTimeMillis();
    Set<String> live = new HashSet<>();
    for (ClusterStatus.Member m : s.members()) {
      if (m.state().equals("ACTIVE") && m.leaseLeftMillis() > 0) {
        live.add(m.name() + "#" + m.incarnation());
      }
    }
    List<OwnerSnapshot.Owned> owned = new ArrayList<>();
    for (ClusterStatus.Service x : s.services()) {
      if (x.owner() != null && live.contains(x.owner())) {
        int hash = x.owner().lastIndexOf('#');
        owned.add(
            new OwnerSnapshot.Owned(
                x.name(),
                x.owner().substring(0, hash),
                Long.parseLong(x.owner().substring(hash + 1)),
                x.token(),
                x.grantedAt() == null
                    ? s.databaseTime().toEpochMilli()
                    : x.grantedAt().toEpochMilli()));
      }
    }
    return new OwnerSnapshot(s.databaseTime().toEpochMilli(), local, owned);
  }

  /** The services owned by an ACTIVE member whose lease has not run out. */
  Set<String> ownedByLiveMember() {
    ClusterStatus s = status();
    Set<String> live = new HashSet<>();
    for (ClusterStatus.Member m : s.members()) {
      if (m.state().equals("ACTIVE") && m.leaseLeftMillis() > 0) {
        live.add(m.name() + "#" + m.incarnation());
      }
    }
    return s.services().stream()
        .filter(x -> x.owner() != null && live.contains(x.owner()))
        .map(ClusterStatus.Service::name)
        .collect(Collectors.toSet());
  }

  long maxTickId() throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + TickHistory.TABLE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * True once every service has a tick with id above {@code fromId} written at or after {@code
   * sinceMillis}.
   */
  boolean allTickedSince(long fromId, long sinceMillis) throws SQLException {
    String sql =
        "SELECT service, MAX(written_at) AS last FROM "
            + TickHistory.TABLE
            + " WHERE id > ? AND service LIKE ? GROUP BY service";
    Set<String> ticked = new HashSet<>();
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setLong(1, fromId);
      ps.setString(2, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          if (dialect.readInstant(rs, "last").toEpochMilli() >= sinceMillis) {
            ticked.add(rs.getString("service"));
          }
        }
      }
    }
    return ticked.containsAll(services);
  }

  /**
   * Polls until every service has ticked since {@code sinceMillis}, or the timeout passes; errors
   * (the database coming back) count as "not yet". Returns whether it happened.
   */
  boolean awaitAllTicking(long fromId, long sinceMillis, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() - deadline < 0) {
      try {
        if (allTickedSince(fromId, sinceMillis)) {
          return true;
        }
      } catch (SQLException | RuntimeException e) {
        // not reachable yet; try again
      }
      Thread.sleep(50);
    }
    return false;
  }

  /** Every accepted tick of this run, in id order. */
  List<Tick> ticks() throws SQLException {
    List<Tick> ticks = new ArrayList<>();
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, service, token, member, incarnation, written_at FROM "
                    + TickHistory.TABLE
                    + " WHERE service LIKE ? ORDER BY id")) {
      ps.setString(1, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ticks.add(
              new Tick(
                  rs.getLong("id"),
                  rs.getString("service"),
                  rs.getLong("token"),
                  rs.getString("member"),
                  rs.getLong("incarnation"),
                  dialect.readInstant(rs, "written_at").toEpochMilli()));
        }
      }
    }
    return ticks;
  }

  List<TickHistory.Violation> databaseViolations() throws SQLException {
    try (Connection c = pool.getConnection()) {
      return TickHistory.violations(c, prefix);
    }
  }

  @Override
  public void close() {
    arbiter.close();
  }
}
