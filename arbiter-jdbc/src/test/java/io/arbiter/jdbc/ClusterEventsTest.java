package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.events.ClusterCache;
import io.arbiter.events.EventLog;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The event log as the engine runs it ({@code Cluster.Builder.events}): events published on one
 * master reach the others, a ClusterCache evicted on one master is evicted on the others, and the
 * heartbeat alone keeps a quiet log confirmed fresh (the log's own safety poll is a minute).
 */
class ClusterEventsTest {
  private static final Duration TTL = Duration.ofSeconds(3);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private TestDatabase db;

  @BeforeEach
  void freshDatabase() {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    db.close();
  }

  @Test
  void eventsAndEvictionsReachEveryMasterAndHeartbeatsKeepAQuietLogConfirmed() throws Exception {
    Cluster a = master("a");
    Cluster b = master("b");
    EventLog logA = a.events().orElseThrow();
    EventLog logB = b.events().orElseThrow();
    assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
    assertThat(b.awaitActive(Duration.ofSeconds(10))).isTrue();

    // Quiet log: only the heartbeats (every second) confirm it; the bound of 2 s holds.
    await().atMost(Duration.ofSeconds(5)).until(() -> logB.confirmedWithin(Duration.ofSeconds(2)));
    // Still confirmed 3 s later with nothing published: only the heartbeats can have done that.
    Thread.sleep(3_000);
    assertThat(logB.confirmedWithin(Duration.ofSeconds(2))).as("confirmed by heartbeats").isTrue();

    List<String> seen = new CopyOnWriteArrayList<>();
    logB.subscribe("greetings", e -> seen.add(new String(e.payload(), StandardCharsets.UTF_8)));
    logA.publish("greetings", "k", "hello".getBytes(StandardCharsets.UTF_8));
    await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains("hello"));

    AtomicInteger loads = new AtomicInteger();
    ClusterCache<String, String> cacheA =
        closeLater(ClusterCache.<String, String>builder(logA, "c").build());
    ClusterCache<String, String> cacheB =
        closeLater(ClusterCache.<String, String>builder(logB, "c").build());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              cacheB.get("x", k -> "v" + loads.incrementAndGet());
              return cacheB.getIfPresent("x") != null;
            });
    String cached = cacheB.getIfPresent("x");
    cacheA.invalidate("x");
    await().atMost(Duration.ofSeconds(5)).until(() -> cacheB.getIfPresent("x") == null);
    assertThat(cacheB.get("x", k -> "v" + loads.incrementAndGet())).isNotEqualTo(cached);
  }

  /**
   * MariaDB has no push and here no peer link: the change poll (every 50 ms) reads the log's head
   * in the same statement, so the log needs no poll of its own and still hears of events within a
   * poll, long before the next heartbeat (every 3 s with this lease).
   */
  @Test
  void onMariaDbWithoutAPeerLinkTheChangePollWakesAndConfirmsTheEventLog() throws Exception {
    java.util.Optional<String> mariaDb = TestDatabases.env(TestDatabases.MARIADB_ENV);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        mariaDb.isPresent(), "set ARBITER_TEST_MARIADB_URL to run this on MariaDB");
    db.close();
    db = TestDatabases.fresh("MariaDB", mariaDb.get());
    Duration ttl = Duration.ofSeconds(9);
    Cluster a = master("a", ttl);
    Cluster b = master("b", ttl);
    assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
    assertThat(b.awaitActive(Duration.ofSeconds(10))).isTrue();
    EventLog logA = a.events().orElseThrow();
    EventLog logB = b.events().orElseThrow();

    await().atMost(Duration.ofSeconds(5)).until(() -> logB.confirmedWithin(Duration.ofMillis(500)));
    Thread.sleep(2_000); // quiet; heartbeats alone (every 3 s) could not keep a 500 ms bound
    assertThat(logB.confirmedWithin(Duration.ofMillis(500))).as("confirmed by the poll").isTrue();

    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      long sent = System.nanoTime();
      long seq = logA.publish("t", "k" + i, new byte[] {1});
      assertThat(logB.awaitDelivered(seq, Duration.ofSeconds(10))).isTrue();
      millis.add((System.nanoTime() - sent) / 1_000_000);
      Thread.sleep(700);
    }
    assertThat(millis).as("publish to delivery on the other master, ms").allMatch(ms -> ms < 1000);
  }

  private Cluster master(String name) {
    return master(name, TTL);
  }

  private Cluster master(String name, Duration ttl) {
    ClusterConfig config = ClusterConfig.builder(name).leaseTtl(ttl).build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build());
    Cluster c =
        closeLater(
            Cluster.builder(arbiter.clusterStore(), config).events(arbiter.eventStore()).build());
    c.start();
    return c;
  }

  private <T> T closeLater(T resource) {
    if (resource instanceof AutoCloseable closeable) {
      resources.add(closeable);
    }
    return resource;
  }
}
