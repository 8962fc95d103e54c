package io.arbiter.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.ClusterStatus;
import io.arbiter.examples.buildfarm.BuildFarmMaster;
import io.arbiter.examples.buildfarm.BuildFarmWorkload;
import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.testkit.EmbeddedPostgresProcess;
import io.arbiter.testkit.process.ChildJvm;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Crash failover and clean handoff, measured on real master processes. Each round kills (-9) the
 * master that owns the most services and times, per service, from the kill to the first tick
 * accepted elsewhere; then stops one cleanly (SIGTERM) and times the same. Both ends are read on
 * the database's clock (the kill instant is taken from it just before the signal), so no two clocks
 * are compared.
 */
@Command(
    name = "failover",
    mixinStandardHelpOptions = true,
    description = "Time crash failover (kill -9) and clean handoff (SIGTERM).")
public final class FailoverBench implements Callable<Integer> {
  @Mixin DbOptions db;

  @Option(
      names = "--masters",
      defaultValue = "3",
      description = "Master processes (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--services",
      defaultValue = "24",
      description = "Clustered services (default ${DEFAULT-VALUE}).")
  int services;

  @Option(
      names = "--rounds",
      defaultValue = "10",
      description = "Crash + clean rounds (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL of the masters (default ${DEFAULT-VALUE}).")
  Duration leaseTtl;

  @Option(names = "--json", description = "End with one line of JSON with the figures.")
  boolean json;

  private DataSource pool;
  private Dialect dialect;
  private String prefix;

  @Override
  public Integer call() throws Exception {
    if (masters < 2) {
      throw new io.arbiter.InvalidConfigException(
          "--masters", masters, "must be at least 2 to fail over");
    }
    EmbeddedPostgresProcess embedded =
        db.embedded() ? BenchDatabase.startEmbedded(db.dataDir()) : null;
    String url = embedded != null ? embedded.jdbcUrl() : db.url("bench failover");
    dialect = Dialect.forUrl(url);
    prefix = "bench-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    List<Long> crash = new ArrayList<>();
    List<Long> clean = new ArrayList<>();
    int unrecovered = 0;
    List<TickHistory.Violation> violations;
    long accepted;
    // The bench's own view of the database (status, ticks, clock): it runs no member, so no
    // heartbeat pool; its timeouts are not the masters' lease.
    try (JdbcArbiter bench =
            JdbcArbiter.builder(url)
                .credentials(db.user(), db.password())
                .leaseTtl(Duration.ofSeconds(10))
                .poolSize(3)
                .heartbeatPoolSize(0)
                .createSchema(true)
                .build();
        MasterFleet fleet =
            new MasterFleet(Files.createTempDirectory("arbiter-bench-"), masterJvm())) {
      pool = bench.dataSource();
      JdbcClusterStore store = bench.clusterStore();
      bench.initializeSchema();
      BuildFarmWorkload.createTable(pool, dialect);
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--db",
                  url,
                  "--services",
                  String.valueOf(services),
                  "--service-prefix",
                  prefix,
                  "--lease-ttl",
                  leaseTtl.toMillis() + "ms",
                  "--tick",
                  "100ms",
                  "--work",
                  "0ms"));
      args.addAll(db.credentialArgs());
      for (int i = 1; i <= masters; i++) {
        fleet.start(prefix + "m" + i, args);
      }
      say("masters starting, logs in " + fleet.logDir());
      awaitAllOwned(store, masters, 60_000);

      for (int round = 1; round <= rounds; round++) {
        // Crash: kill -9 the master with the most services.
        MasterProcess victim = busiest(store, fleet);
        Map<String, Long> before = tokensOf(store, victim.name());
        long fromId = maxTickId();
        long t0 = dbMillis();
        victim.kill();
        Map<String, Long> took = awaitMoved(before, fromId, t0, leaseTtl.toMillis() * 3 + 10_000);
        unrecovered += before.size() - took.size();
        crash.addAll(took.values());
        say(
            String.format(
                "round %d crash: %s owned %d, moved in p50 %d ms, max %d ms",
                round,
                victim.name(),
                before.size(),
                Percentiles.of(List.copyOf(took.values()), 50),
                Percentiles.of(List.copyOf(took.values()), 100)));
        fleet.restart(victim);
        awaitAllOwned(store, masters, 60_000);

        // Clean: SIGTERM the master with the most services.
        victim = busiest(store, fleet);
        before = tokensOf(store, victim.name());
        fromId = maxTickId();
        t0 = dbMillis();
        victim.signalStop();
        took = awaitMoved(before, fromId, t0, leaseTtl.toMillis() * 3 + 10_000);
        unrecovered += before.size() - took.size();
        clean.addAll(took.values());
        say(
            String.format(
                "round %d clean: %s owned %d, moved in p50 %d ms, max %d ms",
                round,
                victim.name(),
                before.size(),
                Percentiles.of(List.copyOf(took.values()), 50),
                Percentiles.of(List.copyOf(took.values()), 100)));
        victim.stop(10_000);
        fleet.restart(victim);
        awaitAllOwned(store, masters, 60_000);
      }
      try (Connection c = pool.getConnection()) {
        violations = TickHistory.violations(c, prefix);
        accepted = TickHistory.count(c, prefix);
      }
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("bench", "failover");
    result.put("database", dialect.name() + (db.embedded() ? " (embedded)" : ""));
    result.put("masters", masters);
    result.put("services", services);
    result.put("rounds", rounds);
    result.put("lease_ttl_ms", leaseTtl.toMillis());
    result.put("crash_failover_p50_ms", Percentiles.of(crash, 50));
    result.put("crash_failover_p99_ms", Percentiles.of(crash, 99));
    result.put("crash_failover_max_ms", Percentiles.of(crash, 100));
    result.put("clean_handoff_p50_ms", Percentiles.of(clean, 50));
    result.put("clean_handoff_p99_ms", Percentiles.of(clean, 99));
    result.put("clean_handoff_max_ms", Percentiles.of(clean, 100));
    result.put("samples_crash", crash.size());
    result.put("samples_clean", clean.size());
    result.put("unrecovered", unrecovered);
    result.put("ticks_accepted", accepted);
    result.put("violations", violations.size());
    violations.stream()
        .limit(20)
        .forEach(v -> say("VIOLATION " + v.service() + ": " + v.description()));
    say(
        String.format(
            "crash failover p50 %d ms, p99 %d ms (lease %d ms); clean handoff p50 %d ms, p99 %d ms;"
                + " violations %d",
            Percentiles.of(crash, 50),
            Percentiles.of(crash, 99),
            leaseTtl.toMillis(),
            Percentiles.of(clean, 50),
            Percentiles.of(clean, 99),
            violations.size()));
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(result));
    }
    return violations.isEmpty() && unrecovered == 0 ? 0 : 1;
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private long dbMillis() throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT " + dialect.now() + " AS t");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return dialect.readInstant(rs, "t").toEpochMilli();
    }
  }

  /**
   * Waits until every service in {@code before} has an accepted tick with a newer token, and
   * returns, per service, the ms from {@code t0} to that tick (both on the database's clock). Reads
   * only ticks written since the event, in one query per poll, so the bench does not load the
   * machine it measures.
   */
  private Map<String, Long> awaitMoved(
      Map<String, Long> before, long fromId, long t0, long timeoutMillis)
      throws SQLException, InterruptedException {
    Map<String, Long> took = new HashMap<>();
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    String sql =
        "SELECT service, token, MIN(written_at) AS first FROM "
            + BuildFarmWorkload.TABLE
            + " WHERE id > ? AND service LIKE ? GROUP BY service, token";
    while (took.size() < before.size() && System.nanoTime() - deadline < 0) {
      try (Connection c = pool.getConnection();
          PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setLong(1, fromId);
        ps.setString(2, prefix + "%");
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String service = rs.getString("service");
            Long old = before.get(service);
            if (old != null && rs.getLong("token") > old) {
              long ms = dialect.readInstant(rs, "first").toEpochMilli() - t0;
              took.merge(service, ms, Math::min);
            }
          }
        }
      }
      Thread.sleep(10);
    }
    return took;
  }

  private long maxTickId() throws SQLException {
    try (Connection c = pool.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM " + BuildFarmWorkload.TABLE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private Map<String, Long> tokensOf(JdbcClusterStore store, String member) {
    return store.status().services().stream()
        .filter(s -> s.owner() != null && s.owner().startsWith(member + "#"))
        .collect(Collectors.toMap(ClusterStatus.Service::name, ClusterStatus.Service::token));
  }

  /**
   * The master runtime the tool ships ({@code java -jar arbiter-master.jar master}) when this runs
   * from the packaged tool; otherwise the same master from this classpath.
   */
  private static ChildJvm masterJvm() {
    return ChildJvm.besideRunningJar("arbiter-master.jar")
        .map(jar -> ChildJvm.jar(jar, "master"))
        .orElseGet(() -> ChildJvm.classpath(BuildFarmMaster.class.getName()));
  }

  private MasterProcess busiest(JdbcClusterStore store, MasterFleet fleet) {
    ClusterStatus status = store.status();
    return fleet.masters().stream()
        .max(Comparator.comparingInt(p -> tokensOfStatus(status, p.name())))
        .orElseThrow();
  }

  private static int tokensOfStatus(ClusterStatus status, String member) {
    return (int)
        status.services().stream()
            .filter(s -> s.owner() != null && s.owner().startsWith(member + "#"))
            .count();
  }

  /** Waits until all masters are live and every service is owned. */
  private void awaitAllOwned(JdbcClusterStore store, int liveMasters, long timeoutMillis)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    while (System.nanoTime() - deadline < 0) {
      ClusterStatus s = store.status();
      long live =
          s.members().stream()
              .filter(
                  m ->
                      m.name().startsWith(prefix)
                          && m.state().equals("ACTIVE")
                          && m.leaseLeftMillis() > 0)
              .count();
      long owned =
          s.services().stream()
              .filter(x -> x.name().startsWith(prefix) && x.owner() != null)
              .count();
      if (live == liveMasters && owned == services) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(
        "masters did not all join and claim within " + timeoutMillis + " ms");
  }
}
