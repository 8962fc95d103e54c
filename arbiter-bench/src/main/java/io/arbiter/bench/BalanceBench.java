package io.arbiter.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import io.arbiter.balance.Assignment;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.jdbc.JdbcClusterStore;
import io.arbiter.spi.ClusterFacts;
import io.arbiter.testkit.EmbeddedPostgresProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Adding a master to a balanced cluster: how many services move, how long until every service runs
 * where the balancer says, how even the load ends up, and how long each moved service was down.
 * Masters are {@code Cluster} instances in this JVM, each with its own connection pool, so every
 * start and stop is stamped on one clock (see {@link Ledger}).
 */
@Command(
    name = "balance",
    mixinStandardHelpOptions = true,
    description =
        "Start masters-1 masters, let them settle, add one more, and measure the moves, the time to"
            + " converge, the load spread and the per-service gaps.")
public final class BalanceBench implements Callable<Integer> {
  /** How long the bench waits for the cluster to settle after the join before giving up. */
  static final Duration CONVERGE_TIMEOUT = Duration.ofSeconds(60);

  /**
   * How long the first masters may take to settle. The first to join takes every service and hands
   * most of them on, a bounded number at a time, which takes long at 10,000 services.
   */
  static final Duration SETTLE_TIMEOUT = Duration.ofMinutes(10);

  /** No start or stop for this long counts as settled. */
  static final Duration QUIET = Duration.ofSeconds(1);

  @Mixin DbOptions db;

  @Option(
      names = "--services",
      defaultValue = "10000",
      description = "Clustered services (default ${DEFAULT-VALUE}).")
  int services;

  @Option(
      names = "--masters",
      defaultValue = "10",
      description = "Masters at the end; the last one joins the others (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--lease-ttl",
      defaultValue = "3s",
      converter = DurationConverter.class,
      description = "Lease TTL of the masters (default ${DEFAULT-VALUE}).")
  Duration leaseTtl;

  @Option(
      names = "--max-moves-in-flight",
      description =
          "Each master's bound on handed-over services not yet claimed (default: the engine's, "
              + ClusterConfig.DEFAULT_MAX_MOVES_IN_FLIGHT
              + ").")
  int maxMovesInFlight = ClusterConfig.DEFAULT_MAX_MOVES_IN_FLIGHT;

  @Option(names = "--json", description = "End with one line of JSON with the figures.")
  boolean json;

  @Option(
      names = "--verbose",
      description =
          "Show the engine's hand-over and claim lines, a timeline of the moves and the SQL run"
              + " while converging.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    if (masters < 2) {
      throw new InvalidConfigException("--masters", masters, "must be at least 2 to add one");
    }
    if (maxMovesInFlight < 1) {
      throw new InvalidConfigException(
          "--max-moves-in-flight", maxMovesInFlight, "must be at least 1");
    }
    if (services < 1) {
      throw new InvalidConfigException("--services", services, "must be at least 1");
    }
    BenchLogs.quiet(verbose);
    EmbeddedPostgresProcess embedded =
        db.embedded() ? BenchDatabase.startEmbedded(db.dataDir()) : null;
    Map<String, Object> result;
    try {
      String url = embedded != null ? embedded.jdbcUrl() : db.url("bench balance");
      Dialect dialect = Dialect.forUrl(url);
      String prefix = "bal" + UUID.randomUUID().toString().substring(0, 6) + "-";
      try (JdbcArbiter bench = InJvmMasters.benchArbiter(url, db.user(), db.password(), leaseTtl)) {
        bench.initializeSchema();
        Ledger ledger = new Ledger();
        try (InJvmMasters fleet =
            new InJvmMasters(url, db.user(), db.password(), leaseTtl, ledger)
                .maxMovesInFlight(maxMovesInFlight)) {
          result = measure(fleet, ledger, bench.clusterStore(), prefix);
        } finally {
          InJvmMasters.deleteRows(bench.dataSource(), prefix);
        }
      }
      result.put("db", dialect.name() + (embedded != null ? " (embedded)" : ""));
    } finally {
      if (embedded != null) {
        embedded.close();
      }
    }
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(result));
    }
    boolean ok = (int) result.get("overlaps") == 0 && (int) result.get("unconverged") == 0;
    return ok ? 0 : 1;
  }

  private Map<String, Object> measure(
      InJvmMasters fleet, Ledger ledger, JdbcClusterStore benchStore, String prefix)
      throws Exception {
    List<String> names =
        IntStream.range(0, services).mapToObj(i -> String.format("%ss%05d", prefix, i)).toList();
    List<String> memberNames =
        IntStream.rangeClosed(1, masters).mapToObj(i -> prefix + "m" + i).toList();
    List<String> firstMembers = memberNames.subList(0, masters - 1);

    say(String.format("starting %d masters with %d services each", masters - 1, services));
    long t0 = System.nanoTime();
    firstMembers.forEach(m -> fleet.start(m, names));
    if (!fleet.awaitAllActive(CONVERGE_TIMEOUT)) {
      throw new IllegalStateException(
          "the first masters did not all join within " + CONVERGE_TIMEOUT.toSeconds() + " s");
    }
    Optional<Assignment> settled =
        fleet.awaitQuiet(names, requiredOwners(firstMembers), QUIET, SETTLE_TIMEOUT);
    if (settled.isEmpty()) {
      throw new IllegalStateException(
          "the first masters did not settle (every service on its assigned master, no move for "
              + QUIET.toMillis()
              + " ms) within "
              + SETTLE_TIMEOUT.toSeconds()
              + " s");
    }
    long settleMillis = ms(ledger.lastEventNanos() - t0);
    say(
        String.format(
            "%d masters run %d services, settled %d ms after their start",
            masters - 1, services, settleMillis));

    Map<String, String> before = ledger.owners();
    fleet.all().forEach(m -> m.counter.reset());
    String newcomer = memberNames.get(masters - 1);
    long startNanos = System.nanoTime();
    InJvmMasters.Master last = fleet.start(newcomer, names);
    if (!last.cluster.awaitActive(CONVERGE_TIMEOUT)) {
      throw new IllegalStateException(newcomer + " did not join within " + CONVERGE_TIMEOUT);
    }
    long joinNanos = last.joinedNanos();
    say(newcomer + " joined after " + ms(joinNanos - startNanos) + " ms");

    // Converged: every master computed the same assignment, it includes the newcomer, and every
    // service runs on the master it names, none stopped. Polled often so the moment is sharp; the
    // figure itself is the last start/stop before that moment, stamped by the ledger.
    Set<String> required = requiredOwners(memberNames);
    long deadline = joinNanos + CONVERGE_TIMEOUT.toNanos();
    Optional<Assignment> converged = Optional.empty();
    long convergedNanos = 0;
    while (System.nanoTime() - deadline < 0) {
      converged = fleet.converged(names, required);
      if (converged.isPresent()) {
        // Read after the check: the starts that completed the placement came before it returned.
        long lastEvent = ledger.lastEventNanos();
        long now = System.nanoTime();
        convergedNanos = lastEvent - joinNanos > 0 ? lastEvent : now;
        break;
      }
      Thread.sleep(20);
    }
    int eventsAtConvergence = ledger.eventCount();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("bench", "balance");
    r.put("services", services);
    r.put("masters", masters);
    r.put("lease_ttl_ms", leaseTtl.toMillis());
    r.put("max_moves_in_flight", maxMovesInFlight);
    r.put("initial_settle_ms", settleMillis);
    if (converged.isEmpty()) {
      Map<String, String> owners =
          fleet.all().get(0).cluster.assignment().map(Assignment::owners).orElse(Map.of());
      long off =
          names.stream().filter(s -> !Objects.equals(owners.get(s), ledger.owner(s))).count();
      say(
          "NOT CONVERGED within "
              + CONVERGE_TIMEOUT.toSeconds()
              + " s: "
              + off
              + " service(s) not on the master the assignment names");
      r.put("unconverged", (int) Math.max(1, off));
    } else {
      r.put("unconverged", 0);
      // Stay a moment: a move after "converged" would mean the assignment was not final.
      fleet.awaitQuiet(names, required, QUIET, Duration.ofSeconds(10));
    }
    int lateEvents = ledger.eventCount() - eventsAtConvergence;

    Map<String, String> after = ledger.owners();
    long moves = names.stream().filter(s -> !Objects.equals(before.get(s), after.get(s))).count();
    long movesToNew = names.stream().filter(s -> newcomer.equals(after.get(s))).count();
    Map<String, Integer> loads = new TreeMap<>();
    memberNames.forEach(m -> loads.put(m, 0));
    after.values().forEach(m -> loads.merge(m, 1, Integer::sum));
    int maxLoad = loads.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    int minLoad = loads.values().stream().mapToInt(Integer::intValue).min().orElse(0);
    double mean = (double) services / masters;
    double idealMoves = (double) services / masters;

    // Every stop since the newcomer's start followed by the service's next start is one gap. From
    // its start, not its join: the join's NOTIFY may reach another master, which may stop a
    // service, before the newcomer's listener stamps the join.
    List<Long> gapsMicros = new ArrayList<>();
    for (List<Ledger.Event> events : ledger.eventsSince(startNanos).values()) {
      for (int i = 0; i + 1 < events.size(); i++) {
        Ledger.Event e = events.get(i);
        Ledger.Event next = events.get(i + 1);
        if (!e.start() && next.start()) {
          gapsMicros.add((next.nanos() - e.nanos()) / 1_000);
        }
      }
    }
    List<Ledger.Overlap> overlaps = ledger.overlaps();
    overlaps.stream()
        .limit(20)
        .forEach(
            o ->
                say(
                    "OVERLAP "
                        + o.service()
                        + ": started on "
                        + o.starting()
                        + " while running on "
                        + o.running()));

    r.put("moves", moves);
    r.put("ideal_moves", Math.round(idealMoves));
    r.put("moves_over_ideal", round(moves / idealMoves, 3));
    r.put("moves_to_new_master", movesToNew);
    r.put("join_ms", ms(joinNanos - startNanos));
    r.put("converge_ms", converged.isEmpty() ? -1 : ms(convergedNanos - joinNanos));
    r.put("max_over_mean_load", round(maxLoad / mean, 3));
    r.put("max_load", maxLoad);
    r.put("min_load", minLoad);
    r.put("max_gap_ms", round(Percentiles.of(gapsMicros, 100) / 1000.0, 1));
    r.put("gap_p50_ms", round(Percentiles.of(gapsMicros, 50) / 1000.0, 1));
    r.put("gap_p99_ms", round(Percentiles.of(gapsMicros, 99) / 1000.0, 1));
    r.put("handoffs", gapsMicros.size());
    r.put("overlaps", overlaps.size());
    r.put("events_after_convergence", lateEvents);
    profile(r, fleet, ledger, benchStore, startNanos, joinNanos, last);

    say(
        String.format(
            "moves %d (ideal %.0f, %.3fx, %d to the new master); converged in %s ms; max/mean load"
                + " %.3f (%d..%d); gap p50 %s ms, p99 %s ms, max %s ms over %d handoffs;"
                + " overlaps %d",
            moves,
            idealMoves,
            moves / idealMoves,
            movesToNew,
            r.get("converge_ms"),
            maxLoad / mean,
            minLoad,
            maxLoad,
            r.get("gap_p50_ms"),
            r.get("gap_p99_ms"),
            r.get("max_gap_ms"),
            gapsMicros.size(),
            overlaps.size()));
    return r;
  }

  /**
   * Where the time goes after the join: when the stops and starts happened, what the masters ran on
   * the database meanwhile, and what one facts read and one assignment cost at this size.
   */
  private void profile(
      Map<String, Object> r,
      InJvmMasters fleet,
      Ledger ledger,
      JdbcClusterStore benchStore,
      long startNanos,
      long joinNanos,
      InJvmMasters.Master last) {
    List<Ledger.Event> timeline = ledger.timeline(startNanos);
    List<Ledger.Event> stops = timeline.stream().filter(e -> !e.start()).toList();
    List<Ledger.Event> starts = timeline.stream().filter(Ledger.Event::start).toList();
    r.put("first_stop_ms", stops.isEmpty() ? -1 : ms(stops.get(0).nanos() - joinNanos));
    r.put(
        "last_stop_ms", stops.isEmpty() ? -1 : ms(stops.get(stops.size() - 1).nanos() - joinNanos));
    r.put("first_start_ms", starts.isEmpty() ? -1 : ms(starts.get(0).nanos() - joinNanos));
    r.put(
        "last_start_ms",
        starts.isEmpty() ? -1 : ms(starts.get(starts.size() - 1).nanos() - joinNanos));

    // One facts read and one assignment computed here, at the size of the run, best of three.
    long factsNanos = Long.MAX_VALUE;
    long assignNanos = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      long a = System.nanoTime();
      ClusterFacts facts = benchStore.facts();
      long b = System.nanoTime();
      facts.assignment();
      long c = System.nanoTime();
      factsNanos = Math.min(factsNanos, b - a);
      assignNanos = Math.min(assignNanos, c - b);
    }
    r.put("facts_read_ms", round(factsNanos / 1e6, 1));
    r.put("assignment_compute_ms", round(assignNanos / 1e6, 1));

    long newStatements = last.counter.total();
    long otherStatements =
        fleet.all().stream().filter(m -> m != last).mapToLong(m -> m.counter.total()).sum();
    r.put("statements_new_master", newStatements);
    r.put("statements_other_masters", otherStatements);
    if (!verbose) {
      return;
    }
    say("timeline after the join (ms since the join: stops, starts):");
    Map<Long, long[]> buckets = new TreeMap<>();
    for (Ledger.Event e : timeline) {
      long bucket = Math.floorDiv(e.nanos() - joinNanos, 100_000_000L) * 100;
      buckets.computeIfAbsent(bucket, k -> new long[2])[e.start() ? 1 : 0]++;
    }
    buckets.forEach((b, n) -> say(String.format("  %6d ms  stops %5d  starts %5d", b, n[0], n[1])));
    printSql("SQL run by the new master since its start", List.of(last));
    printSql(
        "SQL run by the other masters since the new master's start",
        fleet.all().stream().filter(m -> m != last).toList());
  }

  static void printSql(String title, List<InJvmMasters.Master> masters) {
    Map<String, long[]> sum = new HashMap<>();
    for (InJvmMasters.Master m : masters) {
      m.counter
          .bySql()
          .forEach(
              (sql, v) -> {
                long[] s = sum.computeIfAbsent(sql, k -> new long[2]);
                s[0] += v[0];
                s[1] += v[1];
              });
    }
    say(title + " (count, total ms, SQL):");
    sum.entrySet().stream()
        .sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]))
        .forEach(
            e ->
                say(
                    String.format(
                        "  %7d %9.1f  %s",
                        e.getValue()[0], e.getValue()[1] / 1e6, abbreviate(e.getKey()))));
  }

  private static String abbreviate(String sql) {
    return sql.length() <= 240 ? sql : sql.substring(0, 240) + "...";
  }

  /**
   * The members an assignment must place something on: all of them, if there is enough to go round.
   */
  private Set<String> requiredOwners(List<String> members) {
    return services >= members.size() ? Set.copyOf(members) : Set.of();
  }

  static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  static double round(double v, int decimals) {
    double f = Math.pow(10, decimals);
    return Math.round(v * f) / f;
  }

  static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
