package io.arbiter.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.arbiter.InvalidConfigException;
import io.arbiter.events.ClusterCache;
import io.arbiter.events.EventLog;
import io.arbiter.events.EventLogConfig;
import io.arbiter.examples.cli.DbOptions;
import io.arbiter.examples.cli.DurationConverter;
import io.arbiter.jdbc.Dialect;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.testkit.EmbeddedPostgresProcess;
import io.arbiter.testkit.FaultProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Cache eviction through the cluster event log, measured on in-process masters, each with its own
 * pool, {@link EventLog} and {@link ClusterCache}; the last one reaches the database through a
 * {@link FaultProxy} so that it can be cut off. One master invalidates a new key at a steady rate;
 * every other master times, on the same monotonic clock, from just before the publish to the moment
 * its cache has applied the eviction. Then one master's link is blackholed for a while, publishing
 * goes on, the link heals, and the bench counts the invalidations that master never applied.
 */
@Command(
    name = "evict",
    mixinStandardHelpOptions = true,
    description = "Time cache evictions across masters and count what a cut-off master misses.")
public final class EvictBench implements Callable<Integer> {
  @Mixin DbOptions db;

  @Option(
      names = "--masters",
      defaultValue = "3",
      description = "Masters, in this process (default ${DEFAULT-VALUE}).")
  int masters;

  @Option(
      names = "--rate",
      defaultValue = "500",
      description = "Invalidations per second from the first master (default ${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long to measure propagation (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--disconnect",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description =
          "How long the last master is cut off from the database; 0s to skip"
              + " (default ${DEFAULT-VALUE}).")
  Duration disconnect;

  @Option(names = "--json", description = "End with one line of JSON with the figures.")
  boolean json;

  /** One master: its link, arbiter, log, cache, and when it applied each key. */
  private record Master(
      String name,
      FaultProxy proxy,
      JdbcArbiter arbiter,
      EventLog log,
      ClusterCache<String, String> cache,
      Map<String, Long> appliedAt) {}

  /** Published before measuring, so that the first samples do not time the JIT. */
  private static final Duration WARMUP = Duration.ofSeconds(1);

  private final Map<String, Long> publishedAt = new ConcurrentHashMap<>();
  private final List<Long> publishMicros = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    validate();
    EmbeddedPostgresProcess embedded =
        db.embedded() ? BenchDatabase.startEmbedded(db.dataDir()) : null;
    String url = embedded != null ? embedded.jdbcUrl() : db.url("bench evict");
    Dialect dialect = Dialect.forUrl(url);
    String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 6) + "-";
    List<Master> fleet = new ArrayList<>();
    Map<String, Object> result = new LinkedHashMap<>();
    boolean ok;
    try {
      try (JdbcArbiter admin =
          JdbcArbiter.builder(url)
              .credentials(db.user(), db.password())
              .leaseTtl(Duration.ofSeconds(10))
              .poolSize(1)
              .heartbeatPoolSize(0)
              .createSchema(true)
              .build()) {
        admin.initializeSchema();
      }
      for (int i = 1; i <= masters; i++) {
        // Only the master to be cut off goes through a proxy: the others connect directly, as
        // real masters do, and are not slowed by the proxy's copying threads.
        fleet.add(startMaster(prefix + "m" + i, url, i == masters && !disconnect.isZero()));
      }
      Master publisher = fleet.get(0);
      List<Master> others = fleet.subList(1, fleet.size());
      say(
          masters
              + " masters on "
              + dialect.name()
              + ", publishing "
              + rate
              + "/s from "
              + publisher.name());

      // Warm-up (not measured): JIT, pools and prepared statements settle.
      List<String> warmKeys = publish(publisher, "w", WARMUP);
      awaitApplied(others, warmKeys, Duration.ofSeconds(30));

      // Phase 1: steady rate, all links up.
      publishMicros.clear();
      long t0 = System.nanoTime();
      List<String> steadyKeys = publish(publisher, "s", duration);
      double seconds = (System.nanoTime() - t0) / 1e9;
      awaitApplied(others, steadyKeys, Duration.ofSeconds(30));
      List<Long> micros = new ArrayList<>();
      int unapplied = 0;
      for (Master m : others) {
        List<Long> mine = new ArrayList<>();
        for (String k : steadyKeys) {
          Long at = m.appliedAt().get(k);
          if (at == null) {
            unapplied++;
          } else {
            mine.add((at - publishedAt.get(k)) / 1000);
          }
        }
        micros.addAll(mine);
        say(
            String.format(
                "  %s%s: p50 %.2f ms, p99 %.2f ms",
                m.name(),
                m.proxy() != null ? " (through a proxy)" : "",
                Percentiles.of(mine, 50) / 1000.0,
                Percentiles.of(mine, 99) / 1000.0));
      }
      double p50 = Percentiles.of(micros, 50) / 1000.0;
      double p99 = Percentiles.of(micros, 99) / 1000.0;
      double max = Percentiles.of(micros, 100) / 1000.0;
      double eventsPerSecond = steadyKeys.size() / seconds;
      double publishP50 = Percentiles.of(publishMicros, 50) / 1000.0;
      double publishP99 = Percentiles.of(publishMicros, 99) / 1000.0;
      say(
          String.format(
              "  the publish call itself (commit included): p50 %.2f ms, p99 %.2f ms",
              publishP50, publishP99));
      say(
          String.format(
              "steady: %d invalidations in %.1f s (%.0f/s), %d samples: p50 %.2f ms, p99 %.2f ms,"
                  + " max %.2f ms",
              steadyKeys.size(), seconds, eventsPerSecond, micros.size(), p50, p99, max));

      // Phase 2: cut the last master off, keep publishing, heal, count what it never applied.
      int missed = 0;
      int duringDisconnect = 0;
      long catchUpMillis = -1;
      if (!disconnect.isZero()) {
        Master victim = fleet.get(fleet.size() - 1);
        say("cutting " + victim.name() + " off the database for " + disconnect.toSeconds() + " s");
        victim.proxy().mode(FaultProxy.Mode.BLACKHOLE);
        List<String> cutKeys = publish(publisher, "d", disconnect);
        duringDisconnect = cutKeys.size();
        victim.proxy().mode(FaultProxy.Mode.OPEN);
        long healed = System.nanoTime();
        List<String> afterKeys = publish(publisher, "a", Duration.ofMillis(200));
        List<String> all = new ArrayList<>(cutKeys);
        all.addAll(afterKeys);
        awaitApplied(List.of(victim), all, Duration.ofSeconds(60));
        catchUpMillis = (System.nanoTime() - healed) / 1_000_000;
        for (String k : all) {
          if (!victim.appliedAt().containsKey(k)) {
            missed++;
          }
        }
        say(
            String.format(
                "%s: %d invalidations while cut off; caught up %d ms after the link healed;"
                    + " missed %d",
                victim.name(), duringDisconnect, catchUpMillis, missed));
      }
      result.put("bench", "evict");
      result.put("db", dialect.name() + (embedded != null ? " (embedded)" : ""));
      result.put("masters", masters);
      result.put("proxied_masters", disconnect.isZero() ? 0 : 1);
      result.put("rate", rate);
      result.put("duration_s", duration.toSeconds());
      result.put("warmup_s", WARMUP.toSeconds());
      result.put("samples", micros.size());
      result.put("evict_p50_ms", p50);
      result.put("evict_p99_ms", p99);
      result.put("evict_max_ms", max);
      result.put("events_per_s", Math.round(eventsPerSecond * 10) / 10.0);
      result.put("publish_p50_ms", publishP50);
      result.put("publish_p99_ms", publishP99);
      result.put("unapplied_steady", unapplied);
      result.put("disconnect_s", disconnect.toSeconds());
      result.put("events_during_disconnect", duringDisconnect);
      result.put("catch_up_ms", catchUpMillis);
      result.put("missed_after_disconnect", missed);
      ok = missed == 0 && unapplied == 0;
    } finally {
      for (Master m : fleet) {
        closeQuietly(m.cache());
        closeQuietly(m.log());
        closeQuietly(m.arbiter());
        closeQuietly(m.proxy());
      }
      if (embedded != null) {
        embedded.close();
      }
    }
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(result));
    }
    return ok ? 0 : 1;
  }

  private void validate() {
    if (masters < 2) {
      throw new InvalidConfigException("--masters", masters, "must be at least 2");
    }
    if (rate < 1 || rate > 100_000) {
      throw new InvalidConfigException("--rate", rate, "must be between 1 and 100000 per second");
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new InvalidConfigException("--duration", duration, "must be positive");
    }
    if (disconnect.isNegative()) {
      throw new InvalidConfigException("--disconnect", disconnect, "must not be negative");
    }
  }

  private Master startMaster(String name, String url, boolean proxied) throws Exception {
    FaultProxy proxy = proxied ? FaultProxy.forUrl(url) : null;
    String masterUrl = proxied ? proxy.jdbcUrl(url) : url;
    // The event log without a cluster: it runs no member, so no heartbeat pool.
    JdbcArbiter arbiter =
        JdbcArbiter.builder(masterUrl)
            .credentials(db.user(), db.password())
            .poolSize(3)
            .heartbeatPoolSize(0)
            .build();
    EventLog log = new EventLog(arbiter.eventStore(), EventLogConfig.builder(name).build()).start();
    ClusterCache<String, String> cache = ClusterCache.<String, String>builder(log, "bench").build();
    Map<String, Long> appliedAt = new ConcurrentHashMap<>();
    // Subscribed after the cache: runs once the cache has applied the eviction.
    log.subscribe(
        ClusterCache.TOPIC_PREFIX + "bench",
        e -> {
          if (e.key() != null) {
            appliedAt.putIfAbsent(e.key(), System.nanoTime());
          }
        });
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (log.confirmedAtNanos().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " could not read the event log within 30 s");
      }
      Thread.sleep(10);
    }
    return new Master(name, proxy, arbiter, log, cache, appliedAt);
  }

  /** Invalidates a new key every 1/rate s for {@code length}; returns the keys. */
  private List<String> publish(Master publisher, String phase, Duration length) {
    List<String> keys = new ArrayList<>();
    long interval = 1_000_000_000L / rate;
    long start = System.nanoTime();
    long end = start + length.toNanos();
    long next = start;
    int n = 0;
    // Stops at the end of the period even if the publisher fell behind the rate (then it
    // publishes back to back, and events_per_s shows the rate it reached).
    while (next - end < 0 && System.nanoTime() - end < 0) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      String key = phase + n++;
      long before = System.nanoTime();
      publishedAt.put(key, before);
      publisher.cache().invalidate(key);
      publishMicros.add((System.nanoTime() - before) / 1000);
      keys.add(key);
      next += interval;
    }
    return keys;
  }

  private static void awaitApplied(List<Master> masters, List<String> keys, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<String> want = new HashSet<>(keys);
    for (Master m : masters) {
      while (!m.appliedAt().keySet().containsAll(want) && System.nanoTime() - deadline < 0) {
        Thread.sleep(20);
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      System.err.println("closing " + c + ": " + e.getMessage());
    }
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
