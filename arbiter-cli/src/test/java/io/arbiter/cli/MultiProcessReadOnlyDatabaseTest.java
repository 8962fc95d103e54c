package io.arbiter.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.arbiter.ClusterStatus;
import io.arbiter.examples.buildfarm.BuildFarmWorkload;
import io.arbiter.examples.buildfarm.TickHistory;
import io.arbiter.jdbc.JdbcArbiter;
import io.arbiter.testkit.TestDatabase;
import io.arbiter.testkit.TestDatabases;
import io.arbiter.testkit.process.MasterFleet;
import io.arbiter.testkit.process.MasterProcess;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A real {@code arbiter master} process whose database turns read-only for longer than its lease,
 * as during a database failover, then writable again: the process must not exit, and must run its
 * services again. Its log is kept in {@code target/multi-process-read-only/}.
 */
@Tag("slow")
class MultiProcessReadOnlyDatabaseTest {
  private static final Duration LEASE_TTL = Duration.ofSeconds(3);
  private static final String PREFIX = "ro-";
  private static TestDatabase db;
  private static JdbcArbiter arbiter;

  @BeforeAll
  static void createDatabase() throws SQLException {
    db = TestDatabases.embeddedPostgres();
    try (JdbcArbiter setup =
        JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).createSchema(true).build()) {
      setup.initializeSchema();
      BuildFarmWorkload.createTable(setup.dataSource(), setup.dialect());
    }
    arbiter = JdbcArbiter.builder(db.jdbcUrl()).leaseTtl(LEASE_TTL).build();
  }

  @AfterAll
  static void dropDatabase() {
    try {
      if (arbiter != null) {
        arbiter.close();
      }
    } finally {
      if (db != null) {
        db.close();
      }
    }
  }

  @Test
  void aMasterProcessOutlivesItsDatabaseBeingReadOnlyForAWhile() throws Exception {
    Path logs =
        Path.of("target", "multi-process-read-only", java.util.UUID.randomUUID().toString())
            .toAbsolutePath();
    try (MasterFleet fleet = new MasterFleet(logs, DemoCommand.masterJvm())) {
      MasterProcess master =
          fleet.start(
              PREFIX + "a",
              List.of(
                  "--db",
                  db.jdbcUrl(),
                  "--services",
                  "2",
                  "--service-prefix",
                  PREFIX,
                  "--tick",
                  "100ms",
                  "--read-only-startup-limit",
                  "2s"));
      long ticksBefore = awaitTicking(master, 0);

      readOnly(true);
      try {
        Thread.sleep(LEASE_TTL.toMillis() + 2_000); // past the lease and the start-up limit
        assertThat(master.isAlive())
            .as(
                "%s is still running with a read-only database (log %s)",
                master.name(), master.log())
            .isTrue();
      } finally {
        readOnly(false);
      }

      awaitTicking(master, ticksBefore);
      assertThat(master.isAlive()).isTrue();
      String log = master.logText();
      assertThat(log).contains("the database is read-only since").contains("writable again");
      try (Connection c = db.connect()) {
        assertThat(TickHistory.violations(c, PREFIX)).as("fencing violations").isEmpty();
      }
    }
  }

  /** Waits until the master is active and has ticks accepted beyond {@code after}; the count. */
  private static long awaitTicking(MasterProcess master, long after) {
    long[] count = new long[1];
    await(master.name() + " active and ticking past " + after)
        .atMost(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(master.isAlive())
                  .as("%s is running (log %s)", master.name(), master.log())
                  .isTrue();
              ClusterStatus status = arbiter.clusterStore().status();
              assertThat(status.members())
                  .filteredOn(m -> m.name().equals(master.name()))
                  .singleElement()
                  .satisfies(m -> assertThat(m.state()).isEqualTo("ACTIVE"));
              try (Connection c = db.connect()) {
                count[0] = tickCount(c);
              }
              assertThat(count[0]).isGreaterThan(after);
            });
    return count[0];
  }

  private static long tickCount(Connection c) throws SQLException {
    try (PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM " + BuildFarmWorkload.TABLE);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** As a failover does: new sessions read-only (or writable again), every session ended. */
  private static void readOnly(boolean on) throws SQLException {
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
