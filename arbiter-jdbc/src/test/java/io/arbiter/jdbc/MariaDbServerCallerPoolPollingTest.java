package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Stores made on a caller's pool that hands out connections with auto-commit off, on MariaDB, whose
 * default isolation is REPEATABLE READ: each poll must be a transaction of its own. Otherwise the
 * change watcher's first SELECT opens a transaction that never ends, every later poll reads that
 * one snapshot, and neither a change nor a new event is ever seen.
 */
@EnabledIfEnvironmentVariable(
    named = "ARBITER_TEST_MARIADB_URL",
    matches = ".+",
    disabledReason =
        "set ARBITER_TEST_MARIADB_URL to a JDBC URL of a MariaDB server to run this test on it (.ci/run does)")
class MariaDbServerCallerPoolPollingTest {
  private TestDatabase db;
  private HikariDataSource pool;
  private JdbcArbiter arbiter;

  @BeforeEach
  void open() {
    db = TestDatabases.mariaDbServer();
    pool = new HikariDataSource();
    pool.setJdbcUrl(db.jdbcUrl());
    pool.setAutoCommit(false); // the application's own pool: it commits its transactions itself
    pool.setMaximumPoolSize(4);
    arbiter =
        JdbcArbiter.builder(pool)
            .jdbcUrl(db.jdbcUrl())
            .leaseTtl(Duration.ofSeconds(3))
            .createSchema(true)
            .build();
    arbiter.clusterStore().initialize();
  }

  @AfterEach
  void close() {
    if (arbiter != null) {
      arbiter.close();
    }
    if (pool != null) {
      pool.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void theChangePollSeesEventsAndChangesCommittedByOtherConnections() throws Exception {
    try (Connection c = pool.getConnection()) {
      assertThat(c.getAutoCommit()).isFalse();
      assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_REPEATABLE_READ);
    }
    AtomicLong head = new AtomicLong(-1);
    AtomicInteger changes = new AtomicInteger();
    try (AutoCloseable watching =
        arbiter
            .clusterStore()
            .subscribe(
                changes::incrementAndGet,
                (seq, sentNanos) -> head.set(seq),
                Duration.ofMillis(20))) {
      await().atMost(Duration.ofSeconds(5)).until(() -> head.get() >= 0);

      // Published by another connection, in a transaction of its own (DriverManager: auto-commit).
      long seq;
      try (JdbcArbiter other =
          JdbcArbiter.builder(db.jdbcUrl())
              .leaseTtl(Duration.ofSeconds(3))
              .poolSize(1)
              .heartbeatPoolSize(0)
              .build()) {
        seq = other.eventStore().publish("m", "t", "k", null);
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .alias("the change poll reads the event log's new head")
          .until(() -> head.get() >= seq);

      try (Connection c = db.connect();
          Statement st = c.createStatement()) {
        st.executeUpdate("UPDATE arbiter_change SET epoch = epoch + 1 WHERE id = 1");
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .alias("the change poll sees the new change epoch")
          .until(() -> changes.get() > 0);
    }
  }

  @Test
  void theEventStoreReadsEventsCommittedByOtherConnections() throws Exception {
    JdbcEventStore store = arbiter.eventStore();
    long before = store.head();
    assertThat(store.read(before, 10)).isEmpty(); // a first read, as a poll makes
    long seq;
    try (JdbcArbiter other =
        JdbcArbiter.builder(db.jdbcUrl())
            .leaseTtl(Duration.ofSeconds(3))
            .poolSize(1)
            .heartbeatPoolSize(0)
            .build()) {
      seq = other.eventStore().publish("m", "t", "k", null);
    }
    assertThat(store.head()).isEqualTo(seq);
    assertThat(store.read(before, 10)).hasSize(1);
  }
}
