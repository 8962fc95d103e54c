package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.ClusterListener;
import io.arbiter.MemberId;
import io.arbiter.MemberState;
import io.arbiter.testkit.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The heartbeat has a connection of its own: application traffic that takes every connection of the
 * main pool (held connections, publishers queued behind the event log's head row) never makes a
 * healthy master miss its renewal. A control case shows that the same load fences a master whose
 * heartbeat shares the main pool. Subclassed per database.
 */
abstract class HeartbeatIsolationContract {
  /** Short, so that "several lease lengths" takes seconds. */
  private static final Duration TTL = Duration.ofSeconds(1);

  private static final Duration LOAD = TTL.multipliedBy(4);

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<String> fences = new CopyOnWriteArrayList<>();
  private final AtomicInteger renewals = new AtomicInteger();

  protected abstract TestDatabase database();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  private ClusterConfig config(String name) {
    return ClusterConfig.builder(name + "-" + System.nanoTime()).leaseTtl(TTL).build();
  }

  private Cluster start(io.arbiter.spi.ClusterStore store, ClusterConfig config) throws Exception {
    Cluster cluster =
        closeLater(
            Cluster.builder(store, config)
                .listener(
                    new ClusterListener() {
                      @Override
                      public void renewed(MemberId member, long sentNanos) {
                        renewals.incrementAndGet();
                      }

                      @Override
                      public void fenced(MemberId member, String reason) {
                        fences.add(member + ": " + reason);
                      }
                    })
                .build());
    cluster.start();
    assertThat(cluster.awaitActive(Duration.ofSeconds(10))).isTrue();
    return cluster;
  }

  @Test
  void aMasterKeepsRenewingWhileEveryConnectionOfTheMainPoolIsHeld() throws Exception {
    ClusterConfig config = config("held");
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(database().jdbcUrl())
                .clusterConfig(config)
                .createSchema(true)
                .build());
    Cluster cluster = start(arbiter.clusterStore(), config);
    long incarnation = cluster.member().orElseThrow().incarnation();

    List<Connection> held = holdEveryConnection(arbiter.dataSource());
    try {
      int before = renewals.get();
      Thread.sleep(LOAD.toMillis());
      assertThat(cluster.state())
          .as("state after %s with the main pool exhausted", LOAD)
          .isEqualTo(MemberState.ACTIVE);
      assertThat(fences).as("self-fences").isEmpty();
      assertThat(cluster.member().orElseThrow().incarnation()).isEqualTo(incarnation);
      assertThat(renewals.get() - before)
          .as("renewals during %s (one per %s)", LOAD, config.renewInterval())
          .isGreaterThanOrEqualTo(6);
    } finally {
      closeAll(held);
    }
  }

  @Test
  void aMasterKeepsRenewingWhilePublishersQueueBehindTheEventLogsHeadRow() throws Exception {
    ClusterConfig config = config("publishers");
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(database().jdbcUrl())
                .clusterConfig(config)
                .createSchema(true)
                .build());
    Cluster cluster =
        closeLater(
            Cluster.builder(arbiter.clusterStore(), config)
                .events(arbiter.eventStore())
                .listener(
                    new ClusterListener() {
                      @Override
                      public void fenced(MemberId member, String reason) {
                        fences.add(member + ": " + reason);
                      }
                    })
                .build());
    cluster.start();
    assertThat(cluster.awaitActive(Duration.ofSeconds(10))).isTrue();
    long incarnation = cluster.member().orElseThrow().incarnation();

    // A publisher stuck inside its transaction (a slow caller) holds the head row's lock; every
    // other publisher waits on it with a connection of the main pool, more of them than it has.
    AtomicBoolean publishing = new AtomicBoolean(true);
    ExecutorService publishers = Executors.newFixedThreadPool(JdbcArbiter.DEFAULT_POOL_SIZE * 2);
    AtomicInteger failedPublishes = new AtomicInteger();
    try (Connection stuck = database().connect()) {
      stuck.setAutoCommit(false);
      try (Statement st = stuck.createStatement()) {
        st.executeUpdate("UPDATE arbiter_event_head SET last_seq = last_seq + 1 WHERE id = 1");
      }
      for (int i = 0; i < JdbcArbiter.DEFAULT_POOL_SIZE * 2; i++) {
        publishers.submit(
            () -> {
              while (publishing.get()) {
                try {
                  arbiter
                      .eventStore()
                      .publish("app", "builds", "42", "x".getBytes(StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                  failedPublishes.incrementAndGet(); // a lock or pool timeout: expected here
                }
              }
            });
      }
      Thread.sleep(LOAD.toMillis());
      assertThat(failedPublishes.get())
          .as("publishes that timed out behind the head row")
          .isPositive();
      assertThat(cluster.state()).isEqualTo(MemberState.ACTIVE);
      assertThat(fences).as("self-fences").isEmpty();
      assertThat(cluster.member().orElseThrow().incarnation()).isEqualTo(incarnation);
      stuck.rollback();
    } finally {
      publishing.set(false);
      publishers.shutdown();
      assertThat(publishers.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
    }
  }

  /** The control: with the heartbeat on the main pool (the old shared pool), it is fenced. */
  @Test
  void aMasterWhoseHeartbeatSharesTheExhaustedPoolIsFenced() throws Exception {
    ClusterConfig config = config("shared");
    JdbcArbiter arbiter =
        closeLater(
            JdbcArbiter.builder(database().jdbcUrl())
                .clusterConfig(config)
                .createSchema(true)
                .build());
    JdbcClusterStore shared =
        closeLater(
            new JdbcClusterStore(
                arbiter.dataSource(),
                HeartbeatConnection.pooled(arbiter.dataSource(), "test"),
                arbiter.dialect(),
                true,
                "test",
                TTL,
                List.of()));
    Cluster cluster = start(shared, config);

    List<Connection> held = holdEveryConnection(arbiter.dataSource());
    try {
      await().atMost(LOAD).until(() -> cluster.state() != MemberState.ACTIVE && !fences.isEmpty());
    } finally {
      closeAll(held);
    }
  }

  /** Takes connections from {@code pool} until it has none left to give. */
  private static List<Connection> holdEveryConnection(DataSource pool) {
    List<Connection> held = new ArrayList<>();
    while (true) {
      try {
        held.add(pool.getConnection());
      } catch (SQLException e) {
        // the pool's connection timeout: every connection is out
        assertThat(held.size()).isLessThanOrEqualTo(JdbcArbiter.DEFAULT_POOL_SIZE);
        return held;
      }
    }
  }

  private static void closeAll(List<Connection> connections) throws SQLException {
    for (Connection c : connections) {
      c.close();
    }
  }
}
