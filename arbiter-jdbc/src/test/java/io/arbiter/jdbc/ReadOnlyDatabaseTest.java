package io.arbiter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.Cluster;
import io.arbiter.ClusterConfig;
import io.arbiter.MemberState;
import io.arbiter.testkit.RecordingService;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A database failover as a master sees it: the database it is connected to turns read-only (the old
 * primary, demoted) and drops every session, then becomes writable again (the address leads to the
 * new primary). The master must stop its services when it can no longer renew, stay alive, and run
 * its services again once it can write.
 */
class ReadOnlyDatabaseTest {
  private static final Duration TTL = Duration.ofSeconds(2);
  private static TestDatabase db;

  @BeforeAll
  static void createDatabase() {
    db = TestDatabases.embeddedPostgres();
  }

  @AfterAll
  static void dropDatabase() {
    db.close();
  }

  @Test
  void aMasterSurvivesItsDatabaseTurningReadOnlyAndRunsItsServicesAgainWhenWritable()
      throws Exception {
    RecordingService.Ledger ledger = new RecordingService.Ledger();
    ClusterConfig config =
        ClusterConfig.builder("ro-a").leaseTtl(TTL).readOnlyStartupLimit(TTL).build();
    try (JdbcArbiter arbiter =
            JdbcArbiter.builder(db.jdbcUrl()).clusterConfig(config).createSchema(true).build();
        Cluster a =
            Cluster.builder(arbiter.clusterStore(), config)
                .service("svc", new RecordingService(ledger))
                .build()) {
      a.start();
      assertThat(a.awaitActive(Duration.ofSeconds(10))).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(() -> a.runningServices().contains("svc"));
      long incarnation = a.member().orElseThrow().incarnation();

      readOnly(true);
      try {
        await().atMost(TTL.multipliedBy(3)).until(() -> a.state() == MemberState.FENCED);
        assertThat(a.runningServices()).isEmpty();
        // Read-only for longer than the lease and the start-up limit: still alive, still trying.
        Thread.sleep(TTL.toMillis());
        assertThat(a.state()).isEqualTo(MemberState.FENCED);
        assertThat(a.failure()).isEmpty();
      } finally {
        readOnly(false);
      }

      await().atMost(Duration.ofSeconds(15)).until(() -> a.state() == MemberState.ACTIVE);
      assertThat(a.member().orElseThrow().incarnation()).isGreaterThan(incarnation);
      await().atMost(Duration.ofSeconds(10)).until(() -> a.runningServices().contains("svc"));
      assertThat(ledger.overlaps()).isEmpty();
    }
  }

  /**
   * Turns the test database read-only or writable for new sessions and ends every session on it, as
   * a failover does: the pools reconnect to a database in the new mode.
   */
  private static void readOnly(boolean on) throws Exception {
    try (Connection c = DriverManager.getConnection(db.adminUrl());
        Statement st = c.createStatement()) {
      st.execute(
          "ALTER DATABASE "
              + db.name()
              + " SET default_transaction_read_only = "
              + (on ? "on" : "off"));
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  + " WHERE datname = ? AND pid <> pg_backend_pid()")) {
        ps.setString(1, db.name());
        ps.executeQuery().close();
      }
    }
  }
}
