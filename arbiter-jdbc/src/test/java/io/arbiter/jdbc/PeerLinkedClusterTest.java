package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.InvalidConfigException;
import io.arbiter.peer.PeerClassification;
import io.arbiter.peer.PeerLinkConfig;
import io.arbiter.peer.PeerView;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The peer link as the engine runs it ({@code Cluster.Builder.peerLink}): it learns the members
 * from the heartbeats, advertises its address at join, publishes its view for `arbiter status`, and
 * its wake-ups replace the change poll on a database without push notifications (MariaDB), so a
 * clean handoff stays fast at no cost at rest.
 */
class PeerLinkedClusterTest {
  private static final Duration TTL = Duration.ofSeconds(2);

  /**
   * The handoff test's lease: long, so that the database path (the next heartbeat, a renewal
   * interval of 3 s away) is far beyond the link's bound even on a loaded machine.
   */
  private static final Duration LONG_TTL = Duration.ofSeconds(9);

  private Duration ttl = TTL;
  private static final String SECRET = "a-test-cluster-secret-of-32-byte";

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final RecordingService.Ledger ledger = new RecordingService.Ledger();
  private TestDatabase db;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    if (db != null) {
      db.close();
    }
    assertThat(ledger.overlaps()).as("moments with two masters running one service").isEmpty();
  }

  @Test
  void mastersSeeEachOtherAliveAndPublishTheirViews() throws Exception {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    Cluster a = master("a");
    Cluster b = master("b");
    await().atMost(Duration.ofSeconds(10)).until(() -> sees(a, "b", PeerClassification.ALIVE));
    await().atMost(Duration.ofSeconds(10)).until(() -> sees(b, "a", PeerClassification.ALIVE));
    try (JdbcArbiter arbiter = JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(TTL).build()) {
      JdbcPeerDirectory directory = arbiter.peerDirectory();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(directory.publishedViews().get("a")).contains("b#1=alive");
                assertThat(directory.publishedViews().get("b")).contains("a#1=alive");
              });
      assertThat(directory.snapshot().members())
          .allSatisfy(m -> assertThat(m.peerAddress()).as("address of %s", m.name()).isPresent());
    }
  }

  @Test
  void onADatabaseWithoutPushTheLinkMakesACleanHandoffFastWithoutPolling() throws Exception {
    Optional<String> mariaDb = TestDatabases.env(TestDatabases.MARIADB_ENV);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        mariaDb.isPresent(), "set ARBITER_TEST_MARIADB_URL to run this on MariaDB");
    db = TestDatabases.fresh("MariaDB", mariaDb.get());
    ttl = LONG_TTL;
    Cluster a = master("a", "svc");
    await().atMost(Duration.ofSeconds(10)).until(() -> a.runningServices().contains("svc"));
    Cluster b = master("b", "svc");
    await().atMost(Duration.ofSeconds(10)).until(() -> sees(b, "a", PeerClassification.ALIVE));
    String owner = a.runningServices().contains("svc") ? "a" : "b";
    Cluster leaving = owner.equals("a") ? a : b;
    Cluster staying = owner.equals("a") ? b : a;
    await().atMost(Duration.ofSeconds(10)).until(() -> leaving.runningServices().contains("svc"));

    long closed = System.nanoTime();
    leaving.close();
    await()
        .atMost(Duration.ofSeconds(3))
        .pollInterval(Duration.ofMillis(5))
        .until(() -> staying.runningServices().contains("svc"));
    long ms = (System.nanoTime() - closed) / 1_000_000;
    // Without the link the next look would be the next heartbeat, up to a renewal interval (3 s)
    // later; the change poll is off when the link runs.
    assertThat(ms).as("clean handoff over the link, ms").isLessThan(1500);

    // The event log: with the link, MariaDB readers do not poll; a publish wakes them over it.
    Cluster third = master("c");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> sees(third, staying.config().memberName(), PeerClassification.ALIVE));
    // And the other way: the publisher's own link to the newcomer is up (a peer dialing in before
    // the newcomer's directory lists it is turned away and dials again; wake-ups wait for that).
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> sees(staying, "c", PeerClassification.ALIVE));
    third.events().orElseThrow().subscribe("t", e -> {});
    long worst = 0;
    for (int i = 0; i < 3; i++) {
      long before = third.events().orElseThrow().deliveredSeq();
      long sent = System.nanoTime();
      long seq = staying.events().orElseThrow().publish("t", "k" + i, new byte[] {1});
      assertThat(third.events().orElseThrow().awaitDelivered(seq, Duration.ofSeconds(3))).isTrue();
      worst = Math.max(worst, (System.nanoTime() - sent) / 1_000_000);
      assertThat(seq).isGreaterThan(before);
      Thread.sleep(100);
    }
    // Without the link the reader would see it at the next heartbeat (every 3 s here).
    assertThat(worst).as("worst publish-to-delivery over the link, ms").isLessThan(1500);
  }

  @Test
  void aDatabaseStaleBoundShorterThanTheRenewalIntervalIsRefusedByName() {
    db = TestDatabases.fresh("embedded PostgreSQL", TestDatabases.embeddedPostgresUrl());
    ClusterConfig config = ClusterConfig.builder("a").leaseTtl(LONG_TTL).build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b =
        Cluster.builder(arbiter.clusterStore(), config)
            .peerLink(PeerLinkConfig.builder(SECRET).bindHost("127.0.0.1").build());
    // Renewals every 3 s, "not renewing" after the default 2 s: every peer would look cut off.
    assertThatThrownBy(b::build)
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("peerLink.databaseStaleAfter")
        .hasMessageContaining("3000 ms");
  }

  private Cluster master(String name, String... services) {
    ClusterConfig config = ClusterConfig.builder(name).leaseTtl(ttl).build();
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build());
    Cluster.Builder b =
        Cluster.builder(arbiter.clusterStore(), config)
            .peerLink(
                PeerLinkConfig.builder(SECRET)
                    .bindHost("127.0.0.1")
                    .databaseStaleAfter(twoRenewals())
                    .build())
            .events(arbiter.eventStore());
    for (String s : services) {
      b.service(s, new RecordingService(ledger));
    }
    Cluster c = closeLater(b.build());
    c.start();
    return c;
  }

  /** Peers learn of renewals from heartbeats: allow two renewal intervals, at least the default. */
  private Duration twoRenewals() {
    Duration two = ttl.multipliedBy(2).dividedBy(3);
    return two.compareTo(PeerLinkConfig.DEFAULT_DATABASE_STALE_AFTER) > 0
        ? two
        : PeerLinkConfig.DEFAULT_DATABASE_STALE_AFTER;
  }

  private static boolean sees(Cluster viewer, String peer, PeerClassification want) {
    return viewer
        .peerLink()
        .flatMap(l -> l.view(peer))
        .map(PeerView::classification)
        .map(want::equals)
        .orElse(false);
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }
}
