package io.arbiter.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.InvalidConfigException;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.testkit.EmbeddedPostgresProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What a settled cluster costs the database: statements per second per master at rest, counted at
 * the driver (see {@link StatementCounter}), for 100 services and for {@code --services}. The
 * target is that the figure does not grow with the number of services.
 */
@Command(
    name = "idle",
    mixinStandardHelpOptions = true,
    description =
        "Statements per second per master at rest, counted at the JDBC driver, for 100 services and"
            + " for --services.")
public final class IdleBench implements Callable<Integer> {
  static final int SMALL = 100;

  @Mixin DbOptions db;

  @Option(
      names = "--services",
      defaultValue = "10000",
      description = "Clustered services of the large run (default ${DEFAULT-VALUE}).")
  int services;

  @Option(
      names = "--masters",
      defaultValue = "3",
      description = "Masters (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--measure",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long to count, once settled (default ${DEFAULT-VALUE}).")
  Duration measure;

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL of the masters (default ${DEFAULT-VALUE}).")
  Duration leaseTtl;

  @Option(names = "--json", description = "End with one line of JSON with the figures.")
  boolean json;

  @Option(
      names = "--peer-link",
      description =
          "Run the peer link between the masters (on MariaDB it replaces the 50 ms change poll).")
  boolean peerLink;

  @Option(
      names = "--no-event-log",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Run the cluster event log on every master, as `arbiter master` does (on by default;"
              + " --no-event-log counts the engine alone).")
  boolean eventLog;

  @Option(names = "--verbose", description = "List the SQL counted at rest, with counts.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    if (masters < 1) {
      throw new InvalidConfigException("--masters", masters, "must be at least 1");
    }
    if (services < 1) {
      throw new InvalidConfigException("--services", services, "must be at least 1");
    }
    if (measure.toMillis() < 1000) {
      throw new InvalidConfigException("--measure", measure, "must be at least 1s");
    }
    BenchLogs.quiet(false);
    Set<Integer> sizes = new LinkedHashSet<>(List.of(SMALL, services));
    EmbeddedPostgresProcess embedded =
        db.embedded() ? BenchDatabase.startEmbedded(db.dataDir()) : null;
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("bench", "idle");
    boolean allSettled = true;
    try {
      String url = embedded != null ? embedded.jdbcUrl() : db.url("bench idle");
      Dialect dialect = Dialect.forUrl(url);
      result.put("db", dialect.name() + (embedded != null ? " (embedded)" : ""));
      result.put("masters", masters);
      result.put("measure_s", measure.toMillis() / 1000.0);
      result.put("lease_ttl_ms", leaseTtl.toMillis());
      result.put("counted", StatementCounter.COUNTED);
      result.put("peer_link", peerLink);
      result.put("event_log", eventLog);
      say("counting " + StatementCounter.COUNTED);
      try (JdbcArbiter bench = InJvmMasters.benchArbiter(url, db.user(), db.password(), leaseTtl)) {
        bench.initializeSchema();
        for (int size : sizes) {
          String prefix = "idl" + UUID.randomUUID().toString().substring(0, 6) + "-";
          try (InJvmMasters fleet =
              new InJvmMasters(url, db.user(), db.password(), leaseTtl, new Ledger())) {
            if (peerLink) {
              fleet.peerLink(UUID.randomUUID().toString());
            }
            if (eventLog) {
              fleet.eventLog();
            }
            allSettled &= run(fleet, prefix, size, result);
          } finally {
            InJvmMasters.deleteRows(bench.dataSource(), prefix);
          }
        }
      }
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(result));
    }
    return allSettled ? 0 : 1;
  }

  /** One run: settle {@code size} services on the masters, then count for --measure. */
  private boolean run(InJvmMasters fleet, String prefix, int size, Map<String, Object> result)
      throws InterruptedException {
    List<String> names =
        IntStream.range(0, size).mapToObj(i -> String.format("%ss%05d", prefix, i)).toList();
    List<String> members =
        IntStream.rangeClosed(1, masters).mapToObj(i -> prefix + "m" + i).toList();
    say(String.format("%d services on %d masters: starting", size, masters));
    members.forEach(m -> fleet.start(m, names));
    Duration timeout = BalanceBench.SETTLE_TIMEOUT;
    if (!fleet.awaitAllActive(timeout)
        || fleet
            .awaitQuiet(
                names,
                size >= masters ? Set.copyOf(members) : Set.of(),
                BalanceBench.QUIET,
                timeout)
            .isEmpty()) {
      say("NOT SETTLED within " + timeout.toSeconds() + " s; no figure for " + size);
      result.put("statements_per_s_per_master_" + size, -1);
      return false;
    }
    fleet.all().forEach(m -> m.counter.reset());
    long t0 = System.nanoTime();
    Thread.sleep(measure.toMillis());
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Double> perMaster = new LinkedHashMap<>();
    Map<String, Double> waitsPerMaster = new LinkedHashMap<>();
    List<InJvmMasters.Master> all = fleet.all();
    for (InJvmMasters.Master m : all) {
      perMaster.put(m.name, BalanceBench.round(m.counter.total() / seconds, 2));
      waitsPerMaster.put(m.name, BalanceBench.round(m.counter.notificationWaits() / seconds, 2));
    }
    double mean = perMaster.values().stream().mapToDouble(Double::doubleValue).average().orElse(0);
    double max = perMaster.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    result.put("statements_per_s_per_master_" + size, BalanceBench.round(mean, 2));
    result.put("statements_per_s_max_" + size, BalanceBench.round(max, 2));
    result.put("statements_per_master_" + size, perMaster);
    result.put(
        "notification_waits_per_s_per_master_" + size,
        BalanceBench.round(
            waitsPerMaster.values().stream().mapToDouble(Double::doubleValue).average().orElse(0),
            2));
    say(
        String.format(
            "%d services: %.2f statements/s per master (max %.2f) over %.1f s; per master %s",
            size, mean, max, seconds, perMaster));
    List<String> lines = new ArrayList<>();
    Map<String, Double> bySql = new LinkedHashMap<>();
    sumBySql(all)
        .forEach(
            (sql, n) -> {
              double rate = BalanceBench.round(n / seconds / all.size(), 2);
              bySql.put(sql, rate);
              lines.add(String.format("  %8.2f /s/master  %6d  %s", rate, n, sql));
            });
    if (verbose) {
      say("  statements at rest (per second per master, count over all masters, SQL):");
      lines.forEach(IdleBench::say);
      result.put("by_sql_" + size, bySql);
    }
    return true;
  }

  private static Map<String, Long> sumBySql(List<InJvmMasters.Master> all) {
    Map<String, Long> sum = new java.util.TreeMap<>();
    all.forEach(m -> m.counter.bySql().forEach((sql, v) -> sum.merge(sql, v[0], Long::sum)));
    return sum;
  }

  private static void say(String line) {
    BalanceBench.say(line);
  }
}
